"""Who is sent to the helpdesk, and what wrong, expired and reused codes do at the kiosk."""

from __future__ import annotations

import pytest
from kiosk_driver import DEMO_POLICY, NEW_PASSWORD, OLD_PASSWORD, KioskDriver, wrong_code

from kiosk.flows.steps import StepKind
from kiosk.policy.loader import load_policy
from kiosk.policy.schema import Method, Policy
from kiosk.services.api import Action, ErrorCode
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.client import ApiError
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.refused import RefusedPage

EMMA = "emma.jansen@contoso.com"
SURNAMES = {"nora": "smit", "owen": "peters", "dana": "kok"}


def early_refusals_policy() -> Policy:
    """The demo policy with `reset.early_refusals` on: refusals told right after the user ID."""
    demo = load_policy(DEMO_POLICY)
    return demo.model_copy(update={"reset": demo.reset.model_copy(update={"early_refusals": True})})
CODE_LIFETIME_SECONDS = 5 * 60


@pytest.mark.parametrize(
    ("user_id", "reason", "says"),
    [
        ("nora", "not_enabled", "not turned on"),
        ("fay", "too_few_methods", "enough verification information"),
        ("owen", "writeback_disabled", "can't be changed from this kiosk"),
        ("dana", "account_disabled", "disabled"),
        ("nobody-here", "unknown_user", "couldn't reset"),
    ],
)
@pytest.mark.parametrize("policy", [early_refusals_policy()])
async def test_a_refused_user_sees_the_helpdesk_and_a_reference_the_audit_knows(
    kiosk: KioskDriver, user_id: str, reason: str, says: str
) -> None:
    """With early refusals, a user who may not reset here is sent to the helpdesk at once, with a
    reference code found in the audit."""
    await kiosk.begin()
    await kiosk.identify(user_id)
    kiosk.assert_page(StepKind.REFUSED)
    page = kiosk.page(RefusedPage)
    assert page.title.text() == "Contact your administrator to reset your password"
    assert says in page.intro.text()
    assert page.helpdesk_phone.text() == "Phone: +1 555 0100"
    reference = page.reference.text()
    assert reference
    refusals = [r for r in await kiosk.audit_for(reference) if r.event is AuditEvent.REFUSED]
    assert [r.outcome for r in refusals] == [reason]
    kiosk.click(page.done)  # "Start over"
    await kiosk.wait_for(StepKind.START)


@pytest.mark.parametrize(
    ("user_id", "reason", "says"),
    [
        ("nora", "not_enabled", "not turned on"),
        ("owen", "writeback_disabled", "can't be changed from this kiosk"),
        ("dana", "account_disabled", "disabled"),
    ],
)
async def test_a_refusal_is_told_once_the_user_proves_the_account(
    kiosk: KioskDriver, user_id: str, reason: str, says: str
) -> None:
    """By default the refusal comes after a first gate: before it, the account looks like any other."""
    page = await reach_the_code_page(kiosk, user_id)
    assert page.intro.text().startswith("If your account has an e-mail address")
    await kiosk.enter_code(await kiosk.emailed_code(f"{user_id}.{SURNAMES[user_id]}@contoso.com"))
    kiosk.assert_page(StepKind.REFUSED)
    refused = kiosk.page(RefusedPage)
    assert says in refused.intro.text()
    refusals = [r for r in await kiosk.audit_for(refused.reference.text()) if r.event is AuditEvent.REFUSED]
    assert [r.outcome for r in refusals] == [reason]


@pytest.mark.parametrize("user_id", ["fay", "nobody-here"])
async def test_an_id_that_cannot_verify_waits_on_a_code_that_never_comes(kiosk: KioskDriver, user_id: str) -> None:
    """Nothing registered, or no such account: the same code page, no message, and no code passes."""
    page = await reach_the_code_page(kiosk, user_id)
    assert page.intro.text().startswith("If your account has an e-mail address")
    assert not (await kiosk.client.dev_outbox()).messages
    await kiosk.enter_code("12345678")
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert kiosk.page(EnterCodePage).code.error.text() == "That code isn't right. You have 4 attempts left."


async def reach_the_code_page(kiosk: KioskDriver, user_id: str = "emma") -> EnterCodePage:
    """Identify and choose e-mail: the code page, with a code in the outbox."""
    await kiosk.begin()
    await kiosk.identify(user_id)
    await kiosk.choose(Method.EMAIL)
    return kiosk.page(EnterCodePage)


