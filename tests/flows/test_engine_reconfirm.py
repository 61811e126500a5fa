"""After a reset, unlock or change: "is your security info still up to date?" once the policy's window has
passed (an injected clock), and registration when the policy requires it."""

from __future__ import annotations

import asyncio

import pytest
from flow_driver import DEMO_PASSWORD, NEW_PASSWORD, START, Kiosk, demo_policy, open_kiosk
from registration_flow import EMMA_EMAIL, FAY, begin

from kiosk.flows.steps import (
    Choice,
    ChooseMethodAnswer,
    CodeAnswer,
    DoneData,
    DoneOutcome,
    FinishRegistrationAnswer,
    NewPasswordAnswer,
    ReconfirmAnswer,
    ReconfirmData,
    RegisterData,
    ResetOrUnlockAnswer,
    Step,
    StepKind,
)
from kiosk.policy.schema import Method, Policy
from kiosk.services.api import Flow, ReconfirmChoice, RegistrationKind

DAY = 24 * 3600
WINDOW_DAYS = 30


@pytest.fixture
def policy() -> Policy:
    return demo_policy(registration={"reconfirm_days": WINDOW_DAYS})


async def emma_resets(kiosk: Kiosk) -> Step:
    await begin(kiosk, Flow.RECOVER)
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA_EMAIL)))
    return await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))


async def emma_changes(kiosk: Kiosk, current: str = DEMO_PASSWORD, new: str = NEW_PASSWORD) -> Step:
    await begin(kiosk, Flow.CHANGE)
    assert (await kiosk.sign_in("emma", password=current)).kind is StepKind.NEW_PASSWORD
    return await kiosk.flow.submit(NewPasswordAnswer(new, new))


def reconfirm_data(step: Step) -> ReconfirmData:
    assert step.kind is StepKind.RECONFIRM, step
    assert isinstance(step.data, ReconfirmData)
    return step.data


async def test_within_the_window_a_reset_is_simply_done(kiosk: Kiosk) -> None:
    kiosk.clock.advance(WINDOW_DAYS * DAY - 60)
    step = await emma_resets(kiosk)
    assert step.data == DoneData(outcome=DoneOutcome.RESET, countdown_seconds=15)


async def test_after_the_window_keep_confirms_and_ends_the_reset(kiosk: Kiosk) -> None:
    kiosk.clock.advance((WINDOW_DAYS + 1) * DAY)
    data = reconfirm_data(await emma_resets(kiosk))
    assert data.outcome is DoneOutcome.RESET  # the page says the reset went through
    assert data.confirmed_at == START
    assert [method.kind for method in data.registered] == [RegistrationKind.EMAIL]
    assert data.display_name == "Emma Jansen"
    assert not kiosk.flow.step.can_go_back
    assert (await kiosk.flow.back()).kind is StepKind.RECONFIRM
    assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)  # done before the question
    step = await kiosk.flow.submit(ReconfirmAnswer(ReconfirmChoice.KEEP))
    assert step.data == DoneData(outcome=DoneOutcome.RESET, countdown_seconds=15)
    user = await kiosk.backend.directory.user_by_login("emma")
    assert user is not None and user.confirmed_at == kiosk.clock.now()
    # Confirmed now: the next change is not asked again.
    await kiosk.flow.restart()
    step = await emma_changes(kiosk, NEW_PASSWORD, "Quartz-Lantern-58?")
    assert step.data == DoneData(outcome=DoneOutcome.CHANGED, countdown_seconds=15)


async def test_after_the_window_update_opens_the_hub(kiosk: Kiosk) -> None:
    kiosk.clock.advance((WINDOW_DAYS + 1) * DAY)
    reconfirm_data(await emma_changes(kiosk))
    step = await kiosk.flow.submit(ReconfirmAnswer(ReconfirmChoice.UPDATE))
    assert step.kind is StepKind.REGISTER
    assert isinstance(step.data, RegisterData)
    assert step.data.outcome is DoneOutcome.CHANGED
    assert [method.kind for method in step.data.registered] == [RegistrationKind.EMAIL]
    step = await kiosk.flow.submit(FinishRegistrationAnswer())
    assert step.kind is StepKind.DONE
    assert isinstance(step.data, DoneData) and step.data.outcome is DoneOutcome.CHANGED


async def test_an_unlock_is_asked_too(kiosk: Kiosk) -> None:
    kiosk.clock.advance((WINDOW_DAYS + 1) * DAY)
    await begin(kiosk, Flow.RECOVER)
    await kiosk.identify("luke")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code("luke.devries@contoso.com")))
    data = reconfirm_data(await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.UNLOCK)))
    assert data.outcome is DoneOutcome.UNLOCKED


async def test_cancel_on_the_question_closes_the_session_and_the_change_stays(kiosk: Kiosk) -> None:
    kiosk.clock.advance((WINDOW_DAYS + 1) * DAY)
    reconfirm_data(await emma_changes(kiosk))
    token = kiosk.wire.token
    assert token is not None
    assert (await kiosk.flow.cancel()).kind is StepKind.START
    assert not await kiosk.session_alive(token)
    assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)


async def test_a_double_keep_is_one_call(kiosk: Kiosk) -> None:
    kiosk.clock.advance((WINDOW_DAYS + 1) * DAY)
    reconfirm_data(await emma_changes(kiosk))
    steps = await asyncio.gather(
        kiosk.flow.submit(ReconfirmAnswer(ReconfirmChoice.KEEP)),
        kiosk.flow.submit(ReconfirmAnswer(ReconfirmChoice.UPDATE)),
    )
    assert steps[0].kind is StepKind.DONE and steps[1] is steps[0]
    assert kiosk.calls("POST", "/v1/session/reconfirm") == 1


async def test_never_asked_when_the_policy_says_never() -> None:
    async with open_kiosk(demo_policy(registration={"reconfirm_days": 0})) as kiosk:
        kiosk.clock.advance(700 * DAY)
        step = await emma_changes(kiosk)
        assert step.data == DoneData(outcome=DoneOutcome.CHANGED, countdown_seconds=15)


async def test_a_change_leads_to_registration_when_the_policy_requires_it() -> None:
    policy = demo_policy(registration={"require_on_sign_in": True})
    async with open_kiosk(policy) as kiosk:
        await begin(kiosk, Flow.CHANGE)
        assert (await kiosk.sign_in(FAY)).kind is StepKind.NEW_PASSWORD
        step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        assert step.kind is StepKind.REGISTER, step
        assert isinstance(step.data, RegisterData)
        assert step.data.outcome is DoneOutcome.CHANGED  # the hub says the change went through
        assert step.data.registered == ()
        assert await kiosk.backend.directory.verify_password(FAY, NEW_PASSWORD)
