"""Local checks spare a round trip for empty, over-long, mismatched or rule-breaking input."""

from __future__ import annotations

from kiosk.flows.steps import FieldError, IdentifyAnswer, NewPasswordData, QuestionsAnswer
from kiosk.flows.validation import answers_errors, code_errors, identify_errors, new_password_errors
from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import PasswordSettings

RULES = PasswordRules.from_settings(PasswordSettings())
DATA = NewPasswordData(rules=RULES, user_names=("emma", "Emma Example"))
GOOD = "Tulip-Harbor-93!"


def test_identify_needs_both_fields() -> None:
    assert identify_errors(IdentifyAnswer(" ", "")) == (
        FieldError("user_id", "required"),
        FieldError("captcha", "required"),
    )
    assert identify_errors(IdentifyAnswer("emma", "123456")) == ()
    assert identify_errors(IdentifyAnswer("x" * 300, "1")) == (FieldError("user_id", "too_long"),)


def test_code_must_be_typed_and_short() -> None:
    assert code_errors("") == (FieldError("code", "required"),)
    assert code_errors("1" * 17) == (FieldError("code", "too_long"),)
    assert code_errors("12345678") == ()


def test_every_asked_question_needs_an_answer() -> None:
    assert answers_errors(QuestionsAnswer((("q1", "Rex"),)), ("q1", "q2")) == (FieldError("answers", "required"),)
    assert answers_errors(QuestionsAnswer((("q1", "Rex"), ("q2", "  "))), ("q1", "q2")) == (
        FieldError("answers", "required"),
    )
    assert answers_errors(QuestionsAnswer((("q1", "Rex"), ("q2", "x" * 201))), ("q1", "q2")) == (
        FieldError("answers", "too_long"),
    )
    assert answers_errors(QuestionsAnswer((("q1", "Rex"), ("q2", "Paris"))), ("q1", "q2")) == ()


def test_new_password_checks_in_order() -> None:
    assert new_password_errors("", "", DATA) == (FieldError("password", "required"),)
    assert new_password_errors(GOOD, "", DATA) == (FieldError("confirm", "required"),)
    assert new_password_errors(GOOD, GOOD + "x", DATA) == (FieldError("confirm", "password_mismatch"),)
    assert new_password_errors("short", "short", DATA) == (FieldError("password", "password_rules"),)
    assert new_password_errors("Emma-Harbor-93!", "Emma-Harbor-93!", DATA) == (
        FieldError("password", "password_rules"),
    )
    assert new_password_errors(GOOD, GOOD, DATA) == ()
