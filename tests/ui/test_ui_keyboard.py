"""The on-screen keyboard: types into the focused field (passwords too), a keypad for codes, Enter submits."""

from __future__ import annotations

import unicodedata

import pytest
from conftest import _close_nothing, show_window, wait_until
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import CodeAnswer, Step, StepKind
from kiosk.policy.schema import Policy
from kiosk.ui.keyboard import ALPHABETS, KEY_SIZE_PX, Key, KeyKind, OnScreenKeyboard
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


def _script_key(keyboard: OnScreenKeyboard, page) -> Key:
    return next(key for key in page.findChildren(Key) if key.spec.kind is KeyKind.SCRIPT)


def test_arabic_gets_its_own_letters_beside_latin_and_types_them(
    qtbot: QtBot, touch_window: KioskWindow, steps
) -> None:
    keyboard = keyboard_of(touch_window)
    assert keyboard.native is None
    assert not [key for key in keyboard.keys if key.spec.kind is KeyKind.SCRIPT]  # English: Latin only
    touch_window.set_language("ar")
    try:
        touch_window.render_step(steps[StepKind.NEW_PASSWORD])
        page = touch_window.current_page
        assert isinstance(page, NewPasswordPage)
        focus(touch_window, page.password.edit)
        assert keyboard.pages.currentWidget() is keyboard.letters  # user IDs are mostly Latin: start there
        switch = _script_key(keyboard, keyboard.letters)
        assert switch.text() == "أبج"
        assert switch.accessibleName() not in ("", "Letters of this language")  # named in Arabic
        qtbot.mouseClick(switch, Qt.MouseButton.LeftButton)
        assert keyboard.native is not None and keyboard.pages.currentWidget() is keyboard.native
        # Physical order, as on an Arabic keyboard: ض where Q is, left of ص.
        dad, sad = (next(key for key in keyboard.native.findChildren(Key) if key.spec.char == c) for c in "ضص")
        qtbot.waitUntil(lambda: dad.isVisible())
        assert dad.mapTo(touch_window, dad.rect().topLeft()).x() < sad.mapTo(touch_window, sad.rect().topLeft()).x()
        for char in "سلام":
            tap(qtbot, keyboard, char)
        tap(qtbot, keyboard, "5")
        assert page.password.edit.text() == "سلام5"
        back = _script_key(keyboard, keyboard.native)
        assert back.text() == "ABC"
        qtbot.mouseClick(back, Qt.MouseButton.LeftButton)
        assert keyboard.pages.currentWidget() is keyboard.letters
        symbols = next(key for key in keyboard.letters.findChildren(Key) if key.spec.kind is KeyKind.SYMBOLS)
        assert symbols.text() == "\u2066?123\u2069"  # an isolate: reads ?123 in right-to-left text too
    finally:
        touch_window.set_language("en")
    assert keyboard.native is None and keyboard.alphabet is None
    assert keyboard.accessibleName() == "On-screen keyboard"


def test_the_key_names_follow_a_language_switch(touch_window: KioskWindow) -> None:
    keyboard = keyboard_of(touch_window)
    shift = next(key for key in keyboard.keys if key.spec.kind is KeyKind.SHIFT)
    assert shift.accessibleName() == "Shift"
    touch_window.set_language("ar")
    try:
        assert shift not in keyboard.keys or shift.accessibleName() != "Shift"
        arabic_shift = next(key for key in keyboard.keys if key.spec.kind is KeyKind.SHIFT)
        assert arabic_shift.accessibleName() != "Shift"
        assert keyboard.accessibleName() != "On-screen keyboard"
    finally:
        touch_window.set_language("en")


@pytest.mark.parametrize("language", sorted(ALPHABETS))
def test_every_alphabet_is_letters_of_one_script_each_once(language: str) -> None:
    alphabet = ALPHABETS[language]
    letters = "".join(alphabet.rows)
    assert len(set(letters)) == len(letters), "a letter twice"
    assert all(unicodedata.category(char).startswith("L") for char in letters)
    scripts = {unicodedata.name(char).split()[0] for char in letters}
    assert len(scripts) == 1, scripts  # ARABIC, HEBREW, GREEK or CYRILLIC
    assert all(len(row) <= 12 for row in alphabet.rows)  # no row wider than the Latin layout's widest


@pytest.mark.parametrize(
    ("language", "alphabet"),
    [("ru", "абвгдеёжзийклмнопрстуфхцчшщъыьэюя"), ("uk", "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя"),
     ("bg", "абвгдежзийклмнопрстуфхцчшщъьюя"), ("el", "αβγδεζηθικλμνξοπρσςτυφχψω"),
     ("he", "אבגדהוזחטיכךלמםנןסעפףצץקרשת"), ("ar", "ابتثجحخدذرزسشصضطظعغفقكلمنهوي"),
     ("kk", "аәбвгғдеёжзийкқлмнңоөпрстуұүфхһцчшщъыіьэюя")],
)
def test_every_letter_of_the_alphabet_has_a_key(language: str, alphabet: str) -> None:
    assert set(alphabet) <= set("".join(ALPHABETS[language].rows))


def test_bracket_keys_look_the_same_in_right_to_left_languages(qtbot: QtBot, touch_window: KioskWindow) -> None:
    keyboard = keyboard_of(touch_window)
    keyboard.pages.setCurrentWidget(keyboard.symbols)

    def looks() -> list[QImage]:
        keyboard.show()
        keys = [next(key for key in keyboard.symbols.findChildren(Key) if key.spec.char == c) for c in "()[]<>"]
        qtbot.waitUntil(lambda: keys[0].isVisible())
        return [key.grab().toImage() for key in keys]

    english = looks()
    touch_window.set_language("ar")
    try:
        keyboard.pages.setCurrentWidget(keyboard.symbols)
        arabic = looks()
    finally:
        touch_window.set_language("en")
    assert english[0] != english[1]  # "(" and ")" differ, so the comparison below could fail
    assert arabic == english  # not mirrored: the key shows the bracket it types
