"""The Qt test harness shared by tests/ui and tests/e2e: offscreen Qt, Qt warnings fail tests,
async tests run on a qasync loop, and a test that leaves a top-level widget behind fails."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest
import qasync
from PySide6.QtCore import QEvent
from PySide6.QtWidgets import QApplication

from kiosk.i18n import set_language
from kiosk.ui.theme import apply_theme

# The offscreen platform plugin warns when a window's size constraints change; that is the test
# platform talking, not our code (it does not happen on xcb/wayland/windows).
OFFSCREEN_NOISE = r"This plugin does not support propagateSizeHints\(\)"


def fail_on_qt_warnings(items: list[pytest.Item], folder: Path) -> None:
    """Make every test under `folder` fail on any Qt warning (except the offscreen plugin's noise)."""
    for item in items:
        if folder in item.path.parents:
            item.add_marker(pytest.mark.qt_log_level_fail("WARNING"))
            item.add_marker(pytest.mark.qt_log_ignore(OFFSCREEN_NOISE))


def qasync_loop() -> asyncio.AbstractEventLoop:
    """A qasync event loop on the test QApplication, so Qt events and asyncio tasks interleave as in the kiosk."""
    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)


def no_leaked_windows(qapp: QApplication) -> Iterator[None]:
    """Body of an autouse fixture: English, the default theme, and no top-level widget left behind."""
    apply_theme(qapp, "#0067b8")
    set_language("en")
    before = set(map(id, qapp.topLevelWidgets()))
    yield
    set_language("en")
    QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    leaked = [w for w in qapp.topLevelWidgets() if id(w) not in before and not w.objectName().startswith("qt_")]
    assert not leaked, f"leaked top-level widgets: {leaked}"
