"""Kiosk mode: locked window flags, close and Alt+F4 restart the wizard, the administrator exit, branding."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import _close_nothing, show_window, wait_until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from ui_engine_double import START_STEP, RecordingEngine

from kiosk.flows.steps import ErrorData, Step, StepKind
from kiosk.policy.schema import Policy
from kiosk.ui.admin_exit import LOCKOUT_SECONDS, MAX_FAILURES, AdminExitGate, ExitVerdict
from kiosk.ui.header import Header, load_logo
from kiosk.ui.pages.error import ErrorPage
from kiosk.ui.pages.start import StartPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import sample_steps
from kiosk.ui.window import KioskWindow

SECRET = "Kiosk-Exit-2025!"


class FakeClock:
    """FAKE monotonic clock for the lock-out."""

    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def kiosk_window(qtbot: QtBot, policy: Policy, engine: RecordingEngine, **kwargs: object) -> KioskWindow:
    """A locked-down window attached to the RecordingEngine; released after the test so qtbot can close it."""
    window = KioskWindow(policy, demo=True, **kwargs)  # type: ignore[arg-type]
    window.lock_down()
    qtbot.addWidget(window, before_close_func=lambda w: w.release())
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    window.show()
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    return window


@pytest.fixture
def steps(policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind."""
    return sample_steps(policy)


def test_lock_down_is_frameless_on_top_without_buttons(qtbot: QtBot, policy: Policy, engine: RecordingEngine) -> None:
    window = kiosk_window(qtbot, policy, engine)
    flags = window.windowFlags()
    assert flags & Qt.WindowType.FramelessWindowHint
    assert flags & Qt.WindowType.WindowStaysOnTopHint
    assert not flags & Qt.WindowType.WindowCloseButtonHint
    assert not flags & Qt.WindowType.WindowMinimizeButtonHint
    assert window.locked_down


async def test_a_close_restarts_the_wizard_instead_of_quitting(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine, steps
) -> None:
    window = kiosk_window(qtbot, policy, engine)
    window.render_step(steps[StepKind.NEW_PASSWORD])
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    engine.queued.append(START_STEP)
    assert window.close() is False
    assert window.isVisible() and closed == []
    await wait_until(lambda: window.step.kind is StepKind.START)
    assert engine.names() == ["cancel"]


async def test_alt_f4_restarts_the_wizard(qtbot: QtBot, policy: Policy, engine: RecordingEngine, steps) -> None:
    window = kiosk_window(qtbot, policy, engine)
    window.render_step(steps[StepKind.ENTER_CODE])
    engine.queued.append(START_STEP)
    focused = window.focusWidget()
    assert focused is not None
    qtbot.keyClick(focused, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    await wait_until(lambda: window.step.kind is StepKind.START)
    assert window.isVisible()


def test_without_kiosk_mode_alt_f4_is_left_alone(qtbot: QtBot, window: KioskWindow) -> None:
    page = window.current_page
    assert isinstance(page, StartPage)
    qtbot.keyClick(page.begin, Qt.Key.Key_F4, Qt.KeyboardModifier.AltModifier)
    assert not window.admin_prompt.isVisible()


def press_chord(qtbot: QtBot, window: KioskWindow) -> None:
    """The administrator chord, Ctrl+Alt+Shift+X."""
    target = window.focusWidget() or window
    modifiers = (
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier
    )
    qtbot.keyClick(target, Qt.Key.Key_X, modifiers)


async def test_the_administrator_exit_closes_with_the_right_secret(
    qtbot: QtBot, qapp: QApplication, policy: Policy, engine: RecordingEngine
) -> None:
    qapp.setQuitOnLastWindowClosed(False)  # as the kiosk app does: the test's own loop must go on
    reads: list[bool] = []

    def read_secret() -> str:
        reads.append(True)
        return SECRET

    window = kiosk_window(qtbot, policy, engine, admin_secret=read_secret)
    closed: list[bool] = []
    window.closed.connect(lambda: closed.append(True))
    press_chord(qtbot, window)
    prompt = window.admin_prompt
    assert prompt.isVisible()
    assert window.focusWidget() is prompt.secret
    assert prompt.secret.accessibleName() == "Administrator secret"
    assert reads == []  # read only when a secret is tried
    assert prompt.exit_button.isVisible() and not prompt.diagnostics_button.isVisible()  # no checks were given
    qtbot.keyClicks(prompt.secret, "wrong")
    qtbot.keyClick(prompt.secret, Qt.Key.Key_Return)
    await wait_until(lambda: prompt.error.isVisible())
    assert reads == [True]
    assert prompt.error.text() == "That is not the administrator secret. 4 tries left."
    assert prompt.secret.text() == "" and not prompt.secret.isUndoAvailable()
    assert window.isVisible()
    qtbot.keyClicks(prompt.secret, SECRET)
    try:
        qtbot.mouseClick(prompt.exit_button, Qt.MouseButton.LeftButton)
        await wait_until(lambda: closed == [True])
        assert not window.locked_down and not window.isVisible()
    finally:
        qapp.setQuitOnLastWindowClosed(True)


def test_escape_closes_the_prompt_and_the_wizard_stays(qtbot: QtBot, policy: Policy, engine: RecordingEngine) -> None:
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET)
    press_chord(qtbot, window)
    qtbot.keyClicks(window.admin_prompt.secret, "half")
    qtbot.keyClick(window.admin_prompt.secret, Qt.Key.Key_Escape)
    assert not window.admin_prompt.isVisible()
    assert window.admin_prompt.secret.text() == ""
    assert window.isVisible() and window.locked_down


