"""Eligibility: every refusal code, against the real demo policy file and the demo directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.policy.loader import load_policy
from kiosk.policy.schema import EnabledFor, Method, MethodSettings, Policy, ResetSettings
from kiosk.services.api import ErrorCode, Stage
from kiosk.services.backend.audit.log import AuditEvent

from .conftest import Kiosk, demo_policy, kiosk_for

DEMO_POLICY = Path(__file__).resolve().parents[3] / "resources" / "demo-policy.toml"


@pytest.fixture
def policy() -> Policy:
    """The demo policy file as shipped."""
    return load_policy(DEMO_POLICY)


REFUSALS = [
    ("nobody@contoso.com", ErrorCode.UNKNOWN_USER),
    ("dana", ErrorCode.ACCOUNT_DISABLED),
    ("nora", ErrorCode.NOT_ENABLED),
    ("owen", ErrorCode.WRITEBACK_DISABLED),
    ("fay", ErrorCode.TOO_FEW_METHODS),
]


def early(**changes: object) -> Policy:
    """The demo policy with `reset.early_refusals`: refusals told right after the user ID."""
    reset = ResetSettings(enabled_for=EnabledFor.GROUP, groups=("SSPR-Users",), early_refusals=True)
    return demo_policy(reset=reset, **changes)


@pytest.mark.parametrize(("user_id", "code"), REFUSALS)
async def test_early_refusal(user_id: str, code: ErrorCode) -> None:
    async with kiosk_for(early()) as kiosk:
        view = await kiosk.start(user_id)
        assert view.stage is Stage.REFUSED
        assert view.refusal is not None and view.refusal.code is code
        assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", view.refusal.reference)
        assert not view.methods and view.display_name is None
        records = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.REFUSED]
        assert [(r.outcome, r.reference) for r in records] == [(code.value, view.refusal.reference)]
        # A refused session can go nowhere.
        await kiosk.error("POST", "/session/method", {"method": "email"}, 409, "step_not_allowed")
        body = {"user_id": "emma", "captcha": "222222"}
        await kiosk.error("POST", "/session/identify", body, 409, "step_not_allowed")


@pytest.mark.parametrize(("user_id", "code"), REFUSALS)
async def test_refusal_is_hidden_until_a_first_gate(kiosk: Kiosk, user_id: str, code: ErrorCode) -> None:
    view = await kiosk.start(user_id)
    # Exactly what an eligible account sees (test_enumeration.py compares them field by field).
    assert view.stage is Stage.CHOOSE_METHOD and view.refusal is None and view.gates_required == 1
    identified = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.IDENTIFIED]
    assert [r.outcome for r in identified] == [code.value]  # the helpdesk finds the reason by reference
    await kiosk.choose(Method.EMAIL)
    messages = await kiosk.backend.outbox()
    if user_id in ("nobody@contoso.com", "fay"):
        # No e-mail address to prove anything with: nothing is sent, and no typed code can pass.
        assert messages == []
        await kiosk.error("POST", "/session/code", {"code": "12345678"}, 400, "code_wrong")
        return
    # An account holder who proves the account is theirs learns why it cannot reset, and nothing else.
    view = await kiosk.code(await kiosk.sent_code())
    assert view.stage is Stage.REFUSED
    assert view.refusal is not None and view.refusal.code is code
    assert view.display_name is None and not view.methods
    refused = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.REFUSED]
    assert [(r.outcome, r.reference) for r in refused] == [(code.value, view.refusal.reference)]
    await kiosk.error("POST", "/session/password", {"password": "Lantern-Orbit-Meadow-42"}, 409, "step_not_allowed")
    await kiosk.error("POST", "/session/method", {"method": "app_code"}, 409, "step_not_allowed")


async def test_unknown_user_is_not_written_to_the_audit(kiosk: Kiosk) -> None:
    await kiosk.start("Hunter2-typed-in-the-wrong-field")
    assert all(r.user_id == "" for r in await kiosk.backend.audit_records())


async def test_nobody_enabled() -> None:
    reset = ResetSettings(enabled_for=EnabledFor.NONE, early_refusals=True)
    async with kiosk_for(demo_policy(reset=reset)) as kiosk:
        view = await kiosk.start("emma")
        assert view.refusal is not None and view.refusal.code is ErrorCode.NOT_ENABLED


async def test_too_few_methods_when_two_gates_required() -> None:
    methods = MethodSettings(enabled=(Method.EMAIL, Method.APP_CODE), required=2)
    async with kiosk_for(early(methods=methods)) as kiosk:
        view = await kiosk.start("emma")  # e-mail only
        assert view.refusal is not None and view.refusal.code is ErrorCode.TOO_FEW_METHODS
        await kiosk.open()
        view = await kiosk.identify("tara")  # e-mail and app
        assert view.stage is Stage.CHOOSE_METHOD and view.gates_required == 2


async def test_too_few_methods_is_told_after_the_one_gate_the_account_can_pass() -> None:
    methods = MethodSettings(enabled=(Method.EMAIL, Method.APP_CODE), required=2)
    async with kiosk_for(demo_policy(methods=methods)) as kiosk:
        view = await kiosk.start("emma")  # e-mail only
        assert view.stage is Stage.CHOOSE_METHOD and view.gates_required == 2 and view.refusal is None
        view = await kiosk.pass_email()
        assert view.refusal is not None and view.refusal.code is ErrorCode.TOO_FEW_METHODS


async def test_writeback_enabled_lets_on_premises_users_in() -> None:
    async with kiosk_for(demo_policy(on_premises={"writeback": True})) as kiosk:
        await kiosk.start("owen")
        view = await kiosk.pass_email()
        assert view.stage is Stage.NEW_PASSWORD and view.refusal is None


async def test_app_notification_is_never_offered() -> None:
    methods = MethodSettings(enabled=(Method.APP_CODE, Method.APP_NOTIFICATION, Method.EMAIL))
    async with kiosk_for(demo_policy(methods=methods)) as kiosk:
        view = await kiosk.start("tara")
        assert Method.APP_NOTIFICATION not in {m.method for m in view.methods}
        await kiosk.error("POST", "/session/method", {"method": "app_notification"}, 409, "method_not_available")
