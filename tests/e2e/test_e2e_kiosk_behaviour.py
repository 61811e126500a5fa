"""How the kiosk behaves around the flow: the live password checklist, Back, Cancel, the countdown, busy state."""

from __future__ import annotations

import asyncio

import pytest
from kiosk_driver import NEW_PASSWORD, OLD_PASSWORD, QUINN_ANSWERS, KioskDriver

from kiosk.flows.steps import StepKind
from kiosk.policy.password import PasswordRule
from kiosk.policy.schema import Method
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.pages.new_password import NewPasswordPage

EMMA = "emma.jansen@contoso.com"
LUKE = "luke.devries@contoso.com"
LOCAL_RULES = set(PasswordRule) - {PasswordRule.NOT_RECENT}
"""The rules the kiosk can check as you type (the password history only the backend knows)."""


async def reach_new_password(kiosk: KioskDriver) -> NewPasswordPage:
    """Emma verifies by e-mail and reaches the new-password page."""
    await kiosk.begin()
    await kiosk.identify("emma")
    await kiosk.choose(Method.EMAIL)
    await kiosk.enter_code(await kiosk.emailed_code(EMMA))
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    return kiosk.page(NewPasswordPage)


def marks(page: NewPasswordPage) -> dict[PasswordRule, str]:
    """The checklist's ✓/✗ per rule, as shown."""
    return {rule: line.mark.text() for rule, line in page.rule_lines.items()}


async def test_the_password_checklist_updates_while_typing(kiosk: KioskDriver) -> None:
    """As Emma types, each rule turns from ○ (nothing typed) to ✗ to ✓, the strength meter rises and
    "passwords match" ticks."""
    page = await reach_new_password(kiosk)
    assert page.rule_lines[PasswordRule.MIN_LENGTH].mark.text() == "○"
    kiosk.type_into(page.password.edit, "Tulip")
    await kiosk.wait_until(lambda: page.check is not None and page.strength.text() != "")
    assert marks(page)[PasswordRule.MIN_LENGTH] == "✗"
    assert marks(page)[PasswordRule.CHARACTER_CLASSES] == "✗"
    assert page.rule_lines[PasswordRule.MIN_LENGTH].text.text() == "At least 10 characters"

    kiosk.qtbot.keyClicks(page.password.edit, "-Harbor-93!")
    await kiosk.wait_until(lambda: all(mark == "✓" for rule, mark in marks(page).items() if rule in LOCAL_RULES))
    assert marks(page)[PasswordRule.NOT_RECENT] == "•"  # only the backend knows the history: never claimed met
    assert page.meter.value() >= 2
    assert page.match_line.mark.text() == "✗"
    kiosk.type_into(page.confirm.edit, NEW_PASSWORD)
    await kiosk.wait_until(lambda: page.match_line.mark.text() == "✓")


async def test_a_password_with_a_banned_word_is_refused_with_the_reason(kiosk: KioskDriver) -> None:
    """Emma tries "Contoso…": the checklist marks the banned word and Save says why, changing nothing."""
    page = await reach_new_password(kiosk)
    kiosk.type_new_password("Contoso-Harbor-93!")
    await kiosk.wait_until(lambda: marks(page)[PasswordRule.NO_BANNED_WORDS] == "✗")
    assert page.rule_lines[PasswordRule.NO_BANNED_WORDS].text.text() == (
        "Doesn't contain a word your organisation has banned"
    )
    kiosk.click(page.save)
    await kiosk.wait_idle()
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    assert page.password.error.isVisible()
    assert page.password.error.text() == "This password doesn't meet every requirement below."
    assert await kiosk.sign_in_works("emma", OLD_PASSWORD)


async def test_a_password_the_backend_rejects_shows_the_backends_reason(kiosk: KioskDriver) -> None:
    """Emma reuses the password she just set: only the backend knows her history, and the page says so."""
    await reach_new_password(kiosk)
    await kiosk.new_password(NEW_PASSWORD)
    kiosk.assert_page(StepKind.DONE)
    kiosk.click(kiosk.page(DonePage).finish)
    await kiosk.wait_for(StepKind.START)

    page = await reach_new_password(kiosk)
    await kiosk.new_password(NEW_PASSWORD)
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    assert page.rejected.isVisible()
    assert page.rejected.text() == "You used this password recently. Choose one you haven't used before."
    assert page.password.error.text() == "Your organisation's directory did not accept this password."
    await kiosk.new_password("Quiet-Meadow-4821?")
    kiosk.assert_page(StepKind.DONE)


