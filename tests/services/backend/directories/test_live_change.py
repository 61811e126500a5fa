"""The password change (flow change) through the backend's HTTP API against each LIVE directory.

The change is the user's own: Active Directory gets the delete/add of unicodePwd (so the domain's
history, minimum age and complexity apply, and a wrong old password is refused), OpenLDAP the password
modify operation with the old password, bound as the user. What each directory does, as measured:

- Samba 4.17 refuses the bind of a right password that must change (pwdLastSet = 0: `data 773`) or has
  expired (`data 532`), as Windows AD does; a wrong password is `data 52e` either way. Such an account
  signs in at the kiosk, and its change is written on the service account's connection (AD grants
  User-Change-Password to Everyone), where Samba still checks the old password, the history and the
  minimum age. A reused password is `0000052D … already used (in history)`, a young one `… too young to
  change`, a wrong old one `00000056 … The old password specified doesn't match`.
- OpenLDAP 2.5 ppolicy lets an account with `pwdReset` (pwdMustChange) bind, restricted to the password
  modify operation, which it then accepts with the old password (and clears pwdReset); its history
  (`pwdInHistory`) refuses a reused password on a user change too.
"""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import ldap3
import pytest
from live_servers.common import LiveDirectory, new_password
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import fake_keyring_for, live_policy, restore_password

from kiosk.policy.password import fold
from kiosk.policy.schema import Policy, RegistrationSettings
from kiosk.services.api import Flow, Outcome, SessionView, Stage
from kiosk.services.backend.audit.log import AuditEvent

from ..change.conftest import open_flow, sign_in
from ..conftest import Kiosk, kiosk_for


def _change_policy(live: LiveDirectory) -> Policy:
    """The live policy, without reconfirmation (a change ends at DONE)."""
    return live_policy(live).model_copy(update={"registration": RegistrationSettings(reconfirm_days=0)})


@pytest.fixture
async def live_kiosk(live: Any, fake_keyring: FakeMemoryKeyring) -> AsyncIterator[Kiosk]:
    """A kiosk driver on a backend whose directory is the live server."""
    async with kiosk_for(_change_policy(live)) as kiosk:
        yield kiosk


@pytest.fixture
async def samba_kiosk(samba_ad_server: Any) -> AsyncIterator[Kiosk]:
    """A kiosk driver on the live Samba AD."""
    with fake_keyring_for(samba_ad_server):
        async with kiosk_for(_change_policy(samba_ad_server)) as kiosk:
            yield kiosk


async def _change(kiosk: Kiosk, user_id: str, current: str, new: str) -> httpx.Response:
    """Open a change session, sign in (which must succeed) and send the new password."""
    await open_flow(kiosk, Flow.CHANGE)
    signed = await sign_in(kiosk, user_id, current)
    assert signed.status_code == 200, signed.text
    assert SessionView.model_validate_json(signed.content).stage is Stage.NEW_PASSWORD
    return await kiosk.password(new)


def _without_correlation(response: httpx.Response) -> bytes:
    return response.content.replace(response.headers["X-Correlation-Id"].encode(), b"<cid>")


async def _audit(kiosk: Kiosk) -> list[tuple[AuditEvent, str, str]]:
    return [(r.event, r.user_id, r.outcome) for r in await kiosk.backend.audit_records()]


async def test_a_user_changes_their_own_password(live: Any, live_kiosk: Kiosk) -> None:
    alice = live.users["alice"]
    changed = _fresh_password(alice.login, alice.display_name)
    try:
        response = await _change(live_kiosk, alice.mail, alice.password, changed)
        assert response.status_code == 200, response.text
        view = SessionView.model_validate_json(response.content)
        assert view.stage is Stage.DONE and view.outcome is Outcome.CHANGED
        assert live.bind_ok(alice.dn, changed) and not live.bind_ok(alice.dn, alice.password)
    finally:
        restore_password(live, "alice")
    audit = await _audit(live_kiosk)
    assert (AuditEvent.SIGNED_IN, "alice", "change") in audit and (AuditEvent.CHANGED, "alice", "ok") in audit
    assert [m.subject for m in await live_kiosk.backend.outbox() if m.to == alice.mail] == [
        "Your Contoso password was changed"
    ]
    assert not any(changed in outcome or alice.password in outcome for _, _, outcome in audit)


