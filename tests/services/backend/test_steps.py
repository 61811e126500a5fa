"""The backend alone decides: calls the session has not earned are refused, whatever the client sends."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.policy.schema import Method
from kiosk.services.api import Stage
from kiosk.services.backend.audit.log import AuditEvent

from .conftest import DEMO_PASSWORD, GOOD_PASSWORD, Kiosk

EARLY_CALLS: list[tuple[str, str, Any]] = [
    ("POST", "/session/password", {"password": GOOD_PASSWORD}),
    ("POST", "/session/action", {"action": "unlock"}),
    ("POST", "/session/action", {"action": "reset"}),
    ("POST", "/session/answers", {"answers": [{"id": "q1", "answer": "Rex"}]}),
    ("POST", "/session/code/resend", None),
]


@pytest.mark.parametrize(("method", "path", "body"), EARLY_CALLS)
async def test_finish_calls_refused_before_identify(kiosk: Kiosk, method: str, path: str, body: Any) -> None:
    await kiosk.open()
    await kiosk.error(method, path, body, 409, "step_not_allowed")


@pytest.mark.parametrize(("method", "path", "body"), EARLY_CALLS)
async def test_finish_calls_refused_before_the_gates(kiosk: Kiosk, method: str, path: str, body: Any) -> None:
    await kiosk.start("luke")  # locked: unlock is what an attacker would want
    await kiosk.error(method, path, body, 409, "step_not_allowed")
    await kiosk.choose(Method.EMAIL)
    if path != "/session/code/resend":
        await kiosk.error(method, path, body, 409, "step_not_allowed")
    assert await kiosk.backend.directory.is_locked("luke")
    assert await kiosk.backend.directory.verify_password("luke", DEMO_PASSWORD)
    refused = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.STEP_REFUSED]
    assert refused and all(r.user_id == "luke" for r in refused)


async def test_unlock_refused_after_one_of_two_gates(kiosk: Kiosk) -> None:
    await kiosk.backend.directory.set_locked("tara", True)
    await kiosk.start("tara")
    await kiosk.pass_email()
    await kiosk.error("POST", "/session/action", {"action": "unlock"}, 409, "step_not_allowed")
    await kiosk.error("POST", "/session/password", {"password": GOOD_PASSWORD}, 409, "step_not_allowed")
    assert await kiosk.backend.directory.is_locked("tara")


async def test_action_refused_when_not_locked(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    view = await kiosk.pass_email()
    assert view.stage is Stage.NEW_PASSWORD and not view.locked
    await kiosk.error("POST", "/session/action", {"action": "unlock"}, 409, "step_not_allowed")


async def test_nothing_after_done(kiosk: Kiosk) -> None:
    await kiosk.start("luke")
    await kiosk.pass_email()
    await kiosk.ok("POST", "/session/action", {"action": "unlock"})
    await kiosk.error("POST", "/session/password", {"password": GOOD_PASSWORD}, 409, "step_not_allowed")
    await kiosk.error("POST", "/session/method", {"method": "email"}, 409, "step_not_allowed")
    await kiosk.error("POST", "/session/action", {"action": "reset"}, 409, "step_not_allowed")


async def test_captcha_only_while_identifying(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    await kiosk.error("POST", "/session/captcha", None, 409, "step_not_allowed")
    await kiosk.error("GET", "/session/captcha/audio", None, 409, "step_not_allowed")
    await kiosk.error("POST", "/session/identify", {"user_id": "quinn", "captcha": "234567"}, 409, "step_not_allowed")


async def test_code_before_choosing_a_method(kiosk: Kiosk) -> None:
    await kiosk.open()
    await kiosk.error("POST", "/session/code", {"code": "12345678"}, 409, "step_not_allowed")
    await kiosk.identify("emma")
    await kiosk.error("POST", "/session/code", {"code": "12345678"}, 409, "no_active_code")


async def test_questions_keep_when_switching_back(kiosk: Kiosk) -> None:
    await kiosk.start("adele")
    await kiosk.error("POST", "/session/answers", {"answers": [{"id": "q1", "answer": "x"}]}, 409, "step_not_allowed")


async def test_sessions_are_independent(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    await kiosk.pass_email()
    first = kiosk.token
    await kiosk.start("luke")  # a second session, same kiosk
    await kiosk.error("POST", "/session/action", {"action": "unlock"}, 409, "step_not_allowed")
    kiosk.token = first
    assert (await kiosk.ok("GET", "/session")).stage is Stage.NEW_PASSWORD
