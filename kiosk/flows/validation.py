"""Checks the engine makes before calling the backend: empty fields, over-long input, password rules, confirm.

These only spare the user a round trip; the backend checks everything again and alone decides.
"""

from __future__ import annotations

import re

from kiosk.flows.steps import FieldError, IdentifyAnswer, NewPasswordData, QuestionsAnswer
from kiosk.policy.characters import BIDI_CONTROLS
from kiosk.policy.password import check_password, normalize_password
from kiosk.services.api import MAX_ANSWER, MAX_CAPTCHA, MAX_CODE, MAX_PASSWORD, MAX_USER_ID, PRINTABLE

REQUIRED = "required"
"""Field-error code: nothing was typed."""
TOO_LONG = "too_long"
"""Field-error code: more was typed than any valid value can hold."""
CONFIRM_MISMATCH = "password_mismatch"
"""Field-error code: the two passwords differ."""
FAILS_RULES = "password_rules"
"""Field-error code: the password fails the live checklist."""
BAD_CHARACTERS = "bad_characters"
"""Field-error code: a control character (NUL, escape, tab, newline …) or a lone surrogate was typed or pasted."""

_PRINTABLE = re.compile(PRINTABLE)


def printable(value: str) -> bool:
    """Whether the backend's character rule (api.PRINTABLE, no lone surrogates) accepts `value`."""
    return _PRINTABLE.fullmatch(value) is not None and not any("\ud800" <= ch <= "\udfff" for ch in value)


def plain(value: str) -> bool:
    """Whether the backend's identifier rule (api.Identifier) accepts `value`: printable, no direction marks."""
    return printable(value) and BIDI_CONTROLS.isdisjoint(value)


def _text(field: str, value: str, limit: int) -> FieldError | None:
    if not value.strip():
        return FieldError(field, REQUIRED)
    if len(value) > limit:
        return FieldError(field, TOO_LONG)
    if not printable(value):
        return FieldError(field, BAD_CHARACTERS)
    return None


def _present(*errors: FieldError | None) -> tuple[FieldError, ...]:
    return tuple(error for error in errors if error is not None)


def identify_errors(answer: IdentifyAnswer) -> tuple[FieldError, ...]:
    """Problems with a typed user ID and CAPTCHA."""
    user_id = _text("user_id", answer.user_id, MAX_USER_ID)
    if user_id is None and not plain(answer.user_id):
        user_id = FieldError("user_id", BAD_CHARACTERS)
    return _present(user_id, _text("captcha", answer.captcha, MAX_CAPTCHA))


def code_errors(code: str) -> tuple[FieldError, ...]:
    """Problems with a typed one-time code."""
    return _present(_text("code", code, MAX_CODE))


def answers_errors(answer: QuestionsAnswer, question_ids: tuple[str, ...]) -> tuple[FieldError, ...]:
    """Problems with typed security answers: one for each asked question, none empty."""
    given = dict(answer.answers)
    if set(given) != set(question_ids) or any(not given[qid].strip() for qid in question_ids):
        return (FieldError("answers", REQUIRED),)
    if any(len(given[qid]) > MAX_ANSWER for qid in question_ids):
        return (FieldError("answers", TOO_LONG),)
    if not all(printable(given[qid]) for qid in question_ids):
        return (FieldError("answers", BAD_CHARACTERS),)
    return ()


def new_password_errors(password: str, confirm: str, data: NewPasswordData) -> tuple[FieldError, ...]:
    """Problems with a typed new password: empty, too long, not matching its confirmation, failing the rules.

    Both are compared in NFC, the form the backend checks and stores; invisible direction marks are bad
    characters, as in identifiers: nobody sees them, so nobody could type the password again.
    """
    password, confirm = normalize_password(password), normalize_password(confirm)
    if not password:
        return (FieldError("password", REQUIRED),)
    if len(password) > MAX_PASSWORD:
        return (FieldError("password", TOO_LONG),)
    if not plain(password):
        return (FieldError("password", BAD_CHARACTERS),)
    if not confirm:
        return (FieldError("confirm", REQUIRED),)
    if password != confirm:
        return (FieldError("confirm", CONFIRM_MISMATCH),)
    if not check_password(password, data.rules, data.user_names).ok:
        return (FieldError("password", FAILS_RULES),)
    return ()