async def test_a_wrong_current_password_and_an_unknown_id_look_alike(live: Any, live_kiosk: Kiosk) -> None:
    alice = live.users["alice"]
    await open_flow(live_kiosk, Flow.CHANGE)
    wrong = await sign_in(live_kiosk, "alice", "Not-Her-Password-1")
    unknown = await sign_in(live_kiosk, "nobody-at-all", alice.password)
    ambiguous = await sign_in(live_kiosk, live.users["twin1"].mail, live.users["twin1"].password)
    disabled = await sign_in(live_kiosk, "grace", live.users["grace"].password)
    assert {r.status_code for r in (wrong, unknown, ambiguous, disabled)} == {400}
    assert len({_without_correlation(r) for r in (wrong, unknown, ambiguous, disabled)}) == 1
    failed = [(user, outcome) for e, user, outcome in await _audit(live_kiosk) if e is AuditEvent.SIGN_IN_FAILED]
    assert failed == [
        ("alice", "wrong_password"), ("", "unknown_user"), ("", "ambiguous_user"), ("grace", "account_disabled")
    ]  # fmt: skip
    assert live.bind_ok(alice.dn, alice.password)  # nothing changed


async def test_the_directorys_history_refuses_a_reused_password(live: Any, live_kiosk: Kiosk) -> None:
    alice = live.users["alice"]
    changed = _fresh_password(alice.login, alice.display_name)
    try:
        assert (await _change(live_kiosk, "alice", alice.password, changed)).status_code == 200
        # Back to the password before: the kiosk's own history is off (0) in this policy; the directory's is not.
        refused = await _change(live_kiosk, "alice", changed, alice.password)
        assert refused.status_code == 422, refused.text
        assert refused.json()["code"] == "password_rejected" and refused.json()["reasons"] == ["directory_history"]
        assert live.bind_ok(alice.dn, changed)
        # The session still holds its sign-in: another new password goes through.
        assert (await live_kiosk.password(_fresh_password(alice.login, alice.display_name))).status_code == 200
    finally:
        restore_password(live, "alice")
    assert (AuditEvent.PASSWORD_REJECTED, "alice", "directory_history") in await _audit(live_kiosk)


async def test_samba_names_complexity_in_a_users_change(samba_ad_server: Any, samba_kiosk: Kiosk) -> None:
    alice = samba_ad_server.users["alice"]
    refused = await _change(samba_kiosk, "alice", alice.password, "abcdefgh")  # the kiosk's 8 characters pass
    assert refused.status_code == 422 and refused.json()["reasons"] == ["directory_complexity"]
    assert samba_ad_server.bind_ok(alice.dn, alice.password)


@contextmanager
def _domain_setting(live: LiveDirectory, name: str, value: str) -> Iterator[None]:
    """Set an attribute of the domain object (minPwdAge …) for the block, as the domain administrator."""
    with live.connect() as admin:
        admin.search(live.base_dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=[name])
        before = admin.response[0]["raw_attributes"][name][0].decode()
        assert admin.modify(live.base_dn, {name: [(ldap3.MODIFY_REPLACE, [value])]}), admin.result
    try:
        yield
    finally:
        with live.connect() as admin:
            assert admin.modify(live.base_dn, {name: [(ldap3.MODIFY_REPLACE, [before])]}), admin.result


async def test_samba_minimum_age_applies_to_a_change_not_to_a_reset(samba_ad_server: Any, samba_kiosk: Kiosk) -> None:
    alice = samba_ad_server.users["alice"]
    with _domain_setting(samba_ad_server, "minPwdAge", str(-864_000_000_000)):  # one day
        refused = await _change(samba_kiosk, "alice", alice.password, _fresh_password(alice.login, alice.display_name))
        assert refused.status_code == 422 and refused.json()["reasons"] == ["directory_too_young"]
    assert samba_ad_server.bind_ok(alice.dn, alice.password)