async def test_a_wrong_code_shows_the_attempts_left_and_the_right_one_still_works(kiosk: KioskDriver) -> None:
    """Emma mistypes her code: the page says how many attempts are left; then she types it right."""
    page = await reach_the_code_page(kiosk)
    code = await kiosk.emailed_code(EMMA)
    await kiosk.enter_code(wrong_code(code))
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert page.code.error.isVisible()
    assert page.code.error.text() == "That code isn't right. You have 4 attempts left."
    await kiosk.enter_code(wrong_code(code))
    assert page.code.error.text() == "That code isn't right. You have 3 attempts left."
    await kiosk.enter_code(code)
    kiosk.assert_page(StepKind.NEW_PASSWORD)


async def test_an_expired_code_says_so_and_a_resent_code_works(kiosk: KioskDriver) -> None:
    """Emma waits too long: the page says the code expired; she asks for a new one, which works."""
    page = await reach_the_code_page(kiosk)
    old_code = await kiosk.emailed_code(EMMA)
    assert page.expiry.text() == "The code expires in 5 minutes."
    kiosk.clock.advance(CODE_LIFETIME_SECONDS + 1)
    page.expiry_timer.timeout.emit()  # the page's one-second tick, now rather than in a second
    assert page.expiry.text() == "This code has expired. Send a new code."

    await kiosk.enter_code(old_code)
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert page.code.error.text() == "This code has expired. Send a new code."

    kiosk.click(page.resend)
    await kiosk.wait_idle()
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert page.expiry.text() == "The code expires in 5 minutes."
    new_code = await kiosk.emailed_code(EMMA)
    assert new_code != old_code
    await kiosk.enter_code(new_code)
    kiosk.assert_page(StepKind.NEW_PASSWORD)


async def test_a_code_that_passed_a_gate_cannot_be_used_again(kiosk: KioskDriver) -> None:
    """Someone who saw Emma's used code starts a new session with it: the code is refused."""
    await reach_the_code_page(kiosk)
    used = await kiosk.emailed_code(EMMA)
    await kiosk.enter_code(used)
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.cancel()

    page = await reach_the_code_page(kiosk)
    assert await kiosk.emailed_code(EMMA) != used
    await kiosk.enter_code(used)
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert page.code.error.text() == "That code isn't right. You have 4 attempts left."
    assert await kiosk.sign_in_works("emma", OLD_PASSWORD)


async def test_an_authenticator_code_that_passed_a_gate_cannot_be_replayed(kiosk: KioskDriver) -> None:
    """Alex's app code, once used, is refused in a new session until the app shows the next one."""
    await kiosk.begin()
    await kiosk.identify("alex")
    await kiosk.choose(Method.APP_CODE)
    used = await kiosk.app_code("alex")
    await kiosk.enter_code(used)
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.cancel()

    await kiosk.begin()
    await kiosk.identify("alex")
    await kiosk.choose(Method.APP_CODE)
    await kiosk.enter_code(used)
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert kiosk.page(EnterCodePage).code.error.text() == "That code isn't right. You have 4 attempts left."
    kiosk.clock.advance(30)
    await kiosk.enter_code(await kiosk.app_code("alex"))
    kiosk.assert_page(StepKind.NEW_PASSWORD)


async def test_the_backend_refuses_a_reset_or_unlock_the_session_has_not_earned(kiosk: KioskDriver) -> None:
    """A tampered kiosk skips the gates and asks for a reset or unlock directly: the backend refuses both."""
    await kiosk.begin()
    await kiosk.identify("emma")
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    with pytest.raises(ApiError) as reset:
        await kiosk.client.set_password(NEW_PASSWORD)
    assert reset.value.code is ErrorCode.STEP_NOT_ALLOWED
    with pytest.raises(ApiError) as unlock:
        await kiosk.client.choose_action(Action.UNLOCK)
    assert unlock.value.code is ErrorCode.STEP_NOT_ALLOWED
    assert await kiosk.sign_in_works("emma", OLD_PASSWORD)
    assert not await kiosk.sign_in_works("emma", NEW_PASSWORD)
    audited = [r.event for r in await kiosk.backend.audit_records()]
    assert audited.count(AuditEvent.STEP_REFUSED) == 2
    assert AuditEvent.RESET not in audited
