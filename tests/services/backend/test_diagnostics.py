"""`kiosk diagnose`'s checks against real servers: both live directories, a shared backend under uvicorn, the keyring.

The directories are the session's real OpenLDAP and Samba AD (tests/live_servers), the service
password in the FAKE in-memory keyring; the shared backend is the real backend served by uvicorn on
loopback. A hung server is a FAKE silent peer (it accepts TCP and never answers): nothing else can
hang on purpose. Every run is also searched for the secrets it used: none may appear in the report.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from live_servers.certificates import make_tls_files
from live_servers.common import LiveDirectory, free_port
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import fake_keyring_for, live_policy
from live_servers.served_backend import served_backend, served_backend_for_kiosks

from kiosk.cli.diagnose_cmd import format_report
from kiosk.policy.schema import Policy
from kiosk.services.backend import Backend
from kiosk.services.backend.credentials import SERVICE
from kiosk.services.backend.diagnostics.checks import run_diagnostics
from kiosk.services.diagnosis import CheckStatus, DiagnosticReport


def statuses(report: DiagnosticReport) -> dict[str, CheckStatus]:
    """Check name → status."""
    return {check.name: check.status for check in report.checks}


def detail(report: DiagnosticReport, name: str) -> str:
    """The detail of the check called `name`."""
    (found,) = [check for check in report.checks if check.name == name]
    return found.detail


def assert_no_secret(report: DiagnosticReport, *secrets: str) -> None:
    """Neither the text nor the JSON form of the report holds any of `secrets`."""
    shown = format_report(report, "policy.toml") + json.dumps(report.as_dict())
    for secret in secrets:
        assert secret not in shown


def clock_offset(seconds: float) -> Any:
    """A clock `seconds` ahead of the real one (a kiosk whose clock is wrong)."""
    return lambda: datetime.now(UTC) + timedelta(seconds=seconds)


class SilentPeer:
    """FAKE hung server on loopback: accepts TCP connections and never sends a byte."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self._held: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                self._held.append(self._listener.accept()[0])
            except TimeoutError:
                continue
            except OSError:
                return

    def close(self) -> None:
        """Stop accepting and drop every held connection."""
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for peer in self._held:
            peer.close()


@pytest.fixture
def silent_peer() -> Iterator[SilentPeer]:
    """A FAKE server that hangs."""
    peer = SilentPeer()
    yield peer
    peer.close()


# ---------------------------------------------------------------------------------------- embedded


async def test_the_demo_policy_checks_its_store_and_skips_what_it_does_not_use(
    memory_keyring: FakeMemoryKeyring,
) -> None:
    report = await run_diagnostics(Policy.model_validate({}), source="demo.toml")
    assert statuses(report) == {
        "policy": CheckStatus.OK,
        "backend": CheckStatus.OK,
        "directory": CheckStatus.SKIP,
        "SMTP": CheckStatus.SKIP,
        "gateway": CheckStatus.SKIP,
        "keyring": CheckStatus.OK,
        "keyring admin-exit": CheckStatus.WARN,
        "clock": CheckStatus.SKIP,
    }
    assert report.ok
    assert "FakeMemoryKeyring" in detail(report, "keyring")
    assert "kiosk secrets set admin-exit" in next(c.hint for c in report.checks if c.name == "keyring admin-exit")


async def test_a_configured_store_file_is_opened_without_being_changed(
    memory_keyring: FakeMemoryKeyring, tmp_path: Path
) -> None:
    database = tmp_path / "kiosk.sqlite3"
    policy = Policy.model_validate({"directory": {"embedded": {"database": str(database)}}})
    report = await run_diagnostics(policy)
    assert statuses(report)["backend"] is CheckStatus.OK
    assert "does not exist yet" in detail(report, "backend") and not database.exists()

    backend = await Backend.open(policy)
    await backend.close()
    before = database.read_bytes()
    report = await run_diagnostics(policy)
    assert statuses(report)["backend"] is CheckStatus.OK and "intact and writable" in detail(report, "backend")
    assert database.read_bytes() == before

    database.write_bytes(b"this is not a database" * 100)
    report = await run_diagnostics(policy)
    assert statuses(report)["backend"] is CheckStatus.FAIL and not report.ok


