"""Eligibility: every refusal code, against the real demo policy file and the demo directory."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kiosk.policy.loader import load_policy
from kiosk.policy.schema import EnabledFor, Method, MethodSettings, Policy, ResetSettings
from kiosk.services.api import ErrorCode, Stage
from kiosk.services.backend.audit import AuditEvent

from .conftest import Kiosk, demo_policy, kiosk_for

DEMO_POLICY = Path(__file__).resolve().parents[3] / "resources" / "demo-policy.toml"


@pytest.fixture
def policy() -> Policy:
    """The demo policy file as shipped."""
    return load_policy(DEMO_POLICY)


@pytest.mark.parametrize(
    ("user_id", "code"),
    [
        ("nobody@contoso.com", ErrorCode.UNKNOWN_USER),
        ("dana", ErrorCode.ACCOUNT_DISABLED),
        ("nora", ErrorCode.NOT_ENABLED),
        ("owen", ErrorCode.WRITEBACK_DISABLED),
        ("fay", ErrorCode.TOO_FEW_METHODS),
    ],
)
async def test_refusal(kiosk: Kiosk, user_id: str, code: ErrorCode) -> None:
    view = await kiosk.start(user_id)
    assert view.stage is Stage.REFUSED
    assert view.refusal is not None and view.refusal.code is code
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", view.refusal.reference)
    assert not view.methods and view.display_name is None
    records = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.REFUSED]
    assert [(r.outcome, r.reference) for r in records] == [(code.value, view.refusal.reference)]
    # A refused session can go nowhere.
    await kiosk.error("POST", "/session/method", {"method": "email"}, 409, "step_not_allowed")
    await kiosk.error("POST", "/session/identify", {"user_id": "emma", "captcha": "222222"}, 409, "step_not_allowed")


async def test_unknown_user_is_not_written_to_the_audit(kiosk: Kiosk) -> None:
    await kiosk.start("Hunter2-typed-in-the-wrong-field")
    assert all(r.user_id == "" for r in await kiosk.backend.audit_records())


async def test_nobody_enabled() -> None:
    async with kiosk_for(demo_policy(reset=ResetSettings(enabled_for=EnabledFor.NONE))) as kiosk:
        view = await kiosk.start("emma")
        assert view.refusal is not None and view.refusal.code is ErrorCode.NOT_ENABLED


async def test_too_few_methods_when_two_gates_required() -> None:
    methods = MethodSettings(enabled=(Method.EMAIL, Method.APP_CODE), required=2)
    async with kiosk_for(demo_policy(methods=methods)) as kiosk:
        view = await kiosk.start("emma")  # e-mail only
        assert view.refusal is not None and view.refusal.code is ErrorCode.TOO_FEW_METHODS
        await kiosk.open()
        view = await kiosk.identify("tara")  # e-mail and app
        assert view.stage is Stage.CHOOSE_METHOD and view.gates_required == 2


async def test_writeback_enabled_lets_on_premises_users_in() -> None:
    async with kiosk_for(demo_policy(on_premises={"writeback": True})) as kiosk:
        view = await kiosk.start("owen")
        assert view.stage is Stage.CHOOSE_METHOD


async def test_app_notification_is_never_offered() -> None:
    methods = MethodSettings(enabled=(Method.APP_CODE, Method.APP_NOTIFICATION, Method.EMAIL))
    async with kiosk_for(demo_policy(methods=methods)) as kiosk:
        view = await kiosk.start("tara")
        assert Method.APP_NOTIFICATION not in {m.method for m in view.methods}
        await kiosk.error("POST", "/session/method", {"method": "app_notification"}, 409, "method_not_available")
