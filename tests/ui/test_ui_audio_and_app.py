"""CAPTCHA audio degrades gracefully, and run_app starts, attaches the services and shuts down cleanly."""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path

import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingDemoFeed, RecordingEngine

from kiosk.policy.schema import Policy
from kiosk.services.api import Authenticator, Outbox
from kiosk.ui import audio
from kiosk.ui.app import run_app
from kiosk.ui.audio import CaptchaAudioPlayer
from kiosk.ui.demo_inbox import DemoInboxWindow
from kiosk.ui.pages.start import StartPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.window import KioskWindow


def test_no_player_means_no_playback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audio, "find_player", lambda: None)
    assert CaptchaAudioPlayer().play(b"RIFF") is False


def test_player_gets_a_temporary_wav_that_is_deleted_afterwards(
    qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    true = shutil.which("true")
    assert true is not None
    monkeypatch.setattr(audio, "find_player", lambda: (true, ()))
    player = CaptchaAudioPlayer()
    assert player.play(b"RIFF....WAVE") is True
    wav = player._file
    assert wav is not None and wav.read_bytes() == b"RIFF....WAVE"
    qtbot.waitUntil(lambda: not Path(wav).exists(), timeout=3000)


def test_failing_player_reports_failure(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> None:
    false = shutil.which("false")
    assert false is not None
    monkeypatch.setattr(audio, "find_player", lambda: (false, ()))
    player = CaptchaAudioPlayer()
    with qtbot.waitSignal(player.failed, timeout=3000):
        assert player.play(b"RIFF") is True


def test_run_app_shows_the_window_then_attaches_and_closes_services(
    qapp: QApplication, policy: Policy, engine: RecordingEngine
) -> None:
    seen: dict[str, object] = {}
    closed: list[bool] = []
    feed = RecordingDemoFeed(Outbox(messages=()), Authenticator(codes=()))

    def kiosk_window() -> KioskWindow:
        return next(w for w in qapp.topLevelWidgets() if isinstance(w, KioskWindow))

    async def close() -> None:
        closed.append(True)

    async def connect() -> KioskServices:
        seen["visible_before_connect"] = kiosk_window().isVisible()
        start = kiosk_window().current_page
        assert isinstance(start, StartPage)
        seen["start_text"] = start.begin.text()
        seen["start_takes_clicks"] = start.begin.isEnabled()  # paint first: a click waits for the services
        await asyncio.sleep(0.05)
        QTimer.singleShot(300, lambda: (seen.update(inbox=any(
            isinstance(w, DemoInboxWindow) and w.isVisible() for w in qapp.topLevelWidgets())), kiosk_window().close()))
        return KioskServices(flow=engine, demo_feed=feed, close=close)

    assert run_app(policy, connect, kiosk_mode=False, demo=True, argv=["kiosk"]) == 0
    assert seen == {
        "visible_before_connect": True,
        "start_text": "Can't access your account?",
        "start_takes_clicks": True,
        "inbox": True,
    }
    assert closed == [True]
    assert feed.polls >= 1


def test_run_app_self_test_prints_ready_and_exits(
    policy: Policy, engine: RecordingEngine, capsys: pytest.CaptureFixture[str]
) -> None:
    closed: list[bool] = []

    async def close() -> None:
        closed.append(True)

    async def connect() -> KioskServices:
        return KioskServices(flow=engine, demo_feed=None, close=close)

    assert run_app(policy, connect, kiosk_mode=False, demo=False, argv=["kiosk"], self_test=True) == 0
    assert capsys.readouterr().out.startswith("READY ")
    assert closed == [True]
