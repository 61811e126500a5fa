"""Failures become error pages with a way forward; Retry repeats what is safe, else resumes where the backend is."""

from __future__ import annotations

import gc

import httpx
from flow_driver import NEW_PASSWORD, Kiosk

from kiosk.flows.steps import (
    BeginAnswer,
    Choice,
    ChooseMethodAnswer,
    CodeAnswer,
    DoneData,
    DoneOutcome,
    EnterCodeData,
    ErrorData,
    IdentifyData,
    NewPasswordAnswer,
    ResetOrUnlockAnswer,
    StepKind,
)
from kiosk.policy.schema import Method

EMMA = "emma.jansen@contoso.com"


async def test_unreachable_backend_on_begin_then_retry_opens_the_session(kiosk: Kiosk) -> None:
    kiosk.wire.fail_next(httpx.ConnectError("refused"))
    step = await kiosk.flow.submit(BeginAnswer())
    assert step.kind is StepKind.ERROR
    assert isinstance(step.data, ErrorData)
    assert (step.data.code, step.data.retryable) == ("service_unavailable", True)
    assert step.data.correlation_id.startswith("kiosk-")  # no answer: a reference made (and logged) here
    step = await kiosk.flow.retry()
    assert step.kind is StepKind.IDENTIFY


async def test_a_timeout_on_a_code_resumes_at_the_code_page_without_resending(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    kiosk.wire.fail_next(httpx.ReadTimeout("slow"))
    step = await kiosk.flow.submit(CodeAnswer("00000000"))
    assert isinstance(step.data, ErrorData)
    assert (step.data.code, step.data.retryable) == ("service_timeout", True)
    assert step.data.correlation_id.startswith("kiosk-")
    step = await kiosk.flow.retry()
    assert step.kind is StepKind.ENTER_CODE  # the engine kept no code to repeat: the user types it again
    assert kiosk.calls("POST", "/v1/session/code/resend") == 0
    assert (await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA)))).kind is StepKind.NEW_PASSWORD


async def test_a_timeout_after_the_backend_acted_resumes_where_it_is(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    kiosk.wire.fail_next(httpx.ReadTimeout("slow"), after_backend=True)
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA)))
    assert step.kind is StepKind.ERROR
    assert (await kiosk.flow.retry()).kind is StepKind.NEW_PASSWORD  # the gate was passed after all


async def test_an_expired_session_restarts_at_identify_keeping_the_user_id(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    kiosk.clock.advance(15 * 60 + 1)
    step = await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    assert step.kind is StepKind.ERROR
    assert isinstance(step.data, ErrorData)
    assert (step.data.code, step.data.retryable) == ("session_expired", True)
    assert step.data.correlation_id
    step = await kiosk.flow.retry()
    assert step.kind is StepKind.IDENTIFY
    assert isinstance(step.data, IdentifyData)
    assert step.data.user_id == "emma"
    assert (await kiosk.identify("emma")).kind is StepKind.CHOOSE_METHOD


async def test_a_step_the_backend_does_not_allow_is_an_error_page_and_retry_resyncs(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("alex")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.APP_CODE))
    step = await kiosk.flow.resend_code()  # app codes cannot be resent
    assert isinstance(step.data, ErrorData)
    assert step.data.code == "step_not_allowed"
    step = await kiosk.flow.retry()
    assert isinstance(step.data, EnterCodeData)
    assert step.data.method is Method.APP_CODE


async def test_a_broken_answer_is_an_internal_error(kiosk: Kiosk) -> None:
    kiosk.wire.fail_next(httpx.RemoteProtocolError("garbled"))
    step = await kiosk.flow.submit(BeginAnswer())
    assert isinstance(step.data, ErrorData)
    assert step.data.code == "internal"
    assert (await kiosk.flow.retry()).kind is StepKind.IDENTIFY


async def test_retry_does_nothing_outside_an_error_page(kiosk: Kiosk) -> None:
    assert (await kiosk.flow.retry()).kind is StepKind.START
    await kiosk.flow.submit(BeginAnswer())
    assert kiosk.calls("POST", "/v1/sessions") == 1
    assert (await kiosk.flow.retry()).kind is StepKind.IDENTIFY
    assert kiosk.calls("POST", "/v1/sessions") == 1


async def test_cancel_works_while_the_backend_is_unreachable(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    kiosk.wire.fail_next(httpx.ConnectError("refused"))
    assert (await kiosk.flow.cancel()).kind is StepKind.START


async def test_unlock_only_still_works_after_coming_back_from_the_password_page(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("luke")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code("luke.devries@contoso.com")))
    await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.RESET))
    await kiosk.flow.back()
    assert (await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.RESET))).kind is StepKind.NEW_PASSWORD
    await kiosk.flow.back()
    step = await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.UNLOCK))
    # Every gate was passed: changing one's mind from "reset" to "unlock only" is allowed.
    assert step.kind is StepKind.DONE
    assert isinstance(step.data, DoneData) and step.data.outcome is DoneOutcome.UNLOCKED


async def test_the_engine_keeps_no_secret_after_the_call(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    code = await kiosk.emailed_code(EMMA)
    await kiosk.flow.submit(CodeAnswer(code))
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.kind is StepKind.DONE
    gc.collect()
    state = repr(vars(kiosk.flow)) + repr(kiosk.flow.step)
    assert NEW_PASSWORD not in state
    assert code not in state
    assert (kiosk.wire.token or "") not in repr(kiosk.flow.step)


async def test_cancel_after_the_session_expired_is_quiet(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    kiosk.clock.advance(16 * 60)
    assert (await kiosk.flow.cancel()).kind is StepKind.START
    assert kiosk.calls("DELETE", "/v1/session") == 1


async def test_a_blocked_user_gets_an_error_page_that_says_until_when(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    step = await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    code = await kiosk.emailed_code(EMMA)
    wrong = "1" * len(code) if code != "1" * len(code) else "2" * len(code)
    for _ in range(4):  # the 5th failed identity proof blocks the user (SPEC §4)
        step = await kiosk.flow.submit(CodeAnswer(wrong))
        assert step.kind is StepKind.ENTER_CODE
    step = await kiosk.flow.submit(CodeAnswer(wrong))
    assert step.kind is StepKind.ERROR and isinstance(step.data, ErrorData)
    assert step.data.code == "too_many_attempts" and step.data.blocked_until is not None
