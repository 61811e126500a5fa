"""The CAPTCHA of the identify and sign-in pages: characters in a picture (new picture, read aloud), or a
picture check without typing. One widget, so both pages behave (and are tested) the same."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QIcon, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from kiosk.flows.steps import CaptchaKind, FieldError, PictureCheckData
from kiosk.i18n import _
from kiosk.ui import texts
from kiosk.ui.controls import LabelledField, button, label

PICTURE_COLUMNS = 3
PICTURE_ICON = 84
# A picture is a plain button with a picture on it; its border shows hover and keyboard focus.
_PICTURE_STYLE = """
QPushButton#pictureChoice { background: #ffffff; border: 2px solid #8a8886; padding: 4px; }
QPushButton#pictureChoice:hover { border: 4px solid #605e5c; padding: 2px; }
"""


class CaptchaBox(QWidget):
    """The characters to type (with New picture and Play out loud), or the pictures to select from.

    The switches between the two (`use_pictures`, `use_characters`) and "New pictures" are the page's
    to place (`switch_links`): the identify page puts them beside Next, where there is room.
    """

    refresh_requested = Signal()
    audio_requested = Signal()
    switch_requested = Signal(object)
    """A `CaptchaKind`: the user asked for the other kind of check."""
    picture_chosen = Signal(str)
    """The id of the picture the user selected."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._check: PictureCheckData | None = None
        # --- characters in a picture
        self.characters = QWidget()
        self.captcha_image = QLabel()
        self.captcha_image.setObjectName("captcha")
        self.captcha_image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.captcha_image.setFixedSize(260, 96)
        self.refresh = button("link")
        self.refresh.clicked.connect(lambda: self.refresh_requested.emit())
        self.audio = button("link")
        self.audio.clicked.connect(lambda: self.audio_requested.emit())
        self.captcha = LabelledField("captchaAnswer")
        self.captcha.edit.setMaxLength(16)
        self.captcha.edit.setMaximumWidth(360)
        characters = QVBoxLayout(self.characters)
        characters.setContentsMargins(0, 0, 0, 0)
        characters.setSpacing(16)
        # A row, not a grid: a box layout asks the links' wrapped height at the width it gives them
        # (a grid's cells spanning rows grew taller than their links at large text).
        row = QHBoxLayout()
        row.setSpacing(20)
        row.addWidget(self.captcha_image, 0, Qt.AlignmentFlag.AlignTop)
        links = QVBoxLayout()
        links.setSpacing(0)
        for link in (self.refresh, self.audio):
            links.addWidget(link, 0, Qt.AlignmentFlag.AlignLeading)
        links.addStretch(1)
        row.addLayout(links, 1)
        characters.addLayout(row)
        characters.addWidget(self.captcha)

        # --- the picture check: select the picture asked for (a click answers)
        self.pictures = QWidget()
        self.pictures.setStyleSheet(_PICTURE_STYLE)
        self.picture_question = label("fieldLabel")
        self.picture_grid = QGridLayout()
        self.picture_grid.setSpacing(8)
        self.picture_buttons: list[QPushButton] = []
        self.picture_error = label("fieldError")
        self.picture_error.hide()
        pictures = QVBoxLayout(self.pictures)
        pictures.setContentsMargins(0, 0, 0, 0)
        pictures.setSpacing(10)
        pictures.addWidget(self.picture_question)
        pictures.addLayout(self.picture_grid)
        pictures.addWidget(self.picture_error)
        self.pictures.hide()

        # --- the switches (placed by the page)
        self.use_pictures = button("link")
        self.use_pictures.clicked.connect(lambda: self.switch_requested.emit(CaptchaKind.PICTURES))
        self.new_pictures = button("link")
        self.new_pictures.clicked.connect(lambda: self.refresh_requested.emit())
        self.use_characters = button("link")
        self.use_characters.clicked.connect(lambda: self.switch_requested.emit(CaptchaKind.CHARACTERS))

        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(16)
        column.addWidget(self.characters)
        column.addWidget(self.pictures)

    @property
    def switch_links(self) -> tuple[QPushButton, ...]:
        """The links the page places in its action row: to pictures, new pictures, to characters."""
        return (self.use_pictures, self.new_pictures, self.use_characters)

    @property
    def picture_check(self) -> PictureCheckData | None:
        """The picture check on show, or None while characters are asked for."""
        return self._check

    def load(
        self, captcha_png: bytes, *, audio: bool, pictures_offered: bool, check: PictureCheckData | None
    ) -> None:
        """Show a new CAPTCHA (characters or pictures) and clear the typed answer."""
        self._check = check
        self.characters.setVisible(check is None)
        self.pictures.setVisible(check is not None)
        self.audio.setVisible(audio)
        self.use_pictures.setVisible(pictures_offered and check is None)
        self.new_pictures.setVisible(check is not None)
        self.use_characters.setVisible(check is not None)
        if check is None:
            self._show_characters(captcha_png)
        else:
            self._show_pictures(check)
        self.captcha.edit.clear()

    def _show_characters(self, png: bytes) -> None:
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
            choice.clicked.connect(lambda _checked=False, picture_id=picture.id: self.picture_chosen.emit(picture_id))
            self.picture_grid.addWidget(choice, index // PICTURE_COLUMNS, index % PICTURE_COLUMNS)
            self.picture_buttons.append(choice)
        self.picture_grid.setColumnStretch(PICTURE_COLUMNS, 1)

    def retranslate(self) -> None:
        """Texts and accessible names of the CAPTCHA, in the current language."""
        check = self._check
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

    def place_error(self, error: FieldError) -> bool:
        """A `captcha` error goes under the typed characters, or under the pictures."""
        if error.field != "captcha":
            return False
        if self._check is not None:
            self.picture_error.setText(texts.field_error(error))
            self.picture_error.show()
        else:
            self.captcha.set_error(texts.field_error(error))
        return True

    def ask_for_picture(self) -> None:
        """Enter was pressed with no picture selected: repeat the question under the pictures."""
        check = self._check
        self.picture_error.setText(texts.picture_question(check.subject) if check else "")
        self.picture_error.show()
        if self.picture_buttons:
            self.picture_buttons[0].setFocus()

    def clear_error(self) -> None:
        """Hide the CAPTCHA's errors."""
        self.captcha.set_error(None)
        self.picture_error.setText("")
        self.picture_error.hide()

    def typed(self) -> str:
        """The characters typed (without surrounding spaces)."""
        return self.captcha.edit.text().strip()

    def focus_first(self) -> None:
        """Focus the characters' field, or the first picture."""
        if self._check is not None and self.picture_buttons:
            self.picture_buttons[0].setFocus()
        else:
            self.captcha.edit.setFocus()
