"""A protected account on LIVE Samba AD is known before the gates: the service account, delegated on OU=People
only, may not reset a Domain Admins member whose ACL is AdminSDHolder's (adminCount = 1, inheritance off).

Samba 4.17 runs no SDProp, so `protected_admin` applies what SDProp would (see tests/live_servers/samba_ad.py);
the ACL it leaves is AdminSDHolder's own. The kiosk reads allowedAttributesEffective on the entry: Samba
lists lockoutTime and pwdLastSet for a delegated user and nothing for the protected one, and the real
reset as the service account fails there with insufficientAccessRights, so the check tells the truth.
"""

from __future__ import annotations

import io
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_servers.common import LiveUser
from live_servers.kiosk_setup import fake_keyring_for, live_policy
from live_servers.samba_ad import DOMAIN, protected_admin

from kiosk.cli.directory_cmd import directory_test
from kiosk.cli.policy_sim_cmd import explain_user
from kiosk.cli.report_cmd import report_registration
from kiosk.services.api import ErrorCode, Stage
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.directory.errors import WriteFailed
from kiosk.services.backend.directory.factory import open_ldap_directory
from kiosk.services.backend.directory.ldap import LdapDirectory
from kiosk.services.backend.storage.store import Store

from ..conftest import Kiosk, kiosk_for

MISSING = ("write lockoutTime", "write pwdLastSet")


async def identify(kiosk: Kiosk, user_id: str) -> tuple[int, list[str], dict[str, Any]]:
    """What a stranger sees of identifying as `user_id`, minus what differs per request anyway."""
    await kiosk.open()
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    response = await kiosk.request("POST", "/session/identify", {"user_id": user_id, "captcha": captcha})
    body: dict[str, Any] = response.json()
    body.pop("correlation_id", None)
    return response.status_code, sorted(n for n in response.headers if n.lower() != "content-length"), body


@pytest.fixture
def admin(samba_ad_server: Any) -> Iterator[LiveUser]:
    """`root1`: a Domain Admins member in OU=People, in the enabled group, with a mail and a mobile."""
    with fake_keyring_for(samba_ad_server), protected_admin(samba_ad_server, "root1") as user:
        yield user


@pytest.fixture
async def samba(samba_ad_server: Any, admin: LiveUser, tmp_path: Path) -> AsyncIterator[LdapDirectory]:
    """The kiosk's adapter for the live Samba AD (the protected admin exists)."""
    store = await Store.open(tmp_path / "backend.sqlite3")
    directory = await open_ldap_directory(live_policy(samba_ad_server), store)
    yield directory
    await directory.close()
    await store.close()


async def test_the_adapter_reads_what_the_service_account_may_write(
    samba_ad_server: Any, admin: LiveUser, samba: LdapDirectory
) -> None:
    assert samba_ad_server.read(admin.dn, ["adminCount"]) == {"adminCount": ["1"]}
    protected = await samba.find_user("root1")
    assert protected is not None and protected.missing_rights == MISSING
    assert await samba.find_user(f"{DOMAIN}\\root1") == protected
    for login in ("alice", "carol", "dave", "obrien"):  # delegated on OU=People, admins of the kiosk too
        user = await samba.find_user(login)
        assert user is not None and user.missing_rights == (), login
    outside = await samba.find_user("Administrator")  # CN=Users: never delegated
    assert outside is not None and outside.missing_rights == MISSING
    # The check tells the truth: the reset it foresees failing does fail, and nothing changed.
    with pytest.raises(WriteFailed) as refused:
        await samba.reset_password("root1", "Lantern-Orbit-Meadow-42!")
    assert refused.value.result == "insufficientAccessRights"
    assert samba_ad_server.bind_ok(admin.dn, admin.password)


