"""The new pages in the real window: right-to-left, keyboard only, the on-screen keyboard, and the idle wipe."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import _close_nothing, show_window, wait_until
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QScrollArea, QWidget
from pytestqt.qtbot import QtBot
from test_ui_idle import FakeClock
from test_ui_keyboard import focus, keyboard_of, tap
from ui_engine_double import START_STEP, RecordingEngine

import kiosk.i18n
from kiosk.flows.steps import (
    BeginAnswer,
    ContactAnswer,
    RegisterContactData,
    SignInAnswer,
    StartData,
    StartRegistrationAnswer,
    Step,
    StepKind,
)
from kiosk.i18n import SOURCE_LANGUAGE, set_language
from kiosk.i18n.catalogs import compile_catalogs
from kiosk.policy.schema import Policy
from kiosk.services.api import Flow, RegistrationKind
from kiosk.ui.keyboard import Key, KeyKind, OnScreenKeyboard
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.register import RegisterPage
from kiosk.ui.pages.register_app import RegisterAppPage
from kiosk.ui.pages.register_contact import RegisterContactPage
from kiosk.ui.pages.register_questions import NO_QUESTION, RegisterQuestionsPage
from kiosk.ui.pages.sign_in import SignInPage
from kiosk.ui.pages.start import StartPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import sample_steps
from kiosk.ui.theme import apply_theme
from kiosk.ui.window import KioskWindow

THREE_WAYS = Step(StepKind.START, StartData(organisation="Contoso", flows=tuple(Flow)))


@pytest.fixture
def steps(policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind."""
    return sample_steps(policy)


def x_in(widget: QWidget, window: QWidget) -> int:
    """The widget's left edge in window coordinates."""
    return widget.mapTo(window, QPoint(0, 0)).x()


def test_the_new_pages_mirror_in_arabic_but_values_keep_their_direction(
    window: KioskWindow, steps: dict[StepKind, Step]
) -> None:
    window.set_language("ar")
    try:
        assert window.layoutDirection() is Qt.LayoutDirection.RightToLeft
        window.render_step(steps[StepKind.SIGN_IN])
        sign_in = window.current_page
        assert isinstance(sign_in, SignInPage)
        assert x_in(sign_in.user_id, window) > x_in(sign_in.password, window)  # the user ID comes first: right
        window.render_step(steps[StepKind.REGISTER])
        hub = window.current_page
        assert isinstance(hub, RegisterPage) and hub.layoutDirection() is Qt.LayoutDirection.RightToLeft
        first, second = hub.choices[0][1], hub.choices[1][1]
        assert x_in(first, window) > x_in(second, window)
        window.render_step(steps[StepKind.REGISTER_APP])
        app = window.current_page
        assert isinstance(app, RegisterAppPage)
        assert x_in(app.qr, window) > x_in(app.code, window)  # the QR code on the leading (right) side
        # The key sits on the leading (right) side, its groups in their own order (Latin letters and digits).
        assert app.key.alignment() & Qt.AlignmentFlag.AlignRight
        assert app.key.text().startswith("JBSW Y3DP")
        window.render_step(steps[StepKind.REGISTER_CONTACT])
        contact = window.current_page
        assert isinstance(contact, RegisterContactPage)
        edit = contact.contact.edit
        assert edit.layoutDirection() is Qt.LayoutDirection.LeftToRight  # "+31 6 1234 5678" keeps its order
        assert x_in(edit, window) + edit.width() == x_in(contact.title, window) + contact.title.width()
    finally:
        window.set_language("en")


async def test_keyboard_only_from_the_start_page_to_a_registration_choice(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps: dict[StepKind, Step]
) -> None:
    window.render_step(THREE_WAYS)
    start = window.current_page
    assert isinstance(start, StartPage)
    assert window.focusWidget() is start.begin
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
    assert window.focusWidget() is start.ways[Flow.CHANGE]
    engine.queued.append(steps[StepKind.SIGN_IN])
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Return)
    await wait_until(lambda: window.step.kind is StepKind.SIGN_IN and not window.busy)
    assert engine.calls[-1] == ("submit", BeginAnswer(flow=Flow.CHANGE))

    page = window.current_page
    assert isinstance(page, SignInPage)
    assert window.focusWidget() is page.password.edit  # the ID is known (kept), the password is next
    qtbot.keyClicks(window.focusWidget(), "Tulip-Harbor-93!")
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
    order = [window.focusWidget()]
    for _ in range(2):
        qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
        order.append(window.focusWidget())
    assert order[-1] is page.captcha.edit  # New picture, Play out loud, then the characters
    qtbot.keyClicks(page.captcha.edit, "7KX4P")
    engine.queued.append(steps[StepKind.REGISTER])
    qtbot.keyClick(page.captcha.edit, Qt.Key.Key_Return)
    await wait_until(lambda: window.step.kind is StepKind.REGISTER and not window.busy)
    answer = engine.calls[-1][1]
    assert answer == SignInAnswer("adele.vance@contoso.com", "Tulip-Harbor-93!", "7KX4P")

    hub = window.current_page
    assert isinstance(hub, RegisterPage)
    assert window.focusWidget() is hub.choices[0][1]
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Tab)
    assert window.focusWidget() is hub.choices[1][1]
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Return)
    await wait_until(lambda: not window.busy and len(engine.calls) == 3)
    assert engine.calls[-1] == ("submit", StartRegistrationAnswer(RegistrationKind.PHONE))


