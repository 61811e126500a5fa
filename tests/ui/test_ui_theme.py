"""The themes: WCAG contrast of every text colour, the high-contrast theme chosen by policy or OS, and
font sizes that follow the system font."""

from __future__ import annotations

import re
import sys
import tomllib
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from kiosk.policy.loader import load_policy
from kiosk.policy.schema import KioskTheme, Policy
from kiosk.ui.theme import (
    DEFAULT_SYSTEM_POINTS,
    DEFAULT_SYSTEM_POINTS_ELSEWHERE,
    HIGH_CONTRAST,
    MIN_TEXT_CONTRAST,
    PALETTES,
    STANDARD,
    accent_colours,
    apply_theme,
    contrast_ratio,
    font_scale,
    resolve_theme,
    stylesheet,
    text_pairs,
)

DEMO_POLICY = Path(__file__).resolve().parents[2] / "resources" / "demo-policy.toml"
DEFAULT_ACCENT = Policy().kiosk.branding.accent_color
# The policy's accent is any #RRGGBB: a pale one and a dark one must still give readable text.
ACCENTS = [DEFAULT_ACCENT, "#ffd400", "#7fdbff", "#1b1b1b", "#e3008c", "#107c10"]


def test_contrast_ratio_matches_wcag_reference_values() -> None:
    """Black on white is 21:1, a colour on itself 1:1, and #767676 on white the well-known 4.54:1."""
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast_ratio("#0067b8", "#0067b8") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)


@pytest.mark.parametrize("accent", ACCENTS)
@pytest.mark.parametrize("theme", list(PALETTES))
def test_every_text_colour_has_at_least_4_5_to_1_contrast(theme: KioskTheme, accent: str) -> None:
    """Text on background, muted text, links, buttons, errors on their banner, header text on the accent."""
    failing = [
        f"{what}: {foreground} on {background} is {contrast_ratio(foreground, background):.2f}:1"
        for what, foreground, background in text_pairs(PALETTES[theme], accent)
        if contrast_ratio(foreground, background) < MIN_TEXT_CONTRAST
    ]
    assert not failing, "\n".join(failing)


def test_the_stylesheet_uses_the_checked_colours() -> None:
    """The pairs the contrast test checks are the colours the stylesheet really draws with."""
    for palette in PALETTES.values():
        css = stylesheet(DEFAULT_ACCENT, palette).lower()
        _fill, on_card, on_fill = accent_colours(palette, DEFAULT_ACCENT)
        for colour in (palette.ink, palette.muted, palette.error, palette.error_bg, palette.success, on_card, on_fill):
            assert colour.lower() in css, (palette.name, colour)


def test_high_contrast_is_black_white_yellow_with_thick_focus_rings() -> None:
    """High contrast ignores the branding colour and draws a 5 px yellow focus ring on every control."""
    css = stylesheet("#e3008c", HIGH_CONTRAST)
    assert "#e3008c" not in css
    for selector in ("QLineEdit:focus", "QPushButton:focus", "QPushButton#primary:focus", "QPushButton#hero:focus",
                     "QPushButton#link:focus", "QPushButton#choice:focus", "QComboBox:focus"):
        assert re.search(re.escape(selector) + r" \{ border: 5px solid #ffff00; \}", css), selector
    assert HIGH_CONTRAST.canvas == HIGH_CONTRAST.card == "#000000" and HIGH_CONTRAST.ink == "#ffffff"


def test_the_standard_theme_has_a_visible_focus_ring_too() -> None:
    """Every focusable kind of control gets a 3 px dark ring in the standard theme."""
    css = stylesheet(DEFAULT_ACCENT, STANDARD)
    for selector in ("QLineEdit:focus", "QPushButton:focus", "QPushButton#link:focus", "QPushButton#choice:focus",
                     "QComboBox:focus"):
        assert re.search(re.escape(selector) + r" \{ border: 3px solid #1b1b1b; \}", css), selector
    assert contrast_ratio(STANDARD.focus, STANDARD.card) >= 3  # WCAG 1.4.11 non-text contrast


def test_font_sizes_scale_with_the_system_font() -> None:
    """Every font size in the stylesheet grows with the system font (none is a fixed pixel size)."""
    normal = stylesheet(DEFAULT_ACCENT, STANDARD, 1.0)
    large = stylesheet(DEFAULT_ACCENT, STANDARD, 1.5)
    sizes = [int(size) for size in re.findall(r"font-size: (\d+)px", normal)]
    larger = [int(size) for size in re.findall(r"font-size: (\d+)px", large)]
    assert len(sizes) == len(larger) > 10
    header = {24, 17}  # the fixed-height header grows less (HEADER_MAX_SCALE)
    for size, scaled in zip(sizes, larger, strict=True):
        assert scaled > size, (size, scaled)
        if scaled not in {round(s * 1.2) for s in header}:
            assert scaled == round(size * 1.5)


def test_font_scale_follows_the_system_font_and_never_shrinks_the_design() -> None:
    """A 1.5× system font scales by 1.5; a smaller one keeps the kiosk's large-type design."""
    default = DEFAULT_SYSTEM_POINTS.get(sys.platform, DEFAULT_SYSTEM_POINTS_ELSEWHERE)
    small, large = QFont(), QFont()
    small.setPointSizeF(default * 0.7)
    large.setPointSizeF(default * 1.5)
    assert font_scale(small) == 1.0
    assert font_scale(large) == pytest.approx(1.5)


def test_apply_theme_installs_the_scaled_font_and_the_chosen_palette(qapp: QApplication) -> None:
    """The application font and stylesheet follow the theme choice and the system font."""
    system = QFont()
    system.setPointSizeF(27)  # three times the usual 9 pt
    applied = apply_theme(qapp, DEFAULT_ACCENT, KioskTheme.HIGH_CONTRAST, system_font=system)
    assert applied.palette is HIGH_CONTRAST
    assert qapp.font().pixelSize() == round(17 * applied.scale)
    assert "#ffff00" in qapp.styleSheet()
    applied = apply_theme(qapp, DEFAULT_ACCENT, KioskTheme.STANDARD)
    assert applied.palette is STANDARD and "#ffff00" not in qapp.styleSheet()


def test_system_theme_follows_the_os_contrast_preference(qapp: QApplication) -> None:
    """`system` is the standard theme unless the OS asks for high contrast (offscreen never does)."""
    hints = qapp.styleHints()
    accessibility = hints.accessibility()
    expected = HIGH_CONTRAST if accessibility.contrastPreference() == Qt.ContrastPreference.HighContrast else STANDARD
    assert resolve_theme(KioskTheme.SYSTEM) is expected
    assert resolve_theme(KioskTheme.HIGH_CONTRAST) is HIGH_CONTRAST


def test_the_policy_chooses_the_theme() -> None:
    """`kiosk.theme` defaults to system, accepts the three values and rejects anything else."""
    assert Policy().kiosk.theme is KioskTheme.SYSTEM
    assert Policy.model_validate({"kiosk": {"theme": "high_contrast"}}).kiosk.theme is KioskTheme.HIGH_CONTRAST
    with pytest.raises(ValueError, match="theme"):
        Policy.model_validate({"kiosk": {"theme": "dark"}})
    assert load_policy(DEMO_POLICY).kiosk.theme is KioskTheme(tomllib.loads(DEMO_POLICY.read_text())["kiosk"]["theme"])
