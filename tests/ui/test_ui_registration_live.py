"""The registration pages against a real flow on a real in-process backend, operated through the window:
sign in, register questions and the authenticator app (its code computed from the key the page shows),
finish; and a password change from the start page to the done page."""

from __future__ import annotations

import json
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
from conftest import show_window, wait_until
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from kiosk.flows.engine import RecoveryFlow
from kiosk.flows.steps import DoneData, DoneOutcome, RegisterAppData, RegisterQuestionsData, StepKind
from kiosk.policy.schema import Policy
from kiosk.services.api import Flow, RegistrationKind
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.client import BackendClient
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.reconfirm import ReconfirmPage
from kiosk.ui.pages.register import RegisterPage
from kiosk.ui.pages.register_app import RegisterAppPage
from kiosk.ui.pages.register_questions import RegisterQuestionsPage
from kiosk.ui.pages.sign_in import SignInPage
from kiosk.ui.pages.start import StartPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.window import KioskWindow

DEMO_POLICY = Path(__file__).resolve().parents[2] / "resources" / "demo-policy.toml"
DEMO_PASSWORD = "Contoso-Demo-2025!"  # the demo directory's documented password of every demo user
NEW_PASSWORD = "Tulip-Harbor-93!"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def policy() -> Policy:
    """The demo policy."""
    with DEMO_POLICY.open("rb") as file:
        return Policy.model_validate(tomllib.load(file))


class Live:
    """A real flow on a real backend; the session token is tapped off the wire to read the CAPTCHA."""

    def __init__(self, backend: Backend, flow: RecoveryFlow, clock: ManualClock, tokens: list[str]) -> None:
        self.backend, self.flow, self.clock, self.tokens = backend, flow, clock, tokens

    async def captcha(self) -> str:
        """What a person reads off the CAPTCHA on show."""
        return await self.backend.captcha_text_for_test(self.tokens[-1])


@pytest.fixture
async def live(policy: Policy) -> AsyncIterator[Live]:
    clock = ManualClock(START)
    backend = await Backend.open(policy, clock=clock, kiosk_id="ui")
    tokens: list[str] = []

    async def tapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def capture(message: dict[str, Any]) -> None:
            if scope.get("path") == "/v1/sessions" and message["type"] == "http.response.body" and message["body"]:
                tokens.append(json.loads(message["body"])["token"])
            await send(message)

        await backend.asgi(scope, receive, capture)

    client = BackendClient.embedded(tapped)
    try:
        yield Live(backend, RecoveryFlow(client, policy, kiosk_id="ui"), clock, tokens)
    finally:
        await client.aclose()
        await backend.close()


async def _close_nothing() -> None:
    return None


@pytest.fixture
async def window(qtbot: QtBot, policy: Policy, live: Live) -> AsyncIterator[KioskWindow]:
    kiosk = KioskWindow(policy, demo=True)
    show_window(qtbot, kiosk)
    kiosk.attach(KioskServices(flow=live.flow, demo_feed=None, close=_close_nothing))
    yield kiosk
    await kiosk.wait_idle()  # qtbot closes the window afterwards


async def until(window: KioskWindow, kind: StepKind) -> None:
    """Wait for the window to show a page of this kind, with no call running."""
    await wait_until(lambda: window.step.kind is kind and not window.busy, timeout=10)


async def sign_in(qtbot: QtBot, window: KioskWindow, live: Live, flow: Flow, user_id: str) -> None:
    """From the start page: the way in, then user ID, password and CAPTCHA typed and Enter."""
    start = window.current_page
    assert isinstance(start, StartPage)
    qtbot.mouseClick(start.ways[flow], Qt.MouseButton.LeftButton)
    await until(window, StepKind.SIGN_IN)
    page = window.current_page
    assert isinstance(page, SignInPage)
    qtbot.keyClicks(page.user_id.edit, user_id)
    qtbot.keyClicks(page.password.edit, DEMO_PASSWORD)
    qtbot.keyClicks(page.captcha.edit, await live.captcha())
    qtbot.keyClick(page.captcha.edit, Qt.Key.Key_Return)


