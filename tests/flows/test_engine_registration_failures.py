"""Lost answers in registration: a step that may have saved security info is never told as "nothing
changed"; request ids go exactly where the backend honours them."""

from __future__ import annotations

import re

import httpx
from flow_driver import NEW_PASSWORD, Kiosk
from registration_flow import FAY_ANSWERS, FAY_EMAIL, app_code, at_hub, begin
from test_engine_unconfirmed import error_code, lossy_kiosk

from kiosk.flows.mapping import REGISTRATION_UNCONFIRMED, SERVICE_TIMEOUT
from kiosk.flows.steps import (
    CodeAnswer,
    ContactAnswer,
    FinishRegistrationAnswer,
    NewPasswordAnswer,
    QuestionsRegistrationAnswer,
    RegisterAppData,
    RegisterData,
    StartRegistrationAnswer,
    StepKind,
)
from kiosk.services.api import API_PREFIX, Flow, RegistrationKind
from kiosk.services.backend.http.routes import ROUTES


def registered(kiosk: Kiosk) -> set[RegistrationKind]:
    data = kiosk.flow.step.data
    assert isinstance(data, RegisterData), kiosk.flow.step
    return {method.kind for method in data.registered}


async def test_lost_questions_are_not_told_as_nothing_changed() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await at_hub(kiosk)
        await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.QUESTIONS))
        wire.lose("/v1/session/register/questions", httpx.ReadTimeout("slow"), after_backend=True)
        step = await kiosk.flow.submit(QuestionsRegistrationAnswer(tuple(zip((0, 1, 2), FAY_ANSWERS, strict=True))))
        assert error_code(step) == REGISTRATION_UNCONFIRMED
        wire.heal()
        step = await kiosk.flow.retry()  # the hub tells the truth: they were saved
        assert step.kind is StepKind.REGISTER
        assert registered(kiosk) == {RegistrationKind.QUESTIONS}


async def test_a_lost_contact_code_is_not_told_as_nothing_changed() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await at_hub(kiosk)
        await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.EMAIL))
        await kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, FAY_EMAIL))
        wire.lose("/v1/session/register/contact/code", httpx.ConnectError("gone"), after_backend=True)
        step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(FAY_EMAIL)))
        assert error_code(step) == REGISTRATION_UNCONFIRMED
        wire.heal()
        await kiosk.flow.retry()
        assert registered(kiosk) == {RegistrationKind.EMAIL}


async def test_a_lost_app_code_before_the_backend_is_still_not_told_as_nothing_changed() -> None:
    """The kiosk cannot tell a request that never arrived from an answer that was lost."""
    async with lossy_kiosk() as (kiosk, wire):
        await at_hub(kiosk)
        step = await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.APP))
        assert isinstance(step.data, RegisterAppData)
        data = step.data
        wire.lose("/v1/session/register/app/code", httpx.ConnectError("refused"), after_backend=False)
        step = await kiosk.flow.submit(CodeAnswer(app_code(kiosk, data)))
        assert error_code(step) == REGISTRATION_UNCONFIRMED
        wire.heal()
        step = await kiosk.flow.retry()
        assert step.kind is StepKind.REGISTER_APP  # it never arrived: the same secret, still waiting
        assert isinstance(step.data, RegisterAppData) and step.data.secret == data.secret
        step = await kiosk.flow.submit(CodeAnswer(app_code(kiosk, data)))
        assert registered(kiosk) == {RegistrationKind.APP}


async def test_a_lost_answer_to_a_step_that_saves_nothing_says_so() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await at_hub(kiosk)
        await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.EMAIL))
        wire.lose("/v1/session/register/contact", httpx.ReadTimeout("slow"), after_backend=True)
        step = await kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, FAY_EMAIL))
        assert error_code(step) == SERVICE_TIMEOUT  # a code was sent at most: nothing registered yet
        wire.heal()
        step = await kiosk.flow.retry()
        assert step.kind is StepKind.REGISTER_VERIFY  # where the backend is: the code went out


def _idempotent_paths() -> dict[str, bool]:
    return {route.path.removeprefix(API_PREFIX): route.idempotent for route in ROUTES if route.method == "POST"}


async def test_request_ids_go_exactly_where_the_backend_answers_a_repeat_from_the_first_result(kiosk: Kiosk) -> None:
    """A request id on a route that does not honour it would make the client repeat a step after a lost answer;
    none on one that does would lose the protection. Checked over a change and a whole registration."""
    await begin(kiosk, Flow.CHANGE)
    await kiosk.sign_in("fay")
    await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    await kiosk.flow.restart()
    await at_hub(kiosk, password=NEW_PASSWORD)
    await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.QUESTIONS))
    await kiosk.flow.submit(QuestionsRegistrationAnswer(tuple(zip((0, 1, 2), FAY_ANSWERS, strict=True))))
    step = await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.APP))
    assert isinstance(step.data, RegisterAppData)
    await kiosk.flow.submit(CodeAnswer(app_code(kiosk, step.data)))
    await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.EMAIL))
    await kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, FAY_EMAIL))
    await kiosk.flow.resend_code()
    await kiosk.flow.back()
    await kiosk.flow.submit(FinishRegistrationAnswer())
    honoured = _idempotent_paths()
    seen = set()
    for path, key in kiosk.wire.request_ids:
        route = re.sub(r"^/v1", "", path)
        if route not in honoured:
            continue
        seen.add(route)
        assert (key is not None) == honoured[route], (route, key)
    assert {
        "/session/sign-in",
        "/session/password",
        "/session/register/questions",
        "/session/register/app/code",
        "/session/register/contact",
        "/session/register/contact/resend",
        "/session/register/cancel",
        "/session/register/done",
    } <= seen
