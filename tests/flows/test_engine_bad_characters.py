"""Control characters and lone surrogates are caught by the engine: a field message, no backend call."""

from __future__ import annotations

import pytest
from flow_driver import NEW_PASSWORD, Kiosk

from kiosk.flows.steps import (
    AnswerQuestionsData,
    BeginAnswer,
    ChooseMethodAnswer,
    CodeAnswer,
    FieldError,
    IdentifyAnswer,
    NewPasswordAnswer,
    QuestionsAnswer,
    StepKind,
)
from kiosk.flows.validation import BAD_CHARACTERS, printable
from kiosk.policy.schema import Method
from kiosk.ui.texts import field_error

EMMA = "emma.jansen@contoso.com"
BAD = ["emma\x00", "emma\x1b[31m", "em\nma", "emma\t", "emma\x7f", "emma\x85", "emma\ud800"]


@pytest.mark.parametrize("value", BAD)
def test_the_local_rule_matches_the_backend(value: str) -> None:
    assert not printable(value)


@pytest.mark.parametrize("value", ["emma", "Emma Jansen", "Çağrı-ß-😀", "p a s s  w o r d!"])
def test_printable_unicode_and_spaces_are_fine(value: str) -> None:
    assert printable(value)


def test_the_kiosk_says_what_is_wrong() -> None:
    message = field_error(FieldError("user_id", BAD_CHARACTERS))
    assert message and "bad_characters" not in message


@pytest.mark.parametrize("value", BAD)
async def test_a_control_character_in_the_user_id_is_a_field_error(kiosk: Kiosk, value: str) -> None:
    await kiosk.flow.submit(BeginAnswer())
    step = await kiosk.flow.submit(IdentifyAnswer(value, "123456"))
    assert step.kind is StepKind.IDENTIFY
    assert step.errors == (FieldError("user_id", BAD_CHARACTERS),)
    step = await kiosk.flow.submit(IdentifyAnswer("emma", "12\x0034"))
    assert step.errors == (FieldError("captcha", BAD_CHARACTERS),)
    assert kiosk.calls("POST", "/v1/session/identify") == 0


async def test_code_answers_and_password_get_a_field_error(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    step = await kiosk.flow.submit(CodeAnswer("123\x00456"))
    assert step.kind is StepKind.ENTER_CODE
    assert step.error_for("code") == FieldError("code", BAD_CHARACTERS)
    assert kiosk.calls("POST", "/v1/session/code") == 0
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA)))
    assert step.kind is StepKind.NEW_PASSWORD
    bad = NEW_PASSWORD + "\x1b"
    step = await kiosk.flow.submit(NewPasswordAnswer(bad, bad))
    assert step.kind is StepKind.NEW_PASSWORD
    assert step.error_for("password") == FieldError("password", BAD_CHARACTERS)
    assert kiosk.calls("POST", "/v1/session/password") == 0
    spaced = "Tulip Harbor 93 ! é"
    assert (await kiosk.flow.submit(NewPasswordAnswer(spaced, spaced))).kind is StepKind.DONE


async def test_an_answer_with_a_newline_is_a_field_error(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("quinn")
    asked = await kiosk.flow.submit(ChooseMethodAnswer(Method.SECURITY_QUESTIONS))
    assert isinstance(asked.data, AnswerQuestionsData)
    step = await kiosk.flow.submit(QuestionsAnswer(tuple((q.id, "Rex\n") for q in asked.data.questions)))
    assert step.kind is StepKind.ANSWER_QUESTIONS
    assert step.error_for("answers") == FieldError("answers", BAD_CHARACTERS)
    assert kiosk.calls("POST", "/v1/session/answers") == 0
