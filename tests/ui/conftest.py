"""UI test harness: offscreen Qt, Qt warnings fail tests, async tests run on a qasync loop, no leaked windows."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot
from qt_harness import fail_on_qt_warnings, no_leaked_windows, qasync_loop
from ui_engine_double import RecordingEngine

from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Policy
from kiosk.ui.protocols import KioskServices
from kiosk.ui.window import KioskWindow

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every UI test fails on any Qt warning (except the offscreen plugin's noise)."""
    fail_on_qt_warnings(items, HERE)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], object]]:
    """Async UI tests run on a qasync loop, so Qt events and asyncio tasks interleave as in the kiosk."""
    return {"qasync": qasync_loop}


@pytest.fixture(autouse=True)
def _no_leaked_windows(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a top-level widget behind (pytest-qt closes qtbot's widgets first)."""
    yield from no_leaked_windows(qapp)


async def wait_until(predicate: Callable[[], bool], timeout: float = 2.0) -> None:
    """Let the qasync loop run until `predicate()` holds (fails after `timeout` seconds)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.01)


@pytest.fixture
def policy() -> Policy:
    """A policy offering three languages, one of them right-to-left."""
    return Policy.model_validate({"kiosk": {"languages": ["en", "nl", "ar"], "done_countdown_seconds": 3}})


@pytest.fixture
def engine(policy: Policy) -> RecordingEngine:
    """A RecordingEngine showing the start page."""
    return RecordingEngine(rules=PasswordRules.from_settings(policy.password))


async def _close_nothing() -> None:
    return None


def show_window(qtbot: QtBot, window: QWidget) -> None:
    """Show a widget offscreen and hand it to qtbot to close after the test."""
    qtbot.addWidget(window)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    window.show()


@pytest.fixture
def window(qtbot: QtBot, policy: Policy, engine: RecordingEngine) -> KioskWindow:
    """A KioskWindow attached to the RecordingEngine."""
    kiosk = KioskWindow(policy, demo=True)
    show_window(qtbot, kiosk)
    kiosk.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    return kiosk
