"""The idle timeout: a countdown warning with "I need more time", then everything wiped and the start page.

The clock is injected and the tick called by hand: no test waits for real seconds.
"""

from __future__ import annotations

import pytest
from conftest import _close_nothing, show_window, wait_until
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot
from ui_engine_double import START_STEP, RecordingEngine

from kiosk.flows.steps import Step, StepKind
from kiosk.policy.schema import Policy
from kiosk.ui.controls import wipe_line_edit
from kiosk.ui.idle import IdleMonitor
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import sample_steps
from kiosk.ui.window import KioskWindow


class FakeClock:
    """FAKE monotonic clock: moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass."""
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    """A fake clock for the idle timeout."""
    return FakeClock()


@pytest.fixture
def idle_policy() -> Policy:
    """Idle after 60 s, the warning in the last 25 s."""
    return Policy.model_validate({"kiosk": {"idle_timeout_seconds": 60, "idle_warning_seconds": 25}})


@pytest.fixture
def idle_window(qtbot: QtBot, idle_policy: Policy, engine: RecordingEngine, clock: FakeClock) -> KioskWindow:
    """A window with the fake clock, attached to the RecordingEngine."""
    window = KioskWindow(idle_policy, demo=True, clock=clock)
    show_window(qtbot, window)
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    return window


