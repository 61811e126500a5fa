"""The kiosk look: a large-type, touch-sized Qt stylesheet in a standard or a high-contrast palette.

Colours live in one `Palette` per theme; the stylesheet and the contrast test read the same values
(`text_pairs`), so a colour cannot change without the WCAG check seeing it. Font sizes are design
sizes scaled by the system font (`font_scale`), so a user who asked the OS for larger text gets it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPalette
from PySide6.QtWidgets import QApplication

from kiosk.policy.schema import KioskTheme

BASE_FONT_PX = 17
"""The body text size at the platform's default system font (scaled by `font_scale`)."""
TOUCH_TARGET_PX = 48  # above the 44 px minimum touch target of WCAG 2.5.5
MIN_TEXT_CONTRAST = 4.5
"""WCAG 2.2 SC 1.4.3 (AA) for normal-size text."""
HEADER_MAX_SCALE = 1.2
"""The header is one bar of fixed height (header.py): its texts and the language picker grow at most this
much, so they fit one 1024 px row at twice the system font (the picker's list grows the whole way)."""
HEADING_MAX_SCALE = 1.6
"""Page titles are large type already (30 and 38 px): they grow at most this much, so that at twice the
system font a title's longest word (German "Sicherheitsinformationen") still fits a 1024 px screen,
while body text, fields and buttons grow the whole way."""

CHEVRON = (Path(__file__).parent / "assets" / "chevron-down.svg").as_posix()

# The point size of the platform's stock UI font: a system font larger than this means the user
# asked for larger text. Windows ships 9 pt Segoe UI, macOS 13 pt, most Linux desktops 10 pt or so.
DEFAULT_SYSTEM_POINTS = {"win32": 9.0, "darwin": 13.0}
DEFAULT_SYSTEM_POINTS_ELSEWHERE = 9.0


@dataclass(frozen=True, slots=True)
class Palette:
    """Every colour of one theme (accent-coloured parts come from the policy unless `fixed_accent`)."""

    name: KioskTheme
    ink: str
    muted: str
    canvas: str
    card: str
    card_border: str
    field: str
    border: str
    error: str
    error_bg: str
    success: str
    disabled_text: str
    disabled_bg: str
    focus: str
    focus_width: int
    scrollbar: str
    fixed_accent: str | None = None
    """High contrast ignores the branding colour: one accent that contrasts with everything."""
    header_bg: str | None = None
    """The header's background (None: the accent colour)."""


STANDARD = Palette(
    name=KioskTheme.STANDARD,
    ink="#1b1b1b",
    muted="#505050",
    canvas="#eef1f5",
    card="#ffffff",
    card_border="#d0d4da",
    field="#ffffff",
    border="#8a8886",
    error="#a4262c",
    error_bg="#fde7e9",
    success="#107c10",
    disabled_text="#5f5e5c",
    disabled_bg="#f3f2f1",
    focus="#1b1b1b",
    focus_width=3,
    scrollbar="#8a8886",
)
HIGH_CONTRAST = Palette(
    name=KioskTheme.HIGH_CONTRAST,
    ink="#ffffff",
    muted="#d9d9d9",
    canvas="#000000",
    card="#000000",
    card_border="#ffffff",
    field="#000000",
    border="#ffffff",
    error="#ff9e9e",
    error_bg="#000000",
    success="#7dff7d",
    disabled_text="#c0c0c0",
    disabled_bg="#000000",
    focus="#ffff00",
    focus_width=5,
    scrollbar="#ffffff",
    fixed_accent="#ffff00",
    header_bg="#000000",
)
PALETTES = {palette.name: palette for palette in (STANDARD, HIGH_CONTRAST)}


def relative_luminance(colour: str | QColor) -> float:
    """WCAG 2.2 relative luminance of an opaque colour."""
    value = QColor(colour)

    def channel(component: float) -> float:
        return component / 12.92 if component <= 0.04045 else ((component + 0.055) / 1.055) ** 2.4

    return 0.2126 * channel(value.redF()) + 0.7152 * channel(value.greenF()) + 0.0722 * channel(value.blueF())


