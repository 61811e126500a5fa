"""Connection paths of the LDAP adapters not covered elsewhere, exercised for real.

A SLOW directory (a fake peer on loopback that accepts TCP connections and never answers), StartTLS
on the live servers' plain LDAP port, and Active Directory's `pwd_last_set` setting read back from
Samba. (Plain ldap:// without start_tls is refused by the policy schema: test_ldap_pure.py.)
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import ldap3
import pytest
from live_servers.common import LiveDirectory
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import fake_keyring_for, live_policy, restore_password

from kiosk.services.api import Stage
from kiosk.services.backend import Backend
from kiosk.services.backend.directory.errors import DirectoryUnavailable, Unavailability
from kiosk.services.backend.directory.factory import open_ldap_directory
from kiosk.services.backend.storage.store import Store

from ..conftest import Kiosk, kiosk_for

NEW_PASSWORD = "Quiver-Saffron-Tundra-58!"
SHORT_TIMEOUTS = {"connect_timeout_seconds": 0.5, "operation_timeout_seconds": 0.5}
FILETIME_EPOCH_OFFSET = 11_644_473_600
"""Seconds from 1601-01-01 (FILETIME's epoch) to 1970-01-01."""


class SilentPeer:
    """A FAKE directory on loopback: it accepts TCP connections and never sends a byte (a hung server)."""

    def __init__(self) -> None:
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(32)
        self._listener.settimeout(0.05)
        self.port = int(self._listener.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, name="silent-ldap-peer", daemon=True)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                peer, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted.append(peer)  # held open, never read from nor written to

    def __enter__(self) -> SilentPeer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._listener.close()
        for peer in self.accepted:
            with contextlib.suppress(OSError):
                peer.close()


@pytest.fixture
def silent_peer() -> Iterator[SilentPeer]:
    """A loopback server that accepts connections and never answers."""
    with SilentPeer() as peer:
        yield peer


async def _audit(backend: Backend) -> list[tuple[str, str]]:
    return [(record.event.value, record.outcome) for record in await backend.audit_records()]


async def _identify_is_unavailable(kiosk: Kiosk, user_id: str) -> None:
    await kiosk.open()
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    body = {"user_id": user_id, "captcha": captcha}
    await kiosk.error("POST", "/session/identify", body, 503, "directory_unavailable")


# ---------------------------------------------------------------- 1. a slow directory


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scheme", ["ldaps", "ldap+start_tls"])
async def test_a_slow_directory_opens_and_the_first_call_is_unavailable_by_timeout(
    live: Any, fake_keyring: FakeMemoryKeyring, silent_peer: SilentPeer, scheme: str
) -> None:
    """directory_factory: a slow server at start-up is not a misconfiguration; requests answer 503 (timeout)."""
    if scheme == "ldaps":
        settings: dict[str, Any] = {"urls": [f"ldaps://127.0.0.1:{silent_peer.port}"]}
    else:
        settings = {"urls": [f"ldap://127.0.0.1:{silent_peer.port}"], "start_tls": True}
    async with kiosk_for(live_policy(live, **settings, **SHORT_TIMEOUTS)) as kiosk:
        await _identify_is_unavailable(kiosk, live.users["alice"].login)
        assert ("step_refused", "directory_unavailable:timeout") in await _audit(kiosk.backend)
    assert silent_peer.accepted, "the kiosk never connected to the slow peer"


@pytest.mark.timeout(60)
@pytest.mark.parametrize("scheme", ["ldaps", "ldap+start_tls"])
async def test_a_slow_directory_is_classified_as_a_timeout_by_the_adapter(
    live: Any, fake_keyring: FakeMemoryKeyring, store: Store, silent_peer: SilentPeer, scheme: str
) -> None:
    """The same slow peer, without the start-up check: the first adapter call says TIMEOUT (not TLS)."""
    if scheme == "ldaps":
        settings: dict[str, Any] = {"urls": [f"ldaps://127.0.0.1:{silent_peer.port}"]}
    else:
        settings = {"urls": [f"ldap://127.0.0.1:{silent_peer.port}"], "start_tls": True}
    directory = await open_ldap_directory(live_policy(live, **settings, **SHORT_TIMEOUTS), store, check=False)
    try:
        with pytest.raises(DirectoryUnavailable) as outage:
            await directory.find_user(live.users["alice"].login)
        assert outage.value.reason is Unavailability.TIMEOUT
    finally:
        await directory.close()


# ---------------------------------------------------------------- 2. StartTLS on the plain port


@pytest.fixture
async def start_tls_kiosk(live: Any, fake_keyring: FakeMemoryKeyring) -> AsyncIterator[Kiosk]:
    """A kiosk whose directory is the live server's plain LDAP port, upgraded with StartTLS."""
    async with kiosk_for(live_policy(live, urls=[live.ldap_url], start_tls=True)) as kiosk:
        yield kiosk


async def test_start_tls_full_reset_through_the_http_api(live: Any, start_tls_kiosk: Kiosk) -> None:
    alice = live.users["alice"]
    view = await start_tls_kiosk.start(alice.mail)
    assert view.stage is Stage.CHOOSE_METHOD
    try:
        view = await start_tls_kiosk.pass_email()
        assert view.stage is Stage.NEW_PASSWORD
        response = await start_tls_kiosk.password(NEW_PASSWORD)
        assert response.status_code == 200, response.text
        assert not live.bind_ok(alice.dn, alice.password)  # checked first: the good bind then clears the failure
        assert live.bind_ok(alice.dn, NEW_PASSWORD)  # over LDAPS, certificate verified
    finally:
        restore_password(live, "alice")
    assert live.bind_ok(alice.dn, alice.password)
    assert ("reset", "ok") in await _audit(start_tls_kiosk.backend)


async def test_start_tls_with_a_certificate_from_another_ca_is_refused_at_backend_open(
    live: Any, fake_keyring: FakeMemoryKeyring
) -> None:
    policy = live_policy(live, urls=[live.ldap_url], start_tls=True, ca_file=live.wrong_ca_file)
    with pytest.raises(DirectoryUnavailable) as refused:
        await Backend.open(policy)
    assert refused.value.reason is Unavailability.TLS


# ---------------------------------------------------------------- 3. pwd_last_set on Active Directory (Samba)


def _pwd_last_set(live: LiveDirectory, login: str) -> int:
    return int(live.read(live.users[login].dn, ["pwdLastSet"])["pwdLastSet"][0])


def _filetime(unix_seconds: float) -> int:
    return int((unix_seconds + FILETIME_EPOCH_OFFSET) * 10_000_000)


def _restore_as_provisioned(live: LiveDirectory, login: str) -> None:
    """The provisioned password, and pwdLastSet back to 'now' (-1: unexpire), so the user can bind again."""
    restore_password(live, login)
    with ldap3.Connection(live.server(), live.admin_bind_dn, live.admin_password, auto_bind=True) as admin:
        admin.modify(live.users[login].dn, {"pwdLastSet": [(ldap3.MODIFY_REPLACE, ["-1"])]})
        assert admin.result["result"] == 0, admin.result["description"]


async def _kiosk_reset(live: LiveDirectory, login: str, **settings: Any) -> None:
    with fake_keyring_for(live):
        async with kiosk_for(live_policy(live, **settings)) as kiosk:
            await kiosk.start(live.users[login].mail)
            view = await kiosk.pass_email()
            assert view.stage is Stage.NEW_PASSWORD
            response = await kiosk.password(NEW_PASSWORD)
            assert response.status_code == 200, response.text
            assert ("reset", "ok") in await _audit(kiosk.backend)


async def test_pwd_last_set_must_change_writes_zero(samba_ad_server: LiveDirectory) -> None:
    live, alice = samba_ad_server, samba_ad_server.users["alice"]
    assert _pwd_last_set(live, "alice") != 0  # as provisioned
    try:
        await _kiosk_reset(live, "alice", pwd_last_set="must_change")
        assert _pwd_last_set(live, "alice") == 0  # must change at next sign-in
        assert not live.bind_ok(alice.dn, NEW_PASSWORD)  # Samba refuses the bind until the password is changed
    finally:
        _restore_as_provisioned(live, "alice")
    assert _pwd_last_set(live, "alice") != 0
    assert live.bind_ok(alice.dn, alice.password)


async def test_pwd_last_set_default_unexpire_writes_the_current_time(samba_ad_server: LiveDirectory) -> None:
    live, alice = samba_ad_server, samba_ad_server.users["alice"]
    with ldap3.Connection(live.server(), live.admin_bind_dn, live.admin_password, auto_bind=True) as admin:
        admin.modify(alice.dn, {"pwdLastSet": [(ldap3.MODIFY_REPLACE, ["0"])]})  # a known, not-current start
        assert admin.result["result"] == 0, admin.result["description"]
    before = _filetime(time.time() - 2)
    try:
        await _kiosk_reset(live, "alice")  # the default: unexpire (-1), which AD stores as now
        value = _pwd_last_set(live, "alice")
        assert before <= value <= _filetime(time.time() + 2), value
        assert live.bind_ok(alice.dn, NEW_PASSWORD)
    finally:
        _restore_as_provisioned(live, "alice")
    assert live.bind_ok(alice.dn, alice.password)