@pytest.fixture
def steps(idle_policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind."""
    return sample_steps(idle_policy)


def tick_after(window: KioskWindow, clock: FakeClock, seconds: float) -> None:
    """Let `seconds` pass without input, then let the idle timer look at the clock."""
    clock.advance(seconds)
    window.idle.tick()


def fill_identify(qtbot: QtBot, window: KioskWindow) -> IdentifyPage:
    """Type a user ID on the identify page and copy it to the clipboard, as a careless user might."""
    page = window.current_page
    assert isinstance(page, IdentifyPage)
    page.user_id.edit.clear()
    qtbot.keyClicks(page.user_id.edit, "megan@contoso.com")
    QGuiApplication.clipboard().setText("megan@contoso.com")
    return page


def test_the_start_page_never_times_out(idle_window: KioskWindow, clock: FakeClock) -> None:
    assert idle_window.step.kind is StepKind.START
    assert not idle_window.idle.running
    tick_after(idle_window, clock, 3600)
    assert not idle_window.idle_warning.isVisible()
    assert idle_window.step.kind is StepKind.START


async def test_the_warning_counts_down_and_more_time_keeps_everything(
    qtbot: QtBot, idle_window: KioskWindow, engine: RecordingEngine, clock: FakeClock, steps
) -> None:
    idle_window.render_step(steps[StepKind.IDENTIFY])
    assert idle_window.idle.running
    page = fill_identify(qtbot, idle_window)
    typing_in = idle_window.focusWidget()
    tick_after(idle_window, clock, 30)
    assert not idle_window.idle_warning.isVisible()  # 30 s left: no warning yet
    tick_after(idle_window, clock, 10)
    warning = idle_window.idle_warning
    assert warning.isVisible()
    assert warning.seconds.text() == "20"
    assert "20 seconds" in warning.message.text()
    assert idle_window.focusWidget() is warning.extend  # keyboard users press Enter/Space at once
    assert warning.extend.accessibleName() == "I need more time"
    tick_after(idle_window, clock, 1)
    assert warning.seconds.text() == "19"

    qtbot.keyClick(warning.extend, Qt.Key.Key_Space)
    await wait_until(lambda: not warning.isVisible())
    assert page.user_id.edit.text() == "megan@contoso.com"
    assert idle_window.focusWidget() is typing_in  # back where the person was typing
    tick_after(idle_window, clock, 30)
    assert not warning.isVisible()  # the timeout started again from the click
    assert engine.calls == []


async def test_any_input_during_the_warning_counts_as_more_time(
    qtbot: QtBot, idle_window: KioskWindow, clock: FakeClock, steps
) -> None:
    idle_window.render_step(steps[StepKind.IDENTIFY])
    page = fill_identify(qtbot, idle_window)
    tick_after(idle_window, clock, 45)
    assert idle_window.idle_warning.isVisible()
    qtbot.keyClick(page.user_id.edit, Qt.Key.Key_A)
    await wait_until(lambda: not idle_window.idle_warning.isVisible())


async def test_expiry_wipes_fields_undo_history_and_clipboard_and_restarts(
    qtbot: QtBot, idle_window: KioskWindow, engine: RecordingEngine, clock: FakeClock, steps
) -> None:
    idle_window.render_step(steps[StepKind.IDENTIFY])
    page = fill_identify(qtbot, idle_window)
    assert page.user_id.edit.isUndoAvailable()
    engine.queued.append(START_STEP)
    tick_after(idle_window, clock, 35)
    assert idle_window.idle_warning.isVisible()
    tick_after(idle_window, clock, 25)
    assert not idle_window.idle_warning.isVisible()
    assert page.user_id.edit.text() == ""
    assert not page.user_id.edit.isUndoAvailable()
    page.user_id.edit.undo()
    assert page.user_id.edit.text() == ""
    assert QGuiApplication.clipboard().text() == ""
    await wait_until(lambda: idle_window.step.kind is StepKind.START)
    assert engine.names() == ["cancel"]  # the engine closes the backend session
    assert not idle_window.idle.running


async def test_cancel_wipes_passwords_without_undo(
    qtbot: QtBot, idle_window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    idle_window.render_step(steps[StepKind.NEW_PASSWORD])
    page = idle_window.current_page
    assert isinstance(page, NewPasswordPage)
    qtbot.keyClicks(page.password.edit, "Tulip-Harbor-93!")
    engine.queued.append(START_STEP)
    qtbot.mouseClick(idle_window.cancel, Qt.MouseButton.LeftButton)
    await wait_until(lambda: idle_window.step.kind is StepKind.START)
    assert engine.names() == ["cancel"]
    for edit in idle_window.findChildren(QLineEdit):
        assert edit.text() == "" and not edit.isUndoAvailable(), edit.objectName()


async def test_after_done_the_clipboard_is_cleared_too(
    qtbot: QtBot, idle_window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    idle_window.render_step(steps[StepKind.DONE])
    QGuiApplication.clipboard().setText("Tulip-Harbor-93!")
    engine.queued.append(START_STEP)
    page = idle_window.current_page
    assert isinstance(page, DonePage)
    qtbot.mouseClick(page.finish, Qt.MouseButton.LeftButton)
    await wait_until(lambda: idle_window.step.kind is StepKind.START)
    assert engine.names() == ["restart"]
    assert QGuiApplication.clipboard().text() == ""


async def test_expiry_during_an_engine_call_resets_once_the_call_returns(
    qtbot: QtBot, idle_window: KioskWindow, engine: RecordingEngine, clock: FakeClock, steps
) -> None:
    import asyncio

    idle_window.render_step(steps[StepKind.IDENTIFY])
    page = fill_identify(qtbot, idle_window)
    engine.hold = asyncio.Event()
    qtbot.keyClicks(page.captcha.edit, "7KX4P")
    qtbot.keyClick(page.captcha.edit, Qt.Key.Key_Return)
    await wait_until(lambda: idle_window.busy)
    tick_after(idle_window, clock, 61)
    assert page.user_id.edit.text() == ""  # wiped at once, before the backend answers
    engine.queued.extend([steps[StepKind.CHOOSE_METHOD], START_STEP])
    engine.hold.set()
    await wait_until(lambda: idle_window.step.kind is StepKind.START and not idle_window.busy)
    assert engine.names() == ["submit", "cancel"]


def test_the_monitor_ignores_ticks_when_stopped_and_warns_in_whole_seconds(qtbot: QtBot, clock: FakeClock) -> None:
    monitor = IdleMonitor(60, 25, clock=clock)
    seen: list[int] = []
    expired: list[bool] = []
    monitor.warning.connect(seen.append)
    monitor.expired.connect(lambda: expired.append(True))
    clock.advance(100)
    monitor.tick()
    assert seen == [] and expired == []
    monitor.start()
    clock.advance(35.5)
    monitor.tick()
    assert seen == [25]
    clock.advance(30)
    monitor.tick()
    assert expired == [True] and not monitor.running
    monitor.stop()


def test_wipe_line_edit_leaves_no_undo(qtbot: QtBot) -> None:
    edit = QLineEdit()
    qtbot.addWidget(edit)
    qtbot.keyClicks(edit, "secret")
    edit.clear()
    assert edit.isUndoAvailable()  # why wiping needs more than clear()
    wipe_line_edit(edit)
    assert edit.text() == "" and not edit.isUndoAvailable() and not edit.isModified()


