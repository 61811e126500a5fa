"""A panel shown over the whole window on a dimmed backdrop (the idle warning, the administrator exit).

An overlay is a child widget, not a dialog: a full-screen, stay-on-top kiosk window keeps it on
top and on the same screen without asking the window manager, and it needs no window of its own.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from kiosk.ui.theme import current_theme

PANEL_WIDTH = 560


class Overlay(QWidget):
    """A dimmed layer over `parent` with a centred card (`panel`, laid out by `column`); hidden at first."""

    def __init__(self, parent: QWidget, object_name: str) -> None:
        super().__init__(parent)
        self.setObjectName(object_name)
        self.setAttribute(Qt.WidgetAttribute.WA_StyledBackground)
        self.setStyleSheet(f"#{object_name} {{ background: rgba(0, 0, 0, 130); }}")
        self.panel = QFrame()
        self.panel.setObjectName("card")  # the card's look from the theme, high contrast included
        # Wider with larger system text, so a long word (Danish "Administratorhemmelighed") still fits a line.
        theme = current_theme()
        self.panel.setMaximumWidth(round(PANEL_WIDTH * (theme.scale if theme is not None else 1.0)))
        self.column = QVBoxLayout(self.panel)
        self.column.setContentsMargins(36, 28, 36, 28)
        self.column.setSpacing(16)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.panel, 3)
        row.addStretch(1)
        outer = QVBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(row)
        outer.addStretch(1)
        parent.installEventFilter(self)
        self.hide()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Follow the parent's size."""
        if watched is self.parentWidget() and event.type() == QEvent.Type.Resize:
            self._cover()
        return False

    def open(self) -> None:
        """Cover the parent and show the panel on top of everything else in it."""
        self._cover()
        self.raise_()
        self.show()

    def _cover(self) -> None:
        parent = self.parentWidget()
        if parent is not None:
            self.setGeometry(parent.rect())
