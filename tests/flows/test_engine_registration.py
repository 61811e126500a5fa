"""The "Set up my security info" way through the engine and the real backend: each kind registered, then
used in a reset; the hub's local pages; errors on their fields."""

from __future__ import annotations

import asyncio

import pytest
from flow_driver import START, Kiosk, demo_policy, open_kiosk
from registration_flow import (
    EMMA_EMAIL,
    FAY,
    FAY_ANSWERS,
    FAY_EMAIL,
    FAY_PHONE,
    FAY_PHONE_STORED,
    app_code,
    at_hub,
    begin,
)

from kiosk.flows import engine
from kiosk.flows.steps import (
    AnswerQuestionsData,
    ChooseMethodAnswer,
    CodeAnswer,
    ContactAnswer,
    DoneData,
    DoneOutcome,
    FieldError,
    FinishRegistrationAnswer,
    QuestionsAnswer,
    QuestionsRegistrationAnswer,
    RegisterAppData,
    RegisterContactData,
    RegisterData,
    RegisteredMethod,
    RegisterQuestionsData,
    RegisterVerifyData,
    SignInData,
    StartRegistrationAnswer,
    Step,
    StepKind,
)
from kiosk.policy.schema import Method
from kiosk.services.api import Flow, RegistrationKind

KINDS = (RegistrationKind.EMAIL, RegistrationKind.PHONE, RegistrationKind.QUESTIONS, RegistrationKind.APP)


def hub(step: Step) -> RegisterData:
    assert step.kind is StepKind.REGISTER, step
    assert isinstance(step.data, RegisterData)
    return step.data


def kinds(data: RegisterData) -> set[RegistrationKind]:
    return {method.kind for method in data.registered}


async def finish(kiosk: Kiosk) -> None:
    step = await kiosk.flow.submit(FinishRegistrationAnswer())
    assert step.data == DoneData(outcome=DoneOutcome.REGISTERED, countdown_seconds=15)
    await kiosk.flow.restart()


async def reset_with(kiosk: Kiosk, method: Method) -> Step:
    """Fay's recovery with `method` up to its challenge page."""
    await begin(kiosk, Flow.RECOVER)
    step = await kiosk.identify(FAY)
    assert step.kind is StepKind.CHOOSE_METHOD, step
    return await kiosk.flow.submit(ChooseMethodAnswer(method))


async def register_questions(kiosk: Kiosk) -> RegisterQuestionsData:
    step = await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.QUESTIONS))
    assert step.kind is StepKind.REGISTER_QUESTIONS and step.can_go_back
    assert isinstance(step.data, RegisterQuestionsData)
    return step.data


# ------------------------------------------------------------------ the hub


async def test_fay_signs_in_to_an_empty_hub(kiosk: Kiosk) -> None:
    data = await at_hub(kiosk)
    assert data.registered == () and data.outcome is None
    assert data.confirmed_at == START  # the demo seed counts every account as confirmed
    assert data.can_register == KINDS
    assert data.methods_needed == 1
    assert data.display_name == "Fay Mulder"
    assert not kiosk.flow.step.can_go_back
    assert (await kiosk.flow.back()).kind is StepKind.REGISTER  # no Back on the hub: Cancel or Done


async def test_someone_with_registered_methods_passes_one_first(kiosk: Kiosk) -> None:
    await begin(kiosk, Flow.REGISTER)
    step = await kiosk.sign_in("emma")
    assert step.kind is StepKind.CHOOSE_METHOD
    assert step.can_go_back
    # Back before the gate: a new sign-in (a new session), not the start page.
    step = await kiosk.flow.back()
    assert step.kind is StepKind.SIGN_IN
    assert isinstance(step.data, SignInData) and step.data.flow is Flow.REGISTER
    assert kiosk.calls("POST", "/v1/sessions") == 2
    await kiosk.flow.cancel()
    data = await at_hub(kiosk, "emma", gate_email=EMMA_EMAIL)
    assert kinds(data) == {RegistrationKind.EMAIL}
    masked = data.registered[0].masked_target
    assert masked and "emma.jansen" not in masked


