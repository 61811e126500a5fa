"""The kiosk look: a high-contrast, large-type, touch-sized Qt stylesheet built from the accent colour."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QColor, QFont
from PySide6.QtWidgets import QApplication

BASE_FONT_PX = 17
TOUCH_TARGET_PX = 48  # above the 44 px minimum touch target of WCAG 2.5.5

INK = "#1b1b1b"
MUTED = "#505050"
CANVAS = "#eef1f5"
CARD = "#ffffff"
BORDER = "#8a8886"
CHEVRON = (Path(__file__).parent / "assets" / "chevron-down.svg").as_posix()
ERROR = "#a4262c"
ERROR_BG = "#fde7e9"
SUCCESS = "#107c10"


def _readable_on(colour: QColor) -> str:
    """Black or white text, whichever contrasts more with the colour (WCAG relative luminance)."""

    def channel(value: float) -> float:
        return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

    luminance = 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())
    return "#000000" if luminance > 0.179 else "#ffffff"


def stylesheet(accent: str) -> str:
    """The whole application stylesheet for an accent colour `#RRGGBB`."""
    colour = QColor(accent)
    on_accent = _readable_on(colour)
    hover = colour.darker(115).name()
    pressed = colour.darker(135).name()
    tint = QColor(colour.red(), colour.green(), colour.blue(), 28).name(QColor.NameFormat.HexArgb)
    return f"""
QWidget {{ font-size: {BASE_FONT_PX}px; color: {INK}; }}
QMainWindow, #canvas {{ background: {CANVAS}; }}
#header {{ background: {accent}; }}
#header QLabel {{ color: {on_accent}; }}
#organisation {{ font-size: 24px; font-weight: 700; }}
#product {{ font-size: 17px; }}
#card {{ background: {CARD}; border: 1px solid #d0d4da; border-radius: 10px; }}
#card QWidget {{ background: transparent; }}
#footer {{ background: transparent; }}
QLabel#title {{ font-size: 30px; font-weight: 700; }}
QLabel#heroTitle {{ font-size: 38px; font-weight: 700; }}
QLabel#intro, QLabel#muted {{ color: {MUTED}; }}
QLabel#gate {{ color: {accent}; font-weight: 700; font-size: 15px; }}
QLabel#fieldLabel {{ font-weight: 600; }}
QLabel#fieldError {{ color: {ERROR}; font-weight: 600; }}
QLabel#banner {{ color: {ERROR}; background: {ERROR_BG}; border-left: 5px solid {ERROR};
    padding: 10px 14px; font-weight: 600; }}
QLabel#notice {{ color: {MUTED}; }}
QLabel#busyText {{ color: {MUTED}; font-weight: 600; }}
QLabel#reference {{ font-family: "DejaVu Sans Mono", monospace; font-size: 34px; font-weight: 700;
    color: {INK}; }}
QLabel#ruleOk {{ color: {SUCCESS}; }}
QLabel#ruleBad {{ color: {MUTED}; }}
QLabel#rulePending {{ color: {MUTED}; }}
QLabel#successMark {{ color: {SUCCESS}; font-size: 64px; font-weight: 700; }}
QLabel#errorMark {{ color: {ERROR}; font-size: 56px; font-weight: 700; }}
QLabel#captcha {{ background: #ffffff; border: 1px solid {BORDER}; border-radius: 6px; }}
QFrame#helpdesk {{ background: {tint}; border-radius: 8px; }}
QLineEdit {{ min-height: {TOUCH_TARGET_PX - 8}px; padding: 3px 12px; border: 2px solid {BORDER};
    border-radius: 6px; background: #ffffff; font-size: 20px; }}
QLineEdit:focus {{ border-color: {accent}; }}
QLineEdit[invalid="true"] {{ border-color: {ERROR}; }}
QLineEdit#code {{ font-family: "DejaVu Sans Mono", monospace; font-size: 28px; }}
QPushButton {{ min-height: {TOUCH_TARGET_PX}px; padding: 0 24px; border-radius: 6px; font-weight: 600;
    border: 2px solid {accent}; background: #ffffff; color: {accent}; }}
QPushButton:hover {{ background: {tint}; }}
QPushButton:focus {{ border: 3px solid {INK}; }}
QPushButton:disabled {{ color: #8a8886; border-color: #c8c6c4; background: #f3f2f1; }}
QPushButton#primary {{ background: {accent}; color: {on_accent}; border-color: {accent}; }}
QPushButton#primary:hover {{ background: {hover}; border-color: {hover}; }}
QPushButton#primary:pressed {{ background: {pressed}; }}
QPushButton#primary:focus {{ border: 3px solid {INK}; }}
QPushButton#primary:disabled {{ background: #c8c6c4; border-color: #c8c6c4; color: #3b3a39; }}
QPushButton#hero {{ min-height: 72px; font-size: 24px; padding: 0 40px; border-radius: 8px;
    background: {accent}; color: {on_accent}; border-color: {accent}; }}
QPushButton#hero:hover {{ background: {hover}; }}
QPushButton#hero:focus {{ border: 3px solid {INK}; }}
QPushButton#hero:disabled {{ background: #c8c6c4; border-color: #c8c6c4; color: #3b3a39; }}
QPushButton#link {{ border: none; background: transparent; text-decoration: underline; padding: 0 8px; }}
QPushButton#link:focus {{ border: 2px solid {INK}; }}
QPushButton#choice {{ text-align: left; padding: 10px 20px; border: 2px solid #c8c6c4; color: {INK}; }}
QPushButton#choice:hover {{ border-color: {accent}; background: {tint}; }}
QPushButton#choice:focus {{ border: 3px solid {accent}; }}
QLabel#choiceTitle {{ font-size: 20px; font-weight: 700; }}
QLabel#choiceHint {{ color: {MUTED}; font-size: 16px; }}
QComboBox {{ min-height: 40px; padding: 0 12px; border-radius: 6px; background: #ffffff; color: {INK};
    border: 2px solid #ffffff; }}
QComboBox:focus {{ border-color: {INK}; }}
QComboBox::drop-down {{ border: none; width: 30px; subcontrol-origin: padding; subcontrol-position: center right; }}
QComboBox::down-arrow {{ image: url({CHEVRON}); width: 14px; height: 14px; }}
QComboBox QAbstractItemView {{ background: #ffffff; color: {INK}; selection-background-color: {tint};
    selection-color: {INK}; }}
QScrollBar:vertical {{ background: transparent; width: 12px; margin: 0; }}
QScrollBar::handle:vertical {{ background: #c8c6c4; border-radius: 6px; min-height: 40px; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; }}
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: transparent; }}
QProgressBar {{ border: none; background: #e1dfdd; border-radius: 4px; max-height: 8px; }}
QProgressBar::chunk {{ background: {accent}; border-radius: 4px; }}
QProgressBar#strength {{ max-height: 10px; }}
QScrollArea {{ border: none; background: transparent; }}
"""


def apply_theme(app: QApplication, accent: str) -> None:
    """Install the kiosk font and stylesheet on the application."""
    font = QFont("DejaVu Sans")
    font.setPixelSize(BASE_FONT_PX)
    app.setFont(font)
    app.setStyleSheet(stylesheet(accent))
