"""Register security questions: N rows of a question picker and a hidden answer, with a live count."""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QPaintEvent, QPalette
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QScrollArea,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStylePainter,
    QVBoxLayout,
    QWidget,
)

from kiosk.flows.steps import FieldError, QuestionsRegistrationAnswer, RegisterQuestionsData, Step, StepKind
from kiosk.i18n import _, ngettext
from kiosk.ui import texts
from kiosk.ui.controls import LabelledField, button, label
from kiosk.ui.pages.base import Page, PageContext, add_row, set_title

NO_QUESTION = -1
"""The picker's first entry, "Choose a question": nothing picked yet."""


def same_answer(first: str, second: str) -> bool:
    """Two answers count as the same when they differ only in case and surrounding spaces."""
    return first.strip().casefold() == second.strip().casefold()


class RowsArea(QScrollArea):
    """The rows' scroll area: it asks for little room and takes what the page has left (the stretch), so the
    page itself never scrolls and Save stays in view; QScrollArea would ask for its rows' full height."""

    def sizeHint(self) -> QSize:
        """Room for about one row; the stretch gives it the rest."""
        return QSize(super().sizeHint().width(), 160)


class WrappingComboBox(QComboBox):
    """A question picker whose current question wraps onto more lines when it does not fit: the person
    must read the whole question to answer it (an ellipsis would hide its end)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        policy = QSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)
        # Long questions (and long translations) must not widen the page: the picker wraps, its list does not.
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setMinimumContentsLength(12)

    def _text_room(self, width: int) -> tuple[QStyleOptionComboBox, int]:
        """The style option and the width of the text field at a widget `width`."""
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        option.rect = QRect(0, 0, width, self.height())
        field = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        return option, field.width()

    def hasHeightForWidth(self) -> bool:
        """Wrapped lines: the height depends on the width."""
        return True

    def heightForWidth(self, width: int) -> int:
        """One line's height plus the lines the current question needs beyond it at `width`."""
        _option, room = self._text_room(width)
        metrics = self.fontMetrics()
        flags = int(Qt.TextFlag.TextWordWrap)
        needed = metrics.boundingRect(QRect(0, 0, max(1, room), 100_000), flags, self.currentText()).height()
        return self.sizeHint().height() + max(0, needed - metrics.height())

    def paintEvent(self, event: QPaintEvent) -> None:
        """Draw the frame and arrow as usual, and the current question wrapped in the room there is."""
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        text = option.currentText
        option.currentText = ""
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        room = self.style().subControlRect(
            QStyle.ComplexControl.CC_ComboBox, option, QStyle.SubControl.SC_ComboBoxEditField, self
        )
        flags = int(Qt.AlignmentFlag.AlignVCenter) | int(Qt.TextFlag.TextWordWrap)
        flags |= int(Qt.AlignmentFlag.AlignRight if self.isRightToLeft() else Qt.AlignmentFlag.AlignLeft)
        painter.drawItemText(room, flags, option.palette, self.isEnabled(), text, QPalette.ColorRole.Text)


class QuestionRow(QWidget):
    """One question: its picker and its answer (masked once the field loses focus), and the row's error."""

    def __init__(self, number: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.number = number
        self.caption = label("fieldLabel")
        self.picker = WrappingComboBox()
        self.picker.setObjectName("questionPicker")
        self.caption.setBuddy(self.picker)
        self.answer = LabelledField(secret=True)
        self.answer.edit.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
        # The picker and its answer side by side: three rows fit the page without scrolling.
        question = QVBoxLayout()
        question.setSpacing(6)
        question.addWidget(self.caption)
        question.addWidget(self.picker)
        question.addStretch(1)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 4)
        row.setSpacing(16)
        row.addLayout(question, 3)
        row.addWidget(self.answer, 2, Qt.AlignmentFlag.AlignTop)

    @property
    def choice(self) -> int:
        """The index of the picked question in the Step's choices, or NO_QUESTION."""
        value = self.picker.currentData()
        return value if isinstance(value, int) else NO_QUESTION

    def fill(self, options: list[str]) -> None:
        """Offer these questions (texts in the current language), keeping the one picked."""
        picked = self.choice
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.addItem(_("Choose a question"), NO_QUESTION)
        for index, text in enumerate(options):
            self.picker.addItem(text, index)
            self.picker.setItemData(index + 1, text, Qt.ItemDataRole.ToolTipRole)
        self.picker.setCurrentIndex(max(0, self.picker.findData(picked)))
        self.picker.blockSignals(False)
        self.picker.view().setMinimumWidth(min(720, self.picker.view().sizeHintForColumn(0) + 32))

    def pick(self, choice: int) -> None:
        """Select the question at `choice` (NO_QUESTION: none)."""
        self.picker.setCurrentIndex(max(0, self.picker.findData(choice)))

    def retranslate(self) -> None:
        """The row's captions and accessible names."""
        caption = texts.fill(_("Question {number}"), number=self.number)
        self.caption.setText(caption)
        self.picker.setAccessibleName(caption)
        # TRANSLATORS: a noun: the caption of the field for the answer to the question beside it.
        self.answer.set_caption(_("Answer"))
        self.answer.edit.setAccessibleName(texts.fill(_("Answer to question {number}"), number=self.number))


