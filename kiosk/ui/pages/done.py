"""Success: what happened, and a countdown back to the start."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import DoneData, Step, StepKind
from kiosk.i18n import _
from kiosk.ui import texts
from kiosk.ui.controls import button, label
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title


class DonePage(Page):
    """A check mark, the outcome, and a countdown that asks the window to restart at zero."""

    kind = StepKind.DONE
    shows_cancel: ClassVar[bool] = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.mark = label("successMark", wrap=False)
        self.mark.setText("✓")
        self.outer.insertWidget(0, self.mark)
        self.countdown = label("muted")
        self.body.addWidget(self.countdown)
        self.finish = button("primary")
        self.finish.clicked.connect(self.accept)
        add_row(self.action_row, self.finish)
        self.seconds_left = 0
        self.countdown_timer = QTimer(self)
        self.countdown_timer.setInterval(1000)
        self.countdown_timer.timeout.connect(self.tick)

    def load(self, step: Step) -> None:
        """Start the countdown."""
        self.seconds_left = self.data(DoneData).countdown_seconds
        self.countdown_timer.start()

    def retranslate(self) -> None:
        """Texts of the done page."""
        outcome = self.data(DoneData).outcome
        set_title(self.title, texts.done_title(outcome))
        self.intro.setText(texts.done_message(outcome))
        self.mark.setAccessibleName(_("Success"))
        self.countdown.setText(texts.countdown(self.seconds_left))
        self.finish.setText(_("Finish"))
        self.finish.setAccessibleName(_("Finish"))
        # The mark is no letter: a label would align it by its own (left-to-right) direction, at the left of a
        # right-to-left page. It goes where the title starts.
        rtl = self.layoutDirection() is Qt.LayoutDirection.RightToLeft
        side = Qt.AlignmentFlag.AlignRight if rtl else Qt.AlignmentFlag.AlignLeft
        self.mark.setAlignment(side | Qt.AlignmentFlag.AlignAbsolute)

    def tick(self) -> None:
        """One second passed: count down, and ask for a restart at zero."""
        self.seconds_left = max(0, self.seconds_left - 1)
        self.countdown.setText(texts.countdown(self.seconds_left))
        if self.seconds_left == 0:
            self.countdown_timer.stop()
            self.requested.emit(Request.RESTART)

    def leave(self) -> None:
        """Stop the countdown."""
        self.countdown_timer.stop()
        super().leave()

    def accept(self) -> None:
        """Finish now."""
        self.countdown_timer.stop()
        self.requested.emit(Request.RESTART)

    def focus_first(self) -> None:
        """Focus Finish."""
        self.finish.setFocus()
