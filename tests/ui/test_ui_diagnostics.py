"""The administrator's diagnostics page: the chord and the secret open it, the checks run without freezing the
window, the report shows as rows with Run again and Close, and nothing of it is left for the next person.

The checks here are a FAKE coroutine handing back a fixed report (the real ones are tested against
real servers in tests/services/backend/test_diagnostics.py): the page is what is under test.
"""

from __future__ import annotations

import asyncio

from conftest import _close_nothing, show_window, wait_until
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from test_ui_kiosk_mode import SECRET, kiosk_window, press_chord
from ui_engine_double import RecordingEngine

from kiosk.policy.schema import Policy
from kiosk.services.diagnosis import CheckStatus, DiagnosticReport
from kiosk.ui.diagnostics_page import CheckRow
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import sample_report
from kiosk.ui.window import KioskWindow


class FakeChecks:
    """FAKE checks: each run waits until the test releases it, then returns the sample report."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()

    async def __call__(self) -> DiagnosticReport:
        self.runs += 1
        await self.release.wait()
        return sample_report()


def open_with_secret(qtbot: QtBot, window: KioskWindow, secret: str = SECRET) -> None:
    """The chord, the secret, then Diagnostics."""
    press_chord(qtbot, window)
    qtbot.keyClicks(window.admin_prompt.secret, secret)
    qtbot.mouseClick(window.admin_prompt.diagnostics_button, Qt.MouseButton.LeftButton)


def rows(window: KioskWindow) -> list[CheckRow]:
    """The report's rows on show."""
    assert window.diagnostics is not None
    return [row for row in window.diagnostics.rows.findChildren(CheckRow) if row.parent() is window.diagnostics.rows]


async def test_chord_and_secret_open_the_page_which_stays_responsive_while_the_checks_run(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine
) -> None:
    checks = FakeChecks()
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET, diagnose=checks)
    open_with_secret(qtbot, window)
    await wait_until(lambda: window.diagnostics is not None and window.diagnostics.isVisible())
    panel = window.diagnostics
    assert panel is not None and not window.admin_prompt.isVisible()
    # Busy, not frozen: the loop runs (this test goes on), the spinner shows, Run again waits.
    await wait_until(lambda: checks.runs == 1)
    assert panel.running and panel.spinner.isVisible() and panel.busy_text.text() == "Running the checks…"
    assert not panel.run_button.isEnabled() and panel.close_button.isEnabled()
    checks.release.set()
    await wait_until(lambda: not panel.running)
    shown = rows(window)
    report = sample_report()
    assert [row.name.text() for row in shown] == [check.name for check in report.checks]
    assert [row.status.text() for row in shown][:3] == ["✔ OK", "✔ OK", "⚠ WARN"]
    failed = next(row for row in shown if row.check.status is CheckStatus.FAIL)
    assert failed.status.text() == "✖ FAIL"
    assert failed.hint.text() == "fix: store the right password with `kiosk secrets set smtp`"
    assert failed.accessibleName() == "FAIL: SMTP login smtp.contoso.com:587"
    assert panel.summary.text().startswith("OK 8 · WARN 1 · FAIL 1 · SKIP 1")
    # Run again runs the checks again; Close hides the page and drops the report.
    qtbot.mouseClick(panel.run_button, Qt.MouseButton.LeftButton)
    await wait_until(lambda: checks.runs == 2 and not panel.running)
    qtbot.mouseClick(panel.close_button, Qt.MouseButton.LeftButton)
    assert not panel.isVisible() and panel.report is None
    await wait_until(lambda: rows(window) == [])
    assert window.isVisible() and window.locked_down


async def test_a_wrong_secret_opens_nothing_and_runs_no_check(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine
) -> None:
    checks = FakeChecks()
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET, diagnose=checks)
    open_with_secret(qtbot, window, "not the secret")
    await wait_until(lambda: window.admin_prompt.error.isVisible())
    assert window.diagnostics is None and checks.runs == 0
    assert window.admin_prompt.error.text() == "That is not the administrator secret. 4 tries left."


async def test_without_an_exit_the_secret_still_opens_diagnostics(qtbot: QtBot, engine: RecordingEngine) -> None:
    checks = FakeChecks()
    checks.release.set()
    policy = Policy.model_validate({"kiosk": {"admin_exit": False}})
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET, diagnose=checks)
    press_chord(qtbot, window)
    prompt = window.admin_prompt
    assert prompt.isVisible() and not prompt.exit_button.isVisible() and prompt.diagnostics_button.isVisible()
    qtbot.keyClicks(prompt.secret, SECRET)
    qtbot.keyClick(prompt.secret, Qt.Key.Key_Return)  # Enter: the only action offered
    await wait_until(lambda: window.diagnostics is not None and window.diagnostics.report is not None)
    assert window.isVisible() and window.locked_down


async def test_in_a_plain_window_the_chord_offers_diagnostics_only(
    qtbot: QtBot, qapp: QApplication, policy: Policy, engine: RecordingEngine
) -> None:
    checks = FakeChecks()
    checks.release.set()
    window = KioskWindow(policy, demo=True, admin_secret=lambda: SECRET, diagnose=checks)
    show_window(qtbot, window)
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_close_nothing))
    press_chord(qtbot, window)
    assert window.admin_prompt.isVisible()
    assert not window.admin_prompt.exit_button.isVisible() and window.admin_prompt.diagnostics_button.isVisible()
    qtbot.keyClicks(window.admin_prompt.secret, SECRET)
    qtbot.keyClick(window.admin_prompt.secret, Qt.Key.Key_Return)
    await wait_until(lambda: window.diagnostics is not None and window.diagnostics.report is not None)
    window.diagnostics.close_panel()  # type: ignore[union-attr]
    assert not window.key_filter.catch_close  # Alt+F4 is the window manager's business here


async def test_an_idle_reset_closes_the_page_and_forgets_the_report(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine
) -> None:
    checks = FakeChecks()
    checks.release.set()
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET, diagnose=checks)
    open_with_secret(qtbot, window)
    await wait_until(lambda: window.diagnostics is not None and window.diagnostics.report is not None)
    assert window.idle.running  # an administrator who walks away does not leave the report on show
    window.reset_to_start()  # what the idle timeout does
    assert window.diagnostics is not None
    assert not window.diagnostics.isVisible() and window.diagnostics.report is None
    await wait_until(lambda: not window.busy)


async def test_checks_that_crash_say_so_on_the_page(qtbot: QtBot, policy: Policy, engine: RecordingEngine) -> None:
    async def broken() -> DiagnosticReport:
        raise RuntimeError("a bug in a check")

    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET, diagnose=broken)
    open_with_secret(qtbot, window)
    await wait_until(lambda: window.diagnostics is not None and window.diagnostics.error.isVisible())
    assert window.diagnostics is not None
    assert window.diagnostics.error.text() == "The checks could not run."
    assert window.diagnostics.run_button.isEnabled()


def test_without_checks_or_exit_the_chord_does_nothing(qtbot: QtBot, engine: RecordingEngine) -> None:
    policy = Policy.model_validate({"kiosk": {"admin_exit": False}})
    window = kiosk_window(qtbot, policy, engine, admin_secret=lambda: SECRET)
    press_chord(qtbot, window)
    assert not window.admin_prompt.isVisible()