async def test_keyboard_only_questions_pick_with_the_arrow_keys(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps: dict[StepKind, Step]
) -> None:
    step = steps[StepKind.REGISTER_QUESTIONS]
    window.render_step(Step(step.kind, step.data, can_go_back=True))
    page = window.current_page
    assert isinstance(page, RegisterQuestionsPage)
    for row in page.rows:
        row.pick(NO_QUESTION)
    page.focus_first()
    for number, row in enumerate(page.rows, start=1):
        assert window.focusWidget() is row.picker
        for _ in range(number):
            qtbot.keyClick(row.picker, Qt.Key.Key_Down)
        qtbot.keyClick(row.picker, Qt.Key.Key_Tab)
        assert window.focusWidget() is row.answer.edit
        qtbot.keyClicks(row.answer.edit, f"answer {number}")
        qtbot.keyClick(row.answer.edit, Qt.Key.Key_Tab)
    assert window.focusWidget() is page.save
    qtbot.keyClick(page.save, Qt.Key.Key_Return)
    await wait_until(lambda: bool(engine.calls) and not window.busy)
    _name, answer = engine.calls[-1]
    assert answer.pairs == ((0, "answer 1"), (1, "answer 2"), (2, "answer 3"))  # type: ignore[attr-defined]


async def test_the_idle_timeout_wipes_the_password_the_answers_and_the_app_secret(
    qtbot: QtBot, engine: RecordingEngine, steps: dict[StepKind, Step]
) -> None:
    clock = FakeClock()
    policy = Policy.model_validate({"kiosk": {"idle_timeout_seconds": 60, "idle_warning_seconds": 25}})
    window = KioskWindow(policy, demo=True, clock=clock)
    show_window(qtbot, window)
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    window.render_step(steps[StepKind.SIGN_IN])
    sign_in = window.current_page
    assert isinstance(sign_in, SignInPage)
    qtbot.keyClicks(sign_in.password.edit, "Tulip-Harbor-93!")
    window.render_step(steps[StepKind.REGISTER_QUESTIONS])
    questions = window.current_page
    assert isinstance(questions, RegisterQuestionsPage)
    qtbot.keyClicks(questions.rows[0].answer.edit, "Rex the dog")
    window.render_step(steps[StepKind.REGISTER_APP])
    app = window.current_page
    assert isinstance(app, RegisterAppPage) and app.key.text() and app.qr.has_code
    qtbot.keyClicks(app.code.edit, "4921")
    engine.queued.append(START_STEP)
    clock.advance(61)
    window.idle.tick()
    # Wiped at once, before the engine's cancel returns: the QR code, the key, every field and its undo.
    assert not app.qr.has_code and app.key.text() == "" and app.key.accessibleName() == ""
    for edit in window.findChildren(QLineEdit):
        assert edit.text() == "" and not edit.isUndoAvailable(), edit.objectName()
    assert all(row.choice == NO_QUESTION for row in questions.rows)
    await wait_until(lambda: window.step.kind is StepKind.START)
    assert engine.names() == ["cancel"]


def tap_kind(qtbot: QtBot, keyboard: OnScreenKeyboard, kind: KeyKind) -> None:
    """Tap the special key of this kind on the layout on show (its name is in the kiosk's language)."""
    keys = [key for key in keyboard.pages.currentWidget().findChildren(Key) if key.spec.kind is kind]
    assert keys, f"no {kind} key on this layout"
    qtbot.mouseClick(keys[0], Qt.MouseButton.LeftButton)


@pytest.fixture
def touch_window(qtbot: QtBot, engine: RecordingEngine) -> KioskWindow:
    """A touch kiosk in English and Arabic, attached to the RecordingEngine."""
    policy = Policy.model_validate({"kiosk": {"on_screen_keyboard": True, "languages": ["en", "ar"]}})
    window = KioskWindow(policy, demo=True)
    show_window(qtbot, window)
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    return window


