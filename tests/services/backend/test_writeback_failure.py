"""A directory that fails the write: nothing changes, the user is told, the audit says so."""

from __future__ import annotations

import pytest

from kiosk.services.api import Stage
from kiosk.services.backend import Backend
from kiosk.services.backend.audit.log import AuditEvent

from .conftest import DEMO_PASSWORD, GOOD_PASSWORD, Kiosk


async def _refuse(*_args: object) -> None:
    raise OSError("the directory hung up")


async def test_a_failed_reset_changes_nothing_and_can_be_retried(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    await kiosk.start("emma")
    assert (await kiosk.pass_email()).stage is Stage.NEW_PASSWORD
    with monkeypatch.context() as patch:
        patch.setattr(backend.directory, "reset_password", _refuse)
        await kiosk.error("POST", "/session/password", {"password": GOOD_PASSWORD}, 502, "writeback_failed")
    assert await backend.directory.verify_password("emma", DEMO_PASSWORD)  # the old password still works
    failed = [r for r in await backend.audit_records() if r.event is AuditEvent.RESET]
    assert [r.outcome for r in failed] == ["writeback_failed"]
    # The session is still verified: once the directory is back, the same session finishes.
    done = await kiosk.ok("POST", "/session/password", {"password": GOOD_PASSWORD})
    assert done.stage is Stage.DONE and await backend.directory.verify_password("emma", GOOD_PASSWORD)


async def test_a_failed_unlock_leaves_the_account_locked(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    await kiosk.start("luke")
    assert (await kiosk.pass_email()).stage is Stage.CHOOSE_ACTION
    monkeypatch.setattr(backend.directory, "unlock", _refuse)
    await kiosk.error("POST", "/session/action", {"action": "unlock"}, 502, "writeback_failed")
    assert await backend.directory.is_locked("luke")
    unlocks = [r for r in await backend.audit_records() if r.event is AuditEvent.UNLOCKED]
    assert [r.outcome for r in unlocks] == ["writeback_failed"]
