"""Paint first: the services connect after the window's first paint, which `--self-test` reports (PAINTED, stderr)."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
import time

import pytest
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.policy.schema import Policy
from kiosk.ui.app import run_app
from kiosk.ui.first_paint import FirstPaint
from kiosk.ui.protocols import KioskServices
from kiosk.ui.window import KioskWindow

SLOW_CONNECT_SECONDS = 0.4


def test_the_first_paint_is_announced_once(qtbot: QtBot, capsys: pytest.CaptureFixture[str]) -> None:
    widget = QLabel("start")
    qtbot.addWidget(widget)
    announcer = FirstPaint(widget, time.perf_counter(), announce=True)
    assert capsys.readouterr().err == ""  # nothing before the widget paints
    widget.show()
    qtbot.waitUntil(lambda: "PAINTED" in capsys.readouterr().err, timeout=3000)
    assert announcer.painted
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


def test_run_app_connects_the_services_only_after_the_first_paint(
    qapp: QApplication, policy: Policy, engine: RecordingEngine
) -> None:
    painted_at_connect: list[bool] = []

    async def close() -> None:
        pass

    async def connect() -> KioskServices:
        window = next(w for w in qapp.topLevelWidgets() if isinstance(w, KioskWindow))
        watcher = window.findChild(FirstPaint)
        painted_at_connect.append(watcher is not None and watcher.painted)
        return KioskServices(flow=engine, demo_feed=None, close=close)

    assert run_app(policy, connect, kiosk_mode=False, demo=False, argv=["kiosk"], self_test=True) == 0
    assert painted_at_connect == [True]


async def test_waiting_for_a_window_that_never_paints_gives_up_after_the_timeout(qtbot: QtBot) -> None:
    widget = QLabel("never shown")
    qtbot.addWidget(widget)
    watcher = FirstPaint(widget, time.perf_counter())
    started = time.perf_counter()
    await watcher.wait(0.2)
    assert 0.15 <= time.perf_counter() - started < 2 and not watcher.painted


def test_waiting_on_qt_s_own_loop_returns_at_the_paint_or_gives_up(qtbot: QtBot) -> None:
    shown = QLabel("shown")
    qtbot.addWidget(shown)
    watcher = FirstPaint(shown, time.perf_counter())
    shown.show()
    watcher.wait_blocking(5)
    assert watcher.painted
    hidden = QLabel("never shown")
    qtbot.addWidget(hidden)
    never = FirstPaint(hidden, time.perf_counter())
    started = time.perf_counter()
    never.wait_blocking(0.2)
    assert 0.15 <= time.perf_counter() - started < 2 and not never.painted


PAINT_BEFORE_ASYNCIO_GLUE = """
import sys
from kiosk.ui import first_paint
finish = first_paint.FirstPaint._finish

def noting(self):
    print("qasync imported at the first paint:", "qasync" in sys.modules, flush=True)
    finish(self)

first_paint.FirstPaint._finish = noting
from kiosk.cli.main import main
sys.exit(main(["--demo", "--self-test"]))
"""


def test_the_start_page_paints_before_the_asyncio_glue_is_imported() -> None:
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(  # noqa: S603 - this interpreter with a fixed script
        [sys.executable, "-c", PAINT_BEFORE_ASYNCIO_GLUE], env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "qasync imported at the first paint: False" in result.stdout
    assert "READY" in result.stdout


def test_a_click_before_the_event_loop_runs_waits_busy_and_runs_once_started(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine
) -> None:
    """run_app paints the start page before the asyncio loop exists: a click then is kept, not lost."""
    from conftest import show_window
    from PySide6.QtCore import Qt

    from kiosk.ui.pages.start import StartPage

    kiosk = KioskWindow(policy)
    show_window(qtbot, kiosk)
    kiosk.expect_services()  # as run_app, before the first paint
    page = kiosk.current_page
    assert isinstance(page, StartPage) and page.begin.isEnabled()  # takes input from the first paint on
    qtbot.mouseClick(page.begin, Qt.MouseButton.LeftButton)  # no event loop runs yet
    assert kiosk.busy and engine.calls == []
    page.accept()  # a second submit while busy: ignored
    connected: list[bool] = []

    async def nothing() -> None:
        return None

    async def connect() -> KioskServices:
        connected.append(True)
        return KioskServices(flow=engine, demo_feed=None, close=nothing)

    async def start_and_settle() -> None:
        assert await kiosk.start(connect) is not None
        await asyncio.wait_for(kiosk.wait_idle(), 10)  # the click's call and the pages' import

    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(start_and_settle())
    finally:
        loop.close()
    assert connected == [True] and not kiosk.busy
    assert engine.names() == ["submit"]  # the early click, once
