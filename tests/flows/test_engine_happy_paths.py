"""Whole recoveries through the engine and the real backend, one per kind of demo user."""

from __future__ import annotations

import pytest
from flow_driver import NEW_PASSWORD, QUINN_ANSWERS, Kiosk, demo_policy, open_kiosk

from kiosk.flows.steps import (
    AnswerQuestionsData,
    BeginAnswer,
    Choice,
    ChooseMethodAnswer,
    ChooseMethodData,
    CodeAnswer,
    DoneData,
    DoneOutcome,
    EnterCodeData,
    IdentifyData,
    MethodChoice,
    NewPasswordAnswer,
    NewPasswordData,
    QuestionsAnswer,
    RefusedData,
    ResetOrUnlockAnswer,
    ResetOrUnlockData,
    StartData,
    Step,
    StepKind,
)
from kiosk.policy.schema import Method
from kiosk.services.api import Flow


async def test_emma_resets_with_an_emailed_code(kiosk: Kiosk) -> None:
    flow = kiosk.flow
    assert flow.step.kind is StepKind.START
    assert flow.step.data == StartData(organisation="Contoso", flows=(Flow.RECOVER, Flow.CHANGE, Flow.REGISTER))

    step = await flow.submit(BeginAnswer())
    assert step.kind is StepKind.IDENTIFY
    assert isinstance(step.data, IdentifyData)
    assert step.data.captcha_png.startswith(b"\x89PNG")
    assert step.can_go_back

    step = await kiosk.identify("Emma@Contoso.com")
    assert step.kind is StepKind.CHOOSE_METHOD
    assert isinstance(step.data, ChooseMethodData)
    assert (step.data.gate.number, step.data.gate.required) == (1, 1)
    # Before a first gate every user ID sees the policy's methods, without contact data.
    assert Method.EMAIL in [choice.method for choice in step.data.methods]
    assert all(choice.masked_target is None for choice in step.data.methods)

    step = await flow.submit(ChooseMethodAnswer(Method.EMAIL))
    assert step.kind is StepKind.ENTER_CODE
    assert isinstance(step.data, EnterCodeData)
    assert (step.data.code_length, step.data.attempts_left, step.data.can_resend) == (8, 5, True)
    assert step.data.expires_at is not None

    step = await flow.submit(CodeAnswer(await kiosk.emailed_code("emma.jansen@contoso.com")))
    assert step.kind is StepKind.NEW_PASSWORD
    assert isinstance(step.data, NewPasswordData)
    assert step.data.user_names == ("Emma", "Emma Jansen")
    assert not step.can_go_back

    step = await flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.kind is StepKind.DONE
    assert step.data == DoneData(outcome=DoneOutcome.RESET, countdown_seconds=15)
    assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)

    step = await flow.restart()
    assert step.kind is StepKind.START


async def test_quinn_resets_with_security_questions(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("quinn")
    step = await kiosk.flow.submit(ChooseMethodAnswer(Method.SECURITY_QUESTIONS))
    assert step.kind is StepKind.ANSWER_QUESTIONS
    assert isinstance(step.data, AnswerQuestionsData)
    assert {question.predefined_id for question in step.data.questions} == set(QUINN_ANSWERS)
    assert step.can_go_back
    answers = tuple((q.id, QUINN_ANSWERS[q.predefined_id or ""]) for q in step.data.questions)
    step = await kiosk.flow.submit(QuestionsAnswer(answers))
    assert step.kind is StepKind.NEW_PASSWORD


async def test_alex_resets_with_the_authenticator_app(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("alex")
    step = await kiosk.flow.submit(ChooseMethodAnswer(Method.APP_CODE))
    assert isinstance(step.data, EnterCodeData)
    assert (step.data.code_length, step.data.can_resend, step.data.expires_at) == (6, False, None)
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.app_code("alex")))
    assert step.kind is StepKind.NEW_PASSWORD
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.kind is StepKind.DONE