async def test_the_on_screen_keyboard_fits_each_new_field(
    qtbot: QtBot, touch_window: KioskWindow, engine: RecordingEngine, steps: dict[StepKind, Step]
) -> None:
    keyboard = keyboard_of(touch_window)
    touch_window.set_language("ar")
    try:
        # A phone number: the dial pad, with its + and space.
        touch_window.render_step(Step(StepKind.REGISTER_CONTACT, RegisterContactData(kind=RegistrationKind.PHONE)))
        contact = touch_window.current_page
        assert isinstance(contact, RegisterContactPage)
        focus(touch_window, contact.contact.edit)
        assert keyboard.pages.currentWidget() is keyboard.dialpad
        for key in "+31 612345678":
            if key == " ":
                tap_kind(qtbot, keyboard, KeyKind.SPACE)
            else:
                tap(qtbot, keyboard, key)
        assert contact.contact.edit.text() == "+31 612345678"
        engine.queued.append(steps[StepKind.REGISTER_VERIFY])  # not the start page: it would go back to English
        tap_kind(qtbot, keyboard, KeyKind.ENTER)
        await wait_until(lambda: bool(engine.calls) and not touch_window.busy)
        assert engine.calls[-1] == ("submit", ContactAnswer(RegistrationKind.PHONE, "+31 612345678"))

        # An answer: the letters, the language's own alphabet one key away.
        touch_window.render_step(steps[StepKind.REGISTER_QUESTIONS])
        questions = touch_window.current_page
        assert isinstance(questions, RegisterQuestionsPage)
        focus(touch_window, questions.rows[0].answer.edit)
        assert keyboard.pages.currentWidget() is keyboard.letters and keyboard.native is not None
        tap_kind(qtbot, keyboard, KeyKind.SCRIPT)
        assert keyboard.pages.currentWidget() is keyboard.native

        # An e-mail address opens on the Latin letters, even from the Arabic ones.
        touch_window.render_step(Step(StepKind.REGISTER_CONTACT, RegisterContactData(kind=RegistrationKind.EMAIL)))
        email = touch_window.current_page
        assert isinstance(email, RegisterContactPage)
        focus(touch_window, email.contact.edit)
        assert keyboard.pages.currentWidget() is keyboard.letters

        # The app's code: the keypad; the sign-in password: the letters.
        touch_window.render_step(steps[StepKind.REGISTER_APP])
        app = touch_window.current_page
        assert isinstance(app, RegisterAppPage)
        focus(touch_window, app.code.edit)
        assert keyboard.pages.currentWidget() is keyboard.keypad
        touch_window.render_step(steps[StepKind.SIGN_IN])
        sign_in = touch_window.current_page
        assert isinstance(sign_in, SignInPage)
        focus(touch_window, sign_in.password.edit)
        assert keyboard.pages.currentWidget() is keyboard.letters
    finally:
        touch_window.set_language("en")
        set_language(SOURCE_LANGUAGE)


def test_the_done_mark_sits_where_the_title_starts_in_arabic(window: KioskWindow, steps: dict[StepKind, Step]) -> None:
    window.set_language("ar")
    try:
        window.render_step(steps[StepKind.DONE])
        page = window.current_page
        assert isinstance(page, DonePage)
        assert page.mark.alignment() & Qt.AlignmentFlag.AlignRight
    finally:
        window.set_language("en")
    window.render_step(steps[StepKind.DONE])
    assert page.mark.alignment() & Qt.AlignmentFlag.AlignLeft
    page.leave()


def test_choice_arrows_point_the_way_the_page_reads(window: KioskWindow, steps: dict[StepKind, Step]) -> None:
    window.render_step(steps[StepKind.REGISTER])
    hub = window.current_page
    assert isinstance(hub, RegisterPage)
    arrow = hub.choices[0][1].arrow
    assert arrow.text().strip("\u2066\u2069") == "›"
    window.set_language("ar")
    try:
        assert arrow.text().strip("\u2066\u2069") == "‹"
        QApplication.processEvents()  # the mirrored layout is applied on the next pass
        assert x_in(arrow, window) < x_in(hub.choices[0][1].heading, window)  # at the far (left) end
    finally:
        window.set_language("en")


def test_three_ways_in_fit_without_scrolling_in_german(
    qtbot: QtBot, qapp: QApplication, engine: RecordingEngine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """German says the ways in at length: the start page (with the helpdesk line) still fits 1024x768."""
    compile_catalogs(target=tmp_path)
    monkeypatch.setattr(kiosk.i18n, "TRANSLATIONS_DIR", tmp_path)
    policy = Policy.model_validate({"kiosk": {"languages": ["en", "de"], "helpdesk": {"phone": "+1 555 0100"}}})
    apply_theme(qapp, policy.kiosk.branding.accent_color, policy.kiosk.theme)  # the kiosk's real sizes
    window = KioskWindow(policy, demo=True)
    show_window(qtbot, window)
    window.resize(1024, 768)
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    window.render_step(THREE_WAYS)
    window.set_language("de")
    try:
        start = window.current_page
        assert isinstance(start, StartPage)
        assert start.ways[Flow.REGISTER].text() == "Meine Sicherheitsinformationen einrichten"
        assert start.helpdesk.isVisible()
        QApplication.processEvents()
        scroller = window.findChild(QScrollArea, "pageScroller")
        assert scroller is not None and scroller.verticalScrollBar().maximum() == 0
    finally:
        window.set_language("en")
        set_language(SOURCE_LANGUAGE)
