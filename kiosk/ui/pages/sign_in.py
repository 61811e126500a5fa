"""Sign in to change the password or set up security info: user ID, current password and the CAPTCHA."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QLineEdit, QPushButton, QWidget

from kiosk.flows.steps import (
    CaptchaKind,
    FieldError,
    PictureCheckData,
    SignInAnswer,
    SignInData,
    Step,
    StepKind,
    SwitchCaptchaAnswer,
)
from kiosk.i18n import _
from kiosk.services.api import MAX_PASSWORD, MAX_USER_ID, Flow
from kiosk.ui import texts
from kiosk.ui.captcha import CaptchaBox
from kiosk.ui.controls import LabelledField, button, wipe_line_edit
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title


class SignInPage(Page):
    """User ID, current password (a secret field) and the same CAPTCHA as the identify page."""

    kind = StepKind.SIGN_IN

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.user_id = LabelledField("userId")
        self.user_id.edit.setMaxLength(MAX_USER_ID)
        self.user_id.edit.setInputMethodHints(
            Qt.InputMethodHint.ImhNoAutoUppercase | Qt.InputMethodHint.ImhPreferLatin
        )
        self.password = LabelledField("currentPassword", secret=True)
        self.password.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.edit.setMaxLength(MAX_PASSWORD)
        # Side by side: with the CAPTCHA under them the page fits 1024x768 without scrolling.
        fields = QGridLayout()
        fields.setHorizontalSpacing(24)
        fields.addWidget(self.user_id, 0, 0, Qt.AlignmentFlag.AlignTop)
        fields.addWidget(self.password, 0, 1, Qt.AlignmentFlag.AlignTop)
        fields.setColumnStretch(0, 1)
        fields.setColumnStretch(1, 1)
        self.body.addLayout(fields)
        self.captcha_box = box = CaptchaBox()
        box.refresh_requested.connect(lambda: self.requested.emit(Request.REFRESH_CAPTCHA))
        box.audio_requested.connect(lambda: self.requested.emit(Request.PLAY_CAPTCHA_AUDIO))
        box.switch_requested.connect(self._switch)
        box.picture_chosen.connect(self._answer)
        self.body.addWidget(box)
        self.captcha = box.captcha
        self.next = button("primary")
        self.next.clicked.connect(self.accept)
        add_row(self.action_row, self.next, *box.switch_links)

    @property
    def picture_buttons(self) -> list[QPushButton]:
        """The pictures of the picture check on show."""
        return self.captcha_box.picture_buttons

    @property
    def picture_check(self) -> PictureCheckData | None:
        """The picture check on show, or None while characters are asked for."""
        return self.captcha_box.picture_check

    def load(self, step: Step) -> None:
        """A new CAPTCHA; the user ID the engine remembered. The password stays while the same person only
        asked for a new picture or mistyped the CAPTCHA, and is wiped after a failed sign-in."""
        data = self.data(SignInData)
        self.captcha_box.load(data.captcha_png, audio=data.audio, pictures_offered=data.pictures_offered,
                              check=data.picture_check)
        self.next.setVisible(data.picture_check is None)
        self.user_id.edit.setText(data.user_id)
        failed = any(error.code == "sign_in_failed" or error.field == "password" for error in step.errors)
        if failed or not data.user_id:
            wipe_line_edit(self.password.edit)  # no Ctrl+Z back to a password that did not work

    def retranslate(self) -> None:
        """Texts of the sign-in page (the title says which way in it is for)."""
        data = self.data(SignInData)
        if data.flow is Flow.REGISTER:
            set_title(self.title, _("Sign in to set up your security info"))
        else:
            set_title(self.title, _("Sign in to change your password"))
        if self.picture_check is None:
            self.intro.setText(_("Enter your user ID, your current password and the characters in the picture."))
        else:
            self.intro.setText(_("Enter your user ID and your current password, then select the picture asked for."))
        self.user_id.set_caption(_("User ID"))
        self.user_id.edit.setPlaceholderText(_("Example: user@contoso.com"))
        self.password.set_caption(_("Current password"))
        self.captcha_box.retranslate()
        self.next.setText(_("Sign in"))
        self.next.setAccessibleName(_("Sign in"))

    def place_error(self, error: FieldError) -> bool:
        """A failed sign-in goes under the password (it never says which of the two was wrong)."""
        if self.captcha_box.place_error(error):
            return True
        if error.code == "sign_in_failed":
            self.password.set_error(texts.field_error(error))
            return True
        target = {"user_id": self.user_id, "password": self.password}.get(error.field)
        if target is None:
            return False
        target.set_error(texts.field_error(error))
        return True

    def clear_field_errors(self) -> None:
        """Hide every field error."""
        self.user_id.set_error(None)
        self.password.set_error(None)
        self.captcha_box.clear_error()

    def clear_inputs(self) -> None:
        """Wipe the user ID, the password and the CAPTCHA answer."""
        self.user_id.edit.clear()
        self.password.edit.clear()
        self.captcha.edit.clear()

    def _missing(self, *, with_captcha: bool) -> bool:
        """Mark the empty fields and focus the first; True when something is missing."""
        self.clear_field_errors()
        fields = [("user_id", self.user_id), ("password", self.password)]
        if with_captcha:
            fields.append(("captcha", self.captcha))
        empty = [(name, field) for name, field in fields if not field.edit.text().strip()]
        for name, _field in empty:
            self.place_error(FieldError(name, "required"))
        if empty:
            empty[0][1].edit.setFocus()
        return bool(empty)

    def accept(self) -> None:
        """Send user ID, password and CAPTCHA, after checking none is empty."""
        if self.picture_check is not None:
            self._answer("")
            return
        if self._missing(with_captcha=True):
            return
        self._send(self.captcha_box.typed())

    def _answer(self, picture_id: str) -> None:
        """A picture was selected (or Enter pressed without one)."""
        if self._missing(with_captcha=False):
            return
        if not picture_id:
            self.captcha_box.ask_for_picture()
            return
        self._send(picture_id)

    def _send(self, captcha: str) -> None:
        # The password is sent as typed: spaces can be part of it.
        self.answered.emit(SignInAnswer(
            user_id=self.user_id.edit.text().strip(), password=self.password.edit.text(), captcha=captcha
        ))

    def _switch(self, kind: CaptchaKind) -> None:
        self.answered.emit(SwitchCaptchaAnswer(kind=kind, user_id=self.user_id.edit.text().strip()))

    def focus_first(self) -> None:
        """Focus the first empty field: user ID, password, then the CAPTCHA."""
        if not self.user_id.edit.text():
            self.user_id.edit.setFocus()
        elif not self.password.edit.text():
            self.password.edit.setFocus()
        else:
            self.captcha_box.focus_first()
