"""Whole recoveries with the keyboard alone: only Tab, Enter, Esc and typing, always into the focused widget.

No test here clicks or sets focus: where focus lands when a page shows, and where Tab takes it next,
is what is being tested.
"""

from __future__ import annotations

from kiosk_driver import NEW_PASSWORD, QUINN_ANSWERS, KioskDriver
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import AnswerQuestionsData, StepKind
from kiosk.policy.schema import Method
from kiosk.ui.pages.answer_questions import AnswerQuestionsPage
from kiosk.ui.pages.choose_method import ChooseMethodPage
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.start import StartPage

EMMA = "emma.jansen@contoso.com"


def focused(kiosk: KioskDriver) -> QWidget:
    """The widget that has the keyboard focus in the kiosk window."""
    widget = kiosk.window.focusWidget()
    assert widget is not None, f"nothing has the focus on the {kiosk.step.kind.value} page"
    return widget


def press(kiosk: KioskDriver, key: Qt.Key) -> QWidget:
    """Press one key on the focused widget; returns the widget that has the focus afterwards."""
    kiosk.qtbot.keyClick(focused(kiosk), key)
    return focused(kiosk)


def type_text(kiosk: KioskDriver, text: str) -> None:
    """Type into the focused widget, key by key."""
    kiosk.qtbot.keyClicks(focused(kiosk), text)


async def enter(kiosk: KioskDriver) -> None:
    """Press Enter on the focused widget and wait for the engine's answer (the page is disabled meanwhile)."""
    kiosk.qtbot.keyClick(focused(kiosk), Qt.Key.Key_Return)
    await kiosk.wait_idle()


async def start_and_identify(kiosk: KioskDriver, user_id: str) -> None:
    """Start page → identify page → method page, by keyboard."""
    kiosk.assert_page(StepKind.START)
    assert focused(kiosk) is kiosk.page(StartPage).begin
    await enter(kiosk)
    kiosk.assert_page(StepKind.IDENTIFY)
    page = kiosk.page(IdentifyPage)
    assert focused(kiosk) is page.user_id.edit
    type_text(kiosk, user_id)
    # Tab walks the page in reading order: the CAPTCHA's two links, then its answer field.
    assert press(kiosk, Qt.Key.Key_Tab) is page.refresh
    assert press(kiosk, Qt.Key.Key_Tab) is page.audio
    assert press(kiosk, Qt.Key.Key_Tab) is page.captcha.edit
    type_text(kiosk, await kiosk.captcha_text())
    await enter(kiosk)
    kiosk.assert_page(StepKind.CHOOSE_METHOD)


async def choose_by_keyboard(kiosk: KioskDriver, method: Method) -> None:
    """Tab from the first choice (focused when the page shows) to `method`'s, then Enter."""
    choices = kiosk.page(ChooseMethodPage).choices
    assert focused(kiosk) is choices[0][1]
    for _method, button in choices[1 : [m for m, _b in choices].index(method) + 1]:
        assert press(kiosk, Qt.Key.Key_Tab) is button
    await enter(kiosk)


async def new_password_by_keyboard(kiosk: KioskDriver) -> None:
    """Type the new password, Tab, type it again, Enter; then Enter on Finish returns to the start."""
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    page = kiosk.page(NewPasswordPage)
    assert focused(kiosk) is page.password.edit
    type_text(kiosk, NEW_PASSWORD)
    assert press(kiosk, Qt.Key.Key_Tab) is page.confirm.edit
    type_text(kiosk, NEW_PASSWORD)
    await enter(kiosk)
    kiosk.assert_page(StepKind.DONE)
    assert focused(kiosk) is kiosk.page(DonePage).finish
    await enter(kiosk)
    kiosk.assert_page(StepKind.START)


async def test_emma_resets_with_an_emailed_code_by_keyboard_alone(kiosk: KioskDriver) -> None:
    """Enter, type, Tab, Enter all the way: e-mail code, new password, finish."""
    await start_and_identify(kiosk, "emma")
    await choose_by_keyboard(kiosk, Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    assert focused(kiosk) is kiosk.page(EnterCodePage).code.edit
    type_text(kiosk, await kiosk.emailed_code(EMMA))
    await enter(kiosk)
    await new_password_by_keyboard(kiosk)
    assert await kiosk.sign_in_works("emma", NEW_PASSWORD)


async def test_quinn_resets_with_his_security_questions_by_keyboard_alone(kiosk: KioskDriver) -> None:
    """Tab to "Answer security questions", type each answer and Tab to the next, Enter to verify."""
    await start_and_identify(kiosk, "quinn")
    await choose_by_keyboard(kiosk, Method.SECURITY_QUESTIONS)
    kiosk.assert_page(StepKind.ANSWER_QUESTIONS)
    page = kiosk.page(AnswerQuestionsPage)
    data = kiosk.step.data
    assert isinstance(data, AnswerQuestionsData)
    answers = [QUINN_ANSWERS[question.predefined_id or ""] for question in data.questions]
    for index, (answer, (_id, row)) in enumerate(zip(answers, page.rows, strict=True)):
        assert focused(kiosk) is row.edit
        type_text(kiosk, answer)
        if index < len(answers) - 1:
            press(kiosk, Qt.Key.Key_Tab)
    await enter(kiosk)
    await new_password_by_keyboard(kiosk)
    assert await kiosk.sign_in_works("quinn", NEW_PASSWORD)


async def test_escape_goes_back_and_then_cancels(kiosk: KioskDriver) -> None:
    """Esc on the code page goes back to the methods; Esc where there is no way back cancels to the start."""
    await start_and_identify(kiosk, "emma")
    await choose_by_keyboard(kiosk, Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    kiosk.qtbot.keyClick(focused(kiosk), Qt.Key.Key_Escape)
    await kiosk.wait_idle()
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    assert focused(kiosk) is kiosk.page(ChooseMethodPage).choices[0][1]
    while kiosk.step.kind is not StepKind.START:
        kiosk.qtbot.keyClick(focused(kiosk), Qt.Key.Key_Escape)
        await kiosk.wait_idle()
    assert focused(kiosk) is kiosk.page(StartPage).begin


async def test_an_empty_field_keeps_the_focus_there_with_its_error(kiosk: KioskDriver) -> None:
    """Enter on an empty identify page: the error is shown and the focus goes to the field to fix."""
    await enter(kiosk)
    page = kiosk.page(IdentifyPage)
    await enter(kiosk)
    kiosk.assert_page(StepKind.IDENTIFY)
    assert page.user_id.error.isVisible()
    assert focused(kiosk) is page.user_id.edit
