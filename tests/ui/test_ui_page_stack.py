"""Pages scroll inside the card only when the page on show is taller than the card."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QApplication, QScrollArea

from kiosk.flows.steps import Step, StepKind
from kiosk.policy.schema import Policy
from kiosk.ui.screenshots import sample_steps
from kiosk.ui.window import KioskWindow


@pytest.fixture
def steps(policy: Policy) -> dict[StepKind, Step]:
    """A sample step of every kind (the screenshots' samples)."""
    return sample_steps(policy)


def test_a_short_page_after_a_tall_one_does_not_scroll(window: KioskWindow, steps: dict[StepKind, Step]) -> None:
    window.resize(1024, 640)
    scroller = window.findChild(QScrollArea, "pageScroller")
    assert scroller is not None
    window.render_step(steps[StepKind.NEW_PASSWORD])  # the tallest page
    QApplication.processEvents()
    window.render_step(steps[StepKind.RESET_OR_UNLOCK])  # a short one
    QApplication.processEvents()
    # A plain QStackedWidget would keep asking for the new-password page's height.
    assert window.stack.height() == scroller.viewport().height()
    assert not scroller.verticalScrollBar().isVisible()


def test_a_page_taller_than_the_card_scrolls_instead_of_squashing(
    window: KioskWindow, steps: dict[StepKind, Step]
) -> None:
    window.resize(1024, 420)
    scroller = window.findChild(QScrollArea, "pageScroller")
    assert scroller is not None
    window.render_step(steps[StepKind.NEW_PASSWORD])
    QApplication.processEvents()
    page = window.current_page
    assert window.stack.height() >= page.minimumSizeHint().height() > scroller.viewport().height()
    assert scroller.verticalScrollBar().isVisible()