# ------------------------------------------------------------------ security questions


async def test_fay_registers_questions_then_resets_with_them(kiosk: Kiosk) -> None:
    await at_hub(kiosk)
    calls = len(kiosk.wire.requests)
    data = await register_questions(kiosk)
    assert len(kiosk.wire.requests) == calls  # a local page: no backend call
    assert data.count == 3 and data.registered == 0 and (data.min_answer, data.max_answer) == (3, 40)
    picks = [i for i, choice in enumerate(data.choices) if choice.predefined_id][:3]
    # Twice the same answer: refused here, with the picks kept and no call.
    twice = QuestionsRegistrationAnswer(((picks[0], "Biscuit"), (picks[1], " biscuit"), (picks[2], "Mrs Ada")))
    step = await kiosk.flow.submit(twice)
    assert step.kind is StepKind.REGISTER_QUESTIONS
    assert step.errors == (FieldError("answers", "answer_twice"),)
    assert isinstance(step.data, RegisterQuestionsData) and step.data.selected == tuple(picks)
    assert kiosk.calls("POST", "/v1/session/register/questions") == 0

    step = await kiosk.flow.submit(QuestionsRegistrationAnswer(tuple(zip(picks, FAY_ANSWERS, strict=True))))
    data_hub = hub(step)
    assert data_hub.just_registered is RegistrationKind.QUESTIONS
    assert data_hub.registered == (RegisteredMethod(kind=RegistrationKind.QUESTIONS, questions=3),)
    assert data_hub.confirmed_at == kiosk.clock.now()
    await finish(kiosk)

    step = await reset_with(kiosk, Method.SECURITY_QUESTIONS)
    assert isinstance(step.data, AnswerQuestionsData)
    by_id = {data.choices[pick].predefined_id: answer for pick, answer in zip(picks, FAY_ANSWERS, strict=True)}
    answers = tuple((q.id, by_id[q.predefined_id]) for q in step.data.questions if q.predefined_id)
    step = await kiosk.flow.submit(QuestionsAnswer(answers))
    assert step.kind is StepKind.NEW_PASSWORD


async def test_questions_the_backend_refuses_are_shown_rule_by_rule(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The backend's own rules stand behind the kiosk's: skip the kiosk's, and its refusal lands on the fields."""
    await at_hub(kiosk)
    data = await register_questions(kiosk)
    monkeypatch.setattr(engine, "registration_questions_errors", lambda answer, data: ())
    step = await kiosk.flow.submit(QuestionsRegistrationAnswer(((0, "Rex"), (0, "rex"))))
    assert step.kind is StepKind.REGISTER_QUESTIONS
    assert step.errors == (
        FieldError("questions", "count"),
        FieldError("questions", "question_twice"),
        FieldError("answers", "answer_twice"),
    )
    assert isinstance(step.data, RegisterQuestionsData) and step.data.selected == (0, 0)  # the picks just made
    assert kiosk.calls("POST", "/v1/session/register/questions") == 1
    assert data.registered == 0


# ------------------------------------------------------------------ authenticator app


async def test_fay_registers_the_app_then_resets_with_it(kiosk: Kiosk) -> None:
    await at_hub(kiosk)
    step = await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.APP))
    assert step.kind is StepKind.REGISTER_APP and step.can_go_back
    data = step.data
    assert isinstance(data, RegisterAppData)
    assert data.uri.startswith("otpauth://totp/") and data.qr_svg.lstrip().startswith("<svg")
    assert data.secret not in repr(step)
    right = app_code(kiosk, data)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    step = await kiosk.flow.submit(CodeAnswer(wrong))
    assert step.kind is StepKind.REGISTER_APP
    assert step.errors == (FieldError("code", "code_wrong", data.attempts_left - 1),)
    step = await kiosk.flow.submit(CodeAnswer(right))
    assert hub(step).just_registered is RegistrationKind.APP
    assert kinds(hub(step)) == {RegistrationKind.APP}
    await finish(kiosk)

    kiosk.clock.advance(30)  # the code that confirmed the app was used up; the app shows the next one
    step = await reset_with(kiosk, Method.APP_CODE)
    assert step.kind is StepKind.ENTER_CODE
    step = await kiosk.flow.submit(CodeAnswer(app_code(kiosk, data)))
    assert step.kind is StepKind.NEW_PASSWORD


