"""Every code the UI can meet has its own sentence; unknown codes get a generic one, never the raw code."""

from __future__ import annotations

import pytest

from kiosk.flows.steps import FieldError, MethodChoice
from kiosk.policy.password import PasswordRule, PasswordRules
from kiosk.policy.schema import Method
from kiosk.services.api import ErrorCode
from kiosk.ui import texts

GENERIC_FIELD = texts.field_error(FieldError("x", "never-heard-of-it"))
RULES = PasswordRules(min_length=1, max_length=8, required_classes=1, history=1)


@pytest.mark.parametrize("code", [
    "required", "captcha_wrong", "code_wrong", "code_expired", "code_burned", "no_active_code", "answers_wrong",
    "password_rejected", "password_mismatch", "password_rules", "method_not_available", "too_long",
    "unlock_not_allowed",
])
def test_field_error_codes_have_their_own_sentence(code: str) -> None:
    assert texts.field_error(FieldError("field", code)) not in (GENERIC_FIELD, code)


def test_attempts_left_uses_plural_forms() -> None:
    assert texts.field_error(FieldError("code", "code_wrong", 1)).endswith("You have 1 attempt left.")
    assert texts.field_error(FieldError("code", "code_wrong", 2)).endswith("You have 2 attempts left.")


@pytest.mark.parametrize("code", [ErrorCode.UNKNOWN_USER, ErrorCode.ACCOUNT_DISABLED, ErrorCode.NOT_ENABLED,
                                  ErrorCode.TOO_FEW_METHODS, ErrorCode.WRITEBACK_DISABLED])
def test_refusal_codes_have_their_own_reason(code: ErrorCode) -> None:
    assert texts.refusal_reason(code) != texts.refusal_reason("never-heard-of-it")


def test_unknown_error_codes_are_generic_and_never_shown_raw() -> None:
    assert texts.error_title("zzz_new") == "Something went wrong"
    assert "zzz_new" not in texts.error_message("zzz_new")


@pytest.mark.parametrize("method", list(Method))
def test_every_method_has_a_label_and_hint(method: Method) -> None:
    assert texts.method_label(MethodChoice(method, "x•••@y.z"))
    assert texts.method_hint(method)
    assert texts.code_sent(method, "x•••@y.z")


@pytest.mark.parametrize("rule", list(PasswordRule))
def test_every_password_rule_has_a_checklist_line_and_a_rejection(rule: PasswordRule) -> None:
    assert texts.password_rule(rule, RULES) != texts.password_rule("nope", RULES)  # type: ignore[arg-type]
    assert texts.password_rejection(rule, RULES) != texts.password_rejection("nope", RULES)


def test_blocked_until_says_the_time_today_and_the_date_otherwise() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    until = now + timedelta(minutes=10)
    today = texts.blocked_until(until, now)
    assert today.startswith("Try again after ") and today.endswith(".")
    assert "2025" not in today
    tomorrow = texts.blocked_until(now + timedelta(hours=24), now)
    assert tomorrow.startswith("Try again after ") and "2025" in tomorrow
