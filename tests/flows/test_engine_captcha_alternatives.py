"""The identify page's CAPTCHA alternatives in the engine: audio per policy, and the picture check."""

from __future__ import annotations

import pytest
from flow_driver import Kiosk, demo_policy

from kiosk.flows.steps import BeginAnswer, CaptchaKind, IdentifyAnswer, IdentifyData, StepKind, SwitchCaptchaAnswer
from kiosk.policy.schema import Policy


@pytest.fixture
def policy() -> Policy:
    return demo_policy(captcha={"no_transcription_alternative": True})


def _data(kiosk: Kiosk) -> IdentifyData:
    data = kiosk.flow.step.data
    assert isinstance(data, IdentifyData)
    return data


async def test_the_identify_page_offers_what_the_policy_enables(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    data = _data(kiosk)
    assert data.audio and data.pictures_offered and data.picture_check is None


async def test_switching_to_pictures_keeps_the_typed_id_and_solves_with_the_right_picture(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    step = await kiosk.flow.submit(SwitchCaptchaAnswer(CaptchaKind.PICTURES, user_id=" emma "))
    data = _data(kiosk)
    assert step.kind is StepKind.IDENTIFY and data.user_id == "emma"
    assert data.picture_check is not None and len(data.picture_check.pictures) == 6
    assert all(picture.png.startswith(b"\x89PNG") for picture in data.picture_check.pictures)
    assert await kiosk.flow.captcha_audio() == b""  # a picture check is never read out
    step = await kiosk.flow.submit(IdentifyAnswer(user_id="emma", captcha=await kiosk.captcha()))
    assert step.kind is StepKind.CHOOSE_METHOD


async def test_a_wrong_picture_shows_new_pictures_with_an_error(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.flow.submit(SwitchCaptchaAnswer(CaptchaKind.PICTURES, user_id="emma"))
    before = _data(kiosk).picture_check
    assert before is not None
    answer = await kiosk.captcha()
    wrong = next(picture.id for picture in before.pictures if picture.id != answer)
    step = await kiosk.flow.submit(IdentifyAnswer(user_id="emma", captcha=wrong))
    after = _data(kiosk).picture_check
    assert after is not None and {p.id for p in after.pictures}.isdisjoint({p.id for p in before.pictures})
    assert [(error.field, error.code) for error in step.errors] == [("captcha", "picture_wrong")]


async def test_new_pictures_and_back_to_characters(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.flow.submit(SwitchCaptchaAnswer(CaptchaKind.PICTURES))
    first = _data(kiosk).picture_check
    await kiosk.flow.refresh_captcha()
    second = _data(kiosk).picture_check
    assert first is not None and second is not None and first != second
    await kiosk.flow.submit(SwitchCaptchaAnswer(CaptchaKind.CHARACTERS, user_id="emma"))
    data = _data(kiosk)
    assert data.picture_check is None and data.captcha_png.startswith(b"\x89PNG")
    step = await kiosk.flow.submit(IdentifyAnswer(user_id="emma", captcha=await kiosk.captcha()))
    assert step.kind is StepKind.CHOOSE_METHOD


@pytest.mark.parametrize("policy", [demo_policy(captcha={"audio": False})])
async def test_audio_off_hides_it_and_never_asks(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    data = _data(kiosk)
    assert not data.audio and not data.pictures_offered
    calls = kiosk.calls("GET", "/v1/session/captcha/audio")
    assert await kiosk.flow.captcha_audio() == b""
    assert kiosk.calls("GET", "/v1/session/captcha/audio") == calls
    # Pictures are not offered: asking for them keeps the characters.
    await kiosk.flow.submit(SwitchCaptchaAnswer(CaptchaKind.PICTURES))
    assert _data(kiosk).picture_check is None
