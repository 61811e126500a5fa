"""`kiosk serve` stopped with SIGTERM (systemd stop, a rolling upgrade) drains: a request in flight gets its
whole answer, no new connection is taken, and the process then ends (issue 12, part 7).

The request in flight is `GET /v1/ready` against an OpenLDAP server that accepts the connection and
then says nothing: the readiness probe waits for it for seconds, which leaves time to send SIGTERM
while the request is being worked on.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli.test_cli_serve_startup import FIXED_KEYRING, KIOSK, REPO
from live_servers.common import free_port, wait_until


@pytest.fixture
def silent_ldap_server() -> Iterator[int]:
    """A port that completes TCP handshakes (the kernel's backlog) and never sends a byte."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()


def test_sigterm_lets_the_request_in_flight_finish_then_exits(silent_ldap_server: int, tmp_path: Path) -> None:
    (tmp_path / "fixed_keyring.py").write_text(FIXED_KEYRING, encoding="utf-8")
    policy = tmp_path / "server.toml"
    policy.write_text(
        "\n".join(
            [
                "[directory]",
                'kind = "openldap"',
                "[directory.openldap]",
                f'urls = ["ldaps://127.0.0.1:{silent_ldap_server}"]',  # its TLS handshake never ends
                'base_dn = "dc=example,dc=org"',
                'bind_dn = "cn=kiosk,dc=example,dc=org"',
                "connect_timeout_seconds = 3",
            ]
        )
        + "\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "PYTHON_KEYRING_BACKEND": "fixed_keyring.Keyring"}
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), "serve", "--policy", str(policy), "--port", str(port)],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/v1/health"), timeout=60, what="kiosk serve to answer")
        answer: dict[str, httpx.Response | BaseException] = {}

        def ask_ready() -> None:
            try:
                answer["ready"] = httpx.get(f"{base}/v1/ready", timeout=30)
            except BaseException as error:  # noqa: BLE001 - recorded for the assertion below
                answer["ready"] = error

        asking = threading.Thread(target=ask_ready)
        started = time.monotonic()
        asking.start()
        time.sleep(1.0)  # the probe is now waiting for the silent directory
        assert asking.is_alive(), "the request finished before SIGTERM: nothing was in flight"
        server.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        with pytest.raises(httpx.ConnectError):  # stopped taking new connections, still answering the old one
            httpx.get(f"{base}/v1/health", timeout=5)
        asking.join(timeout=40)
        response = answer["ready"]
        assert isinstance(response, httpx.Response), repr(response)
        assert response.status_code == 503 and response.json()["code"] == "directory_unavailable"
        assert time.monotonic() - started > 1.5  # answered after the signal, not before it
        # uvicorn re-raises the signal once it has drained, so the parent sees "stopped by SIGTERM",
        # which systemd counts as a clean stop.
        assert server.wait(timeout=40) in (0, -signal.SIGTERM)
    finally:
        if server.poll() is None:
            server.kill()
            server.wait(timeout=10)
    output = server.stdout.read() if server.stdout else ""
    assert "Shutting down" in output and "Finished server process" in output, output


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
