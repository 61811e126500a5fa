"""The start page's ways in (only those the policy offers) and the sign-in page of change and registration."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import show_window
from PySide6.QtCore import Qt
from PySide6.QtGui import QAccessible, QGuiApplication, QKeySequence
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import (
    BeginAnswer,
    CaptchaKind,
    FieldError,
    Picture,
    PictureCheckData,
    SignInAnswer,
    SignInData,
    StartData,
    Step,
    StepKind,
    SwitchCaptchaAnswer,
)
from kiosk.policy.schema import Policy
from kiosk.services.api import Flow, PictureSubject
from kiosk.services.backend.human_check.pictures import draw_png
from kiosk.ui.controls import SecretLineEdit
from kiosk.ui.pages import PageContext
from kiosk.ui.pages.sign_in import SignInPage
from kiosk.ui.pages.start import StartPage
from kiosk.ui.screenshots import SAMPLE_NOW, sample_captcha_png
from kiosk.ui.window import KioskWindow, offered_flows

PASSWORD = " Tulip Harbor 93! "  # spaces at both ends are part of it
CHECK = PictureCheckData(
    subject="cup",
    pictures=tuple(Picture(id=f"pic{index}", png=draw_png(subject)) for index, subject in enumerate(PictureSubject)),
)


@pytest.fixture
def context(engine: RecordingEngine) -> PageContext:
    """Page context with a fixed clock."""
    return PageContext(check_password=engine.check_password, now=lambda: SAMPLE_NOW)


def start_step(*flows: Flow) -> Step:
    return Step(StepKind.START, StartData(organisation="Contoso", flows=flows))


def sign_in_step(**data: object) -> Step:
    base = SignInData(captcha_png=sample_captcha_png(), user_id="adele.vance@contoso.com", flow=Flow.CHANGE)
    return Step(StepKind.SIGN_IN, replace(base, **data), can_go_back=True)  # type: ignore[arg-type]


@pytest.fixture
def start(qtbot: QtBot, context: PageContext) -> StartPage:
    page = StartPage(context)
    show_window(qtbot, page)
    return page


@pytest.fixture
def sign_in(qtbot: QtBot, context: PageContext) -> SignInPage:
    page = SignInPage(context)
    show_window(qtbot, page)
    return page


# --- the start page -------------------------------------------------------------------------------


def test_three_ways_in_each_begin_their_flow(start: StartPage, qtbot: QtBot) -> None:
    start.show_step(start_step(Flow.RECOVER, Flow.CHANGE, Flow.REGISTER), fresh=True)
    shown = [flow for flow, way in start.ways.items() if way.isVisible()]
    assert shown == [Flow.RECOVER, Flow.CHANGE, Flow.REGISTER]
    assert [start.ways[flow].text() for flow in shown] == [
        "Can't access your account?", "Change my password", "Set up my security info"]
    assert start.intro.text() == "What would you like to do with your Contoso account?"
    assert start.hints[Flow.CHANGE].text() == "You'll need your user ID and your current password."
    for flow in shown:
        way = start.ways[flow]
        assert way.accessibleName() == way.text() and way.accessibleDescription()
        with qtbot.waitSignal(start.answered) as signal:
            qtbot.mouseClick(way, Qt.MouseButton.LeftButton)
        assert signal.args == [BeginAnswer(flow=flow)]
    # Equal widths, whatever the texts: a column, not a ragged stack.
    assert len({start.ways[flow].width() for flow in shown}) == 1


def test_a_policy_with_one_way_in_shows_only_that_one(start: StartPage, qtbot: QtBot) -> None:
    start.show_step(start_step(Flow.RECOVER), fresh=True)
    assert [flow for flow, way in start.ways.items() if way.isVisible()] == [Flow.RECOVER]
    assert start.begin.text() == "Can't access your account?"
    assert start.intro.text() == "Reset your Contoso password or unlock your account."
    start.show_step(start_step(Flow.CHANGE), fresh=True)
    assert [flow for flow, way in start.ways.items() if way.isVisible()] == [Flow.CHANGE]
    start.focus_first()
    assert start.focusWidget() is start.ways[Flow.CHANGE]
    with qtbot.waitSignal(start.answered) as signal:
        start.accept()  # Enter with nothing else focused: the one way in
    assert signal.args == [BeginAnswer(flow=Flow.CHANGE)]


def test_until_connected_one_starting_button_stands_for_all(start: StartPage, qtbot: QtBot) -> None:
    start.show_step(start_step(Flow.CHANGE, Flow.REGISTER), fresh=True)
    start.set_ready(False)
    visible = [way for way in start.ways.values() if way.isVisible()]
    assert [way.text() for way in visible] == ["Starting…"] and not visible[0].isEnabled()
    with qtbot.assertNotEmitted(start.answered):
        start.begin_flow(Flow.REGISTER)
        start.accept()
    start.set_ready(True)
    assert [way.text() for way in start.ways.values() if way.isVisible()] == [
        "Change my password", "Set up my security info"]


def test_the_window_starts_with_the_policy_s_ways_in(qtbot: QtBot) -> None:
    policy = Policy.model_validate({"kiosk": {"offer_change": False}})
    assert offered_flows(policy) == (Flow.RECOVER, Flow.REGISTER)
    window = KioskWindow(policy)
    show_window(qtbot, window)
    step = window.step
    assert isinstance(step.data, StartData) and step.data.flows == (Flow.RECOVER, Flow.REGISTER)


# --- the sign-in page -----------------------------------------------------------------------------


def test_the_title_says_which_way_in(sign_in: SignInPage) -> None:
    sign_in.show_step(sign_in_step(), fresh=True)
    assert sign_in.title.text() == "Sign in to change your password"
    assert sign_in.title.accessibleName() == sign_in.title.text()
    sign_in.show_step(sign_in_step(flow=Flow.REGISTER), fresh=True)
    assert sign_in.title.text() == "Sign in to set up your security info"
    assert sign_in.user_id.edit.text() == "adele.vance@contoso.com"
    assert not sign_in.captcha_box.captcha_image.pixmap().isNull()


def test_sign_in_sends_the_id_stripped_and_the_password_as_typed(sign_in: SignInPage, qtbot: QtBot) -> None:
    sign_in.show_step(sign_in_step(user_id=""), fresh=True)
    sign_in.focus_first()
    assert sign_in.focusWidget() is sign_in.user_id.edit
    qtbot.keyClicks(sign_in.user_id.edit, "  adele.vance@contoso.com ")
    qtbot.keyClicks(sign_in.password.edit, PASSWORD)
    qtbot.keyClicks(sign_in.captcha.edit, " 7KX4P ")
    with qtbot.waitSignal(sign_in.answered) as signal:
        qtbot.keyClick(sign_in.captcha.edit, Qt.Key.Key_Return)  # Enter in any field signs in
    answer = signal.args[0]
    assert answer == SignInAnswer(user_id="adele.vance@contoso.com", password=PASSWORD, captcha="7KX4P")
    assert PASSWORD.strip() not in repr(answer)


def test_empty_fields_are_asked_for_and_the_first_is_focused(sign_in: SignInPage, qtbot: QtBot) -> None:
    sign_in.show_step(sign_in_step(), fresh=True)
    with qtbot.assertNotEmitted(sign_in.answered):
        sign_in.accept()
    assert sign_in.password.error.text() == "Please fill in this field."
    assert sign_in.captcha.error.text() == "Please fill in this field."
    assert sign_in.user_id.error.isHidden()
    assert sign_in.focusWidget() is sign_in.password.edit


def test_a_failed_sign_in_goes_under_the_password_and_wipes_it(sign_in: SignInPage) -> None:
    sign_in.show_step(sign_in_step(), fresh=True)
    sign_in.password.edit.setText(PASSWORD)
    # A new picture asked for by the same person: the password stays.
    sign_in.show_step(sign_in_step(), fresh=True)
    assert sign_in.password.edit.text() == PASSWORD
    # A CAPTCHA typed wrong: the password stays, the error is under the CAPTCHA.
    sign_in.show_step(replace(sign_in_step(), errors=(FieldError("captcha", "captcha_wrong"),)), fresh=True)
    assert sign_in.password.edit.text() == PASSWORD and not sign_in.captcha.error.isHidden()
    failed = replace(sign_in_step(), errors=(FieldError("password", "sign_in_failed", attempts_left=2),))
    sign_in.show_step(failed, fresh=True)
    assert sign_in.password.edit.text() == ""
    assert not sign_in.password.edit.isUndoAvailable()
    assert sign_in.password.error.text() == "The user ID or password isn't right. You have 2 attempts left."
    assert sign_in.user_id.error.isHidden()  # never says which of the two was wrong
    assert sign_in.banner.isHidden()


def test_the_picture_check_answers_with_the_picture_and_the_switch_keeps_the_id(
    sign_in: SignInPage, qtbot: QtBot
) -> None:
    sign_in.show_step(sign_in_step(pictures_offered=True), fresh=True)
    assert sign_in.captcha_box.use_pictures.isVisible()
    with qtbot.waitSignal(sign_in.answered) as signal:
        sign_in.captcha_box.use_pictures.click()
    assert signal.args == [SwitchCaptchaAnswer(CaptchaKind.PICTURES, user_id="adele.vance@contoso.com")]
    sign_in.show_step(sign_in_step(pictures_offered=True, picture_check=CHECK), fresh=True)
    assert sign_in.next.isHidden() and sign_in.captcha_box.pictures.isVisible()
    with qtbot.assertNotEmitted(sign_in.answered):
        sign_in.picture_buttons[2].click()  # no password yet
    assert sign_in.password.error.text() == "Please fill in this field."
    sign_in.password.edit.setText(PASSWORD)
    with qtbot.waitSignal(sign_in.answered) as signal:
        sign_in.picture_buttons[2].click()
    assert signal.args == [SignInAnswer(user_id="adele.vance@contoso.com", password=PASSWORD, captcha="pic2")]
    assert [button.accessibleName() for button in sign_in.picture_buttons][:2] == ["Picture 1", "Picture 2"]


def test_the_password_never_reaches_assistive_technology_or_the_clipboard(sign_in: SignInPage, qtbot: QtBot) -> None:
    sign_in.show_step(sign_in_step(), fresh=True)
    edit = sign_in.password.edit
    assert isinstance(edit, SecretLineEdit) and edit.echoMode() is QLineEdit.EchoMode.Password
    board = QGuiApplication.clipboard()
    board.setText("before")
    try:
        edit.setFocus()
        qtbot.keyClicks(edit, PASSWORD)
        iface = QAccessible.queryAccessibleInterface(edit)
        assert iface is not None
        assert iface.text(QAccessible.Text.Value) == "" and iface.textInterface() is None
        assert iface.text(QAccessible.Text.Name) == "Current password"
        edit.selectAll()
        qtbot.keySequence(edit, QKeySequence.StandardKey.Copy)
        qtbot.keySequence(edit, QKeySequence.StandardKey.Cut)
        assert board.text() == "before" and edit.text() == PASSWORD
    finally:
        board.clear()
    sign_in.leave()
    assert edit.text() == "" and not edit.isUndoAvailable()
