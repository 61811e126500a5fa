"""Set up an authenticator app: the new secret as a QR code and as a key to type, then one current code."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QGridLayout, QVBoxLayout, QWidget

from kiosk.flows.steps import CodeAnswer, FieldError, RegisterAppData, Step, StepKind
from kiosk.i18n import _, ngettext
from kiosk.ui import texts
from kiosk.ui.controls import UncopyableLabel, button, label
from kiosk.ui.pages.base import Page, PageContext, add_row, set_title
from kiosk.ui.pages.enter_code import code_caption, code_field
from kiosk.ui.qr import QrCode

KEY_GROUP = 4
GROUPS_A_LINE = 4


def grouped(secret: str) -> str:
    """The key in groups of four, as authenticator apps show and people copy it: `JBSW Y3DP EHPK 3PXP`,
    four groups a line."""
    groups = [secret[start:start + KEY_GROUP] for start in range(0, len(secret), KEY_GROUP)]
    lines = [" ".join(groups[start:start + GROUPS_A_LINE]) for start in range(0, len(groups), GROUPS_A_LINE)]
    return "\n".join(lines)


def spelled(secret: str) -> str:
    """The key for a screen reader: one character at a time, a pause between groups (`J B S W, Y 3 D P`)."""
    return ", ".join(" ".join(group) for group in grouped(secret).split())


class RegisterAppPage(Page):
    """The QR code on the leading side; the key, the code field and Verify beside it."""

    kind = StepKind.REGISTER_APP

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.qr = QrCode()
        self.scan = label()
        self.key_caption = label("muted")
        self.key = UncopyableLabel()
        self.key.setObjectName("appKey")
        self.key.setWordWrap(True)
        # Latin letters and digits only: the key reads left to right in a right-to-left page too (the bidi
        # algorithm keeps runs of left-to-right letters in order), and sits on the page's leading side.
        font = QFont("DejaVu Sans Mono")
        font.setLetterSpacing(QFont.SpacingType.AbsoluteSpacing, 2)
        self.key.setFont(font)
        self.enter = label()
        self.code = code_field()
        self.attempts = label("muted")
        side = QVBoxLayout()
        side.setSpacing(10)
        for widget in (self.scan, self.key_caption, self.key, self.enter, self.code, self.attempts):
            side.addWidget(widget)
        side.addStretch(1)
        grid = QGridLayout()
        grid.setHorizontalSpacing(32)
        grid.addWidget(self.qr, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addLayout(side, 0, 1)
        grid.setColumnStretch(1, 1)
        self.body.addLayout(grid)
        self.verify = button("primary")
        self.verify.clicked.connect(self.accept)
        add_row(self.action_row, self.verify)

    def load(self, step: Step) -> None:
        """Draw the QR code, show the key, size and clear the code field."""
        data = self.data(RegisterAppData)
        self.qr.show_svg(data.qr_svg)
        self.key.setText(grouped(data.secret))
        self.code.edit.clear()
        self.code.edit.setMaxLength(data.code_length)

    def retranslate(self) -> None:
        """Texts of the authenticator page."""
        data = self.data(RegisterAppData)
        set_title(self.title, _("Set up your authenticator app"))
        self.intro.setText(_("Open the authenticator app on your phone and add an account."))
        self.qr.setAccessibleName(_("QR code to scan with your authenticator app"))
        self.scan.setText(_("1. Scan the QR code with the app."))
        self.key_caption.setText(_("Can't scan it? Type this key into the app instead:"))
        # TRANSLATORS: read by screen readers: {key} is the authenticator app's setup key, spelled out.
        self.key.setAccessibleName(texts.fill(_("Key: {key}"), key=spelled(data.secret)))
        # A label aligns by its text's direction: this Latin key would stay at the left of a right-to-left page.
        leading = Qt.AlignmentFlag.AlignRight if self.layoutDirection() is Qt.LayoutDirection.RightToLeft else (
            Qt.AlignmentFlag.AlignLeft)
        self.key.setAlignment(leading | Qt.AlignmentFlag.AlignAbsolute | Qt.AlignmentFlag.AlignVCenter)
        self.enter.setText(_("2. Type the code the app shows now."))
        self.code.set_caption(code_caption(data.code_length))
        code_error = self.step.error_for("code")
        self.attempts.setText(ngettext(
            "{count} attempt left.", "{count} attempts left.", data.attempts_left).format(count=data.attempts_left))
        self.attempts.setVisible(bool(self.step.errors) and (code_error is None or code_error.attempts_left is None))
        self.verify.setText(_("Verify"))
        self.verify.setAccessibleName(_("Verify"))

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
        """Wipe the code, the key and the QR code: the secret must not wait for the next person."""
        self.code.edit.clear()
        self.key.clear()
        self.key.setAccessibleName("")
        self.qr.clear()

    def accept(self) -> None:
        """Send the code (after checking it is not empty)."""
        code = self.code.edit.text().strip()
        if not code:
            self.place_error(FieldError("code", "required"))
            return
        self.answered.emit(CodeAnswer(code=code))

    def focus_first(self) -> None:
        """Focus the code field (the QR code and the key need no keyboard)."""
        self.code.edit.setFocus()