def _set_pwd_last_set(live: LiveDirectory, login: str, value: str) -> None:
    """pwdLastSet = `value` as the domain administrator (AD accepts 0 and -1 only)."""
    with live.connect() as admin:
        changes = {"pwdLastSet": [(ldap3.MODIFY_REPLACE, [value])]}
        assert admin.modify(live.users[login].dn, changes), admin.result


def _expire(live: LiveDirectory, login: str) -> None:
    """Make `login`'s password expired: pwdLastSet in 1970, written into the domain partition's database
    with no module in between (AD and Samba take only 0 or -1 over LDAP, even with the relax control;
    measured). Samba then refuses its bind with `data 532`, and marks it UF_PASSWORD_EXPIRED."""
    partition = Path(live.workdir, "private", "sam.ldb.d", "DC=KIOSK,DC=TEST.ldb")
    script = (
        "import ldb, sys\n"
        "db = ldb.Ldb(url=sys.argv[1], options=['modules:'])\n"
        "m = ldb.Message(); m.dn = ldb.Dn(db, sys.argv[2])\n"
        "m['pwdLastSet'] = ldb.MessageElement('116444736000000000', ldb.FLAG_MOD_REPLACE, 'pwdLastSet')\n"
        "db.modify(m)\n"
    )
    # Samba's Python bindings live in the system interpreter, not in the project's venv.
    subprocess.run(["/usr/bin/python3", "-c", script, str(partition), live.users[login].dn], check=True)  # noqa: S603


def _fresh_password(*names: str) -> str:
    """A random password in which neither the kiosk nor the domain finds one of `names` (hex digits fold
    to letters: `b0b` reads as `bob`)."""
    parts = [fold(part) for name in names for part in name.replace(".", " ").split() if len(part) >= 3]
    while True:
        password = new_password()
        if not any(part in fold(password) for part in parts):
            return password


def _bind_message(live: LiveDirectory, login: str, password: str) -> str:
    return _bind_message_dn(live, live.users[login].dn, password)


def _bind_message_dn(live: LiveDirectory, dn: str, password: str) -> str:
    """The diagnostic message of a bind that must fail."""
    connection = ldap3.Connection(live.server(), user=dn, password=password, receive_timeout=10)
    try:
        assert not connection.bind()
        return str(connection.result["message"])
    finally:
        connection.unbind()


@pytest.mark.parametrize("state", ["must_change", "expired"])
async def test_an_account_that_must_change_its_password_changes_it_here(
    samba_ad_server: Any, samba_kiosk: Kiosk, state: str
) -> None:
    live, bob = samba_ad_server, samba_ad_server.users["bob"]
    changed = _fresh_password(bob.login, bob.display_name)
    if state == "must_change":
        _set_pwd_last_set(live, "bob", "0")
    else:
        _expire(live, "bob")
    try:
        # AD will not let the right password sign in anywhere else…
        assert ("data 773" if state == "must_change" else "data 532") in _bind_message(live, "bob", bob.password)
        assert "data 52e" in _bind_message(live, "bob", "Not-His-Password-1")
        # …and the kiosk tells a wrong one from it no better than for anyone.
        await open_flow(samba_kiosk, Flow.CHANGE)
        wrong = await sign_in(samba_kiosk, "bob", "Not-His-Password-1")
        assert wrong.status_code == 400 and wrong.json()["code"] == "sign_in_failed"
        # The right one signs in; the current password again is refused by the domain's history, on the
        # service account's connection as for the user…
        signed = await sign_in(samba_kiosk, "bob", bob.password)
        assert SessionView.model_validate_json(signed.content).stage is Stage.NEW_PASSWORD, signed.text
        same = await samba_kiosk.password(bob.password)
        assert same.status_code == 422 and same.json()["reasons"] == ["directory_history"]
        # …and a new one goes through: the account signs in with it now.
        done = await samba_kiosk.password(changed)
        assert done.status_code == 200, done.text
        assert SessionView.model_validate_json(done.content).outcome is Outcome.CHANGED
        assert live.bind_ok(bob.dn, changed) and not live.bind_ok(bob.dn, bob.password)
        assert int(live.read(bob.dn, ["pwdLastSet"])["pwdLastSet"][0]) > 116444736000000000
    finally:
        restore_password(live, "bob")
        _set_pwd_last_set(live, "bob", "-1")
        assert live.bind_ok(bob.dn, bob.password)  # a good bind clears badPwdCount (lockout after 3)
    audit = await _audit(samba_kiosk)
    assert [outcome for e, user, outcome in audit if e is AuditEvent.SIGN_IN_FAILED] == ["wrong_password"]
    assert (AuditEvent.CHANGED, "bob", "ok") in audit


