"""The kiosk's own checks of sign-in, contacts and questions: the backend's rules, applied before any call.

The kiosk cannot import the backend, so it keeps its own copy of two rules (a contact's shape, how an
answer is normalized); hypothesis checks here that the copies agree with the backend's originals.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kiosk.flows.steps import (
    FieldError,
    QuestionOption,
    QuestionsRegistrationAnswer,
    RegisterQuestionsData,
    SignInAnswer,
)
from kiosk.flows.validation import (
    contact_errors,
    contact_shape_ok,
    normalize_answer,
    registration_questions_errors,
    sign_in_errors,
)
from kiosk.policy.schema import Policy, SecurityQuestionSettings
from kiosk.services.api import (
    MAX_REGISTERED_ANSWER,
    MIN_REGISTERED_ANSWER,
    QuestionRegistration,
    QuestionRule,
    RegistrationKind,
)
from kiosk.services.backend.recovery.questions import normalize_answer as backend_normalize_answer
from kiosk.services.backend.registration.rules import contact_value, question_reasons

DATA = RegisterQuestionsData(
    count=3,
    choices=(
        QuestionOption(predefined_id="first_pet"),
        QuestionOption(predefined_id="first_school"),
        QuestionOption(predefined_id="childhood_nickname"),
        QuestionOption(custom_text="Best teacher?"),
    ),
    min_answer=MIN_REGISTERED_ANSWER,
    max_answer=MAX_REGISTERED_ANSWER,
)
POLICY = Policy(
    security_questions=SecurityQuestionSettings(
        predefined=("first_pet", "first_school", "childhood_nickname"), custom=("Best teacher?",)
    )
)


def _codes(errors: tuple[FieldError, ...]) -> list[tuple[str, str]]:
    return [(error.field, error.code) for error in errors]


def test_sign_in_needs_every_field_and_keeps_the_password_to_the_backend() -> None:
    assert sign_in_errors(SignInAnswer("emma", "any password at all", "AB12")) == ()
    assert _codes(sign_in_errors(SignInAnswer(" ", " ", " "))) == [
        ("user_id", "required"),
        ("password", "required"),
        ("captcha", "required"),
    ]
    assert _codes(sign_in_errors(SignInAnswer("em\u202ema", "pass\x1bword", "AB12"))) == [
        ("user_id", "bad_characters"),
        ("password", "bad_characters"),
    ]


@pytest.mark.parametrize(
    ("kind", "typed", "ok"),
    [
        (RegistrationKind.EMAIL, "fay.mulder@example.org", True),
        (RegistrationKind.EMAIL, " fay@example.org ", True),
        (RegistrationKind.EMAIL, "fay@example", False),
        (RegistrationKind.EMAIL, "fay@@example.org", False),
        (RegistrationKind.EMAIL, "fay@example..org", False),
        (RegistrationKind.EMAIL, "fay mulder@example.org", False),
        (RegistrationKind.EMAIL, "@example.org", False),
        (RegistrationKind.PHONE, "+31 6 1234 5678", True),
        (RegistrationKind.PHONE, "+31-6-12345678", True),
        (RegistrationKind.PHONE, "06 1234 5678", False),  # no country code
        (RegistrationKind.PHONE, "+31 6 (1234) 5678", False),
        (RegistrationKind.PHONE, "+1234567", False),  # 7 digits
        (RegistrationKind.PHONE, "+1234567890123456", False),  # 16 digits
        (RegistrationKind.PHONE, "+٣١٦١٢٣٤٥٦٧٨", False),  # Arabic-Indic digits: not what a gateway dials
    ],
)
def test_contacts_of_the_wrong_shape_are_refused_on_the_field(kind: RegistrationKind, typed: str, ok: bool) -> None:
    errors = contact_errors(kind, typed)
    assert errors == (() if ok else (FieldError("value", "contact_invalid"),))
    assert (contact_value(kind, typed) is not None) == ok


def test_an_empty_or_overlong_contact_is_its_own_error() -> None:
    assert contact_errors(RegistrationKind.EMAIL, "  ") == (FieldError("value", "required"),)
    assert contact_errors(RegistrationKind.EMAIL, "a" * 250 + "@x.org") == (FieldError("value", "too_long"),)
    assert contact_errors(RegistrationKind.PHONE, "+31 6\x00") == (FieldError("value", "bad_characters"),)


_CONTACTISH = st.text(alphabet=st.sampled_from("ab.@+-  0123456789\u200d\u00a0é٣"), max_size=24)


@settings(max_examples=400, deadline=None)
@given(kind=st.sampled_from([RegistrationKind.EMAIL, RegistrationKind.PHONE]), typed=_CONTACTISH)
def test_the_kiosk_accepts_exactly_the_contacts_the_backend_accepts(kind: RegistrationKind, typed: str) -> None:
    assert contact_shape_ok(kind, typed.strip()) == (contact_value(kind, typed) is not None)


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=30))
def test_answers_are_normalized_as_the_backend_normalizes_them(answer: str) -> None:
    assert normalize_answer(answer) == backend_normalize_answer(answer)


def _answer(*pairs: tuple[int, str]) -> QuestionsRegistrationAnswer:
    return QuestionsRegistrationAnswer(pairs)


def _backend_rules(answer: QuestionsRegistrationAnswer) -> tuple[QuestionRule, ...]:
    registrations = [
        QuestionRegistration(
            predefined_id=DATA.choices[choice].predefined_id, custom_text=DATA.choices[choice].custom_text, answer=text
        )
        for choice, text in answer.pairs
    ]
    return question_reasons(registrations, POLICY)


@pytest.mark.parametrize(
    ("answer", "rules"),
    [
        (_answer((0, "Rex"), (1, "Oak Park"), (3, "Mrs Ada")), ()),
        (_answer((0, "Rex"), (1, "Oak Park")), (QuestionRule.COUNT,)),
        (_answer((0, "Rex"), (0, "Oak Park"), (3, "Mrs Ada")), (QuestionRule.QUESTION_TWICE,)),
        (_answer((0, "Rex"), (1, " rex "), (3, "Mrs Ada")), (QuestionRule.ANSWER_TWICE,)),
        (_answer((0, "Re"), (1, "Oak Park"), (3, "Mrs Ada")), (QuestionRule.ANSWER_LENGTH,)),
        (_answer((0, "R e"), (1, "x" * 41), (3, "Mrs Ada")), (QuestionRule.ANSWER_LENGTH,)),
        (_answer((0, "Rex  "), (1, "Oak Park"), (3, "Ada" + " " * 40)), ()),  # spaces are not counted
    ],
)
def test_question_rules_match_the_backends(
    answer: QuestionsRegistrationAnswer, rules: tuple[QuestionRule, ...]
) -> None:
    errors = registration_questions_errors(answer, DATA)
    assert [error.code for error in errors] == [rule.value for rule in rules]
    assert {error.field for error in errors} <= {"questions", "answers"}
    assert _backend_rules(answer) == rules


def test_a_pick_outside_the_choices_and_empty_answers() -> None:
    errors = registration_questions_errors(_answer((0, "Rex"), (1, "Oak"), (9, "Ada")), DATA)
    assert errors == (FieldError("questions", "unknown_question"),)
    errors = registration_questions_errors(_answer((0, "Rex"), (1, " "), (2, "Ada")), DATA)
    assert errors == (FieldError("answers", "required"),)
    errors = registration_questions_errors(_answer((0, "Rex"), (1, "Oak\x00"), (2, "Ada")), DATA)
    assert errors == (FieldError("answers", "bad_characters"),)


def test_the_answers_never_show_in_repr() -> None:
    answer = _answer((0, "Rexanswer"), (1, "Oakanswer"))
    assert "answer" not in repr(answer).replace("hidden answers", "")