async def test_a_new_employee_registers_questions_and_an_app_at_the_kiosk(
    qtbot: QtBot, window: KioskWindow, live: Live
) -> None:
    await sign_in(qtbot, window, live, Flow.REGISTER, "fay")  # nothing registered: straight to the hub
    await until(window, StepKind.REGISTER)
    hub = window.current_page
    assert isinstance(hub, RegisterPage)
    kinds = [kind for kind, _choice in hub.choices]
    assert RegistrationKind.QUESTIONS in kinds and RegistrationKind.APP in kinds

    qtbot.mouseClick(dict(hub.choices)[RegistrationKind.QUESTIONS], Qt.MouseButton.LeftButton)
    await until(window, StepKind.REGISTER_QUESTIONS)
    questions = window.current_page
    assert isinstance(questions, RegisterQuestionsPage)
    data = window.step.data
    assert isinstance(data, RegisterQuestionsData) and len(questions.rows) == data.count == 3
    for number, (row, answer) in enumerate(zip(questions.rows, ("Biscuit", "Oak Park", "Mrs Ada"), strict=True)):
        row.picker.setFocus()
        for _ in range(number + 1):
            qtbot.keyClick(row.picker, Qt.Key.Key_Down)
        qtbot.keyClicks(row.answer.edit, answer)
    assert questions.progress.text() == "3 of 3 ready"
    qtbot.mouseClick(questions.save, Qt.MouseButton.LeftButton)
    await until(window, StepKind.REGISTER)
    assert hub.news.text() == "✓ Your security questions are registered."
    assert dict(hub.choices)[RegistrationKind.QUESTIONS].heading.text() == "Change your security questions"

    qtbot.mouseClick(dict(hub.choices)[RegistrationKind.APP], Qt.MouseButton.LeftButton)
    await until(window, StepKind.REGISTER_APP)
    app = window.current_page
    assert isinstance(app, RegisterAppPage) and app.qr.has_code
    shown = window.step.data
    assert isinstance(shown, RegisterAppData)
    typed_key = "".join(app.key.text().split())  # what a person types into the app from the page
    totp = pyotp.parse_uri(shown.uri)
    assert isinstance(totp, pyotp.TOTP) and totp.secret == typed_key  # the QR code holds the same key
    qtbot.keyClicks(app.code.edit, pyotp.TOTP(typed_key).at(live.clock.now()))
    qtbot.keyClick(app.code.edit, Qt.Key.Key_Return)
    await until(window, StepKind.REGISTER)
    assert hub.news.text() == "✓ Your authenticator app is registered."
    assert app.key.text() == "" and not app.qr.has_code  # the secret is gone from the page once it is left

    qtbot.mouseClick(hub.done, Qt.MouseButton.LeftButton)
    await until(window, StepKind.DONE)
    done = window.current_page
    assert isinstance(done, DonePage) and done.title.text() == "Your security info is saved"
    step_data = window.step.data
    assert isinstance(step_data, DoneData) and step_data.outcome is DoneOutcome.REGISTERED


async def test_a_wrong_current_password_is_told_on_the_password_field(
    qtbot: QtBot, window: KioskWindow, live: Live
) -> None:
    start = window.current_page
    assert isinstance(start, StartPage)
    qtbot.mouseClick(start.ways[Flow.CHANGE], Qt.MouseButton.LeftButton)
    await until(window, StepKind.SIGN_IN)
    page = window.current_page
    assert isinstance(page, SignInPage)
    assert page.title.text() == "Sign in to change your password"
    qtbot.keyClicks(page.user_id.edit, "emma")
    qtbot.keyClicks(page.password.edit, "Not-The-Password-1")
    qtbot.keyClicks(page.captcha.edit, await live.captcha())
    qtbot.keyClick(page.captcha.edit, Qt.Key.Key_Return)
    await wait_until(lambda: not window.busy and bool(window.step.errors), timeout=10)
    assert window.step.kind is StepKind.SIGN_IN
    assert page.password.error.text().startswith("The user ID or password isn't right.")
    assert page.password.edit.text() == "" and page.user_id.edit.text() == "emma"


async def test_a_password_change_from_the_start_page_to_done(qtbot: QtBot, window: KioskWindow, live: Live) -> None:
    await sign_in(qtbot, window, live, Flow.CHANGE, "emma")
    await until(window, StepKind.NEW_PASSWORD)
    page = window.current_page
    assert isinstance(page, NewPasswordPage)
    assert page.title.text() == "Change your password"
    qtbot.keyClicks(page.password.edit, NEW_PASSWORD)
    qtbot.keyClicks(page.confirm.edit, NEW_PASSWORD)
    qtbot.keyClick(page.confirm.edit, Qt.Key.Key_Return)
    await until(window, StepKind.DONE)  # emma's security info was confirmed at the seed: no reconfirmation
    done = window.current_page
    assert isinstance(done, DonePage) and done.title.text() == "Your password has been changed"


async def test_after_a_change_an_old_registration_is_reconfirmed(
    qtbot: QtBot, window: KioskWindow, live: Live, policy: Policy
) -> None:
    live.clock.advance((policy.registration.reconfirm_days + 1) * 24 * 3600)
    await sign_in(qtbot, window, live, Flow.CHANGE, "emma")
    await until(window, StepKind.NEW_PASSWORD)
    page = window.current_page
    assert isinstance(page, NewPasswordPage)
    qtbot.keyClicks(page.password.edit, NEW_PASSWORD)
    qtbot.keyClicks(page.confirm.edit, NEW_PASSWORD)
    qtbot.keyClick(page.confirm.edit, Qt.Key.Key_Return)
    await until(window, StepKind.RECONFIRM)
    reconfirm = window.current_page
    assert isinstance(reconfirm, ReconfirmPage)
    assert reconfirm.news.text() == "✓ Your password has been changed."  # said first
    assert reconfirm.title.text() == "Is this still up to date?"
    assert any("E-mail: " in line.text() and "@" in line.text() and "emma.jansen" not in line.text()
               for line in reconfirm.lines)  # masked
    assert window.focusWidget() is reconfirm.keep
    qtbot.keyClick(reconfirm.keep, Qt.Key.Key_Return)
    await until(window, StepKind.DONE)
    assert window.current_page.title.text() == "Your password has been changed"
