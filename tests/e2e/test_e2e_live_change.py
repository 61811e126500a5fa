"""Password change at the kiosk, through the real window, against each LIVE directory (OpenLDAP + ppolicy,
Samba AD), with e-mail on a real SMTP server (issue 13, Tests: change with the right and a wrong current
password, a refused new password, a must-change account).

A person clicks "Change my password", types their user ID, current password and the CAPTCHA, then the new
password twice. What the directory holds is checked on the server itself (LDAPS binds as the user); the
"password changed" notice is read where it arrived, in the SMTP sink. The servers are shared by the
session: every test gives its user back its provisioned password.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ldap3
import pytest
from kiosk_driver import KioskDriver
from live_delivery import Delivery, delivering_policy, keyring_for, running_delivery, text_of
from live_servers.common import LiveDirectory, new_password
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import restore_password
from live_servers.openldap import POLICY_DN

from kiosk.flows.steps import StepKind
from kiosk.policy.password import fold
from kiosk.policy.schema import Policy
from kiosk.services.api import Flow
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.error import ErrorPage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.sign_in import SignInPage

CHANGED = "Your Contoso password was changed"
"""The subject of the notice a user gets when their password changed."""
WRONG_SIGN_IN = "The user ID or password isn't right."


@pytest.fixture(scope="module")
def delivery() -> Iterator[Delivery]:
    """One SMTP sink and FAKE gateway for the module."""
    with running_delivery() as running:
        yield running


@pytest.fixture
def server(live_directory: LiveDirectory) -> LiveDirectory:
    """The live directory of this run of the test (each server in turn)."""
    return live_directory


@pytest.fixture
def live_keyring(server: LiveDirectory) -> Iterator[FakeMemoryKeyring]:
    """The FAKE keyring (service password, gateway token) for the whole test."""
    with keyring_for(server) as fake:
        yield fake


@pytest.fixture
def policy(
    server: LiveDirectory, delivery: Delivery, live_keyring: FakeMemoryKeyring, request: pytest.FixtureRequest
) -> Policy:
    """Overrides the e2e demo policy: the window's backend opens on the live directory and delivers for real;
    no "still up to date?" (these users never confirmed anything; a change then ends at done). Parametrized
    indirectly with a dict, it sets those `limits`."""
    delivery.clear()
    policy = delivering_policy(server, delivery)
    limits = getattr(request, "param", None)
    if limits:
        policy = policy.model_copy(update={"limits": policy.limits.model_copy(update=limits)})
    return policy


def fresh_password(*names: str) -> str:
    """A random password in which neither the kiosk nor the domain finds one of `names`."""
    parts = [fold(part) for name in names for part in name.replace(".", " ").split() if len(part) >= 3]
    while True:
        password = new_password()
        if not any(part in fold(password) for part in parts):
            return password


async def audit(kiosk: KioskDriver) -> list[tuple[AuditEvent, str, str]]:
    """Every audit row, as (event, user, outcome)."""
    return [(r.event, r.user_id, r.outcome) for r in await kiosk.backend.audit_records()]


async def change_sign_in(kiosk: KioskDriver, user_id: str, password: str) -> SignInPage:
    """Start page → "Change my password" → sign in."""
    await kiosk.begin_flow(Flow.CHANGE)
    kiosk.assert_page(StepKind.SIGN_IN)
    assert kiosk.page(SignInPage).title.text() == "Sign in to change your password"
    return await kiosk.sign_in(user_id, password)


async def test_a_change_with_the_right_current_password_binds_only_the_new_one_and_mails_the_user(
    server: LiveDirectory, delivery: Delivery, kiosk: KioskDriver
) -> None:
    alice = server.users["alice"]
    chosen = fresh_password(alice.login, alice.display_name)
    await change_sign_in(kiosk, alice.mail, alice.password)
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    assert kiosk.page(NewPasswordPage).title.text() == "Change your password"
    try:
        await kiosk.new_password(chosen)
        kiosk.assert_page(StepKind.DONE)
        assert kiosk.page(DonePage).title.text() == "Your password has been changed"
        assert server.bind_ok(alice.dn, chosen)
        assert not server.bind_ok(alice.dn, alice.password)
        await delivery.wait_for_mail(kiosk.backend, alice.mail, CHANGED)
    finally:
        restore_password(server, "alice")
    assert delivery.subjects_to(alice.mail) == [CHANGED]
    [notice] = delivery.mail_to(alice.mail)
    assert "changed at a self-service kiosk, with the current password" in " ".join(text_of(notice).split())
    assert chosen not in notice.as_string() and alice.password not in notice.as_string()
    rows = await audit(kiosk)
    assert (AuditEvent.SIGNED_IN, "alice", "change") in rows and (AuditEvent.CHANGED, "alice", "ok") in rows


async def test_a_wrong_current_password_reads_like_an_unknown_id_and_changes_nothing(
    server: LiveDirectory, delivery: Delivery, kiosk: KioskDriver
) -> None:
    alice = server.users["alice"]
    page = await change_sign_in(kiosk, "alice", "Not-Her-Password-1")
    kiosk.assert_page(StepKind.SIGN_IN)
    wrong = page.password.error.text()
    assert wrong.startswith(WRONG_SIGN_IN) and page.password.error.isVisible()
    assert page.password.edit.text() == "" and page.user_id.edit.text() == "alice"
    await kiosk.sign_in("nobody-at-all", alice.password)  # an ID the directory does not know, on the same page
    kiosk.assert_page(StepKind.SIGN_IN)
    assert page.password.error.text() == wrong  # nothing tells the two apart
    assert page.user_id.error.isHidden()
    assert server.bind_ok(alice.dn, alice.password)  # (a good bind also clears AD's bad-password count)
    failed = [(user, outcome) for event, user, outcome in await audit(kiosk) if event is AuditEvent.SIGN_IN_FAILED]
    assert failed == [("alice", "wrong_password"), ("", "unknown_user")]
    assert not [row for row in await audit(kiosk) if row[0] is AuditEvent.CHANGED]
    await kiosk.backend.deliver_pending()
    assert delivery.smtp.inbox.messages == []  # nobody was told anything


@pytest.mark.parametrize("policy", [{"failed_proofs_per_day": 2}], indirect=True)
async def test_wrong_current_passwords_count_as_failed_proofs_and_block_the_account_at_the_kiosk(
    server: LiveDirectory, kiosk: KioskDriver
) -> None:
    """Two failed proofs a day in this policy (fewer than the directories' own lockout at three bad binds):
    the second wrong current password blocks alice; then her right password is refused without a check,
    and "Can't access your account?" is blocked for her too. The directory's account is not locked."""
    alice = server.users["alice"]
    try:
        page = await change_sign_in(kiosk, "alice", "Not-Her-Password-1")
        assert page.password.error.text().startswith(WRONG_SIGN_IN)
        await kiosk.sign_in("alice", "Not-Her-Password-2")
        kiosk.assert_page(StepKind.ERROR)
        blocked = kiosk.page(ErrorPage)
        assert blocked.title.text() == "Too many attempts"
        assert blocked.intro.text().startswith("For your security, this account is blocked for now.")
        kiosk.click(kiosk.page(ErrorPage).start_over)
        await kiosk.wait_for(StepKind.START)
        await change_sign_in(kiosk, "alice", alice.password)  # the right one, in a new session
        kiosk.assert_page(StepKind.ERROR)
        assert kiosk.page(ErrorPage).title.text() == "Too many attempts"
        kiosk.click(kiosk.page(ErrorPage).start_over)
        await kiosk.wait_for(StepKind.START)
        await kiosk.begin()
        await kiosk.identify("alice")
        kiosk.assert_page(StepKind.ERROR)
        assert kiosk.page(ErrorPage).title.text() == "Too many attempts"
    finally:
        assert server.bind_ok(alice.dn, alice.password)  # not locked in the directory (and its count cleared)
    rows = await audit(kiosk)
    assert [o for e, _u, o in rows if e is AuditEvent.SIGN_IN_FAILED] == ["wrong_password"] * 2
    assert any(e is AuditEvent.BLOCKED and user == "alice" for e, user, _o in rows)
    assert not any(e in (AuditEvent.SIGNED_IN, AuditEvent.CHANGED) for e, _u, _o in rows)


@contextmanager
def domain_setting(server: LiveDirectory, name: str, value: str) -> Iterator[None]:
    """Set an attribute of the AD domain object (minPwdAge …) for the block, as the domain administrator."""
    with server.connect() as admin:
        admin.search(server.base_dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=[name])
        before = admin.response[0]["raw_attributes"][name][0].decode()
        assert admin.modify(server.base_dn, {name: [(ldap3.MODIFY_REPLACE, [value])]}), admin.result
    try:
        yield
    finally:
        with server.connect() as admin:
            assert admin.modify(server.base_dn, {name: [(ldap3.MODIFY_REPLACE, [before])]}), admin.result


async def refused_with(kiosk: KioskDriver, password: str, reason: str) -> None:
    """Type `password` on the new-password page: it stays, with the directory's own reason."""
    await kiosk.new_password(password)
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    page = kiosk.page(NewPasswordPage)
    assert page.rejected.isVisible() and page.password.error.isVisible()
    assert page.rejected.text().startswith(reason), page.rejected.text()


HISTORY = "Your organisation's directory says you used this password before. Choose a new one."
TOO_YOUNG = "Your password was changed too recently to change it again."


async def test_a_new_password_the_directory_refuses_shows_its_own_reason_and_changes_nothing(
    server: LiveDirectory, delivery: Delivery, kiosk: KioskDriver
) -> None:
    """The kiosk's own rules are light and keep no history: what refuses is the directory. Both refuse the
    current password again (ppolicy's pwdInHistory, AD's history on a user change); AD also refuses any
    change while the domain's minimum age has not passed (a reset would not be held to it). Then, on the same
    page, a password the directory takes."""
    alice = server.users["alice"]
    chosen = fresh_password(alice.login, alice.display_name)
    await change_sign_in(kiosk, "alice", alice.password)
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    expected = ["directory_history"]
    try:
        await refused_with(kiosk, alice.password, HISTORY)
        if server.kind == "samba_ad":
            with domain_setting(server, "minPwdAge", str(-864_000_000_000)):  # one day
                await refused_with(kiosk, chosen, TOO_YOUNG)
            expected.append("directory_too_young")
        assert server.bind_ok(alice.dn, alice.password)
        await kiosk.new_password(chosen)
        kiosk.assert_page(StepKind.DONE)
        assert server.bind_ok(alice.dn, chosen) and not server.bind_ok(alice.dn, alice.password)
    finally:
        restore_password(server, "alice")
    rows = await audit(kiosk)
    assert [outcome for event, _user, outcome in rows if event is AuditEvent.PASSWORD_REJECTED] == expected
    assert [outcome for event, _user, outcome in rows if event is AuditEvent.CHANGED] == ["ok"]


@contextmanager
def must_change(server: LiveDirectory, login: str) -> Iterator[None]:
    """Make `login` one who must change their password, as each directory says it, for the block: AD
    pwdLastSet = 0; OpenLDAP pwdReset with the policy's pwdMustChange. Then give back the provisioned
    password and the plain state."""
    dn = server.users[login].dn
    with server.connect() as admin:
        if server.kind == "openldap":
            assert admin.modify(POLICY_DN, {"pwdMustChange": [(ldap3.MODIFY_REPLACE, ["TRUE"])]}), admin.result
            assert admin.modify(dn, {"pwdReset": [(ldap3.MODIFY_REPLACE, ["TRUE"])]}), admin.result
        else:
            assert admin.modify(dn, {"pwdLastSet": [(ldap3.MODIFY_REPLACE, ["0"])]}), admin.result
    try:
        yield
    finally:
        restore_password(server, login)
        with server.connect() as admin:
            if server.kind == "openldap":
                assert admin.modify(POLICY_DN, {"pwdMustChange": [(ldap3.MODIFY_REPLACE, ["FALSE"])]}), admin.result
                admin.modify(dn, {"pwdReset": [(ldap3.MODIFY_DELETE, [])]})  # gone already when the change cleared it
            else:
                assert admin.modify(dn, {"pwdLastSet": [(ldap3.MODIFY_REPLACE, ["-1"])]}), admin.result
        assert server.bind_ok(dn, server.users[login].password)  # a good bind clears AD's badPwdCount too


async def test_an_account_that_must_change_its_password_changes_it_at_the_kiosk(
    server: LiveDirectory, delivery: Delivery, kiosk: KioskDriver
) -> None:
    """AD's "must change password at next logon" (pwdLastSet = 0): the right password binds nowhere else
    (data 773), yet bob signs in at the kiosk with it and picks a new one, which then binds, and AD no longer
    asks for a change. OpenLDAP's pwdReset: the change is the user's own, so ppolicy clears the flag. He is
    told by e-mail."""
    bob = server.users["bob"]
    chosen = fresh_password(bob.login, bob.display_name)
    with must_change(server, "bob"):
        if server.kind == "samba_ad":
            assert not server.bind_ok(bob.dn, bob.password)
        else:
            assert [str(value).upper() for value in server.read(bob.dn, ["pwdReset"])["pwdReset"]] == ["TRUE"]
        await change_sign_in(kiosk, "bob", bob.password)
        kiosk.assert_page(StepKind.NEW_PASSWORD)
        await kiosk.new_password(chosen)
        kiosk.assert_page(StepKind.DONE)
        assert kiosk.page(DonePage).title.text() == "Your password has been changed"
        assert server.bind_ok(bob.dn, chosen) and not server.bind_ok(bob.dn, bob.password)
        if server.kind == "samba_ad":
            assert int(server.read(bob.dn, ["pwdLastSet"])["pwdLastSet"][0]) > 0  # no longer must change
        else:
            assert "pwdReset" not in server.read(bob.dn, ["pwdReset"])
        await delivery.wait_for_mail(kiosk.backend, bob.mail, CHANGED)
    assert (AuditEvent.CHANGED, "bob", "ok") in await audit(kiosk)
