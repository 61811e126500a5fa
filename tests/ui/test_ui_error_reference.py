"""The window's own error pages (the services would not start, an engine bug) show a logged reference too."""

from __future__ import annotations

import logging

import pytest
from conftest import show_window, wait_until
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import Step, StepKind
from kiosk.policy.schema import Policy
from kiosk.ui.pages.error import ErrorPage
from kiosk.ui.pages.reset_or_unlock import ResetOrUnlockPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import sample_steps
from kiosk.ui.window import KioskWindow


def shown_reference(window: KioskWindow, caplog: pytest.LogCaptureFixture) -> str:
    """The reference on the error page on show, after checking it is visible and in an error log line."""
    page = window.current_page
    assert isinstance(page, ErrorPage)
    reference = page.reference.text()
    assert reference and page.reference.isVisible() and page.reference_caption.isVisible()
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR and reference in r.getMessage()]
    assert logged, caplog.text
    return reference


async def test_a_failed_start_shows_a_logged_reference(
    qtbot: QtBot, policy: Policy, caplog: pytest.LogCaptureFixture
) -> None:
    window = KioskWindow(policy)
    show_window(qtbot, window)

    async def connect() -> KioskServices:
        raise ConnectionError("backend down")

    assert await window.start(connect) is None
    assert window.step.kind is StepKind.ERROR
    shown_reference(window, caplog)


async def test_an_engine_bug_shows_a_logged_reference(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, policy: Policy, caplog: pytest.LogCaptureFixture
) -> None:
    steps: dict[StepKind, Step] = sample_steps(policy)
    window.render_step(steps[StepKind.RESET_OR_UNLOCK])
    engine.fail_with = RuntimeError("boom")
    page = window.current_page
    assert isinstance(page, ResetOrUnlockPage)
    qtbot.mouseClick(page.reset, Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.step.kind is StepKind.ERROR and not window.busy)
    shown_reference(window, caplog)