# ------------------------------------------------------------------ e-mail and phone


async def test_fay_registers_an_email_then_resets_with_it(kiosk: Kiosk) -> None:
    await at_hub(kiosk)
    step = await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.EMAIL))
    assert step.kind is StepKind.REGISTER_CONTACT and step.can_go_back
    assert step.data == RegisterContactData(kind=RegistrationKind.EMAIL)
    step = await kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, "fay.mulder@example"))
    assert step.errors == (FieldError("value", "contact_invalid"),)
    assert step.data == RegisterContactData(kind=RegistrationKind.EMAIL, value="fay.mulder@example")
    assert kiosk.calls("POST", "/v1/session/register/contact") == 0

    step = await kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, f" {FAY_EMAIL} "))
    assert step.kind is StepKind.REGISTER_VERIFY and step.can_go_back
    data = step.data
    assert isinstance(data, RegisterVerifyData)
    assert data.kind is RegistrationKind.EMAIL and data.can_resend and data.code_length == 8
    assert data.masked_target and FAY_EMAIL not in data.masked_target
    first = await kiosk.emailed_code(FAY_EMAIL)
    step = await kiosk.flow.resend_code()
    assert step.kind is StepKind.REGISTER_VERIFY
    second = await kiosk.emailed_code(FAY_EMAIL)
    step = await kiosk.flow.submit(CodeAnswer(first if first != second else "00000000"))
    assert step.errors and step.errors[0].field == "code"
    step = await kiosk.flow.submit(CodeAnswer(second))
    assert hub(step).just_registered is RegistrationKind.EMAIL
    assert kinds(hub(step)) == {RegistrationKind.EMAIL}
    await finish(kiosk)

    step = await reset_with(kiosk, Method.EMAIL)
    assert step.kind is StepKind.ENTER_CODE
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(FAY_EMAIL)))
    assert step.kind is StepKind.NEW_PASSWORD


async def test_fay_registers_a_phone_then_resets_with_it(kiosk: Kiosk) -> None:
    await at_hub(kiosk)
    await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.PHONE))
    step = await kiosk.flow.submit(ContactAnswer(RegistrationKind.PHONE, "06 1234 5678"))
    assert step.errors == (FieldError("value", "contact_invalid"),)  # no country code
    step = await kiosk.flow.submit(ContactAnswer(RegistrationKind.PHONE, FAY_PHONE))
    assert step.kind is StepKind.REGISTER_VERIFY, step
    assert isinstance(step.data, RegisterVerifyData) and step.data.kind is RegistrationKind.PHONE
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(FAY_PHONE_STORED)))
    assert kinds(hub(step)) == {RegistrationKind.PHONE}
    await finish(kiosk)

    step = await reset_with(kiosk, Method.MOBILE_SMS)
    assert step.kind is StepKind.ENTER_CODE
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(FAY_PHONE_STORED)))
    assert step.kind is StepKind.NEW_PASSWORD


async def test_a_contact_the_backend_refuses_is_shown_on_the_field(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch
) -> None:
    await at_hub(kiosk)
    await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.EMAIL))
    await kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, "fay@"))  # the kiosk's own check (not patched yet)
    monkeypatch.setattr(engine, "contact_errors", lambda kind, value: ())
    step = await kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, "fay@example"))
    assert step.kind is StepKind.REGISTER_CONTACT
    assert step.errors == (FieldError("value", "contact_invalid"),)
    assert step.data == RegisterContactData(kind=RegistrationKind.EMAIL, value="fay@example")  # what was just typed
    assert kiosk.calls("POST", "/v1/session/register/contact") == 1


