"""The on-screen keyboard: types into the focused field (passwords too), a keypad for codes, Enter submits."""

from __future__ import annotations

import pytest
from conftest import _close_nothing, show_window, wait_until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import CodeAnswer, Step, StepKind
from kiosk.policy.schema import Policy
from kiosk.ui.keyboard import KEY_SIZE_PX, Key, KeyKind, OnScreenKeyboard
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import sample_steps
from kiosk.ui.window import KioskWindow


@pytest.fixture
def touch_policy() -> Policy:
    """A touch kiosk: the on-screen keyboard on."""
    return Policy.model_validate({"kiosk": {"on_screen_keyboard": True, "languages": ["en", "ar"]}})


@pytest.fixture
def touch_window(qtbot: QtBot, touch_policy: Policy, engine: RecordingEngine) -> KioskWindow:
    """A window with the keyboard, attached to the RecordingEngine."""
    window = KioskWindow(touch_policy, demo=True)
    show_window(qtbot, window)
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    return window


@pytest.fixture
def steps(touch_policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind."""
    return sample_steps(touch_policy)


def keyboard_of(window: KioskWindow) -> OnScreenKeyboard:
    """The window's keyboard (there is one in this policy)."""
    assert window.keyboard is not None
    return window.keyboard


def tap(qtbot: QtBot, keyboard: OnScreenKeyboard, name: str) -> None:
    """Tap the key of the layout on show that types `name` (a character) or is named `name` (Shift, Enter…)."""
    page = keyboard.pages.currentWidget()
    keys = [key for key in page.findChildren(Key) if name in (key.spec.char, key.accessibleName())]
    assert keys, f"no key {name!r} on this layout"
    qtbot.mouseClick(keys[0], Qt.MouseButton.LeftButton)


def focus(window: KioskWindow, edit: QLineEdit) -> None:
    """Give `edit` the focus, as a tap on the field would."""
    edit.setFocus()
    if window.keyboard is not None:
        window.keyboard.attach(edit)  # an offscreen window is never active, so Qt sends no focus change


def test_no_keyboard_unless_the_policy_asks(window: KioskWindow) -> None:
    assert window.keyboard is None


def test_the_keyboard_hides_without_a_field_and_keys_are_touch_sized(touch_window: KioskWindow) -> None:
    keyboard = keyboard_of(touch_window)
    assert touch_window.step.kind is StepKind.START
    assert not keyboard.isVisible()
    for key in keyboard.keys:
        assert key.minimumWidth() >= 48 and key.minimumHeight() >= 48 and KEY_SIZE_PX >= 48
        assert key.accessibleName(), key.text()
        assert key.focusPolicy() == Qt.FocusPolicy.NoFocus


async def test_typing_a_password_with_shift_and_enter_submits(
    qtbot: QtBot, touch_window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    touch_window.render_step(steps[StepKind.NEW_PASSWORD])
    page = touch_window.current_page
    assert isinstance(page, NewPasswordPage)
    keyboard = keyboard_of(touch_window)
    focus(touch_window, page.password.edit)
    assert keyboard.isVisible() and keyboard.pages.currentWidget() is keyboard.letters
    tap(qtbot, keyboard, "Shift")
    for name in ("t", "u", "l", "i", "p", "-", "9", "3"):
        tap(qtbot, keyboard, name)
    tap(qtbot, keyboard, "Symbols")
    tap(qtbot, keyboard, "!")
    tap(qtbot, keyboard, "Letters")
    tap(qtbot, keyboard, "x")
    tap(qtbot, keyboard, "Backspace")
    assert page.password.edit.text() == "Tulip-93!"
    assert page.password.edit.echoMode() == QLineEdit.EchoMode.Password
    assert not any("Tulip" in key.text() for key in keyboard.keys)  # the keyboard never shows what was typed
    focus(touch_window, page.confirm.edit)
    for name in ("Shift", "t", "u", "l", "i", "p", "-", "9", "3", "Symbols", "!"):
        tap(qtbot, keyboard, name)
    tap(qtbot, keyboard, "Enter")
    await wait_until(lambda: bool(engine.calls))
    assert engine.names() == ["submit"]


async def test_the_code_field_gets_the_keypad_and_enter_verifies(
    qtbot: QtBot, touch_window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    touch_window.render_step(steps[StepKind.ENTER_CODE])
    page = touch_window.current_page
    assert isinstance(page, EnterCodePage)
    keyboard = keyboard_of(touch_window)
    focus(touch_window, page.code.edit)
    assert keyboard.pages.currentWidget() is keyboard.keypad
    for digit in "48302917":
        tap(qtbot, keyboard, digit)
    assert page.code.edit.text() == "48302917"
    tap(qtbot, keyboard, "Enter")
    await wait_until(lambda: bool(engine.calls))
    assert engine.calls == [("submit", CodeAnswer(code="48302917"))]


def test_in_arabic_the_keys_keep_their_order_and_type_into_the_field(
    qtbot: QtBot, touch_window: KioskWindow, steps
) -> None:
    touch_window.set_language("ar")
    assert touch_window.layoutDirection() == Qt.LayoutDirection.RightToLeft
    touch_window.render_step(steps[StepKind.NEW_PASSWORD])
    page = touch_window.current_page
    assert isinstance(page, NewPasswordPage)
    keyboard = keyboard_of(touch_window)
    keyboard.retranslate()
    focus(touch_window, page.password.edit)
    assert keyboard.layoutDirection() == Qt.LayoutDirection.LeftToRight
    q, w = (next(key for key in keyboard.letters.findChildren(Key) if key.spec.char == char) for char in "qw")
    qtbot.waitUntil(lambda: q.isVisible())
    assert q.mapTo(touch_window, q.rect().topLeft()).x() < w.mapTo(touch_window, w.rect().topLeft()).x()
    space = next(key for key in keyboard.keys if key.spec.kind is KeyKind.SPACE)
    qtbot.mouseClick(q, Qt.MouseButton.LeftButton)
    qtbot.mouseClick(space, Qt.MouseButton.LeftButton)
    assert page.password.edit.text() == "q "
    touch_window.set_language("en")
