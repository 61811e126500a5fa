"""New password typed twice, a live rule checklist and a strength meter, and why it was rejected."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QProgressBar, QVBoxLayout, QWidget

from kiosk.flows.steps import FieldError, NewPasswordAnswer, NewPasswordData, Step, StepKind
from kiosk.i18n import _
from kiosk.policy.password import PasswordCheck, PasswordRule
from kiosk.services.api import Flow
from kiosk.ui import texts
from kiosk.ui.background import LatestOnly
from kiosk.ui.controls import LabelledField, button, label
from kiosk.ui.pages.base import Page, PageContext, add_row, set_title

CHECK_DEBOUNCE_MS = 150


class ChecklistLine(QWidget):
    """One checklist line: a ✓, ✗ or neutral ○ mark and the rule's text, wrapped with a hanging indent."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.mark = label(wrap=False)
        self.mark.setFixedWidth(24)  # until styled: then as wide as the widest mark (`_style_as`)
        self.text = label()
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(4)
        row.addWidget(self.mark, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(self.text, 1)

    def show_result(self, text: str, passed: bool | None) -> None:
        """Show the rule's text, met, not met, or (None) only checkable by the service on save."""
        if passed is None:
            mark, state, name = "•", _("checked when you save"), "rulePending"
        else:
            mark, state, name = ("✓", _("met"), "ruleOk") if passed else ("✗", _("not met"), "ruleBad")
        self.mark.setText(mark)
        self.text.setText(text if passed is not None else f"{text} ({state})")
        self.setAccessibleName(f"{text}: {state}")
        self._style_as(name)

    def show_neutral(self, text: str) -> None:
        """Show the rule's text unjudged: nothing typed yet, so nothing is met (nor failed) yet."""
        self.mark.setText("○")
        self.text.setText(text)
        self.setAccessibleName(text)
        self._style_as("rulePending")

    def _style_as(self, name: str) -> None:
        for part in (self.mark, self.text):
            part.setObjectName(name)
            part.style().unpolish(part)
            part.style().polish(part)
        # The marks' column grows with the text (a large system font), so no mark is cut off.
        metrics = self.mark.fontMetrics()
        self.mark.setFixedWidth(max(metrics.horizontalAdvance(mark) for mark in "✓✗○•") + 2)


class NewPasswordPage(Page):
    """Password and confirmation on the left, the checklist on the right."""

    kind = StepKind.NEW_PASSWORD

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.password = LabelledField("password", secret=True)
        self.confirm = LabelledField("confirm", secret=True)
        for field in (self.password, self.confirm):
            field.edit.setEchoMode(QLineEdit.EchoMode.Password)
            field.edit.setMaxLength(256)
            field.edit.textChanged.connect(self._schedule_check)
        self.meter = QProgressBar()
        self.meter.setObjectName("strength")
        self.meter.setRange(0, 4)
        self.meter.setTextVisible(False)
        self.strength = label("muted")
        self.rejected = label("fieldError")
        left = QVBoxLayout()
        left.setSpacing(14)
        for widget in (self.password, self.confirm, self.meter, self.strength, self.rejected):
            left.addWidget(widget)
        left.addStretch(1)
        self.checklist_heading = label("fieldLabel")
        # The lines live in a box made before Save: a screen reader walking the page meets them right
        # after their heading, not after the button (lines made later would be the page's last children).
        self.checklist_box = QWidget()
        self.checklist = QVBoxLayout(self.checklist_box)
        self.checklist.setContentsMargins(0, 0, 0, 0)
        self.checklist.setSpacing(6)
        right = QVBoxLayout()
        right.addWidget(self.checklist_heading)
        right.addWidget(self.checklist_box)
        right.addStretch(1)
        columns = QGridLayout()
        columns.setHorizontalSpacing(36)
        columns.addLayout(left, 0, 0)
        columns.addLayout(right, 0, 1)
        columns.setColumnStretch(0, 1)
        columns.setColumnStretch(1, 1)
        self.body.addLayout(columns)
        self.save = button("primary")
        self.save.clicked.connect(self.accept)
        add_row(self.action_row, self.save)
        self.rule_lines: dict[PasswordRule, ChecklistLine] = {}
        self.match_line = ChecklistLine(self.checklist_box)
        self.check: PasswordCheck | None = None
        # Whether `check` is of a typed password: an empty one passes "at most 256 characters" and
        # friends, and ticks on an empty field would tell the user a rule is met before they type.
        self.judged = False
        self.check_timer = QTimer(self)
        self.check_timer.setSingleShot(True)
        self.check_timer.setInterval(CHECK_DEBOUNCE_MS)
        self.check_timer.timeout.connect(self.run_check)
        # zxcvbn takes ~25 ms for a long password, more on a busy kiosk: off the UI thread, so typing
        # never waits for it (bench/ui_stalls.py); only the newest estimate is shown.
        self.estimate: LatestOnly[str, PasswordCheck] = LatestOnly(self.context.check_password, self)
        self.estimate.ready.connect(self._checked)

    def load(self, step: Step) -> None:
        """Empty fields and one checklist line per rule that applies."""
        self.check_timer.stop()
        self.estimate.forget()
        for field in (self.password, self.confirm):
            field.edit.blockSignals(True)
            field.edit.clear()
            field.edit.blockSignals(False)
        while self.checklist.count():
            item = self.checklist.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None and widget is not self.match_line:
                # Hidden at once: deleteLater waits for the event loop, and until then the old lines
                # would paint over the new ones (a page shown again with other rules, a screenshot).
                widget.hide()
                widget.deleteLater()
        self.check = self.context.check_password("")
        self.judged = False
        self.rule_lines = {}
        for result in self.check.results:
            line = ChecklistLine()
            self.checklist.addWidget(line)
            self.rule_lines[result.rule] = line
        self.checklist.addWidget(self.match_line)

    def retranslate(self) -> None:
        """Texts of the password page, including the checklist's current state."""
        data = self.data(NewPasswordData)
        if data.flow is Flow.CHANGE:
            set_title(self.title, _("Change your password"))
            self.intro.setText(_("Type your new password twice. It replaces your current one right away."))
        else:
            set_title(self.title, _("Choose a new password"))
            self.intro.setText(_("Type it twice. It starts working right away."))
        self.password.set_caption(_("New password"))
        self.confirm.set_caption(_("Confirm new password"))
        self.checklist_heading.setText(_("Your password needs"))
        self.meter.setAccessibleName(_("Password strength"))
        self.rejected.setText("\n".join(texts.password_rejection(reason, data.rules) for reason in data.rejected))
        self.rejected.setVisible(bool(data.rejected))
        self.save.setText(_("Save password"))
        self.save.setAccessibleName(_("Save password"))
        self._show_check()

    def _schedule_check(self) -> None:
        self.check_timer.start()

    def run_check(self, *, wait: bool = False) -> None:
        """Check the typed password now (normally called by the debounce timer): on the worker thread,
        shown when it is done; `wait` checks on this thread (screenshots, which render at once)."""
        password = self.password.edit.text()
        if wait:
            self.estimate.forget()
            self._checked(password, self.context.check_password(password))
        else:
            self.estimate.request(password)

    def _checked(self, password: str, check: PasswordCheck) -> None:
        self.check = check
        self.judged = bool(password)
        self._show_check()

    def _show_check(self) -> None:
        if self.check is None:
            return
        rules = self.data(NewPasswordData).rules
        for result in self.check.results:
            line = self.rule_lines.get(result.rule)
            if line is None:
                continue
            text = texts.password_rule(result.rule, rules)
            if result.rule is PasswordRule.NOT_RECENT:
                line.show_result(text, None)  # only the backend knows the password history: never claim it
            elif self.judged:
                line.show_result(text, result.passed)
            else:
                line.show_neutral(text)
        typed = self.password.edit.text()
        if typed:
            self.match_line.show_result(_("Both passwords match"), typed == self.confirm.edit.text())
        else:
            self.match_line.show_neutral(_("Both passwords match"))
        score = self.check.strength if typed else 0
        self.meter.setValue(score)
        self.strength.setText(_("Strength: {word}").format(word=texts.strength(score)) if typed else "")

    def place_error(self, error: FieldError) -> bool:
        """Password errors go under the password, mismatches under the confirmation."""
        target = {"password": self.password, "confirm": self.confirm}.get(error.field)
        if target is None:
            return False
        target.set_error(texts.field_error(error))
        return True

    def clear_field_errors(self) -> None:
        """Hide both field errors."""
        self.password.set_error(None)
        self.confirm.set_error(None)

    def clear_inputs(self) -> None:
        """Wipe both passwords."""
        self.check_timer.stop()
        self.estimate.forget()
        self.password.edit.clear()
        self.confirm.edit.clear()

    def accept(self) -> None:
        """Send both passwords (empty ones are caught here, the rules by the engine and backend)."""
        password, confirm = self.password.edit.text(), self.confirm.edit.text()
        self.clear_field_errors()
        if not password:
            self.place_error(FieldError("password", "required"))
            self.password.edit.setFocus()
            return
        if not confirm:
            self.place_error(FieldError("confirm", "required"))
            self.confirm.edit.setFocus()
            return
        self.answered.emit(NewPasswordAnswer(password=password, confirm=confirm))

    def focus_first(self) -> None:
        """Focus the new password."""
        self.password.edit.setFocus()
