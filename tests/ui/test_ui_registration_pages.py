"""The security-info pages on their own: hub, reconfirmation, contact, its code, questions, authenticator app, done."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
import segno
from conftest import show_window
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import (
    CodeAnswer,
    ContactAnswer,
    DoneData,
    DoneOutcome,
    FieldError,
    FinishRegistrationAnswer,
    QuestionsRegistrationAnswer,
    ReconfirmAnswer,
    RegisterAppData,
    RegisterContactData,
    RegisterData,
    RegisteredMethod,
    RegisterQuestionsData,
    StartRegistrationAnswer,
    Step,
    StepKind,
)
from kiosk.i18n import SOURCE_LANGUAGE, set_language
from kiosk.policy.schema import Policy
from kiosk.services.api import ReconfirmChoice, RegistrationKind
from kiosk.ui.controls import SecretLineEdit, UncopyableLabel
from kiosk.ui.keyboard import wants_dialpad, wants_keypad, wants_latin
from kiosk.ui.pages import PageContext, Request
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.reconfirm import ReconfirmPage
from kiosk.ui.pages.register import RegisterPage
from kiosk.ui.pages.register_app import RegisterAppPage, grouped, spelled
from kiosk.ui.pages.register_contact import RegisterContactPage
from kiosk.ui.pages.register_questions import NO_QUESTION, RegisterQuestionsPage
from kiosk.ui.pages.register_verify import RegisterVerifyPage
from kiosk.ui.qr import QrCode
from kiosk.ui.registration_samples import SAMPLE_SECRET, SAMPLE_URI
from kiosk.ui.screenshots import SAMPLE_NOW, sample_steps
from kiosk.ui.texts import isolate


@pytest.fixture
def steps(policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind."""
    return sample_steps(policy)


@pytest.fixture
def context(engine: RecordingEngine) -> PageContext:
    """Page context with a fixed clock."""
    return PageContext(check_password=engine.check_password, now=lambda: SAMPLE_NOW)


@pytest.fixture
def english() -> None:
    """Every test starts and ends in English."""
    set_language(SOURCE_LANGUAGE)


# --- the hub --------------------------------------------------------------------------------------


