"""`kiosk serve --certificate FILE --key FILE`: HTTPS from the organisation's files, or a one-line refusal."""

from __future__ import annotations

import os
import ssl
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_servers.certificates import TlsFiles, make_tls_files
from live_servers.common import free_port

from kiosk.services.api import ErrorCode
from kiosk.services.client import ApiError, BackendClient

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / ".venv" / "bin" / "kiosk"


@pytest.fixture
def tls(tmp_path: Path) -> TlsFiles:
    """A test CA, a server certificate for 127.0.0.1 it signed, its key, and an unrelated CA."""
    return make_tls_files(tmp_path, ("127.0.0.1",), "kiosk serve")


@pytest.fixture
def policy_file(tmp_path: Path) -> Path:
    """A server policy with every default (the embedded store in a temporary file)."""
    path = tmp_path / "server.toml"
    path.write_text("", encoding="utf-8")
    return path


def serve(policy: Path, *extra: str, port: int = 0) -> subprocess.Popen[str]:
    """`kiosk serve` in the background."""
    return subprocess.Popen(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), "serve", "--policy", str(policy), "--port", str(port or free_port()), *extra],
        cwd=REPO,
        env={**os.environ},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def refused(policy: Path, *extra: str) -> str:
    """`kiosk serve` that must stop at once: its stderr (exit status checked here)."""
    process = serve(policy, *extra)
    try:
        _, err = process.communicate(timeout=60)
    finally:
        process.kill()
    assert process.returncode != 0, err
    assert "Traceback" not in err, err
    return err


@pytest.fixture
def served(policy_file: Path, tls: TlsFiles) -> Iterator[str]:
    """A real `kiosk serve` with the test CA's certificate on a loopback port; yields its https URL."""
    port = free_port()
    process = serve(policy_file, "--certificate", str(tls.cert_file), "--key", str(tls.key_file), port=port)
    url = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(tls.ca_file))
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.communicate()[1]
            try:
                httpx.get(f"{url}/v1/health", verify=trust, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "kiosk serve did not start"
                time.sleep(0.1)
        yield url
    finally:
        process.terminate()
        process.communicate(timeout=30)


async def test_kiosk_serve_speaks_https_to_a_kiosk_that_trusts_its_ca(served: str, tls: TlsFiles) -> None:
    client = BackendClient.shared(served, timeout=5.0, ca_file=str(tls.ca_file))
    try:
        assert (await client.health()).status == "ok"
        # The API's own error over HTTPS: this kiosk is not enrolled (an enrolled one over HTTPS:
        # tests/cli/test_cli_kiosks.py).
        with pytest.raises(ApiError) as refused:
            await client.open_session(kiosk_id="lobby-https", locale="en")
        assert refused.value.code is ErrorCode.KIOSK_UNAUTHORIZED
    finally:
        await client.aclose()


def test_a_missing_key_stops_the_start_with_one_line_naming_it(policy_file: Path, tls: TlsFiles) -> None:
    missing = tls.key_file.with_name("nope.key")
    err = refused(policy_file, "--certificate", str(tls.cert_file), "--key", str(missing))
    assert len(err.strip().splitlines()) == 1, err
    assert str(missing) in err and "--key" in err


def test_a_missing_certificate_stops_the_start(policy_file: Path, tls: TlsFiles) -> None:
    missing = tls.cert_file.with_name("nope.pem")
    err = refused(policy_file, "--certificate", str(missing), "--key", str(tls.key_file))
    assert len(err.strip().splitlines()) == 1, err
    assert str(missing) in err and "--certificate" in err


def test_a_key_of_another_certificate_is_refused(policy_file: Path, tls: TlsFiles, tmp_path: Path) -> None:
    (tmp_path / "other").mkdir()
    other = make_tls_files(tmp_path / "other", ("127.0.0.1",), "another server")
    err = refused(policy_file, "--certificate", str(tls.cert_file), "--key", str(other.key_file))
    assert len(err.strip().splitlines()) == 1, err
    assert str(other.key_file) in err and "does not match" in err


def test_a_key_that_is_not_a_key_is_refused(policy_file: Path, tls: TlsFiles) -> None:
    err = refused(policy_file, "--certificate", str(tls.cert_file), "--key", str(tls.cert_file))
    assert len(err.strip().splitlines()) == 1, err
    assert "--key" in err and str(tls.cert_file) in err


def test_a_certificate_needs_its_key(policy_file: Path, tls: TlsFiles) -> None:
    err = refused(policy_file, "--certificate", str(tls.cert_file))
    assert "--key" in err