async def test_a_store_in_a_missing_folder_fails(memory_keyring: FakeMemoryKeyring, tmp_path: Path) -> None:
    policy = Policy.model_validate({"directory": {"embedded": {"database": str(tmp_path / "nope" / "k.sqlite3")}}})
    report = await run_diagnostics(policy)
    assert statuses(report)["backend"] is CheckStatus.FAIL
    assert "missing or not writable" in detail(report, "backend")


# ------------------------------------------------------------------------------------------ live


@pytest.fixture
def server(live_directory: LiveDirectory) -> LiveDirectory:
    """Each live directory in turn."""
    return live_directory


async def test_a_live_directory_passes_tls_bind_and_base_dn(server: LiveDirectory) -> None:
    with fake_keyring_for(server) as keyring:
        keyring.set_password(SERVICE, "admin-exit", "Exit-Secret-4411!")
        report = await run_diagnostics(live_policy(server), source="live.toml")
    where = f"{server.host}:{server.ldaps_port}"
    found = statuses(report)
    assert found[f"directory bind {where}"] is CheckStatus.OK
    assert found[f"directory base DN {where}"] is CheckStatus.OK
    assert server.base_dn in detail(report, f"directory base DN {where}")
    tls = detail(report, f"directory TLS {where}")
    assert "certificate verified" in tls and "TLSv1." in tls
    # The throwaway certificates live two days: under 30, so a warning to renew.
    assert found[f"directory TLS {where}"] is CheckStatus.WARN and "day" in tls
    assert found["keyring directory"] is CheckStatus.OK and found["keyring admin-exit"] is CheckStatus.OK
    if server.kind == "samba_ad":
        assert found["clock"] is CheckStatus.OK and "currentTime" in detail(report, "clock")
    else:
        assert found["clock"] is CheckStatus.SKIP  # OpenLDAP tells no time, and nothing else here does
    assert report.ok
    assert_no_secret(report, server.service_password, "Exit-Secret-4411!")


async def test_startls_on_the_plain_port_is_checked_too(server: LiveDirectory) -> None:
    with fake_keyring_for(server):
        report = await run_diagnostics(live_policy(server, urls=[server.ldap_url], start_tls=True))
    where = f"{server.host}:{server.port}"
    assert "StartTLS, TLSv1." in detail(report, f"directory TLS {where}")
    assert statuses(report)[f"directory bind {where}"] is CheckStatus.OK


async def test_a_wrong_service_password_fails_the_bind_and_is_never_shown(server: LiveDirectory) -> None:
    wrong = "Not-The-Service-Password-1!"
    with fake_keyring_for(server) as keyring:
        keyring.set_password(SERVICE, "directory", wrong)
        report = await run_diagnostics(live_policy(server))
        keyring.set_password(SERVICE, "directory", server.service_password)
        # A good bind right after clears the server's failed-bind count (both lock out after 3).
        assert (await run_diagnostics(live_policy(server))).ok
    where = f"{server.host}:{server.ldaps_port}"
    assert statuses(report)[f"directory bind {where}"] is CheckStatus.FAIL
    assert "service account was refused" in detail(report, f"directory bind {where}")
    assert f"directory base DN {where}" not in statuses(report)
    assert not report.ok
    assert_no_secret(report, wrong, server.service_password)


async def test_a_certificate_from_another_ca_fails_tls_and_says_why(server: LiveDirectory) -> None:
    with fake_keyring_for(server):
        report = await run_diagnostics(live_policy(server, ca_file=server.wrong_ca_file))
    where = f"{server.host}:{server.ldaps_port}"
    assert statuses(report)[f"directory TLS {where}"] is CheckStatus.FAIL
    assert "TLS handshake failed: certificate verify failed" in detail(report, f"directory TLS {where}")
    assert f"directory bind {where}" not in statuses(report)


