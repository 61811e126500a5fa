"""The start page's three ways in: offered as the policy says, each opening its own first page."""

from __future__ import annotations

import pytest
from flow_driver import DEMO_PASSWORD, Kiosk, demo_policy, open_kiosk

from kiosk.flows.steps import (
    BeginAnswer,
    CaptchaKind,
    FieldError,
    SignInAnswer,
    SignInData,
    StartData,
    StepKind,
    SwitchCaptchaAnswer,
)
from kiosk.services.api import ErrorCode, Flow
from kiosk.services.client import ApiError


def _sign_in_data(kiosk: Kiosk) -> SignInData:
    data = kiosk.flow.step.data
    assert isinstance(data, SignInData)
    return data


@pytest.mark.parametrize(
    ("offers", "flows"),
    [
        ({}, (Flow.RECOVER, Flow.CHANGE, Flow.REGISTER)),
        ({"offer_change": False}, (Flow.RECOVER, Flow.REGISTER)),
        ({"offer_recovery": False, "offer_registration": False}, (Flow.CHANGE,)),
    ],
)
async def test_the_start_page_offers_the_ways_in_the_policy_switches_on(
    offers: dict[str, bool], flows: tuple[Flow, ...]
) -> None:
    async with open_kiosk(demo_policy(kiosk=offers)) as kiosk:
        assert kiosk.flow.step.data == StartData(organisation="Contoso", flows=flows)


@pytest.mark.parametrize("flow", [Flow.RECOVER, Flow.CHANGE, Flow.REGISTER])
async def test_a_way_the_policy_switched_off_cannot_be_begun(flow: Flow) -> None:
    key = {Flow.RECOVER: "offer_recovery", Flow.CHANGE: "offer_change", Flow.REGISTER: "offer_registration"}[flow]
    async with open_kiosk(demo_policy(kiosk={key: False})) as kiosk:
        start = kiosk.flow.step.data
        assert isinstance(start, StartData) and flow not in start.flows
        step = await kiosk.flow.submit(BeginAnswer(flow))
        assert step.kind is StepKind.START
        assert kiosk.calls("POST", "/v1/sessions") == 0
        # Nor by going round the engine: the backend refuses the session itself.
        with pytest.raises(ApiError) as refused:
            await kiosk.client.open_session(kiosk_id="test-kiosk", locale="en", flow=flow)
        assert refused.value.code is ErrorCode.STEP_NOT_ALLOWED


@pytest.mark.parametrize("flow", [Flow.CHANGE, Flow.REGISTER])
async def test_change_and_registration_begin_at_the_sign_in_page(kiosk: Kiosk, flow: Flow) -> None:
    step = await kiosk.flow.submit(BeginAnswer(flow))
    assert step.kind is StepKind.SIGN_IN
    data = _sign_in_data(kiosk)
    assert data.flow is flow
    assert data.captcha_png.startswith(b"\x89PNG")
    assert (data.audio, data.pictures_offered, data.picture_check) == (True, False, None)
    assert step.can_go_back
    session = await kiosk.client.session()
    assert session.flow is flow


async def test_recovery_still_begins_at_identify(kiosk: Kiosk) -> None:
    step = await kiosk.flow.submit(BeginAnswer())
    assert step.kind is StepKind.IDENTIFY
    assert (await kiosk.client.session()).flow is Flow.RECOVER


@pytest.mark.parametrize("leave", ["back", "cancel"])
async def test_back_and_cancel_on_the_sign_in_page_close_the_session(kiosk: Kiosk, leave: str) -> None:
    await kiosk.flow.submit(BeginAnswer(Flow.CHANGE))
    token = kiosk.wire.token
    assert token is not None and await kiosk.session_alive(token)
    step = await (kiosk.flow.back() if leave == "back" else kiosk.flow.cancel())
    assert step.kind is StepKind.START
    assert not await kiosk.session_alive(token)
    # The next way in starts afresh, in the flow chosen then.
    step = await kiosk.flow.submit(BeginAnswer(Flow.RECOVER))
    assert step.kind is StepKind.IDENTIFY


async def test_empty_fields_are_refused_before_any_call(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer(Flow.CHANGE))
    step = await kiosk.flow.submit(SignInAnswer(user_id=" emma ", password="", captcha=""))
    assert step.kind is StepKind.SIGN_IN
    assert step.errors == (FieldError("password", "required"), FieldError("captcha", "required"))
    assert _sign_in_data(kiosk).user_id == " emma "  # kept as typed; the password never is
    step = await kiosk.flow.submit(SignInAnswer(user_id="", password="x\x00y", captcha="AB12"))
    assert step.errors == (FieldError("user_id", "required"), FieldError("password", "bad_characters"))
    step = await kiosk.flow.submit(SignInAnswer(user_id="emma", password="p" * 1025, captcha="AB12"))
    assert step.errors == (FieldError("password", "too_long"),)
    assert kiosk.calls("POST", "/v1/session/sign-in") == 0


def test_the_sign_in_answer_never_shows_the_password() -> None:
    answer = SignInAnswer(user_id="emma", password=DEMO_PASSWORD, captcha="AB12")
    assert DEMO_PASSWORD not in repr(answer) and DEMO_PASSWORD not in str(answer)
    assert "emma" in repr(answer)


async def test_the_sign_in_page_reads_its_captcha_out_and_draws_a_new_one(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer(Flow.REGISTER))
    first = _sign_in_data(kiosk).captcha_png
    wav = await kiosk.flow.captcha_audio()
    assert wav.startswith(b"RIFF")
    step = await kiosk.flow.refresh_captcha()
    assert step.kind is StepKind.SIGN_IN
    assert _sign_in_data(kiosk).captcha_png != first
    assert _sign_in_data(kiosk).flow is Flow.REGISTER


async def test_the_sign_in_page_switches_to_a_picture_check_and_back() -> None:
    async with open_kiosk(demo_policy(captcha={"no_transcription_alternative": True})) as kiosk:
        await kiosk.flow.submit(BeginAnswer(Flow.CHANGE))
        assert _sign_in_data(kiosk).pictures_offered
        step = await kiosk.flow.submit(SwitchCaptchaAnswer(CaptchaKind.PICTURES, user_id=" emma "))
        data = _sign_in_data(kiosk)
        assert step.kind is StepKind.SIGN_IN and data.user_id == "emma" and data.flow is Flow.CHANGE
        assert data.picture_check is not None and len(data.picture_check.pictures) == 6
        assert await kiosk.flow.captcha_audio() == b""  # a picture check is never read out
        await kiosk.flow.refresh_captcha()
        assert _sign_in_data(kiosk).picture_check not in (None, data.picture_check)
        step = await kiosk.flow.submit(SwitchCaptchaAnswer(CaptchaKind.CHARACTERS, user_id="emma"))
        assert _sign_in_data(kiosk).picture_check is None
        assert _sign_in_data(kiosk).captcha_png.startswith(b"\x89PNG")