def contrast_ratio(foreground: str | QColor, background: str | QColor) -> float:
    """WCAG contrast ratio of two opaque colours, 1 to 21."""
    lighter, darker = sorted((relative_luminance(foreground), relative_luminance(background)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_on(colour: str | QColor) -> str:
    """Black or white text, whichever contrasts more with the colour."""
    return "#000000" if contrast_ratio("#000000", colour) >= contrast_ratio("#ffffff", colour) else "#ffffff"


def accent_text(accent: str, background: str) -> str:
    """The accent, darkened or lightened just enough to be readable text on `background` (≥ 4.5:1)."""
    colour = QColor(accent)
    darken = relative_luminance(background) > 0.18
    for _step in range(40):
        if contrast_ratio(colour, background) >= MIN_TEXT_CONTRAST:
            break
        colour = colour.darker(110) if darken else colour.lighter(110)
    return colour.name()


def resolve_theme(choice: KioskTheme) -> Palette:
    """The palette for a policy choice; `system` follows the OS's contrast preference (Qt ≥ 6.10)."""
    if choice is not KioskTheme.SYSTEM:
        return PALETTES[choice]
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return STANDARD
    hints = app.styleHints()  # keep the wrapper alive while asking it (PySide6 frees temporaries)
    accessibility = hints.accessibility()
    high = accessibility.contrastPreference() == Qt.ContrastPreference.HighContrast
    return HIGH_CONTRAST if high else STANDARD


def font_scale(system_font: QFont | None = None) -> float:
    """How much larger than the platform's default the system font is (never below 1: the kiosk's
    design sizes are already large type)."""
    font = system_font if system_font is not None else QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    points = font.pointSizeF()
    if points <= 0:  # a pixel-sized system font
        points = font.pixelSize() * 0.75
    default = DEFAULT_SYSTEM_POINTS.get(sys.platform, DEFAULT_SYSTEM_POINTS_ELSEWHERE)
    return max(1.0, points / default)


def accent_colours(palette: Palette, accent: str) -> tuple[str, str, str]:
    """(accent, accent as text on the card, text on the accent) for a palette and a branding colour."""
    fill = palette.fixed_accent or accent
    return fill, accent_text(fill, palette.card), readable_on(fill)


def text_pairs(palette: Palette, accent: str) -> list[tuple[str, str, str]]:
    """Every (what, text colour, background) pair the stylesheet draws text with."""
    fill, on_card, on_fill = accent_colours(palette, accent)
    header = palette.header_bg or fill
    return [
        ("body text", palette.ink, palette.card),
        ("body text on the canvas", palette.ink, palette.canvas),
        ("muted text", palette.muted, palette.card),
        ("text in fields", palette.ink, palette.field),
        ("placeholder text", palette.muted, palette.field),
        ("links and plain buttons", on_card, palette.card),
        ("gate line", on_card, palette.card),
        ("primary buttons", on_fill, fill),
        ("header text", readable_on(header), header),
        ("field errors", palette.error, palette.card),
        ("error banner", palette.error, palette.error_bg),
        ("rule met", palette.success, palette.card),
        ("disabled buttons", palette.disabled_text, palette.disabled_bg),
        ("language picker", palette.ink, palette.field),
    ]


def stylesheet(accent: str, palette: Palette = STANDARD, scale: float = 1.0) -> str:
    """The whole application stylesheet for an accent colour `#RRGGBB`, a palette and a font scale."""
    p = palette
    fill, on_card, on_fill = accent_colours(palette, accent)
    header = p.header_bg or fill
    on_header = readable_on(header)
    colour = QColor(fill)
    hover = colour.darker(115).name()
    pressed = colour.darker(135).name()
    tint = QColor(colour.red(), colour.green(), colour.blue(), 28 if p.fixed_accent is None else 60).name(
        QColor.NameFormat.HexArgb
    )
    ring = f"{p.focus_width}px solid {p.focus}"
    high = p.fixed_accent is not None
    header_line = f"border-bottom: 3px solid {fill};" if high else ""
    choice_border = p.border if high else "#c8c6c4"

    def px(size: float, limit: float | None = None) -> str:
        factor = scale if limit is None else min(scale, limit)
        return f"{round(size * factor)}px"

    return f"""
QWidget {{ font-size: {px(BASE_FONT_PX)}; color: {p.ink}; }}
QMainWindow, #canvas {{ background: {p.canvas}; }}
#header {{ background: {header}; {header_line} }}
#header QLabel {{ color: {on_header}; }}
#header QLabel, #header QComboBox {{ font-size: {px(17, HEADER_MAX_SCALE)}; }}
#header #organisation {{ font-size: {px(24, HEADER_MAX_SCALE)}; font-weight: 700; }}
#card {{ background: {p.card}; border: {2 if high else 1}px solid {p.card_border}; border-radius: 10px; }}
#card QWidget {{ background: transparent; }}
#footer {{ background: transparent; }}
QLabel#title {{ font-size: {px(30, HEADING_MAX_SCALE)}; font-weight: 700; }}
QLabel#heroTitle {{ font-size: {px(38, HEADING_MAX_SCALE)}; font-weight: 700; }}
QLabel#intro, QLabel#muted {{ color: {p.muted}; }}
QLabel#gate {{ color: {on_card}; font-weight: 700; font-size: {px(15)}; }}
QLabel#fieldLabel {{ font-weight: 600; }}
QLabel#fieldError {{ color: {p.error}; font-weight: 600; }}
QLabel#banner {{ color: {p.error}; background: {p.error_bg}; border-left: 5px solid {p.error};
    padding: 10px 14px; font-weight: 600; }}
QLabel#notice {{ color: {p.muted}; }}
QLabel#busyText {{ color: {p.muted}; font-weight: 600; }}
QLabel#reference {{ font-family: "DejaVu Sans Mono", monospace; font-size: {px(34)}; font-weight: 700;
    color: {p.ink}; }}
QLabel#ruleOk {{ color: {p.success}; }}
QLabel#ruleBad {{ color: {p.muted}; }}
QLabel#rulePending {{ color: {p.muted}; }}
QLabel#appKey {{ font-family: "DejaVu Sans Mono", monospace; font-size: {px(24)}; font-weight: 700; }}
QLabel#newsLine {{ color: {p.success}; font-weight: 700; }}
QLabel#successMark {{ color: {p.success}; font-size: {px(64)}; font-weight: 700; }}
QLabel#errorMark {{ color: {p.error}; font-size: {px(56)}; font-weight: 700; }}
QLabel#captcha {{ background: #ffffff; border: 1px solid {p.border}; border-radius: 6px; }}
QFrame#helpdesk {{ background: {tint}; border-radius: 8px; {f"border: 2px solid {p.border};" if high else ""} }}
QLineEdit {{ min-height: {TOUCH_TARGET_PX - 8}px; padding: 3px 12px; border: 2px solid {p.border};
    border-radius: 6px; background: {p.field}; color: {p.ink}; font-size: {px(20)};
    selection-background-color: {on_card if not high else fill}; selection-color: {on_fill if high else p.card}; }}
QLineEdit:focus {{ border: {ring}; }}
QLineEdit[invalid="true"] {{ border-color: {p.error}; }}
QLineEdit[invalid="true"]:focus {{ border: {ring}; }}
QLineEdit#code {{ font-family: "DejaVu Sans Mono", monospace; font-size: {px(28)}; }}
QPushButton {{ min-height: {TOUCH_TARGET_PX}px; padding: 0 24px; border-radius: 6px; font-weight: 600;
    border: 2px solid {fill}; background: {p.card}; color: {on_card}; }}
QPushButton:hover {{ background: {tint}; }}
QPushButton:focus {{ border: {ring}; }}
QPushButton:disabled {{ color: {p.disabled_text}; border-color: {p.disabled_text}; background: {p.disabled_bg}; }}
QPushButton#primary {{ background: {fill}; color: {on_fill}; border-color: {fill}; }}
QPushButton#primary:hover {{ background: {hover}; border-color: {hover}; }}
QPushButton#primary:pressed {{ background: {pressed}; }}
QPushButton#primary:focus {{ border: {ring}; }}
QPushButton#primary:disabled {{ background: {p.disabled_bg}; border-color: {p.disabled_text};
    color: {p.disabled_text}; }}
QPushButton#hero {{ min-height: 72px; font-size: {px(24)}; padding: 0 40px; border-radius: 8px;
    background: {fill}; color: {on_fill}; border-color: {fill}; }}
QPushButton#hero:hover {{ background: {hover}; }}
QPushButton#hero:focus {{ border: {ring}; }}
QPushButton#hero:disabled {{ background: {p.disabled_bg}; border-color: {p.disabled_text}; color: {p.disabled_text}; }}
QPushButton#hero[compact="true"] {{ min-height: 60px; }}
QPushButton#link {{ border: {p.focus_width}px solid transparent; background: transparent; text-decoration: underline;
    padding: 0 8px; }}
QPushButton#link:focus {{ border: {ring}; }}
QPushButton#choice {{ text-align: left; padding: 10px 20px; border: 2px solid {choice_border}; color: {p.ink}; }}
QPushButton#choice:hover {{ border-color: {fill}; background: {tint}; }}
QPushButton#choice:focus {{ border: {ring}; }}
QLabel#choiceTitle {{ font-size: {px(20)}; font-weight: 700; }}
QLabel#choiceHint {{ color: {p.muted}; font-size: {px(16)}; }}
QComboBox {{ min-height: 40px; padding: 0 12px; border-radius: 6px; background: {p.field}; color: {p.ink};
    border: {p.focus_width}px solid {p.field}; }}
QComboBox:focus {{ border: {ring}; }}
QComboBox::drop-down {{ border: none; width: 30px; subcontrol-origin: padding; subcontrol-position: center right; }}
QComboBox::down-arrow {{ image: url({CHEVRON}); width: 14px; height: 14px; }}
#card QComboBox {{ min-height: {TOUCH_TARGET_PX - 8}px; padding: 3px 12px; border: 2px solid {p.border};
    background: {p.field}; }}
#card QComboBox:focus {{ border: {ring}; }}
QComboBox QAbstractItemView {{ background: {p.field}; color: {p.ink}; selection-background-color: {tint};
    selection-color: {p.ink}; }}
QScrollBar:vertical {{ background: transparent; width: 12px; margin: 0; }}
QScrollBar::handle:vertical {{ background: {p.scrollbar}; border-radius: 6px; min-height: 40px; }}
QScrollBar::add-line:vertical, QScrollBar::sub-line:vertical {{ height: 0; }}
QScrollBar::add-page:vertical, QScrollBar::sub-page:vertical {{ background: transparent; }}
QProgressBar {{ border: {"1px solid " + p.border if high else "none"}; background: {p.disabled_bg};
    border-radius: 4px; max-height: 8px; }}
QProgressBar::chunk {{ background: {fill}; border-radius: 4px; }}
QProgressBar#strength {{ max-height: 10px; }}
QScrollArea {{ border: none; background: transparent; }}
"""


@dataclass(frozen=True, slots=True)
class AppliedTheme:
    """What `apply_theme` installed last, so an OS contrast change can re-apply it."""

    accent: str
    choice: KioskTheme
    palette: Palette
    scale: float


_applied: AppliedTheme | None = None
_following_os = False


def current_theme() -> AppliedTheme | None:
    """The theme installed by the last `apply_theme` (None before the first)."""
    return _applied


def apply_theme(
    app: QApplication,
    accent: str,
    theme: KioskTheme = KioskTheme.SYSTEM,
    *,
    system_font: QFont | None = None,
) -> AppliedTheme:
    """Install the kiosk font, palette and stylesheet on the application.

    `theme` is the policy's `kiosk.theme`; with `system` the look follows the OS's contrast
    preference, also when it changes while the kiosk runs. `system_font` stands in for the OS's
    font (tests use it to simulate a user who asked for larger text).
    """
    global _applied, _following_os
    palette = resolve_theme(theme)
    scale = font_scale(system_font)
    font = QFont("DejaVu Sans")
    font.setPixelSize(round(BASE_FONT_PX * scale))
    app.setFont(font)
    colours = QPalette(app.palette())
    colours.setColor(QPalette.ColorRole.PlaceholderText, QColor(palette.muted))
    colours.setColor(QPalette.ColorRole.WindowText, QColor(palette.ink))
    colours.setColor(QPalette.ColorRole.Text, QColor(palette.ink))
    colours.setColor(QPalette.ColorRole.Base, QColor(palette.field))
    colours.setColor(QPalette.ColorRole.Window, QColor(palette.canvas))
    app.setPalette(colours)
    app.setStyleSheet(stylesheet(accent, palette, scale))
    _applied = AppliedTheme(accent=accent, choice=theme, palette=palette, scale=scale)
    if not _following_os:
        _following_os = True
        hints = app.styleHints()
        hints.accessibility().contrastPreferenceChanged.connect(_os_contrast_changed)
    return _applied


def _os_contrast_changed() -> None:
    app = QApplication.instance()
    if _applied is not None and _applied.choice is KioskTheme.SYSTEM and isinstance(app, QApplication):
        apply_theme(app, _applied.accent, KioskTheme.SYSTEM)
