"""Whole recoveries through the real kiosk window against each LIVE directory (OpenLDAP + ppolicy, Samba AD).

The real KioskWindow, RecoveryFlow, BackendClient.embedded and Backend, as in the other end-to-end
tests, but the backend's policy points at a real server (tests/live_servers), its service password
in the FAKE in-memory keyring. Delivery stays the dev outbox, so the e-mailed codes are read there;
what the directory holds is checked on the server itself: a real LDAPS bind as the user, and the lock
attributes as the directory administrator reads them.

The servers are shared by the whole session: a test that changes a user puts it back as provisioned
(`restore_password`, `relock` from live_servers.kiosk_setup, as the adapter tests do).
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kiosk_driver import KioskDriver
from live_servers.common import LiveDirectory, new_password
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import fake_keyring_for, live_policy, relock, restore_password

from kiosk.flows.steps import StepKind
from kiosk.policy.schema import Method, Policy, RegistrationSettings
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.error import ErrorPage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.refused import RefusedPage


@pytest.fixture
def server(live_directory: LiveDirectory) -> LiveDirectory:
    """The live directory of this run of the test (each server in turn)."""
    return live_directory


@pytest.fixture
def live_keyring(server: LiveDirectory) -> Iterator[FakeMemoryKeyring]:
    """The FAKE keyring holding the server's service password, for the whole test (backend open to close)."""
    with fake_keyring_for(server) as fake:
        yield fake


@pytest.fixture
def policy(server: LiveDirectory, live_keyring: FakeMemoryKeyring, request: pytest.FixtureRequest) -> Policy:
    """Overrides the e2e demo policy: the `kiosk` fixture's backend opens on the live directory.

    The kiosk's own password rules are light (8+ characters, one class, no history, no strength
    minimum), so what a test sees refused is the directory's own refusal. Parametrized indirectly
    with True, it tells refusals at once (`reset.early_refusals`). Its users never confirmed their
    security info at a kiosk; these tests are about the reset, so none is asked "still up to date?".
    """
    policy = live_policy(server, early_refusals=getattr(request, "param", False))
    return policy.model_copy(update={"registration": RegistrationSettings(reconfirm_days=0)})


async def audit_outcomes(kiosk: KioskDriver) -> list[tuple[AuditEvent, str]]:
    """Every audit row of the backend, as (event, outcome)."""
    return [(record.event, record.outcome) for record in await kiosk.backend.audit_records()]