async def test_a_missing_base_dn_fails(server: LiveDirectory) -> None:
    missing = f"ou=nowhere,{server.base_dn}"
    with fake_keyring_for(server):
        report = await run_diagnostics(live_policy(server, user_search_base=missing))
    name = f"directory base DN {server.host}:{server.ldaps_port}"
    check = detail(report, name)
    assert statuses(report)[name] is CheckStatus.FAIL
    assert missing in check and server.base_dn not in check.replace(missing, "")


async def test_every_server_of_the_policy_is_checked_on_its_own(
    server: LiveDirectory, unreachable_ldaps_url: str
) -> None:
    with fake_keyring_for(server):
        report = await run_diagnostics(live_policy(server, urls=[unreachable_ldaps_url, server.ldaps_url]))
    closed = unreachable_ldaps_url.removeprefix("ldaps://")
    assert statuses(report)[f"directory TLS {closed}"] is CheckStatus.FAIL
    assert "cannot connect" in detail(report, f"directory TLS {closed}")
    assert statuses(report)[f"directory bind {server.host}:{server.ldaps_port}"] is CheckStatus.OK


async def test_no_directory_password_in_the_keyring_fails_clearly(
    server: LiveDirectory, memory_keyring: FakeMemoryKeyring
) -> None:
    report = await run_diagnostics(live_policy(server))
    found = statuses(report)
    assert found["keyring directory"] is CheckStatus.FAIL
    assert found["directory"] is CheckStatus.FAIL
    assert "kiosk secrets set directory" in next(c.hint for c in report.checks if c.name == "keyring directory")
    assert found["keyring enrollment-key"] is CheckStatus.OK  # created by the backend at its first start


async def test_a_hung_directory_fails_with_no_answer_instead_of_hanging(
    server: LiveDirectory, silent_peer: SilentPeer
) -> None:
    url = f"ldaps://127.0.0.1:{silent_peer.port}"
    with fake_keyring_for(server):
        report = await run_diagnostics(
            live_policy(server, urls=[url], connect_timeout_seconds=0.5, operation_timeout_seconds=0.5)
        )
    check = detail(report, f"directory TLS 127.0.0.1:{silent_peer.port}")
    assert "no answer within 0.5 s" in check
    assert not report.ok


async def test_samba_ad_clock_skew_warns_over_a_minute_and_fails_over_five(samba_ad_server: LiveDirectory) -> None:
    with fake_keyring_for(samba_ad_server):
        two_minutes = await run_diagnostics(live_policy(samba_ad_server), clock=clock_offset(-120))
        ten_minutes = await run_diagnostics(live_policy(samba_ad_server), clock=clock_offset(600))
    assert statuses(two_minutes)["clock"] is CheckStatus.WARN
    assert "ahead of this machine" in detail(two_minutes, "clock")  # the server is ahead of a late kiosk
    assert statuses(ten_minutes)["clock"] is CheckStatus.FAIL
    assert "behind this machine" in detail(ten_minutes, "clock") and "Kerberos" in detail(ten_minutes, "clock")
    assert not ten_minutes.ok


# ------------------------------------------------------------------------------------ shared backend


@pytest.fixture
async def shared_backend() -> AsyncIterator[str]:
    """The real backend behind uvicorn on a free loopback port (plain http); yields its base URL."""
    async with served_backend("diagnose-test") as url:
        yield url


def shared(url: str, **backend: Any) -> Policy:
    """A kiosk policy on a shared backend at `url`."""
    return Policy.model_validate({"backend": {"mode": "shared", "url": url, "timeout_seconds": 2, **backend}})


async def test_a_shared_backend_answers_health_and_tells_the_time(
    shared_backend: str, memory_keyring: FakeMemoryKeyring
) -> None:
    report = await run_diagnostics(shared(shared_backend))
    found = statuses(report)
    assert found["backend"] is CheckStatus.OK
    assert "/v1/health: ok, version" in detail(report, "backend") and "ms round trip" in detail(report, "backend")
    assert found["backend TLS"] is CheckStatus.SKIP  # http:// to this machine
    for name in ("directory", "SMTP", "gateway"):
        assert found[name] is CheckStatus.SKIP and "shared backend" in detail(report, name)
    assert found["clock"] is CheckStatus.OK and "Date header" in detail(report, "clock")
    late = await run_diagnostics(shared(shared_backend), clock=clock_offset(-90))
    assert statuses(late)["clock"] is CheckStatus.WARN


