"""Secret fields (the one-time code, security answers, passwords) never reach the clipboard.

A kiosk is shared: a code copied (select all + Ctrl+C), cut or dragged out of its field would wait on
the clipboard for the next person. Every secret field refuses copy and cut on every key binding of
the platform, offers no context menu and starts no drag; the clipboard stays as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import pytest
from PySide6.QtCore import QEvent, QPoint, Qt
from PySide6.QtGui import QClipboard, QContextMenuEvent, QGuiApplication, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QApplication, QLineEdit, QMenu, QWidget
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import Step, StepKind
from kiosk.policy.schema import Policy
from kiosk.ui.controls import SecretLineEdit, forget_own_selection
from kiosk.ui.pages import PageContext
from kiosk.ui.pages.answer_questions import AnswerQuestionsPage
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.screenshots import SAMPLE_NOW, sample_steps

BEFORE = "what the clipboard held before"


@pytest.fixture
def steps(policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind."""
    return sample_steps(policy)


@pytest.fixture
def context(engine: RecordingEngine) -> PageContext:
    """Page context with a fixed clock."""
    return PageContext(check_password=engine.check_password, now=lambda: SAMPLE_NOW)


@pytest.fixture
def clipboard() -> Iterator[QClipboard]:
    """The application clipboard holding a known text; emptied afterwards."""
    board = QGuiApplication.clipboard()
    board.setText(BEFORE)
    yield board
    board.clear()


def shown(qtbot: QtBot, page: QWidget) -> QWidget:
    qtbot.addWidget(page)
    page.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    page.show()
    return page


def code_field(qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]) -> tuple[QWidget, QLineEdit]:
    """The page (keep it: qtbot holds it weakly) and its secret field."""
    page = EnterCodePage(context)
    shown(qtbot, page)
    page.show_step(steps[StepKind.ENTER_CODE], fresh=True)
    return page, page.code.edit


def answer_field(qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]) -> tuple[QWidget, QLineEdit]:
    """The page (keep it: qtbot holds it weakly) and its secret field."""
    page = AnswerQuestionsPage(context)
    shown(qtbot, page)
    page.show_step(steps[StepKind.ANSWER_QUESTIONS], fresh=True)
    return page, page.rows[0][1].edit


def password_field(qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step]) -> tuple[QWidget, QLineEdit]:
    """The page (keep it: qtbot holds it weakly) and its secret field."""
    page = NewPasswordPage(context)
    shown(qtbot, page)
    step = steps[StepKind.NEW_PASSWORD]
    page.show_step(replace(step, data=replace(step.data, rejected=())), fresh=True)  # type: ignore[type-var]
    return page, page.password.edit


FIELDS = {"code": code_field, "answer": answer_field, "password": password_field}
TYPED = {"code": "48213507", "answer": "Oak Park", "password": "Tulip-Harbor-93!"}


def press(edit: QLineEdit, binding: QKeySequence) -> None:
    """Press and release the key of `binding` (sent as key events: QTest knows no text for Key_Copy)."""
    combination = binding[0]
    for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
        QApplication.sendEvent(edit, QKeyEvent(kind, combination.key(), combination.keyboardModifiers()))


def bindings(key: QKeySequence.StandardKey) -> list[QKeySequence]:
    found = QKeySequence.keyBindings(key)
    assert found, key
    return found


@pytest.mark.parametrize("name", FIELDS)
def test_select_all_and_copy_or_cut_leaves_the_clipboard_alone(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step], clipboard: QClipboard, name: str
) -> None:
    _page, edit = FIELDS[name](qtbot, context, steps)
    edit.setFocus()
    qtbot.keyClicks(edit, TYPED[name])
    assert edit.text() == TYPED[name]
    for key in (QKeySequence.StandardKey.Copy, QKeySequence.StandardKey.Cut):
        for binding in bindings(key):
            press(edit, QKeySequence(QKeySequence.StandardKey.SelectAll))
            assert edit.selectedText() == edit.text(), "select all selects the field"
            press(edit, binding)
            assert clipboard.text() == BEFORE, f"{binding.toString()} reached the clipboard"
            assert edit.text() == TYPED[name], f"{binding.toString()} cut the field"


@pytest.mark.parametrize("name", FIELDS)
def test_no_context_menu_and_no_drag(
    qtbot: QtBot, context: PageContext, steps: dict[StepKind, Step], clipboard: QClipboard, name: str
) -> None:
    _page, edit = FIELDS[name](qtbot, context, steps)
    qtbot.keyClicks(edit, TYPED[name])
    edit.selectAll()
    # What a right click or the Menu key sends (QTest's clicks bypass the window that makes it)
    for reason in (QContextMenuEvent.Reason.Mouse, QContextMenuEvent.Reason.Keyboard):
        where = QPoint(10, edit.height() // 2)
        QApplication.sendEvent(edit, QContextMenuEvent(reason, where, edit.mapToGlobal(where)))
        menus = [menu for menu in QApplication.topLevelWidgets() if isinstance(menu, QMenu) and menu.isVisible()]
        for menu in menus:
            menu.close()
        assert not menus, f"a context menu opened ({reason.name})"
    assert clipboard.text() == BEFORE
    assert isinstance(edit, SecretLineEdit)
    assert edit.contextMenuPolicy() is Qt.ContextMenuPolicy.NoContextMenu
    assert not edit.dragEnabled()
    edit.setDragEnabled(True)  # nothing turns it back on
    assert not edit.dragEnabled()


class FakeClipboard:
    """A selection clipboard (X11's PRIMARY) as the offscreen platform has none."""

    def __init__(self, text: str, *, owned: bool = True, supported: bool = True) -> None:
        self.selection, self.owned, self.supported, self.cleared = text, owned, supported, False

    def supportsSelection(self) -> bool:
        return self.supported

    def ownsSelection(self) -> bool:
        return self.owned

    def text(self, mode: QClipboard.Mode) -> str:
        assert mode is QClipboard.Mode.Selection
        return self.selection

    def clear(self, mode: QClipboard.Mode) -> None:
        assert mode is QClipboard.Mode.Selection
        self.cleared = True


def test_a_selection_the_field_published_is_taken_back(qtbot: QtBot) -> None:
    edit = SecretLineEdit()
    qtbot.addWidget(edit)
    edit.setText("48213507")
    edit.selectAll()
    published = FakeClipboard("48213507")
    forget_own_selection(edit, published)  # type: ignore[arg-type]
    assert published.cleared
    for other in (FakeClipboard("48213507", owned=False), FakeClipboard("something else"),
                  FakeClipboard("48213507", supported=False)):  # fmt: skip
        forget_own_selection(edit, other)  # type: ignore[arg-type]
        assert not other.cleared
