"""What a user may register and what a registration must look like: pure rules, no I/O.

- which kinds the policy lets this user register (`can_register`): an authentication e-mail needs the
  e-mail method enabled, a phone needs SMS or voice calls, questions and the app their methods; an
  administrator never passes a gate with questions, so is never offered them;
- how many registered methods self-service needs (`methods_needed`, eligibility's gate count) and how many
  the user has (`methods_registered`: distinct factors, as eligibility counts them);
- a new contact's form (`contact_value`) and a set of questions' rules (`question_reasons`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

from kiosk.policy.schema import Method, Policy
from kiosk.services.api import (
    MAX_CONTACT,
    MAX_REGISTERED_ANSWER,
    MIN_REGISTERED_ANSWER,
    QuestionChoice,
    QuestionRegistration,
    QuestionRule,
    RegistrationKind,
)
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.recovery.eligibility import factors_of, gates_required, offered_methods
from kiosk.services.backend.recovery.questions import normalize_answer

PHONE_DIGITS = (8, 15)
"""Digits after the `+` of an E.164-like number (country code included): at least 8, at most 15."""
_PHONE_SEPARATORS = " -"
"""What people type between digit groups and is dropped before the number is checked."""


def code_method(kind: RegistrationKind, policy: Policy) -> Method:
    """How a code reaches a new contact: e-mail; a phone by SMS when the policy enables it, else a call."""
    if kind is RegistrationKind.EMAIL:
        return Method.EMAIL
    return Method.MOBILE_SMS if Method.MOBILE_SMS in policy.methods.enabled else Method.MOBILE_CALL


def can_register(user: DirectoryUser, policy: Policy) -> tuple[RegistrationKind, ...]:
    """The kinds `user` may register under `policy`, in the hub's order."""
    enabled = set(policy.methods.enabled)
    kinds: list[RegistrationKind] = []
    if Method.EMAIL in enabled:
        kinds.append(RegistrationKind.EMAIL)
    if enabled & {Method.MOBILE_SMS, Method.MOBILE_CALL}:
        kinds.append(RegistrationKind.PHONE)
    if Method.SECURITY_QUESTIONS in enabled and not user.is_admin:
        kinds.append(RegistrationKind.QUESTIONS)
    if Method.APP_CODE in enabled:
        kinds.append(RegistrationKind.APP)
    return tuple(kinds)


def methods_needed(user: DirectoryUser, policy: Policy) -> int:
    """How many registered methods (distinct factors) self-service needs for `user`: its gate count."""
    return gates_required(user, policy)


def methods_registered(user: DirectoryUser, policy: Policy) -> int:
    """How many distinct factors `user` can verify with under `policy` (what the gate count is measured by)."""
    return len(factors_of(user, offered_methods(user, policy)))


def has_registered(user: DirectoryUser) -> bool:
    """Whether the account holds anything a gate could check (a contact, questions or an app)."""
    return bool(
        user.auth_email or user.alt_email or user.auth_phone or user.mobile_phone or user.questions or user.totp_secret
    )


def question_choices(policy: Policy) -> tuple[QuestionChoice, ...]:
    """The questions a user may register: the policy's predefined ids, then its custom texts."""
    settings = policy.security_questions
    predefined = (QuestionChoice(predefined_id=question) for question in dict.fromkeys(settings.predefined))
    custom = (QuestionChoice(custom_text=text) for text in dict.fromkeys(settings.custom))
    return (*predefined, *custom)


def _invisible(character: str) -> bool:
    """Controls, format characters (direction marks, zero-width joiners) and every kind of space."""
    return unicodedata.category(character)[0] in "CZ"


def contact_value(kind: RegistrationKind, typed: str) -> str | None:
    """The contact as stored, or None when `typed` cannot be one.

    E-mail: one `@`, a local part, a domain with a dot (no empty label), nothing invisible, at most
    `MAX_CONTACT` characters; the domain is lower-cased. Phone: `+` and 8–15 ASCII digits once spaces and
    dashes are dropped, stored as `+` and the digits.
    """
    value = typed.strip()
    if kind is RegistrationKind.PHONE:
        value = "".join(character for character in value if character not in _PHONE_SEPARATORS)
    if not value or len(value) > MAX_CONTACT or any(_invisible(character) for character in value):
        return None
    if kind is RegistrationKind.EMAIL:
        local, _, domain = value.partition("@")
        labels = domain.split(".")
        if value.count("@") != 1 or not local or len(labels) < 2 or not all(labels):
            return None
        return f"{local}@{domain.lower()}"
    digits = value[1:]
    low, high = PHONE_DIGITS
    if not value.startswith("+") or not digits.isascii() or not digits.isdigit() or not low <= len(digits) <= high:
        return None
    return value


def question_reasons(questions: Sequence[QuestionRegistration], policy: Policy) -> tuple[QuestionRule, ...]:
    """Every rule the questions break, in `QuestionRule`'s order (none: they may be registered)."""
    settings = policy.security_questions
    broken: set[QuestionRule] = set()
    if len(questions) != settings.number_to_register:
        broken.add(QuestionRule.COUNT)
    keys: set[tuple[str, str]] = set()  # (predefined id, custom text): one of them is set
    answers: set[str] = set()
    for question in questions:
        if (question.predefined_id is None) == (question.custom_text is None):
            broken.add(QuestionRule.UNKNOWN_QUESTION)  # exactly one of the two
        elif question.predefined_id is not None and question.predefined_id not in settings.predefined:
            broken.add(QuestionRule.UNKNOWN_QUESTION)
        elif question.custom_text is not None and question.custom_text not in settings.custom:
            broken.add(QuestionRule.UNKNOWN_QUESTION)
        key = (question.predefined_id or "", question.custom_text or "")
        if key in keys:
            broken.add(QuestionRule.QUESTION_TWICE)
        keys.add(key)
        answer = normalize_answer(question.answer)
        if not MIN_REGISTERED_ANSWER <= len(answer) <= MAX_REGISTERED_ANSWER:
            broken.add(QuestionRule.ANSWER_LENGTH)
        elif answer in answers:
            broken.add(QuestionRule.ANSWER_TWICE)
        answers.add(answer)
    return tuple(rule for rule in QuestionRule if rule in broken)