async def test_an_unreachable_shared_backend_fails() -> None:
    report = await run_diagnostics(shared(f"http://127.0.0.1:{free_port()}"))
    assert statuses(report)["backend"] is CheckStatus.FAIL
    assert "cannot connect" in detail(report, "backend")
    assert not report.ok


async def test_a_shared_backend_with_an_untrusted_certificate_fails_tls(tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path, ("127.0.0.1",), "shared backend")
    async with served_backend("diagnose-tls", cert_file=tls.cert_file, key_file=tls.key_file) as url:
        report = await run_diagnostics(shared(url))
    assert statuses(report)["backend"] is CheckStatus.FAIL
    assert "certificate verify failed" in detail(report, "backend")


async def test_a_shared_backend_signed_by_backend_ca_file_passes_tls(tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path, ("127.0.0.1",), "shared backend")
    async with served_backend("diagnose-tls", cert_file=tls.cert_file, key_file=tls.key_file) as url:
        report = await run_diagnostics(shared(url, ca_file=str(tls.ca_file)))
        wrong = await run_diagnostics(shared(url, ca_file=str(tls.wrong_ca_file)))
        missing = await run_diagnostics(shared(url, ca_file=str(tmp_path / "none.pem")))
    assert statuses(report)["backend"] is CheckStatus.OK
    assert statuses(report)["backend TLS"] is CheckStatus.WARN  # verified; the test certificate expires in 2 days
    assert statuses(wrong)["backend"] is CheckStatus.FAIL
    assert "certificate verify failed" in detail(wrong, "backend")
    assert statuses(missing)["backend"] is CheckStatus.FAIL
    assert "backend.ca_file" in detail(missing, "backend")


async def test_a_hung_shared_backend_fails_with_no_answer(silent_peer: SilentPeer) -> None:
    report = await run_diagnostics(shared(f"http://127.0.0.1:{silent_peer.port}", timeout_seconds=0.5))
    assert statuses(report)["backend"] is CheckStatus.FAIL
    assert "no answer within 0.5 s" in detail(report, "backend")


async def test_something_else_at_the_backend_url_is_not_a_kiosk_backend(shared_backend: str) -> None:
    report = await run_diagnostics(shared(f"{shared_backend}/elsewhere"))
    assert statuses(report)["backend"] is CheckStatus.FAIL
    assert "HTTP 404, not a kiosk backend" in detail(report, "backend")


async def test_the_kiosk_credential_is_looked_for_and_tried_on_the_shared_backend(
    memory_keyring: FakeMemoryKeyring,
) -> None:
    async with served_backend_for_kiosks() as (url, backend):
        live = (await backend.kiosks.add("lobby-1")).text
        missing = await run_diagnostics(shared(url))
        assert statuses(missing)["keyring backend"] is CheckStatus.FAIL
        assert "backend credential" not in statuses(missing)  # nothing to try
        assert "kiosk secrets set backend" in next(c.hint for c in missing.checks if c.name == "keyring backend")
        memory_keyring.set_password(SERVICE, "backend", live)
        accepted = await run_diagnostics(shared(url))
        assert statuses(accepted)["keyring backend"] is CheckStatus.OK
        assert statuses(accepted)["backend credential"] is CheckStatus.OK
        assert "lobby-1" in detail(accepted, "backend credential")
        await backend.kiosks.revoke("lobby-1")
        revoked = await run_diagnostics(shared(url))
        assert statuses(revoked)["backend credential"] is CheckStatus.FAIL and not revoked.ok
        assert "kiosk kiosks add" in next(c.hint for c in revoked.checks if c.name == "backend credential")
        for report in (accepted, revoked):
            assert_no_secret(report, live.partition(":")[2])
