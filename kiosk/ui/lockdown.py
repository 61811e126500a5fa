"""Kiosk mode inside the app: window flags and the keys it catches (Alt+F4, the administrator chord).

What an application cannot do alone (Ctrl+Alt+Del, the Windows key, Alt+Tab, the task bar) is the
operating system's job: see the README, "Kiosk mode and OS lockdown".
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QApplication, QWidget

from kiosk.ui.admin_exit import is_exit_chord

KIOSK_WINDOW_FLAGS = (
    Qt.WindowType.Window
    | Qt.WindowType.FramelessWindowHint
    | Qt.WindowType.WindowStaysOnTopHint
    | Qt.WindowType.CustomizeWindowHint  # with no button hints: no close, minimise or maximise
)
"""Full-screen kiosk window: no frame, no title-bar buttons, above other windows."""


def is_close_shortcut(event: QKeyEvent) -> bool:
    """Alt+F4 (where the platform delivers it to the app rather than turning it into a close event)."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return event.key() == Qt.Key.Key_F4 and modifiers == Qt.KeyboardModifier.AltModifier


class KioskKeyFilter(QObject):
    """An application-wide filter that swallows Alt+F4 (in kiosk mode) and the administrator chord and
    reports them."""

    close_requested = Signal()
    admin_requested = Signal()

    def __init__(self, window: QWidget) -> None:
        super().__init__(window)
        self._window = window
        self.catch_close = True
        """False in a plain window (the chord only, for the diagnostics page): Alt+F4 closes it as usual."""

    def install(self, *, catch_close: bool = True) -> None:
        """Watch every key event of the application (installing twice only updates `catch_close`)."""
        self.catch_close = catch_close
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
            app.installEventFilter(self)

    def remove(self) -> None:
        """Stop watching."""
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Swallow Alt+F4 and the chord (also as shortcut overrides, so no widget acts on them)."""
        kind = event.type()
        if kind not in (QEvent.Type.KeyPress, QEvent.Type.ShortcutOverride) or not isinstance(event, QKeyEvent):
            return False
        if self.catch_close and is_close_shortcut(event):
            if kind == QEvent.Type.KeyPress and not event.isAutoRepeat():
                self.close_requested.emit()
            event.accept()
            return True
        if is_exit_chord(event):
            if kind == QEvent.Type.KeyPress and not event.isAutoRepeat():
                self.admin_requested.emit()
            event.accept()
            return True
        return False
