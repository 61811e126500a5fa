"""The idle timeout: an application-wide watch on user input, a visible countdown, and "I need more time".

`IdleMonitor` measures idleness with an injectable clock and a one-second tick, so tests move the
clock and call `tick()` instead of waiting minutes. Elapsed time is read from the clock on each
tick (not counted in ticks), so a busy event loop that delays ticks never stretches the timeout.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.i18n import _, ngettext
from kiosk.ui.controls import announce, button, label
from kiosk.ui.overlay import Overlay

INPUT_EVENTS = frozenset({
    QEvent.Type.KeyPress,
    QEvent.Type.MouseButtonPress,
    QEvent.Type.MouseButtonDblClick,
    QEvent.Type.Wheel,
    QEvent.Type.TouchBegin,
    QEvent.Type.TouchUpdate,
    QEvent.Type.TabletPress,
    QEvent.Type.InputMethod,
})
"""Events that mean a person is using the kiosk (plus real mouse moves, see `IdleMonitor.eventFilter`)."""

ANNOUNCE_EVERY_SECONDS = 10
"""The countdown is spoken when it appears and then every 10 seconds (every second would drown the reader)."""


class IdleMonitor(QObject):
    """Emits `warning(seconds_left)` every tick of the last `warning_seconds`, `resumed` when input
    arrives during the warning, and `expired` once after `timeout_seconds` without input."""

    warning = Signal(int)
    resumed = Signal()
    expired = Signal()

    def __init__(
        self,
        timeout_seconds: int,
        warning_seconds: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        tick_ms: int = 1000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.timeout_seconds = timeout_seconds
        self.warning_seconds = min(warning_seconds, timeout_seconds)
        self._clock = clock
        self._last_input = clock()
        self.warning_shown = False
        self.timer = QTimer(self)
        self.timer.setInterval(tick_ms)
        self.timer.timeout.connect(self.tick)
        # Input during the warning hides it after the event is delivered, not inside the filter:
        # the press may be on the warning's own button, which must not vanish under it mid-click.
        self._resume_soon = QTimer(self)
        self._resume_soon.setSingleShot(True)
        self._resume_soon.setInterval(0)
        self._resume_soon.timeout.connect(self._resume)

    @property
    def running(self) -> bool:
        """True while idleness is being measured (never on the start page)."""
        return self.timer.isActive()

    def seconds_left(self) -> float:
        """Seconds until the timeout, from the clock."""
        return self.timeout_seconds - (self._clock() - self._last_input)

    def start(self) -> None:
        """Start measuring from now, watching every input event of the application."""
        self._last_input = self._clock()
        if not self.running:
            app = QApplication.instance()
            if app is not None:
                app.installEventFilter(self)
            self.timer.start()

    def stop(self) -> None:
        """Stop measuring (the start page) and drop a warning on show."""
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if self.warning_shown:
            self._resume()

    def poke(self) -> None:
        """Someone is here: restart the timeout; a warning on show goes away."""
        self._last_input = self._clock()
        if self.warning_shown:
            self._resume_soon.start()

    def tick(self) -> None:
        """Compare the clock with the last input: warn, or expire (the timer calls this every second)."""
        if not self.running:
            return
        left = self.seconds_left()
        if left <= 0:
            self.timer.stop()
            self.warning_shown = False
            self.expired.emit()
        elif left <= self.warning_seconds:
            self.warning_shown = True
            self.warning.emit(math.ceil(left))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Any key, click, touch or wheel (and a real mouse move) anywhere in the application is input."""
        kind = event.type()
        if kind in INPUT_EVENTS or (kind == QEvent.Type.MouseMove and event.spontaneous()):
            self.poke()
        return False

    def _resume(self) -> None:
        self._resume_soon.stop()
        if self.warning_shown:
            self.warning_shown = False
            self.resumed.emit()


class IdleWarning(Overlay):
    """"Are you still there?": the seconds left, spoken to screen readers, and "I need more time"."""

    more_time = Signal()

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent, "idleWarning")
        self.heading = label("title")
        self.message = label()
        self.seconds = label("reference", wrap=False)
        self.extend = button("primary")
        self.extend.clicked.connect(self.more_time)
        self.column.addWidget(self.heading)
        self.column.addWidget(self.message)
        self.column.addWidget(self.seconds)
        self.column.addWidget(self.extend)
        self.seconds_left = 0
        self._restore_focus: QWidget | None = None

    def show_seconds(self, seconds_left: int) -> None:
        """Show (or update) the countdown; on first show take the focus and announce it."""
        first = not self.isVisible()
        self.seconds_left = seconds_left
        self.retranslate()
        if first:
            window = self.window()
            self._restore_focus = window.focusWidget() if window is not None else None
            self.open()
            self.extend.setFocus()
        if first or seconds_left % ANNOUNCE_EVERY_SECONDS == 0:
            announce(self.extend, self.message.text())

    def dismiss(self) -> None:
        """Hide the warning and give the focus back to where the person was."""
        if not self.isVisible():
            return
        self.hide()
        if self._restore_focus is not None and self._restore_focus.isVisible():
            self._restore_focus.setFocus()
        self._restore_focus = None

    def retranslate(self) -> None:
        """Texts of the warning."""
        self.heading.setText(_("Are you still there?"))
        self.heading.setAccessibleName(_("Are you still there?"))
        self.message.setText(ngettext(
            "For your security, this kiosk will start over in {count} second and forget what you typed.",
            "For your security, this kiosk will start over in {count} seconds and forget what you typed.",
            self.seconds_left,
        ).format(count=self.seconds_left))
        self.seconds.setText(str(self.seconds_left))
        self.seconds.setAccessibleName(self.message.text())
        self.extend.setText(_("I need more time"))
        self.extend.setAccessibleName(_("I need more time"))
