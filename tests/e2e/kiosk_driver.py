"""`KioskDriver`: uses the real kiosk window the way a person at the kiosk would, so tests read like user stories.

It types into the pages' real QLineEdits and clicks their real buttons, and waits (without sleeping)
until the window's engine call is done. What a person reads elsewhere it reads from the backend: the
CAPTCHA text through the backend's test hook (a person reads the picture), e-mailed codes from the
dev outbox and authenticator codes from the dev endpoint (a person reads their phone).
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractButton, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from kiosk.flows.steps import AnswerQuestionsData, RegisterQuestionsData, Step, StepKind
from kiosk.policy.schema import Method
from kiosk.services.api import Flow, ReconfirmChoice, RegistrationKind
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditRecord
from kiosk.services.backend.errors import ApiError as BackendApiError
from kiosk.services.client import BackendClient
from kiosk.ui.pages import Page
from kiosk.ui.pages.answer_questions import AnswerQuestionsPage
from kiosk.ui.pages.choose_method import ChooseMethodPage
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.reconfirm import ReconfirmPage
from kiosk.ui.pages.register import RegisterPage
from kiosk.ui.pages.register_app import RegisterAppPage
from kiosk.ui.pages.register_contact import RegisterContactPage
from kiosk.ui.pages.register_questions import RegisterQuestionsPage
from kiosk.ui.pages.reset_or_unlock import ResetOrUnlockPage
from kiosk.ui.pages.sign_in import SignInPage
from kiosk.ui.pages.start import StartPage
from kiosk.ui.window import KioskWindow

REPO = Path(__file__).resolve().parents[2]
DEMO_POLICY = REPO / "resources" / "demo-policy.toml"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
OLD_PASSWORD = "Contoso-Demo-2025!"
"""Every demo user's password before a reset."""
NEW_PASSWORD = "Tulip-Harbor-93!"
"""A new password every demo user may take."""
QUINN_ANSWERS = {"first_pet": "Rex", "first_school": "Oak Park", "childhood_nickname": "Bean"}
"""quinn's security answers, by predefined question id (from the seed file's comments)."""
WAIT_SECONDS = 10.0

PageT = TypeVar("PageT", bound=Page)
Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Scope]]
Send = Callable[[Scope], Awaitable[None]]


@dataclass
class Hold:
    """A request held inside the tap until released: lets a test look at the window mid-call."""

    path: str
    reached: asyncio.Event = field(default_factory=asyncio.Event)
    released: asyncio.Event = field(default_factory=asyncio.Event)


class SessionTap:
    """ASGI middleware in front of the real backend app: records requests and each new session's token.

    A person never needs the token; the tests use it to ask the backend's test hook for the CAPTCHA
    text and to check that a session was really closed.
    """

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self._app = app
        self.tokens: list[str] = []
        self.requests: list[tuple[str, str]] = []
        self.holds: dict[str, Hold] = {}

    @property
    def token(self) -> str:
        """The token of the latest session."""
        assert self.tokens, "no session was opened"
        return self.tokens[-1]

    def hold(self, path: str) -> Hold:
        """Hold the next request to `path` until `Hold.released` is set."""
        self.holds[path] = Hold(path)
        return self.holds[path]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Forward to the backend, noting what goes by."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        self.requests.append((method, path))
        hold = self.holds.pop(path, None)
        if hold is not None:
            hold.reached.set()
            await hold.released.wait()
        if (method, path) != ("POST", "/v1/sessions"):
            await self._app(scope, receive, send)
            return
        body = bytearray()
        status = 0

        async def tap_send(message: Scope) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))
                if not message.get("more_body", False) and status == 201:
                    self.tokens.append(json.loads(bytes(body))["token"])
            await send(message)

        await self._app(scope, receive, tap_send)


