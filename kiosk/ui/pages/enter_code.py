"""Type the one-time code: where it went, when it expires, attempts left, resend and another method."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from PySide6.QtCore import QRegularExpression, Qt, QTimer
from PySide6.QtGui import QFont, QRegularExpressionValidator
from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import CodeAnswer, EnterCodeData, FieldError, Step, StepKind
from kiosk.i18n import _, format_duration, ngettext
from kiosk.ui import texts
from kiosk.ui.controls import LabelledField, button, label
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title


@dataclass(frozen=True, slots=True)
class CodeView:
    """What a code page shows, whichever Step it comes from (a verification gate, a new contact to confirm)."""

    gate: str | None
    title: str
    intro: str
    attempts_left: int
    code_length: int
    expires_at: datetime | None
    can_resend: bool
    can_choose_other: bool


def code_field() -> LabelledField:
    """A one-time code field: digits only (the keypad on a touch kiosk), monospaced, secret."""
    field = LabelledField("code", secret=True)
    field.edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"[0-9]*"), field.edit))
    field.edit.setInputMethodHints(Qt.InputMethodHint.ImhDigitsOnly)
    # Family and spacing only: the size comes from the stylesheet, which scales with the system font.
    font = QFont("DejaVu Sans Mono")
    font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 6)
    field.edit.setFont(font)
    field.edit.setMaximumWidth(360)
    return field


def code_caption(length: int) -> str:
    """The code field's caption: "8-digit code"."""
    return ngettext("{count}-digit code", "{count}-digit code", length).format(count=length)


class EnterCodePage(Page):
    """A digits-only code field with expiry, attempts left, Resend and Try another method."""

    kind = StepKind.ENTER_CODE

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.code = code_field()
        self.expiry = label("muted")
        self.attempts = label("muted")
        self.verify = button("primary")
        self.verify.clicked.connect(self.accept)
        self.resend = button()
        self.resend.clicked.connect(lambda: self.requested.emit(Request.RESEND_CODE))
        self.other = button("link")
        self.other.clicked.connect(lambda: self.requested.emit(Request.CHOOSE_OTHER_METHOD))
        self.body.addWidget(self.code)
        self.body.addWidget(self.expiry)
        self.body.addWidget(self.attempts)
        add_row(self.action_row, self.verify, self.resend, self.other)
        self.expiry_timer = QTimer(self)
        self.expiry_timer.setInterval(1000)
        self.expiry_timer.timeout.connect(self._show_expiry)

    def view(self) -> CodeView:
        """The Step's data as the code page shows it (override for another kind of Step)."""
        data = self.data(EnterCodeData)
        return CodeView(
            gate=texts.gate_progress(data.gate) if data.gate.required > 1 else None,
            title=_("Enter your code"),
            intro=texts.code_sent(data.method, data.masked_target),
            attempts_left=data.attempts_left,
            code_length=data.code_length,
            expires_at=data.expires_at,
            can_resend=data.can_resend,
            can_choose_other=data.can_choose_other,
        )

    def load(self, step: Step) -> None:
        """Clear the field, size it to the code and start the expiry clock."""
        data = self.view()
        self.code.edit.clear()
        self.code.edit.setMaxLength(data.code_length)
        if data.expires_at is not None:
            self.expiry_timer.start()
        else:
            self.expiry_timer.stop()

    def retranslate(self) -> None:
        """Texts of the code page."""
        data = self.view()
        self.set_gate(data.gate)
        set_title(self.title, data.title)
        self.intro.setText(data.intro)
        self.code.set_caption(code_caption(data.code_length))
        self.attempts.setText(ngettext(
            "{count} attempt left.", "{count} attempts left.", data.attempts_left).format(count=data.attempts_left))
        code_error = self.step.error_for("code")
        self.attempts.setVisible(bool(self.step.errors) and (code_error is None or code_error.attempts_left is None))
        self.verify.setText(_("Verify"))
        self.verify.setAccessibleName(_("Verify"))
        self.resend.setText(_("Send a new code"))
        self.resend.setAccessibleName(_("Send a new code"))
        self.resend.setVisible(data.can_resend)
        self.other.setText(_("Try another method"))
        self.other.setAccessibleName(_("Try another method"))
        self.other.setVisible(data.can_choose_other)
        self._show_expiry()

    def _show_expiry(self) -> None:
        data = self.view()
        if data.expires_at is None:
            self.expiry.hide()
            return
        left = data.expires_at - self.context.now()
        if left <= timedelta(0):
            self.expiry.setText(_("This code has expired. Send a new code."))
            self.expiry_timer.stop()
        else:
            self.expiry.setText(_("The code expires in {duration}.").format(duration=format_duration(left)))
        self.expiry.show()

    def place_error(self, error: FieldError) -> bool:
        """Code errors go under the code field."""
        if error.field != "code":
            return False
        self.code.set_error(texts.field_error(error))
        return True

    def clear_field_errors(self) -> None:
        """Hide the code error."""
        self.code.set_error(None)

    def clear_inputs(self) -> None:
        """Wipe the code."""
        self.code.edit.clear()

    def leave(self) -> None:
        """Stop the expiry clock and wipe the code."""
        self.expiry_timer.stop()
        super().leave()

    def accept(self) -> None:
        """Send the code (after checking it is not empty)."""
        code = self.code.edit.text().strip()
        if not code:
            self.place_error(FieldError("code", "required"))
            return
        self.answered.emit(CodeAnswer(code=code))

    def focus_first(self) -> None:
        """Focus the code field."""
        self.code.edit.setFocus()
