"""`--self-test` reports the start page's first paint (PAINTED, standard error) before the backend is ready (READY)."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.policy.schema import Policy
from kiosk.ui.app import run_app
from kiosk.ui.first_paint import FirstPaintAnnouncer
from kiosk.ui.protocols import KioskServices

SLOW_CONNECT_SECONDS = 0.4


def test_the_first_paint_is_announced_once(qtbot: QtBot, capsys: pytest.CaptureFixture[str]) -> None:
    widget = QLabel("start")
    qtbot.addWidget(widget)
    announcer = FirstPaintAnnouncer(widget, time.perf_counter())
    assert capsys.readouterr().err == ""  # nothing before the widget paints
    widget.show()
    qtbot.waitUntil(lambda: "PAINTED" in capsys.readouterr().err, timeout=3000)
    assert announcer.announced
    widget.update()
    widget.repaint()
    QApplication.processEvents()
    QApplication.processEvents()
    assert capsys.readouterr().err == ""  # later paints say nothing


def test_self_test_prints_painted_before_the_backend_is_ready(
    policy: Policy, engine: RecordingEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    async def close() -> None:
        pass

    async def connect() -> KioskServices:
        await asyncio.sleep(SLOW_CONNECT_SECONDS)  # a backend that takes its time to open
        return KioskServices(flow=engine, demo_feed=None, close=close)

    assert run_app(policy, connect, kiosk_mode=False, demo=False, argv=["kiosk"], self_test=True) == 0
    out, err = capsys.readouterr()
    ready = re.match(r"READY (\d+) ms\n", out)
    painted = re.search(r"^PAINTED (\d+) ms$", err, re.MULTILINE)
    assert ready is not None, out
    assert painted is not None, err
    assert int(painted.group(1)) + SLOW_CONNECT_SECONDS * 1000 * 0.9 <= int(ready.group(1))
    assert err.count("PAINTED") == 1
