"""Twice the system font in every shipped language, and touch targets, on every page of the real window.

Measured from widget geometry and font metrics (tests/ui/layout_measure.py), not by eye: a label,
button, checklist line or picker whose text needs more room than it got, a widget overlapping a
sibling or sticking out of its parent (past the window's edge) fails; so does a control under 44×44 px.
One window per language renders every page in turn (about half a second a language).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from dataclasses import replace

import pytest
from layout_measure import MIN_TARGET_PX, clipped_text, interactive, overlaps, shown_widgets, small_targets
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QWidget
from pytestqt.qtbot import QtBot

from kiosk.flows.mapping import CHANGE_UNCONFIRMED
from kiosk.flows.steps import ErrorData, IdentifyData, Picture, PictureCheckData, Step, StepKind
from kiosk.i18n import current_language, shipped_languages
from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Policy
from kiosk.services.api import PictureSubject
from kiosk.services.backend.human_check.pictures import draw_png
from kiosk.ui.controls import button, label
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import SAMPLE_NOW, ScreenshotFakeEngine, fill_sample_inputs, sample_steps, sample_variants
from kiosk.ui.theme import DEFAULT_SYSTEM_POINTS, DEFAULT_SYSTEM_POINTS_ELSEWHERE, apply_theme
from kiosk.ui.window import KioskWindow

SIZE = (1024, 768)
"""The smallest screen the kiosk supports (and its screenshots' size): the hardest case for large text."""
SCREENS = [SIZE, (1920, 1080)]
"""And a full-HD kiosk: wider, yet the card keeps its width, and layouts that adapt (one or two columns)
must choose by the room they get, not by a page already too wide."""
LANGUAGES = shipped_languages()


def all_pages(policy: Policy) -> dict[str, Step]:
    """Every page kind's sample, the other faces worth checking, and the picture check."""
    pages = {kind.value: step for kind, step in sample_steps(policy).items()} | sample_variants(policy)
    pages["error_change_unconfirmed"] = Step(StepKind.ERROR, ErrorData(CHANGE_UNCONFIRMED, "kiosk-5e1f0c2a9b7d"))
    identify = pages[StepKind.IDENTIFY.value]
    assert isinstance(identify.data, IdentifyData)
    check = PictureCheckData(
        subject="key", pictures=tuple(Picture(f"pic{n}", draw_png(subject)) for n, subject in enumerate(PictureSubject))
    )
    pages["identify_pictures"] = replace(
        identify, data=replace(identify.data, pictures_offered=True, picture_check=check), errors=()
    )
    return pages


async def _nothing_to_close() -> None:
    return None


def settle() -> None:
    """Let every layout request run: a scroll area decides its scroll bar only after the page's new size."""
    for _round in range(3):
        QApplication.processEvents()


def every_page(window: KioskWindow, policy: Policy, language: str) -> Iterator[str]:
    """Show each page (then the idle warning and the administrator prompt) in `language`; yields its name."""
    rules = PasswordRules.from_policy(policy)
    for name, step in all_pages(policy).items():
        engine = ScreenshotFakeEngine(step, rules, ("adele.vance", "Adele Vance"))
        window.attach(KioskServices(flow=engine, demo_feed=None, close=_nothing_to_close))
        if current_language() != language:
            window.set_language(language)  # the start page puts the kiosk back in its home language
        fill_sample_inputs(window.current_page)  # the checklist's longer met / not met lines
        settle()
        yield name
    window.render_step(sample_steps(policy)[StepKind.IDENTIFY])
    window.idle_warning.show_seconds(23)
    settle()
    yield "idle_warning"
    window.idle_warning.dismiss()
    window.admin_prompt.open_prompt(can_exit=True, can_diagnose=True)
    settle()
    yield "admin_prompt"
    window.admin_prompt.close_prompt()
    window.current_page.leave()


def use_system_font(qapp: QApplication, policy: Policy, factor: float) -> None:
    """Apply the theme as for a user whose system font is `factor` times the platform's default."""
    system = QFont("DejaVu Sans")
    system.setPointSizeF(factor * DEFAULT_SYSTEM_POINTS.get(sys.platform, DEFAULT_SYSTEM_POINTS_ELSEWHERE))
    applied = apply_theme(qapp, policy.kiosk.branding.accent_color, policy.kiosk.theme, system_font=system)
    assert applied.scale == pytest.approx(factor)


def open_window(qtbot: QtBot, policy: Policy, language: str, size: tuple[int, int] = SIZE) -> KioskWindow:
    """The real kiosk window, offscreen at `size`, in `language`."""
    window = KioskWindow(policy, demo=True, now=lambda: SAMPLE_NOW)
    qtbot.addWidget(window)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    window.resize(*size)
    window.show()
    window.set_language(language)
    return window


@pytest.fixture
def every_language() -> Policy:
    """The policy's picker offers every shipped language (the header shows it)."""
    return Policy.model_validate({"kiosk": {"languages": list(LANGUAGES), "done_countdown_seconds": 3}})


@pytest.mark.parametrize("screen", SCREENS, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("language", LANGUAGES)
def test_no_text_is_cut_off_or_overlapped_at_twice_the_system_font(
    qtbot: QtBot, qapp: QApplication, every_language: Policy, language: str, screen: tuple[int, int]
) -> None:
    """Every page at 2× text on a 1024×768 and a 1920×1080 screen: each text fits its widget (wrapped
    labels and buttons by their height for the width), nothing overlaps a sibling or runs past the
    window's edge."""
    use_system_font(qapp, every_language, 2.0)
    window = open_window(qtbot, every_language, language, screen)
    problems: list[str] = []
    pages = 0
    for name in every_page(window, every_language, language):
        pages += 1
        page = window.current_page
        assert page.title.fontInfo().pixelSize() >= 48, name  # titles grow too (1.6×, theme.HEADING_MAX_SCALE)
        problems += [f"{name}: {problem}" for problem in clipped_text(window) + overlaps(window)]
    assert pages == len(all_pages(every_language)) + 2 >= 29
    assert not problems, f"{language} at 2× text on {screen[0]}x{screen[1]}:\n" + "\n".join(problems)


@pytest.mark.parametrize("language", ["en", "de", "ar"])
def test_every_control_is_a_touch_target_of_at_least_44_px(
    qtbot: QtBot, qapp: QApplication, every_language: Policy, language: str
) -> None:
    """At 100% text every button, link, field, picker, picture and on-screen key is at least 44×44 px
    (WCAG 2.5.5), on every page, the idle warning, the administrator prompt and with the keyboard docked."""
    touch = every_language.model_copy(
        update={"kiosk": every_language.kiosk.model_copy(update={"on_screen_keyboard": True})}
    )
    use_system_font(qapp, touch, 1.0)
    window = open_window(qtbot, touch, language)
    assert window.keyboard is not None
    problems: list[str] = []
    checked = 0
    for name in every_page(window, touch, language):
        edits = [widget for widget in window.current_page.findChildren(QWidget) if widget.inherits("QLineEdit")]
        shown_edit = next((edit for edit in edits if edit.isVisible()), None)
        if shown_edit is not None:
            shown_edit.setFocus()
            window.keyboard.attach(shown_edit)  # offscreen windows get no focus-change events
            settle()
        checked += sum(1 for widget in shown_widgets(window) if interactive(widget))
        problems += [f"{name}: {problem}" for problem in small_targets(window)]
    assert checked > 500  # the keys, buttons and fields were there to measure
    assert not problems, f"{language}: controls under {MIN_TARGET_PX}×{MIN_TARGET_PX} px:\n" + "\n".join(problems)


def test_the_measures_catch_cut_off_text_overlaps_and_small_targets(qtbot: QtBot) -> None:
    """The checks fail where they should: a label too narrow for its text, a button too short for its
    line, two widgets on top of each other, a child past its parent's edge, a 30 px button."""
    root = QWidget()
    qtbot.addWidget(root)
    root.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    root.resize(400, 300)
    squeezed = label(wrap=False)
    squeezed.setText("A sentence far too long for forty pixels")
    squeezed.setParent(root)
    squeezed.setGeometry(0, 0, 40, 30)
    wrapped = label()
    wrapped.setText("Several words that wrap onto more lines than fit")
    wrapped.setParent(root)
    wrapped.setGeometry(0, 40, 120, 20)
    short = QLabel("Fits", root)
    short.setGeometry(300, 200, 90, 40)
    tiny = button()
    tiny.setText("OK")
    tiny.setParent(root)
    tiny.setGeometry(200, 100, 30, 30)
    over = QLabel("Fits", root)
    over.setGeometry(310, 210, 60, 40)
    outside = QWidget(root)
    outside.setGeometry(QRect(380, 0, 60, 20))
    QHBoxLayout(outside)
    root.show()
    clipped = "\n".join(clipped_text(root))
    assert "A sentence" in clipped and "Several words" in clipped and "'OK'" in clipped
    assert "'Fits'" not in clipped
    placed = "\n".join(overlaps(root))
    assert "overlap: QLabel 'Fits'" in placed and "sticks out of QWidget" in placed
    assert [problem.split(":")[0] for problem in small_targets(root)] == ["WrappingButton 'OK'"]