@dataclass
class KioskDriver:
    """The kiosk window wired to the real flow, client and backend, and the moves a person makes on it."""

    qtbot: QtBot
    window: KioskWindow
    client: BackendClient
    backend: Backend
    clock: ManualClock
    tap: SessionTap

    # ------------------------------------------------------------------ looking

    @property
    def step(self) -> Step:
        """The Step on show."""
        return self.window.step

    def page(self, page_class: type[PageT]) -> PageT:
        """The page on show, checked to be of `page_class`."""
        page = self.window.current_page
        assert isinstance(page, page_class), f"on the {self.step.kind.value} page, not {page_class.__name__}"
        assert self.window.stack.currentWidget() is page
        return page

    def assert_page(self, kind: StepKind) -> None:
        """The window shows the page of `kind` (and is not busy)."""
        assert not self.window.busy
        assert self.step.kind is kind, f"expected the {kind.value} page, got {self.step.kind.value} {self.step}"
        assert self.window.stack.currentWidget() is self.window.pages[kind]

    def offered_methods(self) -> list[Method]:
        """The methods the choose-method page shows buttons for."""
        return [method for method, _button in self.page(ChooseMethodPage).choices]

    # ------------------------------------------------------------------ waiting

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = WAIT_SECONDS) -> None:
        """Let the qasync loop run (Qt events and asyncio tasks) until `predicate()` holds."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while not predicate():
            if loop.time() > deadline:
                raise AssertionError(f"condition not met in {timeout} s; the window shows {self.step}")
            await asyncio.sleep(0.01)

    async def wait_idle(self) -> None:
        """Wait until the window's engine call is done."""
        await self.wait_until(lambda: not self.window.busy)

    async def wait_for(self, kind: StepKind) -> None:
        """Wait until the window shows the page of `kind`, idle."""
        await self.wait_until(lambda: not self.window.busy and self.step.kind is kind)

    # ------------------------------------------------------------------ hands

    def click(self, button: QAbstractButton) -> None:
        """Click a button with the mouse."""
        assert button.isVisible() and button.isEnabled(), f"{button.text()!r} cannot be clicked"
        self.qtbot.mouseClick(button, Qt.MouseButton.LeftButton)

    def type_into(self, edit: QLineEdit, text: str) -> None:
        """Select what is in a field and type over it, key by key."""
        edit.setFocus()
        edit.selectAll()
        self.qtbot.keyClick(edit, Qt.Key.Key_Backspace)
        self.qtbot.keyClicks(edit, text)

    def press_enter(self, widget: QWidget) -> None:
        """Press Enter where the user is typing."""
        self.qtbot.keyClick(widget, Qt.Key.Key_Return)

    # ------------------------------------------------------------------ the user's moves

    async def begin(self) -> None:
        """Start page: "Can't access your account?"."""
        self.click(self.page(StartPage).begin)
        await self.wait_idle()

    async def captcha_text(self) -> str:
        """What the CAPTCHA picture says (a person reads it; the tests ask the backend's test hook)."""
        return await self.backend.captcha_text_for_test(self.tap.token)

    async def fill_identify(self, user_id: str) -> IdentifyPage:
        """Type the user ID and the CAPTCHA characters, without sending them."""
        page = self.page(IdentifyPage)
        self.type_into(page.user_id.edit, user_id)
        self.type_into(page.captcha.edit, await self.captcha_text())
        return page

    async def identify(self, user_id: str) -> None:
        """Identify page: type the user ID, solve the CAPTCHA, press Enter."""
        page = await self.fill_identify(user_id)
        self.press_enter(page.captcha.edit)
        await self.wait_idle()

    async def choose(self, method: Method) -> None:
        """Choose-method page: click the method's button."""
        buttons = dict(self.page(ChooseMethodPage).choices)
        assert method in buttons, f"{method.value} is not offered: {list(buttons)}"
        self.click(buttons[method])
        await self.wait_idle()

    async def enter_code(self, code: str) -> None:
        """Enter-code page: type the code and click Verify."""
        page = self.page(EnterCodePage)
        self.type_into(page.code.edit, code)
        self.click(page.verify)
        await self.wait_idle()

    async def answer(self, answers: dict[str, str]) -> None:
        """Questions page: type the answer to each asked question (by predefined id) and click Verify."""
        page = self.page(AnswerQuestionsPage)
        data = self.step.data
        assert isinstance(data, AnswerQuestionsData)
        predefined = {question.id: question.predefined_id or "" for question in data.questions}
        for question_id, row in page.rows:
            self.type_into(row.edit, answers[predefined[question_id]])
        self.click(page.verify)
        await self.wait_idle()

    async def choose_reset(self) -> None:
        """Locked-account page: "Reset my password"."""
        self.click(self.page(ResetOrUnlockPage).reset)
        await self.wait_idle()

    async def choose_unlock(self) -> None:
        """Locked-account page: "Unlock my account only"."""
        self.click(self.page(ResetOrUnlockPage).unlock)
        await self.wait_idle()

    def type_new_password(self, password: str, confirm: str | None = None) -> NewPasswordPage:
        """New-password page: type the password and its confirmation, without saving."""
        page = self.page(NewPasswordPage)
        self.type_into(page.password.edit, password)
        self.type_into(page.confirm.edit, password if confirm is None else confirm)
        return page

    async def new_password(self, password: str, confirm: str | None = None) -> None:
        """New-password page: type the password twice and click Save."""
        page = self.type_new_password(password, confirm)
        self.click(page.save)
        await self.wait_idle()

    async def back(self) -> None:
        """Click Back."""
        self.click(self.window.back)
        await self.wait_idle()

    async def cancel(self) -> None:
        """Click Cancel."""
        self.click(self.window.cancel)
        await self.wait_idle()

    # ------------------------------------------------------------------ change and registration (issue 13)

    async def finish(self) -> None:
        """Done page: Finish, back to the start page (the next person's session)."""
        self.click(self.page(DonePage).finish)
        await self.wait_for(StepKind.START)

    async def begin_flow(self, flow: Flow) -> None:
        """Start page: the way in of `flow` ("Change my password", "Set up my security info", …)."""
        self.click(self.page(StartPage).ways[flow])
        await self.wait_idle()

    async def sign_in(self, user_id: str, password: str) -> SignInPage:
        """Sign-in page: type the user ID, the current password and the CAPTCHA, press Enter."""
        page = self.page(SignInPage)
        self.type_into(page.user_id.edit, user_id)
        self.type_into(page.password.edit, password)
        self.type_into(page.captcha.edit, await self.captcha_text())
        self.press_enter(page.captcha.edit)
        await self.wait_idle()
        return page

    async def open_registration(self, kind: RegistrationKind) -> None:
        """Security-info hub: click the choice of `kind`."""
        choices = dict(self.page(RegisterPage).choices)
        assert kind in choices, f"{kind.value} is not offered: {list(choices)}"
        self.click(choices[kind])
        await self.wait_idle()

    async def register_questions(self, answers: dict[str, str]) -> None:
        """Questions page: pick each predefined question (by id) in a row, type its answer, click Save."""
        page = self.page(RegisterQuestionsPage)
        data = self.step.data
        assert isinstance(data, RegisterQuestionsData) and len(page.rows) == len(answers)
        offered = [option.predefined_id for option in data.choices]
        for row, (question_id, answer) in zip(page.rows, answers.items(), strict=True):
            row.picker.setFocus()
            row.pick(offered.index(question_id))
            self.type_into(row.answer.edit, answer)
        self.click(page.save)
        await self.wait_idle()

    async def register_contact(self, value: str) -> None:
        """Contact page (e-mail or phone): type the address or number and click Send code."""
        page = self.page(RegisterContactPage)
        self.type_into(page.contact.edit, value)
        self.click(page.send)
        await self.wait_idle()

    async def confirm_app(self, code: str) -> None:
        """Authenticator page: type the app's current code and press Enter."""
        page = self.page(RegisterAppPage)
        self.type_into(page.code.edit, code)
        self.press_enter(page.code.edit)
        await self.wait_idle()

    async def finish_registration(self) -> None:
        """Security-info hub: Done."""
        self.click(self.page(RegisterPage).done)
        await self.wait_idle()

    async def reconfirm(self, choice: ReconfirmChoice) -> None:
        """"Is this still up to date?": Yes, keep it or Update."""
        page = self.page(ReconfirmPage)
        self.click(page.keep if choice is ReconfirmChoice.KEEP else page.update_info)
        await self.wait_idle()

    # ------------------------------------------------------------------ what a person reads elsewhere

    async def emailed_code(self, address: str) -> str:
        """The latest code e-mailed to `address`, from the dev outbox."""
        messages = [message for message in (await self.client.dev_outbox()).messages if message.to == address]
        codes = [match.group(1) for m in messages if (match := re.search(r"code is (\d{6,10})\b", m.body))]
        assert codes, f"no code was e-mailed to {address}"
        return codes[-1]

    async def app_code(self, login: str) -> str:
        """The authenticator-app code a demo user's phone shows now."""
        authenticator = await self.client.dev_authenticator()
        return next(code.code for code in authenticator.codes if code.user_id == login)

    # ------------------------------------------------------------------ the backend's side

    async def session_alive(self, token: str) -> bool:
        """True while the backend still knows the session of `token`."""
        try:
            await self.backend.captcha_text_for_test(token)
        except BackendApiError:
            return False
        return True

    async def audit_for(self, reference: str) -> list[AuditRecord]:
        """The audit rows of the session with this reference code."""
        return [record for record in await self.backend.audit_records() if record.reference == reference]

    async def sign_in_works(self, login: str, password: str) -> bool:
        """True when `password` is the user's current password in the directory."""
        return await self.backend.directory.verify_password(login, password)


def wrong_code(code: str) -> str:
    """A code of the same length that is certainly not `code`."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)
