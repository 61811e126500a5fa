"""The base of every page: renders a Step, emits answers or requests, never decides what comes next."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, TypeVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAccessible, QAccessibleAnnouncementEvent, QKeyEvent, QShowEvent
from PySide6.QtWidgets import QAbstractButton, QHBoxLayout, QLabel, QLineEdit, QVBoxLayout, QWidget

from kiosk.flows.steps import FieldError, Helpdesk, Step, StepData, StepKind
from kiosk.i18n import _
from kiosk.policy.password import PasswordCheck
from kiosk.ui import texts
from kiosk.ui.controls import HelpdeskBox, label, wipe_line_edit
from kiosk.ui.flow_row import FlowRow

DataT = TypeVar("DataT", bound=StepData)


class Request(StrEnum):
    """Something a page asks the window to do besides submitting an answer."""

    BACK = "back"
    CANCEL = "cancel"
    RESTART = "restart"
    RETRY = "retry"
    REFRESH_CAPTCHA = "refresh_captcha"
    PLAY_CAPTCHA_AUDIO = "play_captcha_audio"
    RESEND_CODE = "resend_code"
    CHOOSE_OTHER_METHOD = "choose_other_method"


@dataclass(frozen=True, slots=True)
class PageContext:
    """What pages may use besides their Step: the live password check, the clock, the policy's helpdesk."""

    check_password: Callable[[str], PasswordCheck]
    now: Callable[[], datetime]
    helpdesk: Helpdesk | None = None


class Page(QWidget):
    """One page of the wizard; subclasses fill `load` (new Step) and `retranslate` (texts only)."""

    kind: ClassVar[StepKind]
    shows_cancel: ClassVar[bool] = True
    body_stretches: ClassVar[bool] = False

    answered = Signal(object)
    requested = Signal(object)

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.context = context
        self._step: Step | None = None
        self.setObjectName(f"page_{self.kind.value}")
        self.gate = label("gate")
        self.gate.hide()
        self.title = label("title")
        self.intro = label("intro")
        self.banner = label("banner")
        self.banner.hide()
        self.body = QVBoxLayout()
        self.body.setSpacing(16)
        self.action_row = QHBoxLayout()
        self.action_row.setSpacing(12)
        self.outer = outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(14)
        outer.addWidget(self.gate)
        outer.addWidget(self.title)
        outer.addWidget(self.intro)
        outer.addWidget(self.banner)
        if self.body_stretches:
            outer.addLayout(self.body, 1)
        else:
            outer.addLayout(self.body)
            outer.addStretch(1)
        outer.addLayout(self.action_row)

    @property
    def step(self) -> Step:
        """The Step on show (set by the first `render`)."""
        assert self._step is not None, "render() a Step first"
        return self._step

    def data(self, kind: type[DataT]) -> DataT:
        """The Step's data, checked to be of the type this page renders."""
        data = self.step.data
        assert isinstance(data, kind), f"{type(self).__name__} got {type(data).__name__}"
        return data

    def show_step(self, step: Step, *, fresh: bool) -> None:
        """Show a Step: `fresh` for a new Step from the engine (inputs reset), else re-translate only."""
        self._step = step
        if fresh:
            self.load(step)
        self.retranslate()
        self._show_errors()

    def load(self, step: Step) -> None:
        """Reset inputs from a new Step (override)."""

    def retranslate(self) -> None:
        """Set every visible text and accessible name from the current Step (override)."""

    def place_error(self, error: FieldError) -> bool:
        """Show a field error next to its field; False when this page has no such field (override)."""
        return False

    def clear_field_errors(self) -> None:
        """Hide the errors next to fields (override)."""

    def clear_inputs(self) -> None:
        """Wipe everything typed, so nothing is left behind for the next person (override)."""

    def leave(self) -> None:
        """The page is no longer shown: stop timers and wipe inputs, undo history included."""
        self.clear_inputs()
        # clear() is an undoable edit: Ctrl+Z in the next person's hands would bring the text back.
        for edit in self.findChildren(QLineEdit):
            wipe_line_edit(edit)

    def submit(self) -> None:
        """Enter pressed: click the focused choice, else the page's primary action (override `accept`)."""
        focused = self.focusWidget()
        if isinstance(focused, QAbstractButton) and self.isAncestorOf(focused) and focused.isEnabled():
            focused.click()
            return
        self.accept()

    def accept(self) -> None:
        """The page's primary action (override)."""

    def focus_first(self) -> None:
        """Put the keyboard focus where the user starts typing (override)."""

    def _show_errors(self) -> None:
        self.clear_field_errors()
        unplaced = [texts.field_error(error) for error in self.step.errors if not self.place_error(error)]
        self.banner.setText("\n".join(unplaced))
        # A screen reader reads a label's name, not its text: the name carries the errors too. Set here,
        # not at build time: it follows the language.
        self.banner.setAccessibleName(_("{caption}: {value}").format(caption=_("Error"), value=self.banner.text()))
        self.banner.setVisible(bool(unplaced))

    def set_gate(self, text: str | None) -> None:
        """Show or hide the small "Verification 1 of 2" line above the title."""
        self.gate.setText(text or "")
        self.gate.setVisible(bool(text))

    def showEvent(self, event: QShowEvent) -> None:
        """A page that appears has its title read out, once the focus has landed on its first control (a
        focus change interrupts a screen reader's speech): a blind user hears where they are."""
        super().showEvent(event)
        QTimer.singleShot(0, self, self._announce_title)

    def _announce_title(self) -> None:
        if self.isVisible() and self.title.text():
            announcement = QAccessibleAnnouncementEvent(self.title, self.title.text())
            announcement.setPoliteness(QAccessible.AnnouncementPoliteness.Polite)  # after the focused field
            QAccessible.updateAccessibility(announcement)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Enter (from a field or a focused button) submits; other keys go to the parent."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            self.submit()
            return
        super().keyPressEvent(event)


def add_row(layout: QVBoxLayout | QHBoxLayout, *widgets: QWidget) -> FlowRow:
    """Add a row of widgets to a layout: side by side from the leading edge, wrapped onto more lines
    when the page is too narrow for them (large text, long translations)."""
    row = FlowRow()
    for widget in widgets:
        row.addWidget(widget)
    layout.addLayout(row, 1)
    return row


def set_title(title: QLabel, text: str) -> None:
    """Set a heading and make it the accessible name too."""
    title.setText(text)
    title.setAccessibleName(text)


def show_helpdesk(box: HelpdeskBox, helpdesk: Helpdesk | None) -> None:
    """Fill a helpdesk box from the policy's contact, in the current language (hidden when there is none)."""
    if helpdesk is None:
        box.hide()
        return
    box.show_contact(
        _("Your helpdesk"),
        texts.helpdesk_text(helpdesk.text),
        [(_("Phone"), helpdesk.phone), (_("Web"), helpdesk.url), (_("E-mail"), helpdesk.email)],
    )
