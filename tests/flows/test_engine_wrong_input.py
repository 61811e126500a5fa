"""Wrong input keeps the page and says what is wrong; local checks never reach the backend."""

from __future__ import annotations

import pytest
from flow_driver import NEW_PASSWORD, QUINN_ANSWERS, Kiosk, demo_policy

from kiosk.flows.steps import (
    AnswerQuestionsData,
    BeginAnswer,
    ChooseMethodAnswer,
    ChooseMethodData,
    CodeAnswer,
    EnterCodeData,
    FieldError,
    IdentifyAnswer,
    IdentifyData,
    NewPasswordAnswer,
    NewPasswordData,
    QuestionsAnswer,
    StepKind,
)
from kiosk.policy.password import PasswordRule
from kiosk.policy.schema import Method

EMMA = "emma.jansen@contoso.com"


async def at_enter_code(kiosk: Kiosk, user_id: str = "emma", method: Method = Method.EMAIL) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify(user_id)
    step = await kiosk.flow.submit(ChooseMethodAnswer(method))
    assert step.kind is StepKind.ENTER_CODE


async def test_a_wrong_captcha_shows_a_new_picture_and_keeps_the_user_id(kiosk: Kiosk) -> None:
    first = await kiosk.flow.submit(BeginAnswer())
    assert isinstance(first.data, IdentifyData)
    step = await kiosk.flow.submit(IdentifyAnswer("emma", "000000"))  # 0 is never in a CAPTCHA
    assert step.kind is StepKind.IDENTIFY
    assert isinstance(step.data, IdentifyData)
    assert step.data.user_id == "emma"
    assert step.data.captcha_png != first.data.captcha_png
    assert step.error_for("captcha") == FieldError("captcha", "captcha_wrong")
    assert (await kiosk.identify("emma")).kind is StepKind.CHOOSE_METHOD


async def test_empty_fields_are_caught_locally(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    step = await kiosk.flow.submit(IdentifyAnswer("  ", ""))
    assert step.errors == (FieldError("user_id", "required"), FieldError("captcha", "required"))
    assert kiosk.calls("POST", "/v1/session/identify") == 0
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    step = await kiosk.flow.submit(CodeAnswer(" "))
    assert step.error_for("code") == FieldError("code", "required")
    assert kiosk.calls("POST", "/v1/session/code") == 0


async def test_a_wrong_code_counts_down_the_attempts(kiosk: Kiosk) -> None:
    await at_enter_code(kiosk)
    step = await kiosk.flow.submit(CodeAnswer("00000000"))
    assert step.kind is StepKind.ENTER_CODE
    assert isinstance(step.data, EnterCodeData)
    assert step.data.attempts_left == 4
    assert step.error_for("code") == FieldError("code", "code_wrong", 4)
    # the right code still works after a wrong one, typed with spaces as it is printed
    code = await kiosk.emailed_code(EMMA)
    step = await kiosk.flow.submit(CodeAnswer(f"{code[:4]} {code[4:]}"))
    assert step.kind is StepKind.NEW_PASSWORD


# 4 tries per code: with 5, the 5th wrong try is also the user's 5th failed identity proof, which
# blocks the user for 24 h (SPEC §4; test_engine_failures.py) before the burned code could be seen.
FOUR_TRIES = demo_policy(methods={"code_attempts": 4})


@pytest.mark.parametrize("policy", [FOUR_TRIES])
async def test_a_burned_code_asks_for_a_new_one(kiosk: Kiosk) -> None:
    await at_enter_code(kiosk)
    for _ in range(3):
        await kiosk.flow.submit(CodeAnswer("00000000"))
    step = await kiosk.flow.submit(CodeAnswer("00000000"))
    assert step.kind is StepKind.ENTER_CODE
    assert isinstance(step.data, EnterCodeData)
    assert step.data.can_resend
    assert step.data.attempts_left == 0
    assert step.error_for("code") == FieldError("code", "code_burned", 0)
    step = await kiosk.flow.resend_code()
    assert isinstance(step.data, EnterCodeData)
    assert (step.data.attempts_left, step.errors) == (4, ())
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA)))
    assert step.kind is StepKind.NEW_PASSWORD