def test_no_exit_at_all_when_the_policy_disables_it(qtbot: QtBot, engine: RecordingEngine) -> None:
    policy = Policy.model_validate({"kiosk": {"admin_exit": False}})
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET)
    press_chord(qtbot, window)
    assert not window.admin_prompt.isVisible()


async def test_no_stored_secret_is_said_plainly(qtbot: QtBot, policy: Policy, engine: RecordingEngine) -> None:
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: "")
    press_chord(qtbot, window)
    qtbot.keyClicks(window.admin_prompt.secret, "anything")
    qtbot.keyClick(window.admin_prompt.secret, Qt.Key.Key_Return)
    await wait_until(lambda: window.admin_prompt.error.isVisible())
    assert "kiosk secrets set admin-exit" in window.admin_prompt.error.text()
    assert window.isVisible()


async def test_five_wrong_secrets_lock_the_exit_for_five_minutes() -> None:
    clock = FakeClock()
    gate = AdminExitGate(lambda: SECRET, clock=clock)
    verdicts = [(await gate.check("guess")).verdict for _ in range(MAX_FAILURES)]
    assert verdicts == [ExitVerdict.WRONG] * (MAX_FAILURES - 1) + [ExitVerdict.LOCKED]
    locked = await gate.check(SECRET)  # even the right one, while locked
    assert locked.verdict is ExitVerdict.LOCKED and locked.locked_seconds == LOCKOUT_SECONDS
    clock.now += LOCKOUT_SECONDS
    assert (await gate.check(SECRET)).verdict is ExitVerdict.OPEN
    assert (await gate.check("nope")).tries_left == MAX_FAILURES - 1


async def test_non_ascii_secrets_compare_in_constant_time_too() -> None:
    gate = AdminExitGate(lambda: "Ключ-ä-2025")
    assert (await gate.check("Ключ-ä-2025")).verdict is ExitVerdict.OPEN
    assert (await gate.check("Ключ-a-2025")).verdict is ExitVerdict.WRONG


async def test_the_secret_is_read_off_the_ui_thread() -> None:
    import threading

    readers: list[threading.Thread] = []

    def read_secret() -> str:
        readers.append(threading.current_thread())
        return SECRET

    assert (await AdminExitGate(read_secret).check(SECRET)).verdict is ExitVerdict.OPEN
    assert readers and readers[0] is not threading.main_thread()


async def test_the_lock_out_message_counts_minutes(qtbot: QtBot, policy: Policy, engine: RecordingEngine) -> None:
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET, clock=FakeClock())
    press_chord(qtbot, window)
    for _ in range(MAX_FAILURES):
        qtbot.keyClicks(window.admin_prompt.secret, "guess")
        qtbot.keyClick(window.admin_prompt.secret, Qt.Key.Key_Return)
        await wait_until(lambda: not window.admin_prompt.checking)
    assert window.admin_prompt.error.text() == "Too many wrong tries. Try again in 5 minutes."