async def test_a_protected_administrator_changes_their_own_password(samba_ad_server: Any, samba_kiosk: Kiosk) -> None:
    """AdminSDHolder's ACL keeps the kiosk's delegation off the account (no reset there), but a change is
    bound as the user: it goes through. Must-change, the change must run on the service account's connection,
    which Samba's AdminSDHolder ACL does not let change the password (Windows AD grants Everyone
    User-Change-Password there): told `writeback_failed`, audited with the rights reason, nothing changed."""
    from live_servers.samba_ad import protected_admin

    live = samba_ad_server
    with protected_admin(live, "pam") as pam:
        changed = _fresh_password(pam.login, pam.display_name)
        response = await _change(samba_kiosk, "pam", pam.password, changed)
        assert response.status_code == 200, response.text
        assert live.bind_ok(pam.dn, changed)
        with live.connect() as admin:
            assert admin.modify(pam.dn, {"pwdLastSet": [(ldap3.MODIFY_REPLACE, ["0"])]}), admin.result
        assert "data 773" in _bind_message_dn(live, pam.dn, changed)
        refused = await _change(samba_kiosk, "pam", changed, _fresh_password(pam.login, pam.display_name))
        assert refused.status_code == 502 and refused.json()["code"] == "writeback_failed", refused.text
        assert "data 773" in _bind_message_dn(live, pam.dn, changed)  # unchanged, still must change
    assert (AuditEvent.CHANGED, "pam", "writeback_failed:insufficientAccessRights") in await _audit(samba_kiosk)


async def test_openldap_account_reset_to_must_change_changes_it_here(openldap_server: Any) -> None:
    from live_servers.openldap import POLICY_DN

    live, alice = openldap_server, openldap_server.users["alice"]
    changed = _fresh_password(alice.login, alice.display_name)
    with live.connect() as admin:
        assert admin.modify(POLICY_DN, {"pwdMustChange": [(ldap3.MODIFY_REPLACE, ["TRUE"])]}), admin.result
        assert admin.modify(alice.dn, {"pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])]}), admin.result
    try:
        with fake_keyring_for(live):
            async with kiosk_for(_change_policy(live)) as kiosk:
                response = await _change(kiosk, "alice", alice.password, changed)
                assert response.status_code == 200, response.text
        assert live.bind_ok(alice.dn, changed)
        assert "pwdReset" not in live.read(alice.dn, ["pwdReset"])  # ppolicy cleared it: a user change
    finally:
        with live.connect() as admin:
            admin.modify(POLICY_DN, {"pwdMustChange": [(ldap3.MODIFY_REPLACE, ["FALSE"])]})
            admin.modify(alice.dn, {"pwdReset": [(ldap3.MODIFY_DELETE, [])]})
        restore_password(live, "alice")


async def test_the_change_page_claims_the_history_rule_where_the_directory_keeps_one(
    live: Any, fake_keyring: FakeMemoryKeyring
) -> None:
    # A user's own change meets the directory's history on both (AD's delete/add of unicodePwd; ppolicy), so
    # the page may say "not one of your last N"; a reset claims it only where the reset is checked too
    # (Samba: never, so the rule is left off there).
    alice = live.users["alice"]
    base = _change_policy(live)
    policy = base.model_copy(update={"password": base.password.model_copy(update={"history": 5})})
    async with kiosk_for(policy) as kiosk:
        await open_flow(kiosk, Flow.CHANGE)
        signed = await sign_in(kiosk, "alice", alice.password)
        view = SessionView.model_validate_json(signed.content)
        assert view.stage is Stage.NEW_PASSWORD and view.rules is not None
        assert view.rules.history == 5
        reset_claims = await kiosk.backend._rt.directory.enforces_history("alice")  # the reset's rule
        assert reset_claims is (live.kind != "samba_ad")
