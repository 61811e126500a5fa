"""Layout measured from widget geometry and font metrics, not by eye: text that does not fit its widget,
widgets that overlap a sibling or stick out of their parent, and touch targets under 44×44 px.

Shared by the large-text checks (1.5× in test_ui_accessibility.py, 2× in every language in
test_ui_large_text.py) and the touch-target check.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QRect, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QComboBox,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QStyle,
    QStyleOptionComboBox,
    QWidget,
)

from kiosk.ui.overlay import Overlay

MIN_TARGET_PX = 44
"""WCAG 2.5.5 (AAA) and the platforms' touch guidance: a target is at least 44×44 CSS px."""
SLACK = 1
"""Rounding of fractional font metrics: one pixel is not a cut-off."""


def name_of(widget: QWidget) -> str:
    """How a problem names a widget: its object name (or class) and the start of its text."""
    text = widget.text() if isinstance(widget, (QLabel, QAbstractButton, QLineEdit)) else ""
    if isinstance(widget, QComboBox):
        text = widget.currentText()
    if not text:
        text = widget.accessibleName()
    return f"{widget.objectName() or type(widget).__name__} {text[:40]!r}"


def shown_widgets(root: QWidget) -> Iterator[QWidget]:
    """`root`'s visible descendants (widgets inside a hidden parent are not visible either)."""
    for widget in root.findChildren(QWidget):
        if widget.isVisible() and not widget.isWindow():
            yield widget


def _label_problem(widget: QLabel) -> str | None:
    if not widget.text() or not widget.pixmap().isNull():
        return None
    if widget.wordWrap():
        room = widget.contentsRect()
        margin = widget.margin()
        room.adjust(margin, margin, -margin, -margin)
        # A word longer than the line does not wrap: it sticks out sideways (heightForWidth misses that).
        flags = int(widget.alignment()) | int(Qt.TextFlag.TextWordWrap)
        needed = widget.fontMetrics().boundingRect(QRect(0, 0, room.width(), 100_000), flags, widget.text())
        needed_width, needed_height = (
            needed.width() - room.width() + widget.width(),
            widget.heightForWidth(widget.width()),
        )
    else:
        hint = widget.sizeHint()
        needed_width, needed_height = hint.width(), hint.height()
    if needed_height > widget.height() + SLACK or needed_width > widget.width() + SLACK:
        return f"needs {needed_width}x{needed_height}, has {widget.width()}x{widget.height()}"
    return None


def _button_problem(widget: QAbstractButton) -> str | None:
    if not widget.text():
        return None  # a button drawn by its own children (ChoiceButton): those are measured
    # The text's QFontMetrics size plus the style's padding and borders: on one line, or (a button
    # that wraps, controls.WrappingButton) at least its longest word, and the wrapped lines' height.
    if widget.hasHeightForWidth():
        needed_width, needed_height = widget.minimumSizeHint().width(), widget.heightForWidth(widget.width())
    else:
        needed_width, needed_height = widget.sizeHint().width(), widget.sizeHint().height()
    if needed_width > widget.width() + SLACK or needed_height > widget.height() + SLACK:
        return f"needs {needed_width}x{needed_height}, has {widget.width()}x{widget.height()}"
    return None


def _combo_problem(widget: QComboBox) -> str | None:
    option = QStyleOptionComboBox()
    widget.initStyleOption(option)
    field = widget.style().subControlRect(
        QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, widget
    )
    metrics = widget.fontMetrics()
    if widget.hasHeightForWidth():  # a picker that wraps its text (register_questions.WrappingComboBox)
        flags = int(Qt.TextFlag.TextWordWrap)
        needed = metrics.boundingRect(QRect(0, 0, field.width(), 100_000), flags, widget.currentText())
        width, height = needed.width(), needed.height()
    else:
        width, height = metrics.horizontalAdvance(widget.currentText()), metrics.height()
    if width > field.width() + SLACK or height > field.height() + SLACK:
        return f"text needs {width}x{height}, field has {field.width()}x{field.height()}"
    return None