# ------------------------------------------------------------------ Back, Cancel, double submits


@pytest.mark.parametrize("kind", [RegistrationKind.EMAIL, RegistrationKind.QUESTIONS])
async def test_back_from_a_local_page_is_the_hub_without_a_call(kiosk: Kiosk, kind: RegistrationKind) -> None:
    await at_hub(kiosk)
    shown = kiosk.flow.step
    calls = len(kiosk.wire.requests)
    step = await kiosk.flow.submit(StartRegistrationAnswer(kind))
    assert step.kind in (StepKind.REGISTER_CONTACT, StepKind.REGISTER_QUESTIONS)
    step = await kiosk.flow.back()
    assert step == shown
    assert len(kiosk.wire.requests) == calls


@pytest.mark.parametrize("kind", [RegistrationKind.EMAIL, RegistrationKind.APP])
async def test_back_from_a_pending_code_drops_it(kiosk: Kiosk, kind: RegistrationKind) -> None:
    await at_hub(kiosk)
    step = await kiosk.flow.submit(StartRegistrationAnswer(kind))
    if kind is RegistrationKind.EMAIL:
        step = await kiosk.flow.submit(ContactAnswer(kind, FAY_EMAIL))
    assert step.kind in (StepKind.REGISTER_VERIFY, StepKind.REGISTER_APP)
    step = await kiosk.flow.back()
    assert hub(step).registered == ()
    assert kiosk.calls("POST", "/v1/session/register/cancel") == 1
    assert (await kiosk.client.session()).stage.value == "register"


async def _on_page(kiosk: Kiosk, page: StepKind) -> None:
    await at_hub(kiosk)
    if page is StepKind.REGISTER:
        return
    kind = {StepKind.REGISTER_QUESTIONS: RegistrationKind.QUESTIONS, StepKind.REGISTER_APP: RegistrationKind.APP}.get(
        page, RegistrationKind.PHONE
    )
    step = await kiosk.flow.submit(StartRegistrationAnswer(kind))
    if page is StepKind.REGISTER_VERIFY:
        step = await kiosk.flow.submit(ContactAnswer(kind, "+31-6-1234-5678"))
    assert step.kind is page, step


PAGES = [
    StepKind.REGISTER,
    StepKind.REGISTER_CONTACT,
    StepKind.REGISTER_VERIFY,
    StepKind.REGISTER_QUESTIONS,
    StepKind.REGISTER_APP,
]


@pytest.mark.parametrize("page", PAGES)
async def test_cancel_on_every_registration_page_closes_the_session(kiosk: Kiosk, page: StepKind) -> None:
    await _on_page(kiosk, page)
    token = kiosk.wire.token
    assert token is not None and await kiosk.session_alive(token)
    assert (await kiosk.flow.cancel()).kind is StepKind.START
    assert not await kiosk.session_alive(token)
    assert kinds(hub(await _reached_hub_again(kiosk))) == set()


async def _reached_hub_again(kiosk: Kiosk) -> Step:
    await at_hub(kiosk)
    return kiosk.flow.step


async def test_a_double_submit_is_one_call(kiosk: Kiosk) -> None:
    await at_hub(kiosk)
    await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.EMAIL))
    first, second = await asyncio.gather(
        kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, FAY_EMAIL)),
        kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, "someone.else@example.org")),
    )
    assert first.kind is StepKind.REGISTER_VERIFY and second is first
    assert kiosk.calls("POST", "/v1/session/register/contact") == 1
    code = await kiosk.emailed_code(FAY_EMAIL)
    done = await asyncio.gather(kiosk.flow.submit(CodeAnswer(code)), kiosk.flow.submit(CodeAnswer(code)))
    assert done[0].kind is StepKind.REGISTER and done[1] is done[0]
    assert kiosk.calls("POST", "/v1/session/register/contact/code") == 1
    ends = await asyncio.gather(*(kiosk.flow.submit(FinishRegistrationAnswer()) for _ in range(3)))
    assert all(step.kind is StepKind.DONE for step in ends)
    assert kiosk.calls("POST", "/v1/session/register/done") == 1