async def verify_by_email(kiosk: KioskDriver, user_id: str, address: str) -> None:
    """Start, identify as `user_id`, choose e-mail and type the code the dev outbox got for `address`."""
    await kiosk.begin()
    kiosk.assert_page(StepKind.IDENTIFY)
    await kiosk.identify(user_id)
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    await kiosk.choose(Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    await kiosk.enter_code(await kiosk.emailed_code(address))


def lock_state(server: LiveDirectory, login: str) -> list[str]:
    """The values of the directory's lock attribute: pwdAccountLockedTime (OpenLDAP) or lockoutTime (AD)."""
    attribute = "pwdAccountLockedTime" if server.kind == "openldap" else "lockoutTime"
    return [str(value) for value in server.read(server.users[login].dn, [attribute]).get(attribute, [])]


async def test_alice_resets_by_emailed_code_and_only_the_new_password_binds(
    server: LiveDirectory, kiosk: KioskDriver
) -> None:
    """Alice types her e-mail address, gets a code, picks a new password: the directory binds only the new one."""
    alice = server.users["alice"]
    chosen = new_password()
    await kiosk.begin()
    await kiosk.identify(alice.mail)
    assert kiosk.offered_methods() == [Method.EMAIL, Method.MOBILE_SMS]  # the policy's, as for anyone
    await kiosk.choose(Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert alice.mail not in kiosk.page(EnterCodePage).intro.text()
    await kiosk.enter_code(await kiosk.emailed_code(alice.mail))
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    try:
        await kiosk.new_password(chosen)
        kiosk.assert_page(StepKind.DONE)
        assert kiosk.page(DonePage).title.text() == "Your password has been reset"
        assert server.bind_ok(alice.dn, chosen)
        assert not server.bind_ok(alice.dn, alice.password)
    finally:
        restore_password(server, "alice")
    assert (AuditEvent.RESET, "ok") in await audit_outcomes(kiosk)


async def test_dave_locked_out_unlocks_only_and_the_directory_clears_the_lock(
    server: LiveDirectory, kiosk: KioskDriver
) -> None:
    """Dave (locked by real failed binds) chooses "Unlock only": the lock is gone and his password binds."""
    dave = server.users["dave"]
    assert lock_state(server, "dave") not in ([], ["0"]), "dave should start locked"
    try:
        await verify_by_email(kiosk, "dave", dave.mail)
        kiosk.assert_page(StepKind.RESET_OR_UNLOCK)
        assert dave.display_name in kiosk.window.current_page.intro.text()
        await kiosk.choose_unlock()
        kiosk.assert_page(StepKind.DONE)
        page = kiosk.page(DonePage)
        assert page.title.text() == "Your account is unlocked"
        assert "current password" in page.intro.text()
        assert lock_state(server, "dave") == ([] if server.kind == "openldap" else ["0"])
        assert server.bind_ok(dave.dn, dave.password)
    finally:
        relock(server, "dave")
    assert lock_state(server, "dave") not in ([], ["0"])
    assert (AuditEvent.UNLOCKED, "ok") in await audit_outcomes(kiosk)


async def test_a_password_the_directory_refuses_shows_its_reason_and_changes_nothing(
    server: LiveDirectory, kiosk: KioskDriver
) -> None:
    """Alice picks a password the kiosk's rules allow but the directory refuses: the page says the directory's why.

    OpenLDAP's ppolicy remembers her current password (history); Samba AD finds "abcdefgh" not complex.
    (Too short is not reachable here: the kiosk's own minimum is 8, the servers' are 8 and 7.) Her old
    password still binds; then she picks another one on the same page, which the directory takes.
    """
    alice = server.users["alice"]
    refused, reason = (
        (alice.password, "Your organisation's directory says you used this password before. Choose a new one.")
        if server.kind == "openldap"
        else ("abcdefgh", "Your organisation's directory says this password is not complex enough.")
    )
    await verify_by_email(kiosk, "alice", alice.mail)
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    try:
        await kiosk.new_password(refused)
        kiosk.assert_page(StepKind.NEW_PASSWORD)
        page = kiosk.page(NewPasswordPage)
        assert page.rejected.isVisible()
        assert page.rejected.text().startswith(reason)
        assert page.password.error.isVisible()
        assert server.bind_ok(alice.dn, alice.password)
        assert not any(event is AuditEvent.RESET for event, _outcome in await audit_outcomes(kiosk))
        chosen = new_password()  # she tries again on the same page, with one the directory takes
        await kiosk.new_password(chosen)
        kiosk.assert_page(StepKind.DONE)
        assert server.bind_ok(alice.dn, chosen)
        assert not server.bind_ok(alice.dn, alice.password)
    finally:
        restore_password(server, "alice")
    expected = "directory_history" if server.kind == "openldap" else "directory_complexity"
    assert (AuditEvent.PASSWORD_REJECTED, expected) in await audit_outcomes(kiosk)


async def test_the_directory_stopped_mid_flow_shows_the_error_page_and_retry_recovers(
    server: LiveDirectory, kiosk: KioskDriver
) -> None:
    """The directory goes down after Alice identified: an error page with Try again; nothing was sent or changed."""
    alice = server.users["alice"]
    await kiosk.begin()
    await kiosk.identify("alice")
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    with server.stopped():
        await kiosk.choose(Method.EMAIL)
        kiosk.assert_page(StepKind.ERROR)
        page = kiosk.page(ErrorPage)
        assert page.title.text() == "The directory can't be reached"
        assert page.intro.text() == "Nothing was changed. Try again in a moment."
        assert page.retry.isVisible() and page.reference.text()
    assert not [m for m in (await kiosk.client.dev_outbox()).messages if m.to == alice.mail]  # no code went out
    assert server.bind_ok(alice.dn, alice.password)
    assert (AuditEvent.STEP_REFUSED, "directory_unavailable:unreachable") in await audit_outcomes(kiosk)
    kiosk.click(page.retry)  # the directory is back
    await kiosk.wait_for(StepKind.CHOOSE_METHOD)
    await kiosk.choose(Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    await kiosk.enter_code(await kiosk.emailed_code(alice.mail))
    kiosk.assert_page(StepKind.NEW_PASSWORD)


@pytest.mark.parametrize(
    ("login", "by_mail", "audited", "says"),
    [
        ("erin", False, "not_enabled", "not turned on"),
        ("grace", False, "account_disabled", "disabled"),
        ("frank", False, "too_few_methods", "enough verification information"),
        ("twin1", True, "ambiguous_user", "couldn't reset"),  # twin1's e-mail is also twin2's
    ],
)
@pytest.mark.parametrize("policy", [True], indirect=True)
async def test_a_refused_user_sees_the_helpdesk_and_a_reference_the_audit_knows(
    server: LiveDirectory, kiosk: KioskDriver, login: str, by_mail: bool, audited: str, says: str
) -> None:
    """With early refusals, who the directory says may not reset here lands on the refusal page at
    once, with a reference in the audit."""
    user = server.users[login]
    await kiosk.begin()
    await kiosk.identify(user.mail if by_mail else login)
    kiosk.assert_page(StepKind.REFUSED)
    page = kiosk.page(RefusedPage)
    assert page.title.text() == "Contact your administrator to reset your password"
    assert says in page.intro.text()
    reference = page.reference.text()
    assert reference
    refusals = [r.outcome for r in await kiosk.audit_for(reference) if r.event is AuditEvent.REFUSED]
    assert refusals == [audited]
    assert not (await kiosk.client.dev_outbox()).messages
    kiosk.click(page.done)  # "Start over"
    await kiosk.wait_for(StepKind.START)


@pytest.mark.parametrize(
    ("login", "by_mail", "audited", "says"),
    [
        ("erin", False, "not_enabled", "not turned on"),
        ("grace", False, "account_disabled", "disabled"),
        ("frank", False, "too_few_methods", None),  # nothing registered: nothing to prove, nothing told
        ("twin1", True, "ambiguous_user", None),  # one ID, two entries: treated as no account
    ],
)
async def test_a_refusal_is_told_only_to_who_proves_the_account(
    server: LiveDirectory, kiosk: KioskDriver, login: str, by_mail: bool, audited: str, says: str | None
) -> None:
    """By default a refused account looks like any other until its holder passes a gate; the helpdesk
    finds the reason in the audit by the session's reference either way."""
    user = server.users[login]
    await kiosk.begin()
    await kiosk.identify(user.mail if by_mail else login)
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    assert kiosk.offered_methods() == [Method.EMAIL, Method.MOBILE_SMS]
    await kiosk.choose(Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    identified = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.IDENTIFIED]
    assert [r.outcome for r in identified] == [audited]
    if says is None:
        assert not (await kiosk.client.dev_outbox()).messages  # no code, to nobody
        return
    await kiosk.enter_code(await kiosk.emailed_code(user.mail))
    kiosk.assert_page(StepKind.REFUSED)
    page = kiosk.page(RefusedPage)
    assert says in page.intro.text()
    refusals = [r.outcome for r in await kiosk.audit_for(page.reference.text()) if r.event is AuditEvent.REFUSED]
    assert refusals == [audited]
