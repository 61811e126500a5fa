"""What may be registered: the questions' rules (every rule, every answer length), contacts' forms (as an
attacker would type them), and only the kinds the policy enables for this user."""

from __future__ import annotations

import pytest

from kiosk.policy.schema import Method, MethodSettings, SecurityQuestionSettings
from kiosk.services.api import (
    MAX_ANSWER,
    MAX_REGISTERED_ANSWER,
    MIN_REGISTERED_ANSWER,
    QuestionRegistration,
    QuestionRule,
    RegistrationKind,
)
from kiosk.services.backend import Backend
from kiosk.services.backend.registration.rules import contact_value, question_reasons

from ..conftest import Kiosk, demo_policy, kiosk_for
from .conftest import questions_body, security_info, sign_in

POLICY = demo_policy(security_questions=SecurityQuestionSettings(custom=("Name of your first bicycle?",)))


def _q(answer: str, predefined: str | None = "first_pet", custom: str | None = None) -> QuestionRegistration:
    return QuestionRegistration(predefined_id=predefined, custom_text=custom, answer=answer)


def _three(*answers: str) -> list[QuestionRegistration]:
    ids = ("first_pet", "first_school", "childhood_nickname")
    return [_q(answer, key) for key, answer in zip(ids, answers, strict=True)]


@pytest.mark.parametrize("length", [*range(42), MAX_ANSWER])
def test_every_answer_length(length: int) -> None:
    questions = _three("Alpha one", "Bravo two", "x" * length)
    reasons = question_reasons(questions, POLICY)
    ok = MIN_REGISTERED_ANSWER <= length <= MAX_REGISTERED_ANSWER
    assert reasons == (() if ok else (QuestionRule.ANSWER_LENGTH,)), length


def test_length_is_counted_after_normalising() -> None:
    # Spaces around and between words collapse: "  a   b  " is "a b", 3 characters.
    assert question_reasons(_three("  a   b  ", "Bravo two", "Charlie"), POLICY) == ()
    assert question_reasons(_three("  a    ", "Bravo two", "Charlie"), POLICY) == (QuestionRule.ANSWER_LENGTH,)


@pytest.mark.parametrize(
    ("questions", "rule"),
    [
        (_three("Alpha one", "Bravo two", "Charlie")[:2], QuestionRule.COUNT),
        ([*_three("Alpha one", "Bravo two", "Charlie"), _q("Delta", "first_car")], QuestionRule.COUNT),
        ([*_three("Alpha", "Bravo", "Charlie")[:2], _q("Delta", "no_such_question")], QuestionRule.UNKNOWN_QUESTION),
        ([*_three("Alpha", "Bravo", "Charlie")[:2], _q("Delta", None, "Not the policy's")],
         QuestionRule.UNKNOWN_QUESTION),
        ([*_three("Alpha", "Bravo", "Charlie")[:2], _q("Delta", "first_car", "Name of your first bicycle?")],
         QuestionRule.UNKNOWN_QUESTION),
        ([*_three("Alpha", "Bravo", "Charlie")[:2], _q("Delta", None, None)], QuestionRule.UNKNOWN_QUESTION),
        ([*_three("Alpha", "Bravo", "Charlie")[:2], _q("Delta", "first_pet")], QuestionRule.QUESTION_TWICE),
        (_three("Same answer", "Bravo", " SAME   answer "), QuestionRule.ANSWER_TWICE),
        (_three("Alpha", "Bravo", "C"), QuestionRule.ANSWER_LENGTH),
    ],
)  # fmt: skip
def test_each_rule(questions: list[QuestionRegistration], rule: QuestionRule) -> None:
    assert question_reasons(questions, POLICY) == (rule,)


def test_a_custom_question_of_the_policy_is_accepted() -> None:
    questions = [*_three("Alpha", "Bravo", "Charlie")[:2], _q("Delta", None, "Name of your first bicycle?")]
    assert question_reasons(questions, POLICY) == ()


async def test_every_broken_rule_is_listed_and_nothing_is_stored(kiosk: Kiosk, backend: Backend) -> None:
    await sign_in(kiosk, "fay")
    before = await security_info(backend, "fay")
    body = {
        "questions": [
            {"predefined_id": "first_pet", "answer": "Rex"},
            {"predefined_id": "first_pet", "answer": "rex"},
            {"predefined_id": "made_up", "answer": "ab"},
            {"custom_text": "Not offered", "answer": "x" * 41},
        ]
    }
    error = await kiosk.error("POST", "/session/register/questions", body, 422, "questions_invalid")
    assert error["field"] == "questions"
    assert error["question_reasons"] == ["count", "unknown_question", "question_twice", "answer_twice", "answer_length"]
    assert await security_info(backend, "fay") == before
    rows = [r for r in await backend.audit_records() if r.event == "step_refused"]
    assert rows[-1].outcome == "questions_invalid:count,unknown_question,question_twice,answer_twice,answer_length"


@pytest.mark.parametrize(
    ("kind", "typed", "stored"),
    [
        (RegistrationKind.EMAIL, "Fay@Example.ORG", "Fay@example.org"),
        (RegistrationKind.EMAIL, "  fay.mulder+kiosk@mail.example.co.uk ", "fay.mulder+kiosk@mail.example.co.uk"),
        (RegistrationKind.EMAIL, "f@" + "a" * 249 + ".nl", "f@" + "a" * 249 + ".nl"),  # 254 characters
        (RegistrationKind.PHONE, "+31 6 1234 5678", "+31612345678"),
        (RegistrationKind.PHONE, "+1-202-555-0143", "+12025550143"),
        (RegistrationKind.PHONE, "+12345678", "+12345678"),
        (RegistrationKind.PHONE, "+123456789012345", "+123456789012345"),
    ],
)
def test_contacts_that_are_accepted(kind: RegistrationKind, typed: str, stored: str) -> None:
    assert contact_value(kind, typed) == stored