def _line_edit_problem(widget: QLineEdit) -> str | None:
    if widget.fontMetrics().height() > widget.contentsRect().height() + SLACK:
        return f"a line of text needs {widget.fontMetrics().height()} px, has {widget.contentsRect().height()}"
    return None


def clipped_text(root: QWidget) -> list[str]:
    """Visible labels, buttons, fields and pickers under `root` whose text needs more room than they got."""
    problems: list[str] = []
    for widget in shown_widgets(root):
        problem: str | None = None
        if isinstance(widget, QLabel):
            problem = _label_problem(widget)
        elif isinstance(widget, QAbstractButton):
            problem = _button_problem(widget)
        elif isinstance(widget, QComboBox):
            problem = _combo_problem(widget)
        elif isinstance(widget, QLineEdit):
            problem = _line_edit_problem(widget)
        if problem is not None:
            problems.append(f"cut off: {name_of(widget)}: {problem}")
    return problems


def _scrolled(widget: QWidget) -> bool:
    """The widget inside a scroll area's viewport: it may be taller than the viewport (it scrolls)."""
    parent = widget.parentWidget()
    area = parent.parentWidget() if parent is not None else None
    return isinstance(area, QAbstractScrollArea) and area.viewport() is parent


def _laid_out(widget: QWidget) -> bool:
    """Part of the page's layout, not a layer on top of it (an overlay) or a stacked sibling."""
    parent = widget.parentWidget()
    return not isinstance(widget, Overlay) and not isinstance(parent, (QStackedWidget, QAbstractScrollArea))


def overlaps(root: QWidget) -> list[str]:
    """Visible widgets under `root` that overlap a visible sibling, or stick out of their parent."""
    problems: list[str] = []
    for parent in [root, *shown_widgets(root)]:
        children = [
            child
            for child in parent.children()
            if isinstance(child, QWidget) and child.isVisible() and not child.isWindow() and _laid_out(child)
        ]
        inside = parent.rect()
        for index, child in enumerate(children):
            box = child.geometry()
            if _scrolled(child):
                sticks_out = box.left() < inside.left() or box.right() > inside.right()
            else:
                sticks_out = not inside.contains(box)
            if sticks_out:
                problems.append(f"sticks out of {name_of(parent)}: {name_of(child)} at {_rect(box)} in {_rect(inside)}")
                problems += [f"  past the edge: {cut}" for cut in _past_the_edge(child, parent)]
            for other in children[index + 1 :]:
                if box.intersects(other.geometry()):
                    problems.append(
                        f"overlap: {name_of(child)} at {_rect(box)} and {name_of(other)} at {_rect(other.geometry())}"
                    )
    return problems


def _past_the_edge(content: QWidget, viewport: QWidget) -> list[str]:
    """The texts and controls of `content` that end beyond `viewport`'s sides (where they are cut off)."""
    cut = []
    for widget in shown_widgets(content):
        if isinstance(widget, (QLabel, QAbstractButton, QLineEdit, QComboBox)):
            box = QRect(widget.mapTo(viewport, widget.rect().topLeft()), widget.size())
            if box.left() < 0 or box.right() > viewport.width() - 1:
                cut.append(widget)
    return [name_of(widget) for widget in cut]


def _rect(rect: QRect) -> str:
    return f"{rect.width()}x{rect.height()}+{rect.x()}+{rect.y()}"


def interactive(widget: QWidget) -> bool:
    """Something a person presses, types into or picks: a button, key, link, check box, field or picker."""
    return isinstance(widget, (QAbstractButton, QLineEdit, QComboBox)) or (
        isinstance(widget, QLabel)
        and bool(widget.textInteractionFlags() & Qt.TextInteractionFlag.LinksAccessibleByMouse)
        and "<a" in widget.text()
    )


def small_targets(root: QWidget) -> list[str]:
    """Visible interactive controls under `root` smaller than 44×44 px."""
    return [
        f"{name_of(widget)}: {widget.width()}x{widget.height()}"
        for widget in shown_widgets(root)
        if interactive(widget) and (widget.width() < MIN_TARGET_PX or widget.height() < MIN_TARGET_PX)
    ]