async def test_the_secret_is_never_logged(
    qtbot: QtBot, qapp: QApplication, policy: Policy, engine: RecordingEngine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET)
    press_chord(qtbot, window)
    qapp.setQuitOnLastWindowClosed(False)
    try:
        for typed in ("Kiosk-Exit-wrong", SECRET):
            qtbot.keyClicks(window.admin_prompt.secret, typed)
            qtbot.keyClick(window.admin_prompt.secret, Qt.Key.Key_Return)
            await wait_until(lambda: not window.admin_prompt.checking)
    finally:
        qapp.setQuitOnLastWindowClosed(True)
    assert "administrator prompt" in caplog.text
    assert "Kiosk-Exit" not in caplog.text


# --- branding -----------------------------------------------------------------------------------


def test_a_broken_or_missing_logo_shows_the_name_alone(qtbot: QtBot, tmp_path: Path) -> None:
    broken = tmp_path / "logo.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n this is not a picture")
    for path in (str(broken), str(tmp_path / "missing.svg"), str(tmp_path)):
        policy = Policy.model_validate({"kiosk": {"branding": {"organisation": "Fabrikam", "logo": path}}})
        header = Header(policy, demo=False)
        qtbot.addWidget(header)
        assert header.logo.isHidden()
        assert header.organisation.text() == "Fabrikam"


def test_an_svg_logo_is_drawn_at_header_height(qtbot: QtBot, tmp_path: Path) -> None:
    svg = tmp_path / "logo.svg"
    svg.write_text(
        '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10">'
        '<rect width="20" height="10" fill="#c00"/></svg>'
    )
    pixmap = load_logo(str(svg), 44)
    assert (pixmap.width(), pixmap.height()) == (88, 44)
    policy = Policy.model_validate({"kiosk": {"branding": {"organisation": "Fabrikam", "logo": str(svg)}}})
    header = Header(policy, demo=False)
    qtbot.addWidget(header)
    assert not header.logo.isHidden()
    assert header.logo.accessibleName() == "Fabrikam"


def test_the_error_and_start_pages_show_the_policy_helpdesk(qtbot: QtBot, engine: RecordingEngine) -> None:
    policy = Policy.model_validate({"kiosk": {"helpdesk": {
        "text": "Call the Fabrikam service desk.", "phone": "+1 555 0100", "url": "https://help.fabrikam.example",
    }}})
    window = KioskWindow(policy, demo=True)
    show_window(qtbot, window)
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    start = window.current_page
    assert isinstance(start, StartPage)
    assert start.helpdesk.text() == "Need help? Contact your helpdesk: +1 555 0100"
    window.render_step(Step(StepKind.ERROR, ErrorData("service_unavailable", "c0ffee42")))
    page = window.current_page
    assert isinstance(page, ErrorPage)
    assert page.helpdesk.isVisible()
    assert page.helpdesk.text.text() == "Call the Fabrikam service desk."
    assert page.helpdesk.phone.text() == "Phone: +1 555 0100"
    assert page.helpdesk.url.text() == "Web: https://help.fabrikam.example"
    assert page.helpdesk.email.isHidden()


def test_the_default_helpdesk_text_is_translated_and_follows_the_language(
    qtbot: QtBot, engine: RecordingEngine
) -> None:
    from kiosk import i18n

    window = KioskWindow(Policy.model_validate({"kiosk": {"helpdesk": {"phone": "+1 555 0100"}}}), demo=True)
    show_window(qtbot, window)
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    window.render_step(Step(StepKind.ERROR, ErrorData("service_unavailable", "c0ffee42")))
    page = window.current_page
    assert isinstance(page, ErrorPage)
    assert page.helpdesk.text.text() == "Contact the IT service desk."
    try:
        window.set_language("de")
        german = page.helpdesk.text.text()
        with i18n.language("de"):
            assert german == i18n._("Contact the IT service desk.")
        assert german != "Contact the IT service desk."
    finally:
        i18n.set_language("en")


def test_build_window_locks_down_when_the_policy_says_so(qtbot: QtBot, qapp: QApplication) -> None:
    from kiosk.ui.app import build_window

    window = build_window(Policy.model_validate({"kiosk": {"lockdown": True}}), demo=False, kiosk_mode=False)
    try:
        assert window.locked_down
        assert window.windowFlags() & Qt.WindowType.FramelessWindowHint
    finally:
        window.release()
        window.close()
        window.deleteLater()
