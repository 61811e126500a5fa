"""User ID and CAPTCHA (picture, new picture, and an audio alternative)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import QGridLayout, QLabel, QVBoxLayout, QWidget

from kiosk.flows.steps import FieldError, IdentifyAnswer, IdentifyData, Step, StepKind
from kiosk.i18n import _
from kiosk.ui import texts
from kiosk.ui.controls import LabelledField, button
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title


class IdentifyPage(Page):
    """Type your user ID and the characters in the picture."""

    kind = StepKind.IDENTIFY

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.user_id = LabelledField("userId")
        self.user_id.edit.setMaxLength(256)
        self.captcha_image = QLabel()
        self.captcha_image.setObjectName("captcha")
        self.captcha_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.captcha_image.setFixedSize(260, 96)
        self.refresh = button("link")
        self.refresh.clicked.connect(lambda: self.requested.emit(Request.REFRESH_CAPTCHA))
        self.audio = button("link")
        self.audio.clicked.connect(lambda: self.requested.emit(Request.PLAY_CAPTCHA_AUDIO))
        self.captcha = LabelledField("captchaAnswer")
        self.captcha.edit.setMaxLength(16)
        self.captcha.edit.setMaximumWidth(360)
        self.next = button("primary")
        self.next.clicked.connect(self.accept)

        self.body.addWidget(self.user_id)
        grid = QGridLayout()
        grid.setHorizontalSpacing(20)
        grid.addWidget(self.captcha_image, 0, 0, 2, 1)
        links = QVBoxLayout()
        links.addWidget(self.refresh, 0, Qt.AlignmentFlag.AlignLeading)
        links.addWidget(self.audio, 0, Qt.AlignmentFlag.AlignLeading)
        grid.addLayout(links, 0, 1, 2, 1)
        grid.setColumnStretch(2, 1)
        self.body.addLayout(grid)
        self.body.addWidget(self.captcha)
        add_row(self.action_row, self.next)

    def load(self, step: Step) -> None:
        """New CAPTCHA picture; keep the user ID the engine remembered, clear the CAPTCHA answer."""
        data = self.data(IdentifyData)
        pixmap = QPixmap()
        pixmap.loadFromData(data.captcha_png, "PNG")
        if not pixmap.isNull():
            pixmap = pixmap.scaled(
                self.captcha_image.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        self.captcha_image.setPixmap(pixmap)
        self.user_id.edit.setText(data.user_id)
        self.captcha.edit.clear()

    def retranslate(self) -> None:
        """Texts of the identify page."""
        set_title(self.title, _("Who are you?"))
        self.intro.setText(_("To recover your account, enter your user ID and the characters in the picture."))
        self.user_id.set_caption(_("User ID"))
        self.user_id.edit.setPlaceholderText(_("Example: user@contoso.com"))
        self.captcha_image.setAccessibleName(_("Picture with characters to type"))
        self.refresh.setText(_("New picture"))
        self.refresh.setAccessibleName(_("Show a new picture"))
        self.audio.setText(_("Play the characters out loud"))
        self.audio.setAccessibleName(_("Play the characters out loud"))
        self.captcha.set_caption(_("Characters in the picture"))
        self.next.setText(_("Next"))
        self.next.setAccessibleName(_("Next"))

    def place_error(self, error: FieldError) -> bool:
        """User ID and CAPTCHA errors go under their fields."""
        target = {"user_id": self.user_id, "captcha": self.captcha}.get(error.field)
        if target is None:
            return False
        target.set_error(texts.field_error(error))
        return True

    def clear_field_errors(self) -> None:
        """Hide both field errors."""
        self.user_id.set_error(None)
        self.captcha.set_error(None)

    def clear_inputs(self) -> None:
        """Wipe the user ID and the CAPTCHA answer."""
        self.user_id.edit.clear()
        self.captcha.edit.clear()

    def accept(self) -> None:
        """Send the user ID and CAPTCHA, after checking neither is empty."""
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

    def focus_first(self) -> None:
        """Focus the user ID, or the CAPTCHA answer when the user ID is known."""
        (self.captcha if self.user_id.edit.text() else self.user_id).edit.setFocus()
