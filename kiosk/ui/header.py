"""The accent-coloured header: logo, organisation, product name, demo tag and the language picker."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImageReader, QPixmap
from PySide6.QtWidgets import QComboBox, QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from kiosk.i18n import _, current_language
from kiosk.i18n.autonyms import autonym
from kiosk.policy.schema import Policy
from kiosk.ui.controls import label

HEADER_HEIGHT = 76
LOGO_HEIGHT = 44


def load_logo(path: str, height: int) -> QPixmap:
    """The policy's logo (PNG, SVG or any format Qt reads) at `height` px; a null pixmap when the path
    is empty, missing or not a readable image (the header then shows the name alone, never fails).

    An SVG is rendered at the target size rather than scaled from its intrinsic one, so it stays sharp.
    """
    if not path or not Path(path).is_file():
        return QPixmap()
    reader = QImageReader(path)
    if not reader.canRead():
        return QPixmap()
    size = reader.size()
    if size.isValid() and size.height() > 0:
        reader.setScaledSize(QSize(max(1, round(size.width() * height / size.height())), height))
    image = reader.read()
    if image.isNull():
        return QPixmap()
    if image.height() != height:
        image = image.scaledToHeight(height, Qt.TransformationMode.SmoothTransformation)
    return QPixmap.fromImage(image)


def language_name(tag: str) -> str:
    """A language's name in that language (what a speaker looks for in a picker)."""
    return autonym(tag)


class Header(QFrame):
    """Branding on the leading side, the language picker on the trailing side."""

    language_chosen = Signal(str)

    def __init__(self, policy: Policy, *, demo: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("header")
        # As tall as `sizeHint`: HEADER_HEIGHT, taller only when a script's lines need it (Thai at 2× text).
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        branding = policy.kiosk.branding
        row = QHBoxLayout(self)
        row.setContentsMargins(32, 8, 32, 8)
        row.setSpacing(16)
        self.logo = QLabel(self)
        self.logo.setObjectName("logo")
        pixmap = load_logo(branding.logo, LOGO_HEIGHT)
        if not pixmap.isNull():
            self.logo.setPixmap(pixmap)
            self.logo.setAccessibleName(branding.organisation)
            row.addWidget(self.logo)
        else:
            self.logo.hide()
        names = QVBoxLayout()
        names.setSpacing(0)
        self.organisation = label("organisation", wrap=False)
        self.organisation.setText(branding.organisation)
        self.product = label("product", wrap=False)
        names.addWidget(self.organisation)
        names.addWidget(self.product)
        row.addLayout(names)
        row.addStretch(1)
        self.demo_tag = label("demoTag", wrap=False)
        self.demo_tag.setVisible(demo)
        self.demo_tag.setStyleSheet(
            "background: #fff4ce; color: #3b2f00; border-radius: 4px; padding: 4px 10px; font-weight: 700;"
        )
        row.addWidget(self.demo_tag, 0, Qt.AlignmentFlag.AlignVCenter)
        self.language_caption = label(wrap=False)
        self.languages = QComboBox()
        offer_picker = len(policy.kiosk.languages) > 1
        for tag in policy.kiosk.languages:
            # Names come from a table (kiosk.i18n.autonyms): asking babel would load every
            # locale's data at start-up.
            self.languages.addItem(language_name(tag) if offer_picker else tag, tag)
        self.languages.setMinimumWidth(170)
        self.languages.activated.connect(self._chosen)
        self.language_caption.setVisible(offer_picker)
        self.languages.setVisible(offer_picker)
        self.language_caption.setBuddy(self.languages)
        row.addWidget(self.language_caption)
        row.addWidget(self.languages)
        self.retranslate()

    def sizeHint(self) -> QSize:
        """The branding and the picker, at least HEADER_HEIGHT tall."""
        return super().sizeHint().expandedTo(QSize(0, HEADER_HEIGHT))

    def retranslate(self) -> None:
        """Texts of the header; the picker shows the active language."""
        self.product.setText(_("Account recovery"))
        self.demo_tag.setText(_("Demo"))
        self.language_caption.setText(_("Language"))
        self.languages.setAccessibleName(_("Language"))
        index = self.languages.findData(current_language())
        if index < 0:
            index = self.languages.findData(current_language().split("-")[0])
        if index >= 0:
            self.languages.setCurrentIndex(index)

    def _chosen(self, index: int) -> None:
        tag = self.languages.itemData(index)
        if isinstance(tag, str):
            self.language_chosen.emit(tag)