async def test_an_expired_code_asks_for_a_new_one(kiosk: Kiosk) -> None:
    await at_enter_code(kiosk)
    code = await kiosk.emailed_code(EMMA)
    kiosk.clock.advance(5 * 60 + 1)
    step = await kiosk.flow.submit(CodeAnswer(code))
    assert step.kind is StepKind.ENTER_CODE
    assert isinstance(step.data, EnterCodeData)
    assert step.data.can_resend
    assert step.error_for("code") == FieldError("code", "code_expired")
    await kiosk.flow.resend_code()
    assert (await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA)))).kind is StepKind.NEW_PASSWORD


@pytest.mark.parametrize("policy", [FOUR_TRIES])
async def test_a_used_up_app_code_closes_the_method(kiosk: Kiosk) -> None:
    await at_enter_code(kiosk, "tara", Method.APP_CODE)
    for _ in range(4):
        step = await kiosk.flow.submit(CodeAnswer("000000"))
    assert step.kind is StepKind.CHOOSE_METHOD
    assert isinstance(step.data, ChooseMethodData)
    assert Method.APP_CODE not in [choice.method for choice in step.data.methods]
    assert step.error_for("method") == FieldError("method", "code_burned", 0)


async def test_wrong_answers_keep_the_questions(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("quinn")
    asked = await kiosk.flow.submit(ChooseMethodAnswer(Method.SECURITY_QUESTIONS))
    assert isinstance(asked.data, AnswerQuestionsData)
    wrong = tuple((q.id, "wrong answer") for q in asked.data.questions)
    step = await kiosk.flow.submit(QuestionsAnswer(wrong))
    assert step.kind is StepKind.ANSWER_QUESTIONS
    assert step.data == asked.data
    assert step.error_for("answers") == FieldError("answers", "answers_wrong", 4)
    missing = await kiosk.flow.submit(QuestionsAnswer(wrong[:1]))
    assert missing.error_for("answers") == FieldError("answers", "required")
    right = tuple((q.id, QUINN_ANSWERS[q.predefined_id or ""]) for q in asked.data.questions)
    assert (await kiosk.flow.submit(QuestionsAnswer(right))).kind is StepKind.NEW_PASSWORD


async def at_new_password(kiosk: Kiosk) -> None:
    await at_enter_code(kiosk)
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA)))
    assert step.kind is StepKind.NEW_PASSWORD


async def test_password_mismatch_and_rules_are_caught_locally(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD + "?"))
    assert step.errors == (FieldError("confirm", "password_mismatch"),)
    step = await kiosk.flow.submit(NewPasswordAnswer("Emma-Jansen-93!", "Emma-Jansen-93!"))
    assert step.errors == (FieldError("password", "password_rules"),)
    step = await kiosk.flow.submit(NewPasswordAnswer("", ""))
    assert step.errors == (FieldError("password", "required"),)
    assert kiosk.calls("POST", "/v1/session/password") == 0


async def test_the_live_checklist_uses_the_page_rules_and_names(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    assert kiosk.flow.check_password(NEW_PASSWORD).ok
    check = kiosk.flow.check_password("jansen-Harbor-93")
    assert PasswordRule.NOT_USER_NAME in check.failed
    assert PasswordRule.NO_BANNED_WORDS in kiosk.flow.check_password("Contoso-Harbor-93").failed


async def test_a_recently_used_password_is_rejected_by_the_backend(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    assert (await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))).kind is StepKind.DONE
    await kiosk.flow.restart()
    await at_new_password(kiosk)
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.kind is StepKind.NEW_PASSWORD
    assert isinstance(step.data, NewPasswordData)
    assert step.data.rejected == ("not_recent",)
    assert step.error_for("password") == FieldError("password", "password_rejected")
    other = "Maple-Canyon-47?"
    assert (await kiosk.flow.submit(NewPasswordAnswer(other, other))).kind is StepKind.DONE


async def test_an_answer_for_another_page_is_ignored(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    before = kiosk.flow.step
    assert await kiosk.flow.submit(CodeAnswer("12345678")) is before
    assert await kiosk.flow.submit(BeginAnswer()) is before
    assert kiosk.calls("POST", "/v1/sessions") == 1
