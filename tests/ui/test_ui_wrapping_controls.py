"""The controls that keep large text and long translations inside the window: buttons whose text wraps,
rows of buttons that wrap onto more lines (mirrored right to left), and the wrapping question picker."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from kiosk.ui.controls import WrappingButton, button
from kiosk.ui.flow_row import FlowRow
from kiosk.ui.pages.register_questions import WrappingComboBox

LONG = "Send me a new code by text message now"


def shown(qtbot: QtBot, widget: QWidget, width: int) -> None:
    """Show `widget` offscreen at `width` and let its layout settle."""
    qtbot.addWidget(widget)
    widget.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    widget.resize(width, 400)
    widget.show()
    qtbot.wait(1)


def test_a_button_wraps_its_text_instead_of_widening_the_page(qtbot: QtBot) -> None:
    """Narrower than its line, the button grows taller (not wider); its text stays whole for screen readers."""
    page = QWidget()
    column = QVBoxLayout(page)
    wide = button("primary")
    wide.setText(LONG)
    column.addWidget(wide)
    column.addStretch(1)
    shown(qtbot, page, 1000)
    one_line = wide.height()
    assert wide.width() >= wide.fontMetrics().horizontalAdvance(LONG)
    page.resize(160, 400)
    qtbot.wait(1)
    assert wide.width() <= 160 - column.contentsMargins().left() - column.contentsMargins().right()
    assert wide.height() > 2 * wide.fontMetrics().height() > 0 and wide.height() > one_line
    assert wide.height() >= wide.heightForWidth(wide.width())
    assert wide.text() == LONG
    longest_word = max(wide.fontMetrics().horizontalAdvance(word) for word in LONG.split())
    assert longest_word < wide.minimumSizeHint().width() < wide.fontMetrics().horizontalAdvance(LONG)


def test_matched_buttons_ask_for_the_widest_width_but_can_still_shrink(qtbot: QtBot) -> None:
    """`match_width` makes a column's buttons equally wide when there is room, never wider than the page."""
    short = WrappingButton()
    short.setText("OK")
    short.match_width(300)
    assert short.sizeHint().width() == 300
    assert short.minimumSizeHint().width() < 300


def test_a_row_of_buttons_wraps_onto_more_lines_and_starts_on_the_right_in_right_to_left(qtbot: QtBot) -> None:
    """Side by side while they fit; the next ones move down when they do not; mirrored right to left."""
    page = QWidget()
    page.setLayoutDirection(Qt.LayoutDirection.LeftToRight)  # whatever an earlier test left the application in
    column = QVBoxLayout(page)
    column.setContentsMargins(0, 0, 0, 0)
    row = FlowRow()
    buttons = [button() for _index in range(3)]
    for index, widget in enumerate(buttons):
        widget.setText(f"Action number {index + 1}")
        row.addWidget(widget)
    column.addLayout(row)
    column.addStretch(1)
    shown(qtbot, page, 300)  # polished: the stylesheet's font and padding are in the size hints now
    wide_enough = row.sizeHint().width() + 10
    page.resize(wide_enough, 400)
    qtbot.wait(1)
    assert len({widget.y() for widget in buttons}) == 1
    assert buttons[0].x() < buttons[1].x() < buttons[2].x()
    narrow = buttons[0].sizeHint().width() + buttons[1].sizeHint().width() // 2
    page.resize(narrow, 400)
    qtbot.wait(1)
    assert buttons[0].y() < buttons[1].y() < buttons[2].y()  # one a line
    assert all(widget.geometry().right() < narrow for widget in buttons)
    assert row.heightForWidth(narrow) > row.heightForWidth(wide_enough)
    page.setLayoutDirection(Qt.LayoutDirection.RightToLeft)
    page.resize(wide_enough, 400)
    qtbot.wait(1)
    assert buttons[0].x() > buttons[1].x() > buttons[2].x()
    assert buttons[0].geometry().right() == page.width() - 1


def test_the_question_picker_shows_the_whole_question_on_more_lines(qtbot: QtBot) -> None:
    """A long question wraps in its picker (a person must read all of it to answer), never elided."""
    question = "What was the name of our first office's coffee machine?"
    page = QWidget()
    column = QVBoxLayout(page)
    picker = WrappingComboBox()
    picker.addItem(question)
    column.addWidget(picker)
    column.addStretch(1)
    shown(qtbot, page, 900)
    one_line = picker.height()
    page.resize(260, 400)
    qtbot.wait(1)
    assert picker.width() < picker.fontMetrics().horizontalAdvance(question)
    assert picker.height() > one_line + picker.fontMetrics().height() // 2
    assert picker.height() >= picker.heightForWidth(picker.width())