class RegisterQuestionsPage(Page):
    """Pick `count` different questions and answer each; the count of rows ready updates as you type."""

    kind = StepKind.REGISTER_QUESTIONS
    body_stretches = True

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.rows: list[QuestionRow] = []
        self.scroll_area = RowsArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # focusing a field scrolls it into view
        self.holder = QWidget()
        self.column = QVBoxLayout(self.holder)
        self.column.setContentsMargins(0, 0, 8, 0)
        self.column.setSpacing(14)
        self.column.addStretch(1)
        self.scroll_area.setWidget(self.holder)
        self.set_error = label("fieldError")
        """An error about the whole set (the service's `questions` and `answers` fields), above the rows."""
        self.set_error.hide()
        self.body.addWidget(self.set_error)
        self.body.addWidget(self.scroll_area, 1)
        self.progress = label("muted", wrap=False)
        self.save = button("primary")
        self.save.clicked.connect(self.accept)
        row = add_row(self.action_row, self.save)
        row.addWidget(self.progress)

    def load(self, step: Step) -> None:
        """One row per question to register, the questions picked before a field error kept. The answers are
        kept too when the same page comes back with errors (fix one, not retype all); a new page starts empty."""
        data = self.data(RegisterQuestionsData)
        keep = bool(step.errors) and len(self.rows) == data.count
        if not keep:
            self._build_rows(data.count, data.max_answer)
        self._fill_pickers()
        if len(data.selected) == len(self.rows):
            for row, choice in zip(self.rows, data.selected, strict=True):
                row.pick(choice)

    def _build_rows(self, count: int, max_answer: int) -> None:
        for old in self.rows:
            self.column.removeWidget(old)
            old.hide()
            old.deleteLater()
        self.rows = []
        for index in range(count):
            row = QuestionRow(index + 1)
            row.answer.edit.setMaxLength(max_answer)
            row.picker.currentIndexChanged.connect(self._update_progress)
            row.answer.edit.textChanged.connect(self._update_progress)
            self.column.insertWidget(index, row)
            row.show()  # now, not when the layout gets round to it: focus_first may come first
            self.rows.append(row)
        # New rows join the end of the focus chain (after Save and Back): put them back in reading order.
        chain: list[QWidget] = [widget for row in self.rows for widget in (row.picker, row.answer.edit)]
        for first, second in pairwise([*chain, self.save]):
            QWidget.setTabOrder(first, second)

    def _fill_pickers(self) -> None:
        options = [texts.question_option_text(option) for option in self.data(RegisterQuestionsData).choices]
        for row in self.rows:
            row.fill(options)

    def retranslate(self) -> None:
        """Texts of the questions page (the pickers' questions in the current language too)."""
        data = self.data(RegisterQuestionsData)
        set_title(self.title, _("Choose your security questions"))
        intro = [
            texts.fill(
                ngettext(
                    "Choose {count} question and answer it.",
                    "Choose {count} different questions and answer each.",
                    data.count,
                ),
                count=data.count,
            ),
            texts.answer_length(data.min_answer, data.max_answer),
        ]
        if data.registered:
            intro.append(texts.fill(
                ngettext(
                    "They replace the {count} question you registered before.",
                    "They replace the {count} questions you registered before.",
                    data.registered,
                ),
                count=data.registered,
            ))
        self.intro.setText(" ".join(intro))
        self._fill_pickers()
        for row in self.rows:
            row.retranslate()
        self.save.setText(_("Save questions"))
        self.save.setAccessibleName(_("Save questions"))
        self._update_progress()

    def _problems(self) -> list[tuple[QuestionRow, FieldError]]:
        """What is wrong with each row, as the service would say it (first problem of a row only)."""
        data = self.data(RegisterQuestionsData)
        found: list[tuple[QuestionRow, FieldError]] = []
        for position, row in enumerate(self.rows):
            field = f"answer{position}"
            answer = row.answer.edit.text()
            earlier = self.rows[:position]
            if row.choice == NO_QUESTION:
                found.append((row, FieldError(f"question{position}", "question_required")))
            elif any(other.choice == row.choice for other in earlier):
                found.append((row, FieldError(f"question{position}", "question_twice")))
            elif not answer.strip():
                found.append((row, FieldError(field, "required")))
            elif not data.min_answer <= len(answer.strip()) <= data.max_answer:
                found.append((row, FieldError(field, "answer_length")))
            elif any(same_answer(answer, other.answer.edit.text()) for other in earlier):
                found.append((row, FieldError(field, "answer_twice")))
        return found

    def _update_progress(self) -> None:
        if self._step is None or not isinstance(self._step.data, RegisterQuestionsData):
            return
        problems = {id(row) for row, _error in self._problems()}
        ready = sum(1 for row in self.rows if id(row) not in problems)
        text = texts.fill(
            # TRANSLATORS: how many of the questions on the page are picked and answered so far.
            ngettext("{ready} of {count} ready", "{ready} of {count} ready", len(self.rows)),
            ready=ready, count=len(self.rows),
        )
        self.progress.setText(text)
        self.progress.setAccessibleName(text)
        # A question picked twice is said at once, not only on Save.
        for position, row in enumerate(self.rows):
            twice = row.choice != NO_QUESTION and any(other.choice == row.choice for other in self.rows[:position])
            if twice:
                row.answer.set_error(texts.field_error(FieldError("", "question_twice")))
            elif row.answer.error.text() == texts.field_error(FieldError("", "question_twice")):
                row.answer.set_error(None)

    def _row_of(self, field_name: str) -> QuestionRow | None:
        for position, row in enumerate(self.rows):
            if field_name in (f"question{position}", f"answer{position}"):
                return row
        return None

    def _error_text(self, error: FieldError) -> str:
        if error.code == "answer_length":
            data = self.data(RegisterQuestionsData)
            return texts.answer_length(data.min_answer, data.max_answer)
        return texts.field_error(error)

    def place_error(self, error: FieldError) -> bool:
        """An error about one row goes under it; errors about the whole set above the rows."""
        if error.field in ("questions", "answers"):
            shown = [line for line in self.set_error.text().split("\n") if line]
            self.set_error.setText("\n".join([*shown, self._error_text(error)]))
            self.set_error.show()
            return True
        row = self._row_of(error.field)
        if row is None:
            return False
        row.answer.set_error(self._error_text(error))
        return True

    def clear_field_errors(self) -> None:
        """Hide every row's error and the set's."""
        for row in self.rows:
            row.answer.set_error(None)
        self.set_error.setText("")
        self.set_error.hide()

    def clear_inputs(self) -> None:
        """Wipe every answer and forget the picked questions."""
        for row in self.rows:
            row.answer.edit.clear()
            row.pick(NO_QUESTION)

    def accept(self) -> None:
        """Send the picked questions and their answers, after the checks the service would make."""
        self.clear_field_errors()
        problems = self._problems()
        for _row, error in problems:
            self.place_error(error)
        if problems:
            first, error = problems[0]
            (first.picker if error.field.startswith("question") else first.answer.edit).setFocus()
            return
        self.answered.emit(QuestionsRegistrationAnswer(
            pairs=tuple((row.choice, row.answer.edit.text()) for row in self.rows)
        ))

    def focus_first(self) -> None:
        """Focus the first question's picker."""
        if self.rows:
            self.rows[0].picker.setFocus()
