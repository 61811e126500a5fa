"""A directory write the service account has no right to make is audited and logged with the directory's
reason (issue 11, finding 11c), on each LIVE directory.

The kiosk binds as erin, an ordinary user: she may read the directory (find alice, her groups, dave's
lock) but not reset anyone's password or unlock anyone, exactly like a service account whose
delegation was forgotten. Both servers answer `insufficientAccessRights` (LDAP result 50), and the
administrator must be able to read that in the audit trail and the log, never a password.

On Active Directory the kiosk reads the service account's writable attributes first and refuses an
account it may not write before any gate (`writeback_not_permitted`, test_live_protected_accounts.py). What
it cannot read there is the Reset Password extended right, so on Samba erin is given the attribute writes
on alice's entry but not that right: the reset still fails at the directory, as here. Dave, on whom she may
write nothing, is refused after the first gate, with no write tried.
"""

from __future__ import annotations

import logging
from contextlib import nullcontext
from typing import Any

import pytest
from live_servers.common import new_password
from live_servers.fake_keyring import installed
from live_servers.kiosk_setup import live_policy
from live_servers.samba_ad import LOCKOUT_TIME, PWD_LAST_SET, granted

from kiosk.services.api import ErrorCode, Stage
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.credentials import DIRECTORY_PASSWORD

from ..conftest import kiosk_for

REASON = "writeback_failed:insufficientAccessRights"


async def test_a_service_account_without_reset_rights_is_audited_with_the_directory_reason(
    live: Any, caplog: pytest.LogCaptureFixture
) -> None:
    erin, alice, dave = live.users["erin"], live.users["alice"], live.users["dave"]
    chosen = new_password()
    caplog.set_level(logging.DEBUG)
    ad = live.kind == "samba_ad"
    writes = granted(live, alice.dn, erin.dn, (("WP", LOCKOUT_TIME), ("WP", PWD_LAST_SET))) if ad else nullcontext()
    with installed(**{DIRECTORY_PASSWORD: erin.password}), writes:
        async with kiosk_for(live_policy(live, bind_dn=erin.dn)) as kiosk:
            await kiosk.start("alice")
            assert (await kiosk.pass_email()).stage is Stage.NEW_PASSWORD
            await kiosk.error("POST", "/session/password", {"password": chosen}, 502, "writeback_failed")

            await kiosk.start("dave")
            view = await kiosk.pass_email()
            if ad:
                assert view.refusal is not None and view.refusal.code is ErrorCode.WRITEBACK_NOT_PERMITTED
            else:
                assert view.stage is Stage.CHOOSE_ACTION
                await kiosk.error("POST", "/session/action", {"action": "unlock"}, 502, "writeback_failed")
            records = await kiosk.backend.audit_records()

    assert live.bind_ok(alice.dn, alice.password)  # nothing changed
    assert not live.bind_ok(dave.dn, dave.password)  # still locked (a locked account refuses even its password)
    outcomes = {(record.event, record.outcome) for record in records}
    assert (AuditEvent.RESET, REASON) in outcomes
    assert ((AuditEvent.REFUSED, "writeback_not_permitted") if ad else (AuditEvent.UNLOCKED, REASON)) in outcomes
    said = [
        r.getMessage()
        for r in caplog.records
        if r.name.startswith("kiosk") and "insufficientAccessRights" in r.getMessage()
    ]
    assert len(said) >= (1 if ad else 2)
    assert all(r.levelno >= logging.WARNING for r in caplog.records if r.getMessage() in said)
    everything = caplog.text + "".join(f"{r.outcome} {r.user_id}" for r in records)
    assert chosen not in everything and erin.password not in everything


def test_the_reason_is_a_stable_short_code() -> None:
    from kiosk.services.backend.directory.errors import WriteFailed

    assert WriteFailed("insufficientAccessRights").result == "insufficientAccessRights"
    assert WriteFailed("administrator lock").result == "administrator_lock"
    assert WriteFailed("").result == "unknown"
    assert WriteFailed("x" * 300 + " (y=z)").result == "x" * 64
