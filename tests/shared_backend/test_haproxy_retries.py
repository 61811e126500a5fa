"""What the test HAProxy sends again after a server answered nothing: GETs and steps with a request id only.

The two upstreams are FAKE servers (a few lines of `http.server`): both answer the health check, one
answers everything, the other closes the connection without an answer to anything else, as a replica
killed while it handles a request does. A POST with an `Idempotency-Key` must still succeed (HAProxy
sends it to the other server; the backend would answer a repeated key from its first result), and a
POST without one must not be sent twice: the kiosk's connection is closed without an answer (HAProxy
2.6 does that rather than a 502 here, as the replica itself would), and only the dying server saw it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from live_servers.haproxy import REQUEST_ID_HEADER, SERVED_BY, HAProxy, Upstream, start_haproxy

from kiosk.services.api import IDEMPOTENCY_HEADER


class FakeUpstream(ThreadingHTTPServer):
    """FAKE upstream on a free loopback port: answers the health check; `dying` closes on anything else."""

    def __init__(self, dying: bool) -> None:
        self.dying = dying
        self.seen: list[tuple[str, str]] = []
        """(method, path) of every request other than the health check."""
        super().__init__(("127.0.0.1", 0), _Handler)

    def handle_error(self, request: object, client_address: object) -> None:
        """Quiet: HAProxy's health checks close their connection with a reset as soon as they read the status."""


class _Handler(BaseHTTPRequestHandler):
    server: FakeUpstream
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def _answer(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        del body
        if self.path != "/v1/health":
            self.server.seen.append((self.command, self.path))
            if self.server.dying:
                self.close_connection = True  # no status line at all: the server "died" mid-request
                return
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_GET = _answer
    do_POST = _answer


@pytest.fixture
def upstreams() -> Iterator[tuple[FakeUpstream, FakeUpstream]]:
    servers = (FakeUpstream(dying=True), FakeUpstream(dying=False))
    threads = [threading.Thread(target=server.serve_forever, daemon=True) for server in servers]
    for thread in threads:
        thread.start()
    try:
        yield servers
    finally:
        for server in servers:
            server.shutdown()
            server.server_close()


@pytest.fixture
def balancer(upstreams: tuple[FakeUpstream, FakeUpstream], tmp_path: Path) -> Iterator[HAProxy]:
    named = [
        Upstream(name, "127.0.0.1", server.server_address[1])
        for name, server in zip(("dying", "alive"), upstreams, strict=True)
    ]
    started = start_haproxy(named, tmp_path)
    try:
        started.wait_for_states({"dying": "UP", "alive": "UP"})
        yield started
    finally:
        started.stop()


def test_haproxy_knows_the_header_of_the_request_id() -> None:
    assert REQUEST_ID_HEADER == IDEMPOTENCY_HEADER


def test_a_step_with_a_request_id_is_sent_again_to_the_other_server(
    upstreams: tuple[FakeUpstream, FakeUpstream], balancer: HAProxy
) -> None:
    dying, alive = upstreams
    with httpx.Client(base_url=balancer.url, timeout=10) as http:
        for number in range(4):
            response = http.post("/v1/session/password", json={}, headers={IDEMPOTENCY_HEADER: f"id-{number}"})
            assert response.status_code == 200
            assert response.headers[SERVED_BY] == "alive"
        for _ in range(4):
            response = http.get("/v1/session")
            assert response.status_code == 200 and response.headers[SERVED_BY] == "alive"
    assert ("POST", "/v1/session/password") in dying.seen  # reached the dying server first, then the other
    assert ("GET", "/v1/session") in dying.seen
    assert alive.seen.count(("POST", "/v1/session/password")) == 4


def test_a_post_without_a_request_id_is_never_sent_twice(
    upstreams: tuple[FakeUpstream, FakeUpstream], balancer: HAProxy
) -> None:
    dying, alive = upstreams
    outcomes = []
    with httpx.Client(base_url=balancer.url, timeout=10) as http:
        for _ in range(4):
            try:
                outcomes.append(str(http.post("/v1/session/code", json={}).status_code))
            except httpx.RemoteProtocolError:
                outcomes.append("closed")
    lost = [outcome for outcome in outcomes if outcome != "200"]
    assert lost and set(lost) <= {"closed", "502"}, outcomes
    assert len(dying.seen) == len(lost)  # each one it took, it took once: none was sent on to the other
    assert len(alive.seen) == outcomes.count("200")
