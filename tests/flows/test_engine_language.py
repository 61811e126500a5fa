"""`RecoveryFlow.language_changed`: the open session learns the new language; the page on show stays."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flow_driver import Kiosk

import kiosk.i18n
from kiosk.flows.engine import RecoveryFlow
from kiosk.flows.steps import BeginAnswer, ChooseMethodAnswer, StepKind
from kiosk.i18n.catalogs import compile_catalogs
from kiosk.policy.schema import Method, Policy


@pytest.fixture(autouse=True)
def _compiled_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    compile_catalogs(target=tmp_path)
    monkeypatch.setattr(kiosk.i18n, "TRANSLATIONS_DIR", tmp_path)
    yield


@pytest.fixture
def chosen() -> list[str]:
    """The language the UI shows (what the engine's `locale` callable reads)."""
    return ["en"]


@pytest.fixture
def flow(kiosk: Kiosk, policy: Policy, chosen: list[str]) -> RecoveryFlow:
    """A flow over the kiosk's client whose language is `chosen[0]`."""
    flow = RecoveryFlow(kiosk.client, policy, kiosk_id="test-kiosk", locale=lambda: chosen[0])
    kiosk.flow = flow
    return flow


async def _newest_body(kiosk: Kiosk) -> str:
    return (await kiosk.backend.outbox())[-1].body


async def test_codes_after_a_switch_come_in_the_new_language(
    kiosk: Kiosk, flow: RecoveryFlow, chosen: list[str]
) -> None:
    await flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    step = await flow.submit(ChooseMethodAnswer(method=Method.EMAIL))
    assert step.kind is StepKind.ENTER_CODE
    assert "verification code is" in await _newest_body(kiosk)

    chosen[0] = "de-CH"
    await flow.language_changed()
    assert flow.step is step  # nothing re-rendered, nothing restarted
    assert kiosk.calls("POST", "/v1/session/locale") == 1
    await flow.resend_code()
    assert "Ihr Bestätigungscode für Contoso" in await _newest_body(kiosk)


async def test_without_a_session_nothing_is_sent_and_the_next_session_opens_in_the_new_language(
    kiosk: Kiosk, flow: RecoveryFlow, chosen: list[str]
) -> None:
    chosen[0] = "ar"
    await flow.language_changed()
    assert kiosk.wire.requests == []
    await flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    await flow.submit(ChooseMethodAnswer(method=Method.EMAIL))
    assert "رمز التحقق" in await _newest_body(kiosk)


async def test_a_backend_that_cannot_be_told_does_not_stop_the_flow(
    kiosk: Kiosk, flow: RecoveryFlow, chosen: list[str]
) -> None:
    await flow.submit(BeginAnswer())
    step = await kiosk.identify("emma")
    chosen[0] = "de"
    kiosk.wire.fail_next(httpx.ConnectError("down"))
    await flow.language_changed()  # logged, not raised
    assert flow.step is step
    step = await flow.submit(ChooseMethodAnswer(method=Method.EMAIL))
    assert step.kind is StepKind.ENTER_CODE
    assert "verification code is" in await _newest_body(kiosk)  # the session kept its language
