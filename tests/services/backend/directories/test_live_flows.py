"""Whole recovery flows through the backend's HTTP API against each live directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import live_policy, relock, restore_password

from kiosk.policy.schema import Method
from kiosk.services.api import Outcome, Stage
from kiosk.services.backend import Backend

from ..conftest import Kiosk, kiosk_for

NEW_PASSWORD = "Harbor-Violet-Quarry-73!"


@pytest.fixture
async def live_kiosk(live: Any, fake_keyring: FakeMemoryKeyring) -> AsyncIterator[Kiosk]:
    """A kiosk driver on a backend whose directory is the live server."""
    async with kiosk_for(live_policy(live)) as kiosk:
        yield kiosk


async def _audit(backend: Backend) -> list[tuple[str, str]]:
    return [(record.event.value, record.outcome) for record in await backend.audit_records()]


async def test_email_code_reset(live: Any, live_kiosk: Kiosk) -> None:
    alice = live.users["alice"]
    view = await live_kiosk.start(alice.mail)
    assert view.stage is Stage.CHOOSE_METHOD
    try:
        view = await live_kiosk.pass_email()
        assert view.stage is Stage.NEW_PASSWORD
        response = await live_kiosk.password(NEW_PASSWORD)
        assert response.status_code == 200, response.text
        assert live.bind_ok(alice.dn, NEW_PASSWORD)
        assert not live.bind_ok(alice.dn, alice.password)
    finally:
        restore_password(live, "alice")
    assert ("reset", "ok") in await _audit(live_kiosk.backend)


async def test_a_password_the_directory_refuses_is_rejected_with_its_reason(live: Any, live_kiosk: Kiosk) -> None:
    await live_kiosk.start("alice")
    await live_kiosk.pass_email()
    # 8+ characters passes the kiosk's rules; Samba's complexity or ppolicy's history refuses it.
    password = live.users["alice"].password if live.kind == "openldap" else "abcdefgh"
    response = await live_kiosk.password(password)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "password_rejected"
    assert body["reasons"] == ["directory_history" if live.kind == "openldap" else "directory_complexity"]
    assert live.bind_ok(live.users["alice"].dn, live.users["alice"].password)
    assert ("password_rejected", body["reasons"][0]) in await _audit(live_kiosk.backend)


async def test_unlock_only_for_the_locked_user(live: Any, live_kiosk: Kiosk) -> None:
    dave = live.users["dave"]
    await live_kiosk.start("dave")
    try:
        view = await live_kiosk.pass_email()
        assert view.stage is Stage.CHOOSE_ACTION
        view = await live_kiosk.ok("POST", "/session/action", {"action": "unlock"})
        assert view.outcome is Outcome.UNLOCKED
        assert live.bind_ok(dave.dn, dave.password)
    finally:
        relock(live, "dave")


async def test_directory_stopped_mid_flow_is_unavailable_audited_and_recovers(live: Any, live_kiosk: Kiosk) -> None:
    await live_kiosk.start("alice")
    live.stop()
    try:
        await live_kiosk.error("POST", "/session/method", {"method": Method.EMAIL.value}, 503, "directory_unavailable")
    finally:
        live.start()
    assert ("step_refused", "directory_unavailable:unreachable") in await _audit(live_kiosk.backend)
    view = await live_kiosk.choose(Method.EMAIL)
    assert view.stage is Stage.VERIFY_CODE


async def test_ambiguous_user_id_is_refused_as_unknown_and_audited(live: Any, fake_keyring: FakeMemoryKeyring) -> None:
    async with kiosk_for(live_policy(live, early_refusals=True)) as early:
        view = await early.start(live.users["twin1"].mail)
        assert view.stage is Stage.REFUSED
        assert view.refusal is not None and view.refusal.code.value == "unknown_user"
        assert ("refused", "ambiguous_user") in await _audit(early.backend)


async def test_ambiguous_user_id_is_a_decoy_by_default(live: Any, live_kiosk: Kiosk) -> None:
    view = await live_kiosk.start(live.users["twin1"].mail)
    assert view.stage is Stage.CHOOSE_METHOD and view.refusal is None  # like any other user ID
    assert ("identified", "ambiguous_user") in await _audit(live_kiosk.backend)
    await live_kiosk.choose(Method.EMAIL)
    assert await live_kiosk.backend.outbox() == []  # neither twin gets a code
