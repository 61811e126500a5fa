"""User ID and CAPTCHA: characters in a picture (new picture, read aloud), or a picture check without typing."""

from __future__ import annotations

from PySide6.QtWidgets import QPushButton, QWidget

from kiosk.flows.steps import (
    CaptchaKind,
    FieldError,
    IdentifyAnswer,
    IdentifyData,
    PictureCheckData,
    Step,
    StepKind,
    SwitchCaptchaAnswer,
)
from kiosk.i18n import _
from kiosk.ui import texts
from kiosk.ui.captcha import CaptchaBox
from kiosk.ui.controls import LabelledField, button
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title


class IdentifyPage(Page):
    """Type your user ID and the characters in the picture (or select the picture asked for)."""

    kind = StepKind.IDENTIFY

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.user_id = LabelledField("userId")
        self.user_id.edit.setMaxLength(256)
        self.body.addWidget(self.user_id)
        self.captcha_box = box = CaptchaBox()
        box.refresh_requested.connect(lambda: self.requested.emit(Request.REFRESH_CAPTCHA))
        box.audio_requested.connect(lambda: self.requested.emit(Request.PLAY_CAPTCHA_AUDIO))
        box.switch_requested.connect(self._switch)
        box.picture_chosen.connect(self._answer)
        self.body.addWidget(box)
        # The box's parts, by the names the tests and the end-to-end driver use.
        self.characters, self.pictures = box.characters, box.pictures
        self.captcha, self.captcha_image = box.captcha, box.captcha_image
        self.refresh, self.audio = box.refresh, box.audio
        self.use_pictures, self.new_pictures, self.use_characters = box.switch_links
        self.picture_question, self.picture_error = box.picture_question, box.picture_error

        self.next = button("primary")
        self.next.clicked.connect(self.accept)
        # The switches sit beside Next (the picture check has no Next: a click answers), not under the
        # other links: one more row there makes the page too tall for 1024x768 in German.
        add_row(self.action_row, self.next, *box.switch_links)

    @property
    def picture_buttons(self) -> list[QPushButton]:
        """The pictures of the picture check on show (none while characters are asked for)."""
        return self.captcha_box.picture_buttons

    @property
    def picture_check(self) -> PictureCheckData | None:
        """The picture check on show, or None while the characters are asked for."""
        return self.captcha_box.picture_check

    def load(self, step: Step) -> None:
        """A new CAPTCHA (characters or pictures); keep the user ID the engine remembered, clear the answer."""
        data = self.data(IdentifyData)
        check = data.picture_check
        self.captcha_box.load(
            data.captcha_png, audio=data.audio, pictures_offered=data.pictures_offered, check=check
        )
        self.next.setVisible(check is None)
        self.user_id.edit.setText(data.user_id)

    def retranslate(self) -> None:
        """Texts of the identify page."""
        set_title(self.title, _("Who are you?"))
        if self.picture_check is None:
            self.intro.setText(_("To recover your account, enter your user ID and the characters in the picture."))
        else:
            self.intro.setText(_("To recover your account, enter your user ID and select the picture asked for."))
        self.user_id.set_caption(_("User ID"))
        self.user_id.edit.setPlaceholderText(_("Example: user@contoso.com"))
        self.captcha_box.retranslate()
        self.next.setText(_("Next"))
        self.next.setAccessibleName(_("Next"))

    def place_error(self, error: FieldError) -> bool:
        """User ID and CAPTCHA errors go under their fields (a picture check's under the pictures)."""
        if self.captcha_box.place_error(error):
            return True
        if error.field != "user_id":
            return False
        self.user_id.set_error(texts.field_error(error))
        return True

    def clear_field_errors(self) -> None:
        """Hide every field error."""
        self.user_id.set_error(None)
        self.captcha_box.clear_error()

    def clear_inputs(self) -> None:
        """Wipe the user ID and the CAPTCHA answer."""
        self.user_id.edit.clear()
        self.captcha.edit.clear()

    def accept(self) -> None:
        """Send the user ID and CAPTCHA, after checking neither is empty."""
        if self.picture_check is not None:
            # Answered by selecting a picture; Enter elsewhere only asks for what is missing.
            self._answer("")
            return
        user_id = self.user_id.edit.text().strip()
        captcha = self.captcha_box.typed()
        self.clear_field_errors()
        required = [field for field, value in (("user_id", user_id), ("captcha", captcha)) if not value]
        for field in required:
            self.place_error(FieldError(field, "required"))
        if required:
            (self.user_id if "user_id" in required else self.captcha).edit.setFocus()
            return
        self.answered.emit(IdentifyAnswer(user_id=user_id, captcha=captcha))

    def _answer(self, picture_id: str) -> None:
        """A picture was selected (or Enter pressed without one): send it with the user ID."""
        user_id = self.user_id.edit.text().strip()
        self.clear_field_errors()
        if not user_id:
            self.place_error(FieldError("user_id", "required"))
            self.user_id.edit.setFocus()
            return
        if not picture_id:
            self.captcha_box.ask_for_picture()
            return
        self.answered.emit(IdentifyAnswer(user_id=user_id, captcha=picture_id))

    def _switch(self, kind: CaptchaKind) -> None:
        self.answered.emit(SwitchCaptchaAnswer(kind=kind, user_id=self.user_id.edit.text().strip()))

    def focus_first(self) -> None:
        """Focus the user ID, or (when the user ID is known) the CAPTCHA answer or the first picture."""
        if not self.user_id.edit.text():
            self.user_id.edit.setFocus()
        else:
            self.captcha_box.focus_first()