def test_the_hub_says_what_happened_first_and_offers_each_kind(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = RegisterPage(context)
    show_window(qtbot, page)
    page.show_step(steps[StepKind.REGISTER], fresh=True)
    assert page.news.text() == "✓ Your password has been changed." and page.news.isVisible()
    assert page.news.y() < page.title.y()  # said before anything else
    assert page.intro.text() == "To reset your password yourself, you need 3 ways to prove it's you. Register 1 more."
    headings = [(kind, choice.heading.text(), choice.hint.text()) for kind, choice in page.choices]
    assert headings == [
        (RegistrationKind.EMAIL, "Change your e-mail address", f"E-mail: {isolate('a•••••@outlook.com')}"),
        (RegistrationKind.PHONE, "Add a phone number", "Get codes by text message or phone call."),
        (RegistrationKind.QUESTIONS, "Change your security questions", "Security questions: 3 registered"),
        (RegistrationKind.APP, "Set up an authenticator app", "Read a code from an app on your phone."),
    ]
    assert all(choice.accessibleName() == choice.heading.text() for _kind, choice in page.choices)
    assert page.confirmed.text().startswith("Last confirmed: ")
    page.focus_first()
    assert page.focusWidget() is page.choices[0][1]
    for kind, choice in page.choices:
        with qtbot.waitSignal(page.answered) as signal:
            qtbot.mouseClick(choice, Qt.MouseButton.LeftButton)
        assert signal.args == [StartRegistrationAnswer(kind)]
    with qtbot.waitSignal(page.answered) as signal:
        qtbot.mouseClick(page.done, Qt.MouseButton.LeftButton)
    assert signal.args == [FinishRegistrationAnswer()]
    assert not page.shows_cancel


def test_the_hub_lists_what_may_not_be_changed_here_and_says_what_was_just_registered(
    qtbot: QtBot, context: PageContext
) -> None:
    page = RegisterPage(context)
    show_window(qtbot, page)
    data = RegisterData(
        registered=(RegisteredMethod(RegistrationKind.PHONE, masked_target="+31 •• ••• ••78"),
                    RegisteredMethod(RegistrationKind.EMAIL, masked_target="a•••@outlook.com")),
        can_register=(RegistrationKind.EMAIL,),
        methods_needed=2,
        just_registered=RegistrationKind.EMAIL,
    )
    page.show_step(Step(StepKind.REGISTER, data), fresh=True)
    assert [kind for kind, _choice in page.choices] == [RegistrationKind.EMAIL]
    assert [line.text() for line in page.kept] == [f"Phone: {isolate('+31 •• ••• ••78')}"]
    assert page.news.text() == "✓ Your e-mail address is registered."
    assert page.intro.text().endswith("You have enough registered.")
    assert page.confirmed.isHidden()
    # Reloaded with nothing to register: Done takes the focus, old choices are gone.
    page.show_step(Step(StepKind.REGISTER, RegisterData(methods_needed=1)), fresh=True)
    assert page.choices == [] and page.news.isHidden()
    page.focus_first()
    assert page.focusWidget() is page.done


def test_reconfirm_lists_the_methods_and_keeps_or_updates(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = ReconfirmPage(context)
    show_window(qtbot, page)
    page.show_step(steps[StepKind.RECONFIRM], fresh=True)
    assert page.title.text() == "Is this still up to date?"
    assert page.news.text() == "✓ Your password has been reset."
    assert [line.text() for line in page.lines] == [
        f"• E-mail: {isolate('a•••••@outlook.com')}",
        "• Security questions: 3 registered",
        f"• Phone: {isolate('+31 •• ••• ••78')}",
    ]
    page.focus_first()
    assert page.focusWidget() is page.keep
    with qtbot.waitSignal(page.answered) as signal:
        qtbot.keyClick(page.keep, Qt.Key.Key_Return)
    assert signal.args == [ReconfirmAnswer(ReconfirmChoice.KEEP)]
    with qtbot.waitSignal(page.answered) as signal:
        qtbot.mouseClick(page.update_info, Qt.MouseButton.LeftButton)
    assert signal.args == [ReconfirmAnswer(ReconfirmChoice.UPDATE)]
    assert page.keep.accessibleName() == "Yes, keep it" and page.update_info.accessibleName() == "Update"


# --- contact and its code -------------------------------------------------------------------------


def test_the_phone_page_hints_a_dial_pad_and_explains_a_refused_number(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = RegisterContactPage(context)
    show_window(qtbot, page)
    page.show_step(steps[StepKind.REGISTER_CONTACT], fresh=True)
    edit = page.contact.edit
    assert wants_dialpad(edit) and wants_keypad(edit)
    assert edit.text() == "06 1234"  # what was typed is kept with the error
    example = isolate("+31 6 1234 5678")
    assert page.contact.error.text() == (
        f"This doesn't look like a phone number. Type it with the country code, for example {example}."
    )
    assert edit.accessibleName() == "Mobile phone number" and edit.accessibleDescription() == page.contact.error.text()
    assert edit.layoutDirection() is Qt.LayoutDirection.LeftToRight
    edit.setText(" +31 6 1234 5678 ")
    with qtbot.waitSignal(page.answered) as signal:
        qtbot.keyClick(edit, Qt.Key.Key_Return)
    assert signal.args == [ContactAnswer(kind=RegistrationKind.PHONE, value="+31 6 1234 5678")]


def test_the_e_mail_page_hints_latin_letters_and_asks_for_something(qtbot: QtBot, context: PageContext) -> None:
    page = RegisterContactPage(context)
    show_window(qtbot, page)
    page.show_step(Step(StepKind.REGISTER_CONTACT, RegisterContactData(kind=RegistrationKind.EMAIL)), fresh=True)
    edit = page.contact.edit
    assert wants_latin(edit) and not wants_keypad(edit)
    assert page.title.text() == "Your e-mail address for codes"
    with qtbot.assertNotEmitted(page.answered):
        page.accept()
    assert page.contact.error.text() == "Please fill in this field."
    page.show_step(Step(StepKind.REGISTER_CONTACT, RegisterContactData(kind=RegistrationKind.EMAIL, value="x@"),
                        errors=(FieldError("value", "contact_invalid"),)), fresh=True)
    assert page.contact.error.text() == "This doesn't look like an e-mail address. Check it and try again."
    page.leave()
    assert edit.text() == "" and not edit.isUndoAvailable()


def test_the_contact_code_page_is_the_code_page_for_the_new_contact(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = RegisterVerifyPage(context)
    show_window(qtbot, page)
    step = steps[StepKind.REGISTER_VERIFY]
    page.show_step(step, fresh=True)
    assert page.title.text() == "Confirm your e-mail address"
    assert page.intro.text() == (
        f"We e-mailed a code to {isolate('a•••••@outlook.com')}. Type it here to confirm the address."
    )
    assert page.expiry.text() == "The code expires in 5 minutes."
    assert page.gate.isHidden() and page.other.isHidden() and not page.resend.isHidden()
    assert isinstance(page.code.edit, SecretLineEdit) and wants_keypad(page.code.edit)
    assert page.code.edit.maxLength() == 8
    qtbot.keyClicks(page.code.edit, "48a30291")  # the validator keeps digits only
    assert page.code.edit.text() == "4830291"
    with qtbot.waitSignal(page.answered) as signal:
        page.accept()
    assert signal.args == [CodeAnswer("4830291")]
    with qtbot.waitSignal(page.requested) as request:
        page.resend.click()
    assert request.args == [Request.RESEND_CODE]
    wrong = replace(step, errors=(FieldError("code", "code_wrong", attempts_left=2),))
    page.show_step(wrong, fresh=True)
    assert page.code.error.text() == "That code isn't right. You have 2 attempts left."
    assert page.code.edit.text() == ""


# --- questions ------------------------------------------------------------------------------------


def questions_page(qtbot: QtBot, context: PageContext, step: Step) -> RegisterQuestionsPage:
    page = RegisterQuestionsPage(context)
    show_window(qtbot, page)
    page.show_step(step, fresh=True)
    return page


def test_each_row_picks_from_the_localized_and_custom_questions(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step], english: None
) -> None:
    step = steps[StepKind.REGISTER_QUESTIONS]
    data = step.data
    assert isinstance(data, RegisterQuestionsData)
    page = questions_page(qtbot, context, replace(step, errors=()))
    assert len(page.rows) == data.count == 3
    picker = page.rows[0].picker
    assert picker.count() == len(data.choices) + 1 and picker.itemText(0) == "Choose a question"
    assert picker.itemText(1) == "In what city did you meet your first spouse/partner?"
    assert picker.itemText(picker.count() - 1) == "Which team did you join first at Contoso?"  # custom, as written
    assert [row.choice for row in page.rows] == list(data.selected)  # the picks kept across an error
    assert [row.picker.accessibleName() for row in page.rows] == ["Question 1", "Question 2", "Question 3"]
    assert page.rows[1].answer.edit.accessibleName() == "Answer to question 2"
    set_language("ar")
    try:
        page.show_step(page.step, fresh=False)
        assert picker.itemText(29) == "ما اسم أول حيوان أليف لديك؟"  # first_pet, from the catalog
        assert page.rows[0].choice == data.selected[0]  # a language switch keeps the picks
    finally:
        set_language(SOURCE_LANGUAGE)


def test_answers_are_secret_and_the_count_of_ready_rows_is_live(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = questions_page(qtbot, context, replace(steps[StepKind.REGISTER_QUESTIONS], errors=()))
    assert page.progress.text() == "0 of 3 ready"
    for row in page.rows:
        assert isinstance(row.answer.edit, SecretLineEdit)
        assert row.answer.edit.echoMode() is QLineEdit.EchoMode.PasswordEchoOnEdit
        assert row.answer.edit.maxLength() == 40
    qtbot.keyClicks(page.rows[0].answer.edit, "Rex the dog")
    assert page.progress.text() == "1 of 3 ready"
    qtbot.keyClicks(page.rows[1].answer.edit, "Nu")  # too short: not ready
    assert page.progress.text() == "1 of 3 ready"
    page.rows[2].pick(page.rows[0].choice)  # a question picked twice is said at once
    assert page.rows[2].answer.error.text() == "Choose a different question for each row."
    page.rows[2].pick(3)
    assert page.rows[2].answer.error.isHidden()


def test_save_checks_what_the_service_would_refuse_and_sends_the_picks(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = questions_page(qtbot, context, replace(steps[StepKind.REGISTER_QUESTIONS], errors=()))
    first, second, third = page.rows
    second.pick(NO_QUESTION)
    for row, answer in zip(page.rows, ("Rex the dog", "Amsterdam", "  REX THE DOG "), strict=True):
        row.answer.edit.setText(answer)
    with qtbot.assertNotEmitted(page.answered):
        page.accept()
    assert second.answer.error.text() == "Choose a question."
    assert third.answer.error.text() == "Give a different answer to each question."  # case and spaces aside
    assert page.focusWidget() is second.picker
    second.pick(7)
    third.answer.edit.setText("ab")
    with qtbot.assertNotEmitted(page.answered):
        page.accept()
    assert third.answer.error.text() == "Answers must be 3 to 40 characters long."
    assert page.focusWidget() is third.answer.edit
    third.answer.edit.setText("Klaas Vaak")
    with qtbot.waitSignal(page.answered) as signal:
        qtbot.keyClick(third.answer.edit, Qt.Key.Key_Return)
    answer = signal.args[0]
    assert answer == QuestionsRegistrationAnswer(
        pairs=((first.choice, "Rex the dog"), (7, "Amsterdam"), (third.choice, "Klaas Vaak")))
    assert "Rex" not in repr(answer)


def test_the_service_s_errors_about_the_set_show_above_the_rows_and_keep_the_answers(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    step = replace(steps[StepKind.REGISTER_QUESTIONS], errors=())
    page = questions_page(qtbot, context, step)
    page.rows[0].answer.edit.setText("Rex the dog")
    refused = replace(step, errors=(FieldError("answers", "answer_length"), FieldError("questions", "question_twice")))
    page.show_step(refused, fresh=True)
    assert page.set_error.text().split("\n") == [
        "Answers must be 3 to 40 characters long.", "Choose a different question for each row."]
    assert page.banner.isHidden()
    assert page.rows[0].answer.edit.text() == "Rex the dog"  # fix one, not retype all
    page.leave()  # the next person finds nothing
    assert all(row.answer.edit.text() == "" and row.choice == NO_QUESTION for row in page.rows)
    page.show_step(step, fresh=True)
    assert page.set_error.isHidden()


# --- the authenticator app ------------------------------------------------------------------------


def modules_drawn(widget: QrCode, size: int) -> list[list[bool]]:
    """Read the QR code back from the widget's pixels: dark or light at each module's centre."""
    image = widget.grab().toImage()
    dark = [
        (x, y) for y in range(image.height()) for x in range(image.width())
        if image.pixelColor(x, y).lightness() < 128
    ]
    left, top = min(x for x, _y in dark), min(y for _x, y in dark)
    right, bottom = max(x for x, _y in dark), max(y for _x, y in dark)
    step = (right - left + 1) / size
    assert abs(step - (bottom - top + 1) / size) < 0.01 and step == int(step), "square, whole-pixel modules"
    return [
        [image.pixelColor(int(left + (column + 0.5) * step), int(top + (row + 0.5) * step)).lightness() < 128
         for column in range(size)]
        for row in range(size)
    ]


def test_the_qr_code_is_drawn_module_for_module_with_a_quiet_zone(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = RegisterAppPage(context)
    show_window(qtbot, page)
    page.show_step(steps[StepKind.REGISTER_APP], fresh=True)
    assert page.qr.has_code and page.qr.width() >= 250
    expected = [[bool(bit) for bit in row] for row in segno.make(SAMPLE_URI, error="m").matrix]
    drawn = modules_drawn(page.qr, len(expected))
    assert drawn == expected  # a phone reads exactly the URI the backend encoded
    image = page.qr.grab().toImage()
    for x in range(12):  # white all round, whatever the theme behind it
        assert image.pixelColor(x, image.height() // 2).lightness() > 240
        assert image.pixelColor(image.width() - 1 - x, image.height() // 2).lightness() > 240
    assert page.qr.accessibleName() == "QR code to scan with your authenticator app"


def test_the_key_is_shown_in_groups_spelled_for_screen_readers_and_never_copied(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = RegisterAppPage(context)
    show_window(qtbot, page)
    page.show_step(steps[StepKind.REGISTER_APP], fresh=True)
    assert grouped(SAMPLE_SECRET) == "JBSW Y3DP EHPK 3PXP\nJBSW Y3DP EHPK 3PXP"
    assert page.key.text() == grouped(SAMPLE_SECRET)
    assert "".join(page.key.text().split()) == SAMPLE_SECRET
    assert spelled("JBSWY3DPE") == "J B S W, Y 3 D P, E"
    iface = QAccessible.queryAccessibleInterface(page.key)
    assert iface is not None and iface.text(QAccessible.Text.Name) == f"Key: {isolate(spelled(SAMPLE_SECRET))}"
    assert isinstance(page.key, UncopyableLabel)
    assert page.key.textInteractionFlags() & Qt.TextInteractionFlag.TextSelectableByKeyboard
    assert page.key.contextMenuPolicy() is Qt.ContextMenuPolicy.NoContextMenu
    board = QGuiApplication.clipboard()
    board.setText("before")
    try:
        page.key.setFocus()
        page.key.setSelection(0, len(page.key.text()))
        qtbot.keySequence(page.key, QKeySequence.StandardKey.Copy)
        assert board.text() == "before"
    finally:
        board.clear()


def test_the_app_code_is_sent_and_leaving_forgets_the_secret(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    page = RegisterAppPage(context)
    show_window(qtbot, page)
    step = steps[StepKind.REGISTER_APP]
    page.show_step(step, fresh=True)
    page.focus_first()
    assert page.focusWidget() is page.code.edit and page.code.edit.maxLength() == 6
    assert isinstance(page.code.edit, SecretLineEdit)
    with qtbot.assertNotEmitted(page.answered):
        page.accept()
    assert page.code.error.text() == "Please fill in this field."
    qtbot.keyClicks(page.code.edit, "492113")
    with qtbot.waitSignal(page.answered) as signal:
        qtbot.keyClick(page.code.edit, Qt.Key.Key_Enter)
    assert signal.args == [CodeAnswer("492113")]
    assert isinstance(step.data, RegisterAppData)
    page.show_step(replace(step, data=replace(step.data, attempts_left=4),
                           errors=(FieldError("code", "code_wrong", attempts_left=4),)), fresh=True)
    assert page.code.error.text() == "That code isn't right. You have 4 attempts left."
    assert page.attempts.isHidden()  # said once, in the error
    page.leave()
    assert page.key.text() == "" and page.key.accessibleName() == "" and not page.qr.has_code
    assert page.code.edit.text() == ""


def test_an_svg_that_is_not_one_draws_nothing(qtbot: QtBot) -> None:
    qr = QrCode()
    show_window(qtbot, qr)
    assert not qr.show_svg("<not svg")
    assert not qr.has_code
    image = qr.grab().toImage()
    assert all(image.pixelColor(x, x).lightness() > 240 for x in range(0, qr.width(), 7))


# --- done -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("outcome", "title"),
    [(DoneOutcome.CHANGED, "Your password has been changed"), (DoneOutcome.REGISTERED, "Your security info is saved")],
)
def test_done_says_what_was_done(qtbot: QtBot, context: PageContext, outcome: DoneOutcome, title: str) -> None:
    page = DonePage(context)
    show_window(qtbot, page)
    page.show_step(Step(StepKind.DONE, DoneData(outcome=outcome, countdown_seconds=5)), fresh=True)
    assert page.title.text() == title
    assert "e-mailed you a confirmation" in page.intro.text()
    page.leave()


def test_the_expiry_of_a_contact_code_counts_down(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]
) -> None:
    now = [SAMPLE_NOW]
    page = RegisterVerifyPage(replace(context, now=lambda: now[0]))
    show_window(qtbot, page)
    page.show_step(steps[StepKind.REGISTER_VERIFY], fresh=True)
    now[0] = SAMPLE_NOW + timedelta(minutes=11)
    page.expiry_timer.timeout.emit()
    assert page.expiry.text() == "This code has expired. Send a new code."
    page.leave()
    assert not page.expiry_timer.isActive()