async def test_a_kind_the_policy_does_not_offer_cannot_be_started() -> None:
    async with open_kiosk(demo_policy(methods={"enabled": ["email", "security_questions"]})) as kiosk:
        data = await at_hub(kiosk)
        assert data.can_register == (RegistrationKind.EMAIL, RegistrationKind.QUESTIONS)
        step = await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.APP))
        assert step.kind is StepKind.REGISTER
        assert kiosk.calls("POST", "/v1/session/register/app") == 0


async def test_the_language_switch_keeps_the_page(kiosk: Kiosk) -> None:
    await at_hub(kiosk)
    step = await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.QUESTIONS))
    await kiosk.flow.language_changed()
    assert kiosk.flow.step == step
    assert kiosk.calls("POST", "/v1/session/locale") == 1
    assert (await kiosk.flow.back()).kind is StepKind.REGISTER


async def test_the_app_secret_is_dropped_after_the_last_wrong_code() -> None:
    async with open_kiosk(demo_policy(methods={"code_attempts": 2})) as kiosk:
        await at_hub(kiosk)
        step = await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.APP))
        assert isinstance(step.data, RegisterAppData) and step.data.attempts_left == 2
        wrong = f"{(int(app_code(kiosk, step.data)) + 1) % 1_000_000:06d}"
        step = await kiosk.flow.submit(CodeAnswer(wrong))
        assert step.kind is StepKind.REGISTER_APP
        assert step.errors == (FieldError("code", "code_wrong", 1),)
        step = await kiosk.flow.submit(CodeAnswer(wrong))
        # Back on the hub, told why on the kinds' buttons; nothing registered.
        assert hub(step).registered == ()
        assert step.errors == (FieldError("kind", "code_burned", 0),)


async def test_a_burned_contact_code_stays_on_its_page_for_a_new_one() -> None:
    async with open_kiosk(demo_policy(methods={"code_attempts": 2})) as kiosk:
        await at_hub(kiosk)
        await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.EMAIL))
        step = await kiosk.flow.submit(ContactAnswer(RegistrationKind.EMAIL, FAY_EMAIL))
        assert isinstance(step.data, RegisterVerifyData) and step.data.attempts_left == 2
        right = await kiosk.emailed_code(FAY_EMAIL)
        wrong = f"{(int(right) + 1) % 100_000_000:08d}"
        step = await kiosk.flow.submit(CodeAnswer(wrong))
        assert step.errors == (FieldError("code", "code_wrong", 1),)
        step = await kiosk.flow.submit(CodeAnswer(wrong))
        assert step.kind is StepKind.REGISTER_VERIFY
        assert step.errors == (FieldError("code", "code_burned", 0),)
        step = await kiosk.flow.resend_code()
        assert step.errors == () and isinstance(step.data, RegisterVerifyData) and step.data.attempts_left == 2
        step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(FAY_EMAIL)))
        assert kinds(hub(step)) == {RegistrationKind.EMAIL}


async def test_back_from_a_local_page_shows_the_hub_as_the_backend_last_told_it(kiosk: Kiosk) -> None:
    await at_hub(kiosk)
    await register_questions(kiosk)
    step = await kiosk.flow.submit(QuestionsRegistrationAnswer(tuple(zip((0, 1, 2), FAY_ANSWERS, strict=True))))
    assert hub(step).just_registered is RegistrationKind.QUESTIONS
    await kiosk.flow.submit(StartRegistrationAnswer(RegistrationKind.EMAIL))
    data = hub(await kiosk.flow.back())
    assert kinds(data) == {RegistrationKind.QUESTIONS}  # what was registered since the sign-in
    assert data.just_registered is None  # said once, on arrival