async def test_tara_passes_two_different_gates(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    step = await kiosk.identify("tara")
    assert isinstance(step.data, ChooseMethodData)
    assert (step.data.gate.number, step.data.gate.required) == (1, 1)  # her second gate shows up after the first
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code("tara.visser@contoso.com")))
    assert step.kind is StepKind.CHOOSE_METHOD
    assert isinstance(step.data, ChooseMethodData)
    assert (step.data.gate.number, step.data.gate.required) == (2, 2)
    assert Method.EMAIL not in [choice.method for choice in step.data.methods]
    assert not step.can_go_back  # a passed gate is not undone
    step = await kiosk.flow.submit(ChooseMethodAnswer(Method.APP_CODE))
    assert isinstance(step.data, EnterCodeData)
    assert step.data.gate.number == 2
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.app_code("tara")))
    assert step.kind is StepKind.NEW_PASSWORD


async def reach_reset_or_unlock(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("luke")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code("luke.devries@contoso.com")))
    assert step.kind is StepKind.RESET_OR_UNLOCK
    assert step.data == ResetOrUnlockData(display_name="Luke de Vries")
    assert not step.can_go_back


async def test_luke_unlocks_only(kiosk: Kiosk) -> None:
    await reach_reset_or_unlock(kiosk)
    step = await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.UNLOCK))
    assert step.data == DoneData(outcome=DoneOutcome.UNLOCKED, countdown_seconds=15)
    assert not await kiosk.backend.directory.is_locked("luke")


async def test_luke_resets_and_may_go_back_to_the_choice(kiosk: Kiosk) -> None:
    await reach_reset_or_unlock(kiosk)
    step = await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.RESET))
    assert step.kind is StepKind.NEW_PASSWORD
    assert step.can_go_back
    step = await kiosk.flow.back()
    assert step.kind is StepKind.RESET_OR_UNLOCK
    step = await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.RESET))
    assert step.kind is StepKind.NEW_PASSWORD
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.data == DoneData(outcome=DoneOutcome.RESET, countdown_seconds=15)
    assert not await kiosk.backend.directory.is_locked("luke")


@pytest.mark.parametrize(
    ("user_id", "reason"),
    [
        ("nora", "not_enabled"),
        ("fay", "too_few_methods"),
        ("owen", "writeback_disabled"),
        ("dana", "account_disabled"),
        ("nobody-here", "unknown_user"),
    ],
)
async def test_early_refusals_send_the_user_to_the_helpdesk(user_id: str, reason: str) -> None:
    async with open_kiosk(demo_policy(reset={"early_refusals": True})) as kiosk:
        await kiosk.flow.submit(BeginAnswer())
        step = await kiosk.identify(user_id)
        _assert_refused(step, reason)


@pytest.mark.parametrize(
    ("user_id", "reason", "address"),
    [
        ("nora", "not_enabled", "nora.smit@contoso.com"),
        ("owen", "writeback_disabled", "owen.peters@contoso.com"),
        ("dana", "account_disabled", "dana.kok@contoso.com"),
    ],
)
async def test_a_refusal_is_told_once_the_account_is_proved(
    kiosk: Kiosk, user_id: str, reason: str, address: str
) -> None:
    await kiosk.flow.submit(BeginAnswer())
    step = await kiosk.identify(user_id)
    assert step.kind is StepKind.CHOOSE_METHOD  # like any other user ID
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(address)))
    _assert_refused(step, reason)


def _assert_refused(step: Step, reason: str) -> None:
    assert step.kind is StepKind.REFUSED
    assert isinstance(step.data, RefusedData)
    assert step.data.reason == reason
    assert step.data.reference
    assert step.data.helpdesk.phone == "+1 555 0100"
    assert not step.can_go_back


async def test_an_id_that_cannot_verify_gets_a_code_page_that_never_passes(kiosk: Kiosk) -> None:
    for user_id in ("fay", "nobody-here"):
        await kiosk.flow.submit(BeginAnswer())
        await kiosk.identify(user_id)
        step = await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
        assert step.kind is StepKind.ENTER_CODE
        assert isinstance(step.data, EnterCodeData) and step.data.masked_target is None
        step = await kiosk.flow.submit(CodeAnswer("12345678"))
        assert step.kind is StepKind.ENTER_CODE and step.error_for("code") is not None
        await kiosk.flow.cancel()
    assert await kiosk.backend.outbox() == []


async def test_the_methods_show_masked_contacts(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    step = await kiosk.identify("tara")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.APP_CODE))
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.app_code("tara")))  # contacts show after a gate
    assert isinstance(step.data, ChooseMethodData)
    assert any(choice.masked_target for choice in step.data.methods)
    for choice in step.data.methods:
        assert isinstance(choice, MethodChoice)
        assert "tara.visser" not in (choice.masked_target or "")
