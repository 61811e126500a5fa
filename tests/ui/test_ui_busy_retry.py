"""While the engine's call waits to try again (the backend answered `busy`), the footer says so calmly,
in the user's language, and goes back to "Please wait…" for the next call (issue 12, part 6)."""

from __future__ import annotations

import asyncio

from conftest import wait_until
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import StepKind
from kiosk.i18n import SOURCE_LANGUAGE
from kiosk.policy.schema import Policy
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.screenshots import sample_steps
from kiosk.ui.window import KioskWindow


async def test_the_footer_says_busy_while_the_call_waits_to_try_again(
    window: KioskWindow, engine: RecordingEngine, policy: Policy
) -> None:
    assert engine.retrying is not None, "the window listens to the engine once attached"
    window.render_step(sample_steps(policy)[StepKind.NEW_PASSWORD])
    page = window.current_page
    assert isinstance(page, NewPasswordPage)
    engine.hold = asyncio.Event()
    page.password.edit.setText("Tulip-Harbor-93!")
    page.confirm.edit.setText("Tulip-Harbor-93!")
    page.accept()
    await wait_until(lambda: bool(engine.calls))
    assert window.busy_text.text() == "Please wait…"
    engine.retrying(True)
    assert window.busy_text.isVisibleTo(window)
    assert window.busy_text.text() == "The service is busy, trying again…"
    assert window.spinner.accessibleName() == "The service is busy, trying again…"
    window.set_language("ar")
    try:
        assert window.busy_text.text() == "الخدمة مشغولة، جارٍ إعادة المحاولة…"
    finally:
        window.set_language(SOURCE_LANGUAGE)
    engine.retrying(False)
    assert window.busy_text.text() == "Please wait…"
    engine.retrying(True)  # the call ends while waiting (the client gave up): the next call starts calm
    engine.hold.set()
    await wait_until(lambda: not window.busy)
    assert not window.busy_text.isVisibleTo(window)
    assert window.busy_text.text() == "Please wait…"
