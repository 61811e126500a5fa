"""The language picker on a live flow: the page re-renders in place, typed input stays, Qt and the backend follow."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from conftest import show_window, wait_until
from PySide6.QtCore import QLocale, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

import kiosk.i18n
from kiosk.flows.engine import RecoveryFlow
from kiosk.flows.steps import BeginAnswer, ChooseMethodAnswer, IdentifyAnswer, StepKind
from kiosk.i18n import SOURCE_LANGUAGE, current_language, set_language
from kiosk.i18n.catalogs import compile_catalogs
from kiosk.policy.schema import Method, Policy
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.client import BackendClient
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.qt_language import follow_language
from kiosk.ui.window import KioskWindow


@pytest.fixture(autouse=True)
def _compiled_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, qapp: QApplication) -> Iterator[None]:
    """The shipped catalogs compiled afresh; English (and Qt's left-to-right English) restored afterwards."""
    compile_catalogs(target=tmp_path)
    monkeypatch.setattr(kiosk.i18n, "TRANSLATIONS_DIR", tmp_path)
    yield
    set_language(SOURCE_LANGUAGE)
    follow_language(qapp)


@pytest.fixture
def policy() -> Policy:
    """The demo setup (emma has an e-mail address) offering English, German and Arabic."""
    return Policy.model_validate(
        {
            "kiosk": {"languages": ["en", "de", "ar", "xx"]},
            "methods": {"enabled": ["email", "security_questions"]},
            "directory": {"embedded": {"seed_demo_users": True}},
        }
    )


class Live:
    """A real flow on a real in-process backend; the session token is tapped off the wire to read the CAPTCHA."""

    def __init__(self, backend: Backend, flow: RecoveryFlow, client: BackendClient, tokens: list[str]) -> None:
        self.backend, self.flow, self.client, self.tokens = backend, flow, client, tokens

    async def captcha(self) -> str:
        return await self.backend.captcha_text_for_test(self.tokens[-1])


@pytest.fixture
async def live(policy: Policy) -> AsyncIterator[Live]:
    backend = await Backend.open(policy, clock=ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC)), kiosk_id="ui")
    tokens: list[str] = []

    async def tapped(scope: dict[str, Any], receive: Any, send: Any) -> None:
        async def capture(message: dict[str, Any]) -> None:
            if scope.get("path") == "/v1/sessions" and message["type"] == "http.response.body" and message["body"]:
                tokens.append(json.loads(message["body"])["token"])
            await send(message)

        await backend.asgi(scope, receive, capture)

    client = BackendClient.embedded(tapped)
    try:
        yield Live(backend, RecoveryFlow(client, policy, kiosk_id="ui"), client, tokens)
    finally:
        await client.aclose()
        await backend.close()


async def _close_nothing() -> None:
    return None


async def test_switching_language_on_the_code_page_keeps_the_typed_code(
    qtbot: QtBot, policy: Policy, live: Live, qapp: QApplication
) -> None:
    window = KioskWindow(policy, demo=True)
    show_window(qtbot, window)
    try:
        window.attach(KioskServices(flow=live.flow, demo_feed=None, close=_close_nothing))
        picker = window.header.languages
        # The policy's languages that a catalog serves, each in its own name ("xx" has none).
        assert [picker.itemData(index) for index in range(picker.count())] == ["en", "de", "ar"]
        assert [picker.itemText(index) for index in range(picker.count())] == ["English", "Deutsch", "العربية"]

        await live.flow.submit(BeginAnswer())
        await live.flow.submit(IdentifyAnswer(user_id="emma", captcha=await live.captcha()))
        step = await live.flow.submit(ChooseMethodAnswer(method=Method.EMAIL))
        assert step.kind is StepKind.ENTER_CODE
        window.render_step(step)
        page = window.current_page
        assert isinstance(page, EnterCodePage)
        assert page.title.text() == "Enter your code"
        page.code.edit.setText("123")

        picker.activated.emit(picker.findData("de"))
        assert window.current_page is page and window.step is step  # re-rendered in place, not restarted
        assert page.title.text() == "Code eingeben"
        assert page.verify.text() == "Überprüfen"
        assert window.cancel.text() == "Abbrechen"
        assert page.code.edit.text() == "123"
        assert QLocale().name() == "de_DE"
        assert qapp.layoutDirection() == Qt.LayoutDirection.LeftToRight
        await wait_until(lambda: not window._language_tasks)

        # Codes sent from now on are in German: the backend session learned the switch.
        await live.flow.resend_code()
        assert "Ihr Bestätigungscode" in (await live.backend.outbox())[-1].body

        picker.activated.emit(picker.findData("ar"))
        assert page.title.text() == "أدخل الرمز"
        assert page.code.edit.text() == "123"
        assert window.layoutDirection() == Qt.LayoutDirection.RightToLeft
        assert qapp.layoutDirection() == Qt.LayoutDirection.RightToLeft
        assert QLocale().language() == QLocale.Language.Arabic

        # The person leaves (cancel → start page): the next one starts in the kiosk's language.
        window.render_step(await live.flow.cancel())
        assert window.step.kind is StepKind.START
        assert current_language() == "en" and window.layoutDirection() == Qt.LayoutDirection.LeftToRight
        assert window.header.languages.currentData() == "en"
    finally:
        await window.wait_idle()
        window.release()
        window.close()


def test_qt_stock_strings_follow_the_language(qapp: QApplication) -> None:
    set_language("de")
    assert follow_language(qapp)  # PySide6 ships qtbase_de.qm
    assert QApplication.translate("QPlatformTheme", "Cancel") == "Abbrechen"
    set_language("xx")  # English: Qt's own English catalog, or none at all, both fine
    follow_language(qapp)
    assert QApplication.translate("QPlatformTheme", "Cancel") == "Cancel"
