"""A QR code drawn from the SVG the backend made, on white with a quiet zone, large enough to scan."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QObject, QRectF, QSize, Qt
from PySide6.QtGui import QAccessible, QAccessibleInterface, QColor, QPainter, QPaintEvent
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QAccessibleWidget, QSizePolicy, QWidget

QR_SIDE_PX = 300
"""The drawn side, quiet zone included: 5 px a module for an otpauth URI (version 6), which phones read at arm's
length."""
QUIET_ZONE_PX = 18
"""White around the code (four modules or so), whatever margin the SVG itself has."""


class QrCodeAccessible(QAccessibleWidget):
    """A QR code is a picture to assistive technologies (named by its page), not an empty panel."""

    def __init__(self, widget: QWidget) -> None:
        super().__init__(widget, QAccessible.Role.Graphic)


def _qr_code_factory(key: str, target: QObject) -> QAccessibleInterface | None:
    return QrCodeAccessible(target) if isinstance(target, QrCode) else None


_factory_installed = False


class QrCode(QWidget):
    """Shows one QR code (an SVG document); `clear` forgets it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        global _factory_installed
        if not _factory_installed:
            QAccessible.installFactory(_qr_code_factory)
            _factory_installed = True
        super().__init__(parent)
        self.setObjectName("qrCode")
        self.renderer = QSvgRenderer(self)
        self.renderer.setAspectRatioMode(Qt.AspectRatioMode.KeepAspectRatio)
        self.setFixedSize(QR_SIDE_PX, QR_SIDE_PX)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)

    def show_svg(self, svg: str) -> bool:
        """Draw this SVG from now on; False when it is not one (nothing is drawn then)."""
        loaded = bool(svg) and self.renderer.load(QByteArray(svg.encode("utf-8")))
        if not loaded:
            self.renderer.load(QByteArray())
        self.update()
        return loaded

    def clear(self) -> None:
        """Forget the code (a secret in picture form): the next person must not see it."""
        self.renderer.load(QByteArray())
        self.update()

    @property
    def has_code(self) -> bool:
        """Whether a code is loaded."""
        return self.renderer.isValid()

    def sizeHint(self) -> QSize:
        """The fixed side."""
        return QSize(QR_SIDE_PX, QR_SIDE_PX)

    def paintEvent(self, event: QPaintEvent) -> None:
        """White square (the quiet zone whatever the theme) and the code in it, crisp."""
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor("#ffffff"))
        if self.renderer.isValid():
            room = min(self.width(), self.height()) - 2 * QUIET_ZONE_PX
            units = max(self.renderer.viewBoxF().width(), 1.0)
            # A whole number of pixels per SVG unit (a module, in the usual drawing) keeps every module the
            # same size and its edges sharp; a drawing larger than the room is only scaled down.
            side = (room // units) * units if units <= room else room
            offset = (min(self.width(), self.height()) - side) // 2  # whole pixels: sharp module edges
            self.renderer.render(painter, QRectF(offset, offset, side, side))
        painter.end()