def test_policy_explain_and_directory_test_tell_before_anyone_tries(samba_ad_server: Any, admin: LiveUser) -> None:
    policy = live_policy(samba_ad_server)
    out, err = io.StringIO(), io.StringIO()
    assert explain_user(policy, "root1", False, out, err) == 3
    text = out.getvalue()
    assert "verdict: REFUSED (writeback_not_permitted)" in text
    assert "NO  written back, but the service account may not write lockoutTime, write pwdLastSet" in text
    assert "AdminSDHolder" in text and "fix: either delegate the same rights" in text
    out = io.StringIO()
    assert explain_user(policy, "root1", True, out, err) == 3
    assert json.loads(out.getvalue())["user"]["missing_rights"] == list(MISSING)

    out = io.StringIO()
    assert directory_test(policy, "root1", out, err) == 0
    said = out.getvalue().splitlines()
    assert "eligibility: refused (writeback_not_permitted)" in said
    assert any(
        line.startswith("service account: the kiosk's service account may not write lockoutTime") for line in said
    )
    assert any(line.startswith("service account: fix: ") for line in said)
    out = io.StringIO()
    assert directory_test(policy, "alice", out, err) == 0
    assert "service account: may write lockoutTime and pwdLastSet on this account" in out.getvalue().splitlines()
    assert err.getvalue() == ""


async def test_a_session_refuses_after_the_first_gate_without_a_failed_write(
    samba_ad_server: Any, admin: LiveUser
) -> None:
    async with kiosk_for(live_policy(samba_ad_server)) as kiosk:
        # Until a gate, a protected account answers exactly like any user ID (no enumeration of admins).
        seen = {typed: await identify(kiosk, typed) for typed in ("nobody-here", "alice", f"{DOMAIN}\\root1", "root1")}
        assert seen["root1"][0] == 200 and seen["root1"][2]["stage"] == "choose_method"
        assert all(answer == seen["root1"] for answer in seen.values()), seen
        view = await kiosk.pass_email()
        assert view.stage is Stage.REFUSED
        assert view.refusal is not None and view.refusal.code is ErrorCode.WRITEBACK_NOT_PERMITTED
        await kiosk.error(
            "POST", "/session/password", {"password": "Lantern-Orbit-Meadow-42!"}, 409, "step_not_allowed"
        )
        records = await kiosk.backend.audit_records()
    mine = [(r.event, r.outcome) for r in records if r.user_id == "root1"]
    assert (AuditEvent.IDENTIFIED, "writeback_not_permitted") in mine
    assert (AuditEvent.REFUSED, "writeback_not_permitted") in mine
    assert not [outcome for _, outcome in mine if outcome.startswith("writeback_failed")]
    assert samba_ad_server.bind_ok(admin.dn, admin.password)  # nothing was written


async def test_with_early_refusals_it_is_told_at_once(samba_ad_server: Any, admin: LiveUser) -> None:
    async with kiosk_for(live_policy(samba_ad_server, early_refusals=True)) as kiosk:
        view = await kiosk.start(f"{DOMAIN}\\root1")
        assert view.stage is Stage.REFUSED
        assert view.refusal is not None and view.refusal.code is ErrorCode.WRITEBACK_NOT_PERMITTED


def test_the_registration_report_counts_the_protected_admin_as_stranded(samba_ad_server: Any, admin: LiveUser) -> None:
    out = io.StringIO()
    assert report_registration(live_policy(samba_ad_server), "json", out, io.StringIO()) == 3
    report = json.loads(out.getvalue())
    users = {user["login"]: user for user in report["users"]}
    assert (users["root1"]["refusal"], users["root1"]["stranded"]) == ("writeback_not_permitted", True)
    assert users["root1"]["registered"]["email"] == "r•••••@kiosk.test" and users["root1"]["registered"]["mobile"]
    assert users["alice"]["self_service"] is True and users["alice"]["missing_rights"] == []
    assert users["frank"]["refusal"] == "too_few_methods"
    assert report["summary"]["stranded_by_reason"]["writeback_not_permitted"] >= 1
