"""Answer security questions: one labelled field per question, scrollable when there are many."""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLineEdit, QScrollArea, QVBoxLayout, QWidget

from kiosk.flows.steps import AnswerQuestionsData, FieldError, QuestionsAnswer, Step, StepKind
from kiosk.i18n import _
from kiosk.ui import texts
from kiosk.ui.controls import LabelledField, button
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title


class AnswerQuestionsPage(Page):
    """One field per asked question; answers are masked once typed (shoulder surfing)."""

    kind = StepKind.ANSWER_QUESTIONS
    body_stretches = True

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.rows: list[tuple[str, LabelledField]] = []
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        # Not a tab stop of its own: focusing an answer scrolls it into view.
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.holder = QWidget()
        self.column = QVBoxLayout(self.holder)
        self.column.setContentsMargins(0, 0, 8, 0)
        self.column.setSpacing(14)
        self.column.addStretch(1)
        self.scroll_area.setWidget(self.holder)
        self.body.addWidget(self.scroll_area, 1)
        self.verify = button("primary")
        self.verify.clicked.connect(self.accept)
        self.other = button("link")
        self.other.clicked.connect(lambda: self.requested.emit(Request.CHOOSE_OTHER_METHOD))
        add_row(self.action_row, self.verify, self.other)

    def load(self, step: Step) -> None:
        """One empty field per question."""
        for _id, old in self.rows:
            self.column.removeWidget(old)
            old.deleteLater()
        self.rows = []
        for index, question in enumerate(self.data(AnswerQuestionsData).questions):
            row = LabelledField(secret=True)
            row.edit.setEchoMode(QLineEdit.EchoMode.PasswordEchoOnEdit)
            row.edit.setMaxLength(200)
            self.column.insertWidget(index, row)
            self.rows.append((question.id, row))
        # New rows join the end of the focus chain (after Verify and Back): put them back in reading order.
        chain = [row.edit for _id, row in self.rows] + [self.verify, self.other]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def retranslate(self) -> None:
        """Texts of the questions page."""
        data = self.data(AnswerQuestionsData)
        self.set_gate(texts.gate_progress(data.gate) if data.gate.required > 1 else None)
        set_title(self.title, _("Answer your security questions"))
        self.intro.setText(_("Answers are not case-sensitive."))
        for question, (_id, row) in zip(data.questions, self.rows, strict=True):
            row.set_caption(texts.question_text(question))
        self.verify.setText(_("Verify"))
        self.verify.setAccessibleName(_("Verify"))
        self.other.setText(_("Try another method"))
        self.other.setAccessibleName(_("Try another method"))
        self.other.setVisible(data.can_choose_other)

    def place_error(self, error: FieldError) -> bool:
        """An error for one question goes under it; errors for all answers go in the banner."""
        for question_id, row in self.rows:
            if error.field == question_id:
                row.set_error(texts.field_error(error))
                return True
        return False

    def clear_field_errors(self) -> None:
        """Hide every answer's error."""
        for _id, row in self.rows:
            row.set_error(None)

    def clear_inputs(self) -> None:
        """Wipe every answer."""
        for _id, row in self.rows:
            row.edit.clear()

    def accept(self) -> None:
        """Send every answer, after checking none is empty."""
        self.clear_field_errors()
        empty = [(question_id, row) for question_id, row in self.rows if not row.edit.text().strip()]
        for question_id, _row in empty:
            self.place_error(FieldError(question_id, "required"))
        if empty:
            empty[0][1].edit.setFocus()
            return
        self.answered.emit(QuestionsAnswer(answers=tuple((qid, row.edit.text()) for qid, row in self.rows)))

    def focus_first(self) -> None:
        """Focus the first answer."""
        if self.rows:
            self.rows[0][1].edit.setFocus()