async def test_back_from_the_code_page_returns_to_the_methods(kiosk: KioskDriver) -> None:
    """Emma goes Back from the code page to the method list, and can choose again."""
    await kiosk.begin()
    await kiosk.identify("emma")
    await kiosk.choose(Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert kiosk.window.back.isVisible()
    await kiosk.back()
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    assert Method.EMAIL in kiosk.offered_methods()
    await kiosk.choose(Method.EMAIL)
    await kiosk.enter_code(await kiosk.emailed_code(EMMA))
    kiosk.assert_page(StepKind.NEW_PASSWORD)


async def go_to(kiosk: KioskDriver, kind: StepKind) -> None:
    """Walk the shortest way to the page of `kind`."""
    await kiosk.begin()
    if kind is StepKind.IDENTIFY:
        return
    user = {StepKind.ANSWER_QUESTIONS: "quinn", StepKind.RESET_OR_UNLOCK: "luke"}.get(kind, "emma")
    await kiosk.identify(user)
    if kind is StepKind.CHOOSE_METHOD:
        return
    if kind is StepKind.ANSWER_QUESTIONS:
        await kiosk.choose(Method.SECURITY_QUESTIONS)
        return
    await kiosk.choose(Method.EMAIL)
    if kind is StepKind.ENTER_CODE:
        return
    await kiosk.enter_code(await kiosk.emailed_code(LUKE if user == "luke" else EMMA))


@pytest.mark.parametrize(
    "kind",
    [
        StepKind.IDENTIFY,
        StepKind.CHOOSE_METHOD,
        StepKind.ENTER_CODE,
        StepKind.ANSWER_QUESTIONS,
        StepKind.RESET_OR_UNLOCK,
        StepKind.NEW_PASSWORD,
    ],
)
async def test_cancel_returns_to_the_start_and_closes_the_backend_session(kiosk: KioskDriver, kind: StepKind) -> None:
    """On any page of the flow, Cancel goes back to the start and the backend session is closed."""
    await go_to(kiosk, kind)
    kiosk.assert_page(kind)
    token = kiosk.tap.token
    assert await kiosk.session_alive(token)
    await kiosk.cancel()
    kiosk.assert_page(StepKind.START)
    assert kiosk.tap.requests[-1] == ("DELETE", "/v1/session")
    assert not await kiosk.session_alive(token)
    assert AuditEvent.SESSION_CLOSED in [r.event for r in await kiosk.backend.audit_records()]


async def test_the_done_page_counts_down_back_to_the_start(kiosk: KioskDriver) -> None:
    """After Luke unlocks, the done page counts down second by second and returns to the start at zero."""
    await go_to(kiosk, StepKind.RESET_OR_UNLOCK)
    await kiosk.choose_unlock()
    kiosk.assert_page(StepKind.DONE)
    page = kiosk.page(DonePage)
    assert page.countdown_timer.isActive()
    assert page.countdown.text() == "This kiosk returns to the start in 15 seconds."
    token = kiosk.tap.token
    for _ in range(14):
        page.countdown_timer.timeout.emit()  # one second passes, now rather than in a second
    assert page.countdown.text() == "This kiosk returns to the start in 1 second."
    kiosk.assert_page(StepKind.DONE)
    page.countdown_timer.timeout.emit()
    await kiosk.wait_for(StepKind.START)
    assert not page.countdown_timer.isActive()
    assert not await kiosk.session_alive(token)


async def test_the_window_is_busy_while_the_backend_works(kiosk: KioskDriver) -> None:
    """While identify is with the backend the inputs are disabled and a second Enter does nothing."""
    await kiosk.begin()
    page = await kiosk.fill_identify("quinn")
    hold = kiosk.tap.hold("/v1/session/identify")
    kiosk.press_enter(page.captcha.edit)
    await asyncio.wait_for(hold.reached.wait(), timeout=10)  # the request is at the backend's door now

    assert kiosk.window.busy
    assert kiosk.window.spinner.isVisible() and kiosk.window.busy_text.text() == "Please wait…"
    for widget in (page.user_id.edit, page.captcha.edit, page.next, kiosk.window.cancel):
        assert not widget.isEnabled()
    kiosk.press_enter(page.captcha.edit)  # an impatient second press
    kiosk.qtbot.keyClicks(page.user_id.edit, "x")  # typing into a disabled field goes nowhere
    assert page.user_id.edit.text() == "quinn"

    hold.released.set()
    await kiosk.wait_idle()
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    assert kiosk.tap.requests.count(("POST", "/v1/session/identify")) == 1
    assert not kiosk.window.spinner.isVisible()
    assert kiosk.window.stack.isEnabled() and kiosk.window.cancel.isEnabled()
    await kiosk.choose(Method.SECURITY_QUESTIONS)
    await kiosk.answer(QUINN_ANSWERS)
    kiosk.assert_page(StepKind.NEW_PASSWORD)


async def test_the_identify_page_keeps_the_user_id_after_a_wrong_captcha(kiosk: KioskDriver) -> None:
    """Emma misreads the picture: a new picture, an error under the field, and her ID is still there."""
    await kiosk.begin()
    page = kiosk.page(IdentifyPage)
    kiosk.type_into(page.user_id.edit, "emma")
    kiosk.type_into(page.captcha.edit, "nope")
    kiosk.click(page.next)
    await kiosk.wait_idle()
    kiosk.assert_page(StepKind.IDENTIFY)
    assert page.captcha.error.text() == "The characters didn't match the picture. Try the new picture."
    assert page.user_id.edit.text() == "emma"
    await kiosk.identify("emma")
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
