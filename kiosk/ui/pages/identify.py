"""User ID and CAPTCHA: characters in a picture (new picture, read aloud), or a picture check without typing."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

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
from kiosk.ui.controls import LabelledField, button, label
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title

PICTURE_COLUMNS = 3
PICTURE_ICON = 84
# A picture is a plain button with a picture on it; its border shows hover and keyboard focus.
_PICTURE_STYLE = """
QPushButton#pictureChoice { background: #ffffff; border: 2px solid #8a8886; padding: 4px; }
QPushButton#pictureChoice:hover { border: 4px solid #605e5c; padding: 2px; }
"""


class IdentifyPage(Page):
    """Type your user ID and the characters in the picture (or select the picture asked for)."""

    kind = StepKind.IDENTIFY

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.user_id = LabelledField("userId")
        self.user_id.edit.setMaxLength(256)
        self.body.addWidget(self.user_id)

        # --- characters in a picture
        self.characters = QWidget()
        self.captcha_image = QLabel()
        self.captcha_image.setObjectName("captcha")
        self.captcha_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.captcha_image.setFixedSize(260, 96)
        self.refresh = button("link")
        self.refresh.clicked.connect(lambda: self.requested.emit(Request.REFRESH_CAPTCHA))
        self.audio = button("link")
        self.audio.clicked.connect(lambda: self.requested.emit(Request.PLAY_CAPTCHA_AUDIO))
        self.use_pictures = button("link")
        self.use_pictures.clicked.connect(lambda: self._switch(CaptchaKind.PICTURES))
        self.captcha = LabelledField("captchaAnswer")
        self.captcha.edit.setMaxLength(16)
        self.captcha.edit.setMaximumWidth(360)
        characters = QVBoxLayout(self.characters)
        characters.setContentsMargins(0, 0, 0, 0)
        characters.setSpacing(16)
        grid = QGridLayout()
        grid.setHorizontalSpacing(20)
        grid.addWidget(self.captcha_image, 0, 0, 2, 1)
        links = QVBoxLayout()
        for link in (self.refresh, self.audio):
            links.addWidget(link, 0, Qt.AlignmentFlag.AlignLeading)
        grid.addLayout(links, 0, 1, 2, 1)
        grid.setColumnStretch(2, 1)
        characters.addLayout(grid)
        characters.addWidget(self.captcha)
        self.body.addWidget(self.characters)

        # --- the picture check: select the picture asked for (a click answers)
        self.pictures = QWidget()
        self.pictures.setStyleSheet(_PICTURE_STYLE)
        self.picture_question = label("fieldLabel")
        self.picture_grid = QGridLayout()
        self.picture_grid.setSpacing(8)
        self.picture_buttons: list[QPushButton] = []
        self.picture_error = label("fieldError")
        self.picture_error.hide()
        self.new_pictures = button("link")
        self.new_pictures.clicked.connect(lambda: self.requested.emit(Request.REFRESH_CAPTCHA))
        self.use_characters = button("link")
        self.use_characters.clicked.connect(lambda: self._switch(CaptchaKind.CHARACTERS))
        pictures = QVBoxLayout(self.pictures)
        pictures.setContentsMargins(0, 0, 0, 0)
        pictures.setSpacing(10)
        pictures.addWidget(self.picture_question)
        pictures.addLayout(self.picture_grid)
        pictures.addWidget(self.picture_error)
        self.pictures.hide()
        self.body.addWidget(self.pictures)

        self.next = button("primary")
        self.next.clicked.connect(self.accept)
        # The switches sit beside Next (the picture check has no Next: a click answers), not under the
        # other links: one more row there makes the page too tall for 1024x768 in German.
        add_row(self.action_row, self.next, self.use_pictures, self.new_pictures, self.use_characters)

    @property
    def picture_check(self) -> PictureCheckData | None:
        """The picture check on show, or None while the characters are asked for."""
        step = self._step
        return step.data.picture_check if step is not None and isinstance(step.data, IdentifyData) else None

    def load(self, step: Step) -> None:
        """A new CAPTCHA (characters or pictures); keep the user ID the engine remembered, clear the answer."""
        data = self.data(IdentifyData)
        check = data.picture_check
        self.characters.setVisible(check is None)
        self.pictures.setVisible(check is not None)
        self.next.setVisible(check is None)
        self.audio.setVisible(data.audio)
        self.use_pictures.setVisible(data.pictures_offered and check is None)
        self.new_pictures.setVisible(check is not None)
        self.use_characters.setVisible(check is not None)
        if check is None:
            self._show_captcha(data.captcha_png)
        else:
            self._show_pictures(check)
        self.user_id.edit.setText(data.user_id)
        self.captcha.edit.clear()

    def _show_captcha(self, png: bytes) -> None:
        pixmap = QPixmap()
        pixmap.loadFromData(png, "PNG")
        if not pixmap.isNull():
            pixmap = pixmap.scaled(
                self.captcha_image.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.captcha_image.setPixmap(pixmap)

    def _show_pictures(self, check: PictureCheckData) -> None:
        for old in self.picture_buttons:
            self.picture_grid.removeWidget(old)
            old.hide()  # at once: deleteLater waits for the event loop, and a grab may come first
            old.deleteLater()
        self.picture_buttons = []
        for index, picture in enumerate(check.pictures):
            pixmap = QPixmap()
            pixmap.loadFromData(picture.png, "PNG")
            choice = button("pictureChoice")
            choice.setIcon(QIcon(pixmap))
            choice.setIconSize(QSize(PICTURE_ICON, PICTURE_ICON))
            choice.setFixedSize(PICTURE_ICON + 14, PICTURE_ICON + 14)
            choice.clicked.connect(lambda _checked=False, picture_id=picture.id: self._answer(picture_id))
            self.picture_grid.addWidget(choice, index // PICTURE_COLUMNS, index % PICTURE_COLUMNS)
            self.picture_buttons.append(choice)
        self.picture_grid.setColumnStretch(PICTURE_COLUMNS, 1)

    def retranslate(self) -> None:
        """Texts of the identify page."""
        check = self.picture_check
        set_title(self.title, _("Who are you?"))
        if check is None:
            self.intro.setText(_("To recover your account, enter your user ID and the characters in the picture."))
        else:
            self.intro.setText(_("To recover your account, enter your user ID and select the picture asked for."))
        self.user_id.set_caption(_("User ID"))
        self.user_id.edit.setPlaceholderText(_("Example: user@contoso.com"))
        self.captcha_image.setAccessibleName(_("Picture with characters to type"))
        self.refresh.setText(_("New picture"))
        self.refresh.setAccessibleName(_("Show a new picture"))
        self.audio.setText(_("Play the characters out loud"))
        self.audio.setAccessibleName(_("Play the characters out loud"))
        for link, text in (
            (self.use_pictures, _("Use a picture check instead")),
            (self.use_characters, _("Type characters instead")),
            (self.new_pictures, _("New pictures")),
        ):
            link.setText(text)
            link.setAccessibleName(text)
        self.captcha.set_caption(_("Characters in the picture"))
        question = texts.picture_question(check.subject) if check else ""
        self.picture_question.setText(question)
        for number, choice in enumerate(self.picture_buttons, start=1):
            # Named by place only: the name must not say what the picture shows.
            choice.setAccessibleName(texts.picture_name(number))
            choice.setAccessibleDescription(question)
        self.next.setText(_("Next"))
        self.next.setAccessibleName(_("Next"))

    def place_error(self, error: FieldError) -> bool:
        """User ID and CAPTCHA errors go under their fields (a picture check's under the pictures)."""
        if error.field == "captcha" and self.picture_check is not None:
            self.picture_error.setText(texts.field_error(error))
            self.picture_error.show()
            return True
        target = {"user_id": self.user_id, "captcha": self.captcha}.get(error.field)
        if target is None:
            return False
        target.set_error(texts.field_error(error))
        return True

    def clear_field_errors(self) -> None:
        """Hide every field error."""
        self.user_id.set_error(None)
        self.captcha.set_error(None)
        self.picture_error.setText("")
        self.picture_error.hide()

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
        captcha = self.captcha.edit.text().strip()
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
        check = self.picture_check
        user_id = self.user_id.edit.text().strip()
        self.clear_field_errors()
        if not user_id:
            self.place_error(FieldError("user_id", "required"))
            self.user_id.edit.setFocus()
            return
        if not picture_id:
            self.picture_error.setText(texts.picture_question(check.subject) if check else "")
            self.picture_error.show()
            if self.picture_buttons:
                self.picture_buttons[0].setFocus()
            return
        self.answered.emit(IdentifyAnswer(user_id=user_id, captcha=picture_id))

    def _switch(self, kind: CaptchaKind) -> None:
        self.answered.emit(SwitchCaptchaAnswer(kind=kind, user_id=self.user_id.edit.text().strip()))

    def focus_first(self) -> None:
        """Focus the user ID, or (when the user ID is known) the CAPTCHA answer or the first picture."""
        if not self.user_id.edit.text():
            self.user_id.edit.setFocus()
        elif self.picture_check is not None and self.picture_buttons:
            self.picture_buttons[0].setFocus()
        else:
            self.captcha.edit.setFocus()
