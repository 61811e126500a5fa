"""The window drives the engine: typed answers reach it, one call at a time, with a busy state meanwhile."""

from __future__ import annotations

import asyncio

import pytest
import qasync
from conftest import show_window, wait_until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot
from ui_engine_double import START_STEP, RecordingEngine

from kiosk.flows.steps import (
    BeginAnswer,
    Choice,
    ChooseMethodAnswer,
    CodeAnswer,
    IdentifyAnswer,
    NewPasswordAnswer,
    QuestionsAnswer,
    ResetOrUnlockAnswer,
    Step,
    StepKind,
)
from kiosk.policy.schema import Method, Policy
from kiosk.ui import audio
from kiosk.ui.pages.answer_questions import AnswerQuestionsPage
from kiosk.ui.pages.choose_method import ChooseMethodPage
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.reset_or_unlock import ResetOrUnlockPage
from kiosk.ui.pages.start import StartPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import sample_steps
from kiosk.ui.window import KioskWindow


@pytest.fixture
def steps(policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind."""
    return sample_steps(policy)


def press_enter(qtbot: QtBot, widget: QWidget) -> None:
    """Press Enter where the user is typing."""
    qtbot.keyClick(widget, Qt.Key.Key_Return)


def test_only_the_start_page_is_built_up_front_and_each_other_page_once_on_first_use(
    window: KioskWindow, steps: dict[StepKind, Step]
) -> None:
    assert set(window.pages) == {StepKind.START}
    window.render_step(steps[StepKind.IDENTIFY])
    identify = window.current_page
    assert isinstance(identify, IdentifyPage)
    assert set(window.pages) == {StepKind.START, StepKind.IDENTIFY}
    window.render_step(steps[StepKind.START])
    window.render_step(steps[StepKind.IDENTIFY])
    assert window.current_page is identify
    assert window.stack.count() == 2


async def test_start_button_begins_the_flow(qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps) -> None:
    engine.queued.append(steps[StepKind.IDENTIFY])
    page = window.current_page
    assert isinstance(page, StartPage) and page.begin.isEnabled()
    qtbot.mouseClick(page.begin, Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.step.kind is StepKind.IDENTIFY)
    assert engine.calls == [("submit", BeginAnswer())]


async def test_identify_sends_typed_user_id_and_captcha_on_enter(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.IDENTIFY])
    page = window.current_page
    assert isinstance(page, IdentifyPage)
    page.user_id.edit.clear()
    qtbot.keyClicks(page.user_id.edit, "megan@contoso.com")
    qtbot.keyClicks(page.captcha.edit, "7KX4P")
    press_enter(qtbot, page.captcha.edit)
    await wait_until(lambda: bool(engine.calls))
    assert engine.calls == [("submit", IdentifyAnswer(user_id="megan@contoso.com", captcha="7KX4P"))]


async def test_identify_refuses_empty_fields_without_calling_the_engine(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.IDENTIFY])
    page = window.current_page
    assert isinstance(page, IdentifyPage)
    press_enter(qtbot, page.user_id.edit)
    await asyncio.sleep(0.05)
    assert engine.calls == []
    assert page.captcha.error.text() == "Please fill in this field."


async def test_code_field_takes_digits_only_and_enter_submits(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.ENTER_CODE])
    page = window.current_page
    assert isinstance(page, EnterCodePage)
    qtbot.keyClicks(page.code.edit, "12ab 34")
    assert page.code.edit.text() == "1234"
    press_enter(qtbot, page.code.edit)
    await wait_until(lambda: bool(engine.calls))
    assert engine.calls == [("submit", CodeAnswer(code="1234"))]


async def test_code_page_resend_and_try_another_method(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.ENTER_CODE])
    page = window.current_page
    assert isinstance(page, EnterCodePage)
    qtbot.mouseClick(page.resend, Qt.MouseButton.LeftButton)
    await wait_until(lambda: not window.busy)
    qtbot.mouseClick(page.other, Qt.MouseButton.LeftButton)
    await wait_until(lambda: len(engine.calls) == 2 and not window.busy)
    assert engine.names() == ["resend_code", "back"]


async def test_questions_send_every_answer_by_id(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.ANSWER_QUESTIONS])
    page = window.current_page
    assert isinstance(page, AnswerQuestionsPage)
    for (_id, row), text in zip(page.rows, ("Rex", "Utrecht", "Bertha"), strict=True):
        qtbot.keyClicks(row.edit, text)
    press_enter(qtbot, page.rows[-1][1].edit)
    await wait_until(lambda: bool(engine.calls))
    assert engine.calls == [("submit", QuestionsAnswer((("q1", "Rex"), ("q2", "Utrecht"), ("q3", "Bertha"))))]


async def test_choosing_a_method_by_click_and_by_keyboard(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.CHOOSE_METHOD])
    page = window.current_page
    assert isinstance(page, ChooseMethodPage)
    qtbot.mouseClick(page.choices[1][1], Qt.MouseButton.LeftButton)
    await wait_until(lambda: not window.busy and bool(engine.calls))
    page.choices[2][1].setFocus()
    press_enter(qtbot, page.choices[2][1])
    await wait_until(lambda: len(engine.calls) == 2)
    assert [argument for _name, argument in engine.calls] == [
        ChooseMethodAnswer(Method.MOBILE_SMS),
        ChooseMethodAnswer(Method.SECURITY_QUESTIONS),
    ]


async def test_reset_or_unlock_choice(qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps) -> None:
    window.render_step(steps[StepKind.RESET_OR_UNLOCK])
    page = window.current_page
    assert isinstance(page, ResetOrUnlockPage)
    assert "Adele Vance" in page.intro.text()
    qtbot.mouseClick(page.unlock, Qt.MouseButton.LeftButton)
    await wait_until(lambda: bool(engine.calls))
    assert engine.calls == [("submit", ResetOrUnlockAnswer(Choice.UNLOCK))]


async def test_new_password_sends_both_fields(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.NEW_PASSWORD])
    page = window.current_page
    assert isinstance(page, NewPasswordPage)
    qtbot.keyClicks(page.password.edit, "Tulip-Canal-42")
    qtbot.keyClicks(page.confirm.edit, "Tulip-Canal-42")
    press_enter(qtbot, page.confirm.edit)
    await wait_until(lambda: bool(engine.calls))
    assert engine.calls == [("submit", NewPasswordAnswer("Tulip-Canal-42", "Tulip-Canal-42"))]
    assert "Tulip" not in repr(engine.calls)


async def test_busy_state_disables_input_and_ignores_double_submit(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.ENTER_CODE])
    page = window.current_page
    assert isinstance(page, EnterCodePage)
    engine.hold = asyncio.Event()
    engine.queued.append(steps[StepKind.NEW_PASSWORD])
    qtbot.keyClicks(page.code.edit, "48302917")
    press_enter(qtbot, page.code.edit)
    await wait_until(lambda: bool(engine.calls))
    assert window.busy
    assert not window.stack.isEnabled() and not page.code.edit.isEnabled()
    assert not window.cancel.isEnabled() and not window.back.isEnabled()
    assert window.busy_text.isVisibleTo(window) and window.busy_text.text() == "Please wait…"
    page.accept()  # a second submit while the first is running
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    await asyncio.sleep(0.05)
    assert engine.names() == ["submit"]
    engine.hold.set()
    await wait_until(lambda: not window.busy)
    assert window.step.kind is StepKind.NEW_PASSWORD
    assert window.stack.isEnabled() and not window.busy_text.isVisibleTo(window)


async def test_escape_goes_back_when_allowed_else_cancels(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.ENTER_CODE])  # can_go_back
    qtbot.keyClick(window.current_page, Qt.Key.Key_Escape)
    await wait_until(lambda: not window.busy and bool(engine.calls))
    window.render_step(steps[StepKind.RESET_OR_UNLOCK])  # cannot go back
    qtbot.keyClick(window.current_page, Qt.Key.Key_Escape)
    await wait_until(lambda: not window.busy and len(engine.calls) == 2)
    assert engine.names() == ["back", "cancel"]


async def test_done_countdown_restarts_the_kiosk(window: KioskWindow, engine: RecordingEngine, steps) -> None:
    window.render_step(steps[StepKind.DONE])  # 3 seconds in the test policy
    page = window.current_page
    assert isinstance(page, DonePage)
    assert page.countdown.text() == "This kiosk returns to the start in 3 seconds."
    page.tick()
    assert page.countdown.text() == "This kiosk returns to the start in 2 seconds."
    page.tick()
    assert page.countdown.text() == "This kiosk returns to the start in 1 second."
    page.countdown_timer.setInterval(10)  # let the real timer fire the last second
    engine.queued.append(START_STEP)
    await wait_until(lambda: engine.names() == ["restart"] and not window.busy)
    assert window.step.kind is StepKind.START
    assert not page.countdown_timer.isActive()


async def test_unexpected_engine_failure_shows_the_error_page(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.RESET_OR_UNLOCK])
    engine.fail_with = RuntimeError("boom")
    page = window.current_page
    assert isinstance(page, ResetOrUnlockPage)
    qtbot.mouseClick(page.reset, Qt.MouseButton.LeftButton)
    await wait_until(lambda: window.step.kind is StepKind.ERROR)
    assert not window.busy
    assert window.current_page.title.text() == "Something went wrong"


async def test_captcha_refresh_and_audio_without_a_sound_player(
    qtbot: QtBot, window: KioskWindow, engine: RecordingEngine, steps, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audio, "find_player", lambda: None)
    window.render_step(steps[StepKind.IDENTIFY])
    page = window.current_page
    assert isinstance(page, IdentifyPage)
    qtbot.mouseClick(page.refresh, Qt.MouseButton.LeftButton)
    await wait_until(lambda: not window.busy and bool(engine.calls))
    qtbot.mouseClick(page.audio, Qt.MouseButton.LeftButton)
    await wait_until(lambda: not window.busy and len(engine.calls) == 2)
    assert engine.names() == ["refresh_captcha", "captcha_audio"]
    assert window.notice.text().startswith("Sound isn't available on this kiosk")


async def test_start_takes_a_click_while_connecting_and_runs_it_once_connected(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine
) -> None:
    """Paint first: the start page takes a click before the services are up; it waits, busy, then runs."""
    kiosk = KioskWindow(policy)
    show_window(qtbot, kiosk)
    page = kiosk.current_page
    assert isinstance(page, StartPage)
    assert page.begin.text() == "Starting…" and not page.begin.isEnabled()  # not started: nothing to wait for
    opened = asyncio.Event()

    async def connect() -> KioskServices:
        await opened.wait()
        return KioskServices(flow=engine, demo_feed=None, close=_close_nothing)

    task = asyncio.get_running_loop().create_task(kiosk.start(connect))
    await asyncio.sleep(0.05)
    assert page.begin.text() == "Can't access your account?" and page.begin.isEnabled()
    qtbot.mouseClick(page.begin, Qt.MouseButton.LeftButton)
    assert kiosk.busy and kiosk.busy_text.isVisibleTo(kiosk) and not kiosk.stack.isEnabled()
    page.accept()  # Enter while waiting: ignored like any second submit
    await asyncio.sleep(0.1)
    assert engine.calls == [] and kiosk.busy  # nothing reaches an engine before it is there
    opened.set()
    assert await task is not None
    await wait_until(lambda: not kiosk.busy)
    assert engine.names() == ["submit"] and kiosk.stack.isEnabled()
    assert page.begin.isEnabled()


async def test_a_click_waiting_for_a_start_that_fails_ends_on_the_error_page(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine
) -> None:
    kiosk = KioskWindow(policy)
    show_window(qtbot, kiosk)
    page = kiosk.current_page
    assert isinstance(page, StartPage)
    failing = asyncio.Event()

    async def connect() -> KioskServices:
        await failing.wait()
        raise ConnectionError("backend down")

    task = asyncio.get_running_loop().create_task(kiosk.start(connect))
    await asyncio.sleep(0.05)
    qtbot.mouseClick(page.begin, Qt.MouseButton.LeftButton)
    assert kiosk.busy
    failing.set()
    assert await task is None
    await wait_until(lambda: not kiosk.busy)
    assert kiosk.step.kind is StepKind.ERROR and kiosk.stack.isEnabled()
    assert engine.calls == [] and kiosk.services is None


async def test_failed_start_offers_retry_that_reconnects(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine
) -> None:
    kiosk = KioskWindow(policy)
    show_window(qtbot, kiosk)
    attempts: list[int] = []

    async def connect() -> KioskServices:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("backend down")
        return KioskServices(flow=engine, demo_feed=None, close=_close_nothing)

    assert await kiosk.start(connect) is None
    assert kiosk.step.kind is StepKind.ERROR
    kiosk.current_page.accept()  # "Try again"
    await wait_until(lambda: kiosk.services is not None and not kiosk.busy)
    assert kiosk.step.kind is StepKind.START and len(attempts) == 2


async def _close_nothing() -> None:
    return None


async def test_async_ui_tests_run_on_a_qasync_loop() -> None:
    assert isinstance(asyncio.get_running_loop(), qasync.QEventLoop)