@pytest.mark.parametrize(
    ("kind", "typed"),
    [
        (RegistrationKind.EMAIL, "fay.example.org"),
        (RegistrationKind.EMAIL, "fay@@example.org"),
        (RegistrationKind.EMAIL, "fay@mail@example.org"),
        (RegistrationKind.EMAIL, "@example.org"),
        (RegistrationKind.EMAIL, "fay@localhost"),
        (RegistrationKind.EMAIL, "fay@example..org"),
        (RegistrationKind.EMAIL, "fay@example.org."),
        (RegistrationKind.EMAIL, "fay mulder@example.org"),
        (RegistrationKind.EMAIL, "f@" + "a" * 250 + ".nl"),  # 255 characters
        (RegistrationKind.EMAIL, "fay\x00@example.org"),
        (RegistrationKind.EMAIL, "fay\t@example.org"),
        (RegistrationKind.EMAIL, "fay\u200f@example.org"),  # right-to-left mark
        (RegistrationKind.EMAIL, "\u202efay@example.org"),  # right-to-left override
        (RegistrationKind.EMAIL, "fay\u200b@example.org"),  # zero-width space
        (RegistrationKind.EMAIL, "fay@exam\u00a0ple.org"),  # no-break space
        (RegistrationKind.EMAIL, ""),
        (RegistrationKind.PHONE, "0612345678"),
        (RegistrationKind.PHONE, "+1234567"),
        (RegistrationKind.PHONE, "+1234567890123456"),
        (RegistrationKind.PHONE, "+31 (6) 1234 5678"),
        (RegistrationKind.PHONE, "+٣١٦١٢٣٤٥٦٧٨"),  # Arabic-Indic digits
        (RegistrationKind.PHONE, "+31612345678\u200f"),
        (RegistrationKind.PHONE, "++31612345678"),
        (RegistrationKind.PHONE, "+31 6 1234 5678 ext 9"),
        (RegistrationKind.PHONE, "fay@example.org"),
    ],
)
def test_contacts_that_are_refused(kind: RegistrationKind, typed: str) -> None:
    assert contact_value(kind, typed) is None


@pytest.mark.parametrize(
    ("value", "code"),
    [
        ("fay mulder@example.org", "contact_invalid"),
        ("fay@localhost", "contact_invalid"),
        ("f@" + "a" * 250 + ".nl", "invalid_request"),  # 255: the request model's limit
        ("fay\x07@example.org", "invalid_request"),  # a control character
        ("fay\u200f@example.org", "invalid_request"),  # a direction mark
    ],
)
async def test_a_refused_contact_sends_nothing(kiosk: Kiosk, backend: Backend, value: str, code: str) -> None:
    await sign_in(kiosk, "fay")
    before = len(await backend.outbox())
    error = await kiosk.error("POST", "/session/register/contact", {"kind": "email", "value": value}, 422, code)
    if code == "contact_invalid":
        assert error["field"] == "value"
    assert len(await backend.outbox()) == before
    assert (await kiosk.ok("GET", "/session")).stage == "register"


async def test_an_administrator_is_never_offered_questions(kiosk: Kiosk, backend: Backend) -> None:
    await sign_in(kiosk, "adele")  # an administrator with an e-mail and an app: a gate first
    view = await kiosk.pass_email()
    assert view.stage == "register" and view.registration is not None
    assert RegistrationKind.QUESTIONS not in view.registration.can_register
    assert view.registration.questions_to_register == 0 and view.registration.question_choices == ()
    before = await security_info(backend, "adele")
    await kiosk.error("POST", "/session/register/questions", questions_body(), 403, "registration_not_allowed")
    assert await security_info(backend, "adele") == before


async def test_only_the_kinds_the_policy_enables() -> None:
    policy = demo_policy(methods=MethodSettings(enabled=(Method.EMAIL, Method.SECURITY_QUESTIONS), required=1))
    async with kiosk_for(policy) as kiosk:
        view = await sign_in(kiosk, "fay")
        assert view.registration is not None
        assert view.registration.can_register == (RegistrationKind.EMAIL, RegistrationKind.QUESTIONS)
        body = {"kind": "phone", "value": "+31612345678"}
        await kiosk.error("POST", "/session/register/contact", body, 403, "registration_not_allowed")
        await kiosk.error("POST", "/session/register/app", None, 403, "registration_not_allowed")
        assert (await kiosk.ok("GET", "/session")).stage == "register"
    # A phone by voice call only: the code is a call.
    policy = demo_policy(methods=MethodSettings(enabled=(Method.EMAIL, Method.MOBILE_CALL), required=1))
    async with kiosk_for(policy) as kiosk:
        await sign_in(kiosk, "fay")
        view = await kiosk.ok("POST", "/session/register/contact", {"kind": "phone", "value": "+31612345678"})
        assert view.registration is not None and view.registration.pending is not None
        assert view.registration.pending.method is Method.MOBILE_CALL
        assert view.registration.pending.masked_target == "•• ••• ••78"
