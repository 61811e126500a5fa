"""Whole recoveries at the kiosk: each demo user's story from the start page to the done page."""

from __future__ import annotations

from kiosk_driver import NEW_PASSWORD, OLD_PASSWORD, QUINN_ANSWERS, KioskDriver
from PySide6.QtWidgets import QLabel

from kiosk.flows.steps import ChooseMethodData, StepKind
from kiosk.policy.schema import Method
from kiosk.ui.pages.choose_method import ChooseMethodPage
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.enter_code import EnterCodePage

EMMA = "emma.jansen@contoso.com"
TARA = "tara.visser@contoso.com"
ADELE = "adele.vance@contoso.com"
LUKE = "luke.devries@contoso.com"


async def test_emma_resets_her_password_with_an_emailed_code(kiosk: KioskDriver) -> None:
    """Emma types her ID, gets a code by e-mail, types it and picks a new password; only the new one works."""
    kiosk.assert_page(StepKind.START)
    await kiosk.begin()
    kiosk.assert_page(StepKind.IDENTIFY)
    await kiosk.identify("Emma@Contoso.com")
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    assert kiosk.offered_methods() == [Method.EMAIL, Method.MOBILE_SMS, Method.SECURITY_QUESTIONS, Method.APP_CODE]
    await kiosk.choose(Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    # No address before a first gate: the page must not tell a stranger the account exists.
    intro = kiosk.page(EnterCodePage).intro.text()
    assert intro.startswith("If your account has an e-mail address") and "@" not in intro
    await kiosk.enter_code(await kiosk.emailed_code(EMMA))
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.new_password(NEW_PASSWORD)
    kiosk.assert_page(StepKind.DONE)
    assert kiosk.page(DonePage).title.text() == "Your password has been reset"
    assert await kiosk.sign_in_works("emma", NEW_PASSWORD)
    assert not await kiosk.sign_in_works("emma", OLD_PASSWORD)


async def test_quinn_resets_with_his_security_questions(kiosk: KioskDriver) -> None:
    """Quinn answers his three security questions and picks a new password."""
    await kiosk.begin()
    await kiosk.identify("quinn")
    await kiosk.choose(Method.SECURITY_QUESTIONS)
    kiosk.assert_page(StepKind.ANSWER_QUESTIONS)
    await kiosk.answer({question: answer.upper() for question, answer in QUINN_ANSWERS.items()})  # any case
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.new_password(NEW_PASSWORD)
    kiosk.assert_page(StepKind.DONE)
    assert await kiosk.sign_in_works("quinn", NEW_PASSWORD)


async def test_alex_resets_with_his_authenticator_app(kiosk: KioskDriver) -> None:
    """Alex types the code his authenticator app shows (no resend: app codes roll by themselves)."""
    await kiosk.begin()
    await kiosk.identify("alex")
    await kiosk.choose(Method.APP_CODE)
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert not kiosk.page(EnterCodePage).resend.isVisible()
    await kiosk.enter_code(await kiosk.app_code("alex"))
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.new_password(NEW_PASSWORD)
    kiosk.assert_page(StepKind.DONE)
    assert await kiosk.sign_in_works("alex", NEW_PASSWORD)


async def test_tara_in_finance_passes_two_different_gates(kiosk: KioskDriver) -> None:
    """Tara (Finance) verifies by e-mail, then by app; the second gate no longer offers e-mail."""
    await kiosk.begin()
    await kiosk.identify("tara")
    assert not kiosk.page(ChooseMethodPage).gate.isVisible()  # her second gate shows after the first
    assert Method.EMAIL in kiosk.offered_methods()
    await kiosk.choose(Method.EMAIL)
    await kiosk.enter_code(await kiosk.emailed_code(TARA))
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    page = kiosk.page(ChooseMethodPage)
    assert page.gate.text() == "Verification 2 of 2" and page.gate.isVisible()
    assert page.title.text() == "Choose a second way to verify"
    assert "t•••••@contoso.com" not in " ".join(w.text() for w in page.findChildren(QLabel))  # e-mail passed
    assert "+31 •• ••• ••78" in " ".join(w.text() for w in page.findChildren(QLabel))  # now masked contacts
    assert Method.EMAIL not in kiosk.offered_methods()
    assert Method.APP_CODE in kiosk.offered_methods()
    assert not kiosk.window.back.isVisible()  # a passed gate is not undone
    await kiosk.choose(Method.APP_CODE)
    assert kiosk.page(EnterCodePage).gate.text() == "Verification 2 of 2"
    await kiosk.enter_code(await kiosk.app_code("tara"))
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.new_password(NEW_PASSWORD)
    kiosk.assert_page(StepKind.DONE)
    assert await kiosk.sign_in_works("tara", NEW_PASSWORD)


async def test_adele_the_administrator_passes_two_gates_without_security_questions(kiosk: KioskDriver) -> None:
    """Adele is an administrator: two gates, never security questions; the other administrator is told."""
    await kiosk.begin()
    await kiosk.identify("adele")
    data = kiosk.step.data
    assert isinstance(data, ChooseMethodData)
    assert (data.gate.number, data.gate.required) == (1, 1)  # like anyone's, until a first gate
    await kiosk.choose(Method.EMAIL)
    await kiosk.enter_code(await kiosk.emailed_code(ADELE))
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    assert kiosk.offered_methods() == [Method.APP_CODE]  # not questions, not e-mail again
    await kiosk.choose(Method.APP_CODE)
    await kiosk.enter_code(await kiosk.app_code("adele"))
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.new_password(NEW_PASSWORD)
    kiosk.assert_page(StepKind.DONE)
    assert await kiosk.sign_in_works("adele", NEW_PASSWORD)
    outbox = (await kiosk.client.dev_outbox()).messages
    assert any(m.to == "megan.bowen@contoso.com" and "Administrator password reset" in m.subject for m in outbox)


async def reach_the_locked_account_choice(kiosk: KioskDriver) -> None:
    """Luke (locked out) verifies by e-mail and lands on "Your account is locked"."""
    await kiosk.begin()
    await kiosk.identify("luke")
    await kiosk.choose(Method.EMAIL)
    await kiosk.enter_code(await kiosk.emailed_code(LUKE))
    kiosk.assert_page(StepKind.RESET_OR_UNLOCK)
    assert "Luke de Vries" in kiosk.window.current_page.intro.text()


async def test_luke_unlocks_his_account_and_keeps_his_password(kiosk: KioskDriver) -> None:
    """Luke chooses "Unlock only": the done page says unlocked; his old password still works."""
    assert await kiosk.backend.directory.is_locked("luke")
    await reach_the_locked_account_choice(kiosk)
    await kiosk.choose_unlock()
    kiosk.assert_page(StepKind.DONE)
    page = kiosk.page(DonePage)
    assert page.title.text() == "Your account is unlocked"
    assert "current password" in page.intro.text()
    assert not await kiosk.backend.directory.is_locked("luke")
    assert await kiosk.sign_in_works("luke", OLD_PASSWORD)


async def test_luke_resets_his_password_which_also_unlocks(kiosk: KioskDriver) -> None:
    """Luke chooses "Reset my password": a new password, and the account is unlocked too."""
    await reach_the_locked_account_choice(kiosk)
    await kiosk.choose_reset()
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.new_password(NEW_PASSWORD)
    kiosk.assert_page(StepKind.DONE)
    assert kiosk.page(DonePage).title.text() == "Your password has been reset"
    assert not await kiosk.backend.directory.is_locked("luke")
    assert await kiosk.sign_in_works("luke", NEW_PASSWORD)
    assert not await kiosk.sign_in_works("luke", OLD_PASSWORD)
