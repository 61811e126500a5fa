"""Checks the engine makes before calling the backend: empty fields, over-long input, password rules, confirm.

These only spare the user a round trip; the backend checks everything again and alone decides.
"""

from __future__ import annotations

import re
import unicodedata

from kiosk.flows.steps import (
    FieldError,
    IdentifyAnswer,
    NewPasswordData,
    QuestionsAnswer,
    QuestionsRegistrationAnswer,
    RegisterQuestionsData,
    SignInAnswer,
)
from kiosk.policy.characters import BIDI_CONTROLS
from kiosk.policy.password import check_password, normalize_password
from kiosk.services.api import (
    MAX_ANSWER,
    MAX_CAPTCHA,
    MAX_CODE,
    MAX_CONTACT,
    MAX_PASSWORD,
    MAX_REGISTERED_ANSWER,
    MAX_USER_ID,
    MIN_REGISTERED_ANSWER,
    PRINTABLE,
    ErrorCode,
    QuestionRule,
    RegistrationKind,
)

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


def sign_in_errors(answer: SignInAnswer) -> tuple[FieldError, ...]:
    """Problems with a typed user ID, current password and CAPTCHA (the password only empty, long or unprintable:
    the directory alone knows whether it is right)."""
    identify = {error.field: error for error in identify_errors(IdentifyAnswer(answer.user_id, answer.captcha))}
    password = _text("password", normalize_password(answer.password), MAX_PASSWORD)
    return _present(identify.get("user_id"), password, identify.get("captcha"))


CONTACT_FIELD = "value"
"""The field of the contact page (its errors: `required`, `too_long`, `bad_characters`, `contact_invalid`)."""
CONTACT_INVALID = ErrorCode.CONTACT_INVALID.value
"""Field-error code: not the shape of an e-mail address (or a phone number)."""

PHONE_DIGITS = (8, 15)
"""Digits after the `+` of an international number (country code included), as the backend counts them."""
_PHONE_SEPARATORS = " -"
"""What people type between digit groups; dropped before the number is checked."""


def _invisible(character: str) -> bool:
    """Controls, format characters (direction marks, zero-width joiners) and every kind of space."""
    return unicodedata.category(character)[0] in "CZ"


def contact_shape_ok(kind: RegistrationKind, value: str) -> bool:
    """Whether `value` (stripped) can be a contact, by the backend's rule (`registration.rules.contact_value`; a
    test keeps the two the same). E-mail: one `@`, a local part, a dotted domain without an empty label.
    Phone: `+` and 8–15 ASCII digits once spaces and dashes are dropped. Nothing invisible in either."""
    if kind is RegistrationKind.EMAIL:
        local, _, domain = value.partition("@")
        labels = domain.split(".")
        visible = not any(_invisible(character) for character in value)
        return visible and value.count("@") == 1 and bool(local) and len(labels) >= 2 and all(labels)
    compact = "".join(character for character in value if character not in _PHONE_SEPARATORS)
    digits = compact[1:]  # anything invisible left after the separators is no digit
    low, high = PHONE_DIGITS
    return compact.startswith("+") and digits.isascii() and digits.isdigit() and low <= len(digits) <= high


def contact_errors(kind: RegistrationKind, value: str) -> tuple[FieldError, ...]:
    """Problems with a typed new authentication e-mail or phone."""
    value = value.strip()
    problem = _text(CONTACT_FIELD, value, MAX_CONTACT)
    if problem is None and not plain(value):
        problem = FieldError(CONTACT_FIELD, BAD_CHARACTERS)
    if problem is None and not contact_shape_ok(kind, value):
        problem = FieldError(CONTACT_FIELD, CONTACT_INVALID)
    return _present(problem)


QUESTIONS_FIELD = "questions"
"""The question picks of the registration page (errors: `count`, `unknown_question`, `question_twice`)."""
ANSWERS_FIELD = "answers"
"""The answers of the registration page (errors: `required`, `too_long`, `bad_characters`, `answer_length`,
`answer_twice`)."""
QUESTION_RULE_FIELDS = {
    QuestionRule.COUNT: QUESTIONS_FIELD,
    QuestionRule.UNKNOWN_QUESTION: QUESTIONS_FIELD,
    QuestionRule.QUESTION_TWICE: QUESTIONS_FIELD,
    QuestionRule.ANSWER_TWICE: ANSWERS_FIELD,
    QuestionRule.ANSWER_LENGTH: ANSWERS_FIELD,
}
"""Which field of the registration page each of the backend's question rules is about."""


def normalize_answer(answer: str) -> str:
    """A security answer as it is compared and hashed: NFKC, case-folded, runs of spaces made one (the backend's
    `recovery.questions.normalize_answer`; a test keeps the two the same)."""
    return " ".join(unicodedata.normalize("NFKC", answer).casefold().split())


def question_rule_error(rule: QuestionRule) -> FieldError:
    """A broken question rule on its field."""
    return FieldError(QUESTION_RULE_FIELDS[rule], rule.value)


def registration_questions_errors(
    answer: QuestionsRegistrationAnswer, data: RegisterQuestionsData
) -> tuple[FieldError, ...]:
    """Problems with picked questions and their answers: the backend's rules (`QuestionRule`), checked here first."""
    picks = [choice for choice, _ in answer.pairs]
    answers = [text for _, text in answer.pairs]
    rules: list[QuestionRule] = []
    if len(picks) != data.count:
        rules.append(QuestionRule.COUNT)
    if any(not 0 <= choice < len(data.choices) for choice in picks):
        rules.append(QuestionRule.UNKNOWN_QUESTION)
    if len(set(picks)) != len(picks):
        rules.append(QuestionRule.QUESTION_TWICE)
    errors = [question_rule_error(rule) for rule in rules]
    if any(not text.strip() for text in answers):
        errors.append(FieldError(ANSWERS_FIELD, REQUIRED))
    elif any(len(text) > MAX_ANSWER for text in answers):
        errors.append(FieldError(ANSWERS_FIELD, TOO_LONG))
    elif not all(printable(text) for text in answers):
        errors.append(FieldError(ANSWERS_FIELD, BAD_CHARACTERS))
    else:
        normalized = [normalize_answer(text) for text in answers]
        if any(not MIN_REGISTERED_ANSWER <= len(text) <= MAX_REGISTERED_ANSWER for text in normalized):
            errors.append(question_rule_error(QuestionRule.ANSWER_LENGTH))
        if len(set(normalized)) != len(normalized):
            errors.append(question_rule_error(QuestionRule.ANSWER_TWICE))
    return tuple(errors)
