"""Small reusable widgets of the pages: a labelled field with its error, a two-line choice button, labels."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget


def label(object_name: str = "", *, wrap: bool = True, selectable: bool = False) -> QLabel:
    """A QLabel styled by object name; wrapped by default."""
    widget = QLabel()
    if object_name:
        widget.setObjectName(object_name)
    widget.setWordWrap(wrap)
    widget.setTextFormat(Qt.TextFormat.PlainText)
    if selectable:
        widget.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse | Qt.TextInteractionFlag.TextSelectableByKeyboard
        )
    return widget


def button(object_name: str = "") -> QPushButton:
    """A push button styled by object name (`primary`, `hero`, `link` or plain)."""
    widget = QPushButton()
    if object_name:
        widget.setObjectName(object_name)
    widget.setCursor(Qt.CursorShape.PointingHandCursor)
    widget.setAutoDefault(False)
    return widget


class LabelledField(QWidget):
    """A caption, a line edit and the error line under it; the caption is the edit's buddy."""

    def __init__(self, object_name: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.caption = label("fieldLabel")
        self.edit = QLineEdit()
        if object_name:
            self.edit.setObjectName(object_name)
        self.error = label("fieldError")
        self.error.hide()
        self.caption.setBuddy(self.edit)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(6)
        layout.addWidget(self.caption)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)

    def set_caption(self, text: str) -> None:
        """Set the caption and use it as the edit's accessible name."""
        self.caption.setText(text)
        self.edit.setAccessibleName(text)

    def set_error(self, text: str | None) -> None:
        """Show an error under the field (or hide it) and mark the edit invalid for the stylesheet."""
        self.error.setText(text or "")
        self.error.setVisible(bool(text))
        self.edit.setProperty("invalid", bool(text))
        self.edit.setAccessibleDescription(text or "")
        self.edit.style().unpolish(self.edit)
        self.edit.style().polish(self.edit)


class ChoiceButton(QPushButton):
    """A big, touch-sized choice: a bold first line and an explanatory second line."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("choice")
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setAutoDefault(False)
        self.heading = label("choiceTitle")
        self.hint = label("choiceHint")
        for part in (self.heading, self.hint):
            part.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.heading)
        text.addWidget(self.hint)
        row = QHBoxLayout(self)
        row.setContentsMargins(20, 12, 20, 12)
        row.addLayout(text, 1)
        self.arrow = label("choiceTitle", wrap=False)
        self.arrow.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        row.addWidget(self.arrow)
        self.setMinimumHeight(84)

    def set_texts(self, heading: str, hint: str) -> None:
        """Set both lines; the heading is also the accessible name."""
        self.heading.setText(heading)
        self.hint.setText(hint)
        self.hint.setVisible(bool(hint))
        self.arrow.setText("›" if self.layoutDirection() == Qt.LayoutDirection.LeftToRight else "‹")
        self.setAccessibleName(heading)
        self.setAccessibleDescription(hint)
