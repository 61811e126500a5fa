"""Work off the UI thread: the password estimate never runs on it, and only the newest result is shown."""

from __future__ import annotations

import logging
import threading
import time

import pytest
from pytestqt.qtbot import QtBot

from kiosk.flows.steps import NewPasswordData, StepKind
from kiosk.policy.password import PasswordCheck, PasswordRules, check_password
from kiosk.policy.schema import Policy
from kiosk.ui.background import LatestOnly
from kiosk.ui.pages import PageContext
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.screenshots import SAMPLE_NOW, sample_steps


def test_requests_made_while_one_runs_collapse_into_the_newest(qtbot: QtBot) -> None:
    release = threading.Event()
    ran: list[str] = []

    def work(text: str) -> str:
        ran.append(text)
        release.wait(5)
        return text.upper()

    latest: LatestOnly[str, str] = LatestOnly(work)
    shown: list[tuple[str, str]] = []
    latest.ready.connect(lambda argument, result: shown.append((argument, result)))
    for text in ("a", "ab", "abc", "abcd"):
        latest.request(text)
    assert not latest.idle
    release.set()
    qtbot.waitUntil(lambda: latest.idle, timeout=3000)
    # The first was already running; the two in between never ran; only the newest is shown.
    assert ran == ["a", "abcd"]
    assert shown == [("abcd", "ABCD")]


def test_a_forgotten_request_is_never_shown(qtbot: QtBot) -> None:
    release = threading.Event()
    latest: LatestOnly[str, str] = LatestOnly(lambda text: text if release.wait(5) else "")
    shown: list[object] = []
    latest.ready.connect(lambda argument, result: shown.append(result))
    latest.request("old page's password")
    latest.forget()
    release.set()
    qtbot.waitUntil(lambda: latest.idle, timeout=3000)
    qtbot.wait(50)
    assert shown == []


def test_a_failing_job_is_logged_by_type_without_its_argument(qtbot: QtBot, caplog: pytest.LogCaptureFixture) -> None:
    secret = "Tulip-Harbor-93!"

    def work(text: str) -> str:
        raise ValueError(f"cannot score {text}")

    latest: LatestOnly[str, str] = LatestOnly(work)
    shown: list[object] = []
    latest.ready.connect(lambda argument, result: shown.append(result))
    with caplog.at_level(logging.ERROR):
        latest.request(secret)
        qtbot.waitUntil(lambda: latest.idle, timeout=3000)
    assert shown == []
    assert "ValueError" in caplog.text and secret not in caplog.text


def test_the_strength_estimate_runs_off_the_ui_thread_and_typing_never_waits(qtbot: QtBot, policy: Policy) -> None:
    ui_thread = threading.get_ident()
    estimate_threads: list[int] = []
    step = sample_steps(policy)[StepKind.NEW_PASSWORD]
    assert isinstance(step.data, NewPasswordData)
    rules: PasswordRules = step.data.rules

    def slow_check(password: str) -> PasswordCheck:
        if password:
            estimate_threads.append(threading.get_ident())
            time.sleep(0.4)  # a slow estimate on a loaded machine
        return check_password(password, rules)

    page = NewPasswordPage(PageContext(check_password=slow_check, now=lambda: SAMPLE_NOW))
    qtbot.addWidget(page)
    page.show_step(step, fresh=True)
    ticks: list[float] = []
    timer_started = time.monotonic()
    page.password.edit.setText("Quartz-lantern-97-Orbit")
    page.run_check()
    # While the 0.4 s estimate runs, the UI thread keeps serving its event loop.
    qtbot.waitUntil(lambda: bool(estimate_threads), timeout=2000)
    while not page.estimate.idle and time.monotonic() - timer_started < 3:
        qtbot.wait(10)
        ticks.append(time.monotonic())
    assert page.estimate.idle
    assert estimate_threads and ui_thread not in estimate_threads
    assert len(ticks) >= 10, "the UI thread waited for the estimate"
    assert page.judged and page.meter.value() >= 2
