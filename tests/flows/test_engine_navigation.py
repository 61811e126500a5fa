"""Back, cancel, restart, CAPTCHA refresh and audio, and calls that never interleave."""

from __future__ import annotations

import asyncio

from flow_driver import NEW_PASSWORD, Kiosk, demo_policy, open_kiosk

from kiosk.flows.steps import (
    BeginAnswer,
    ChooseMethodAnswer,
    ChooseMethodData,
    CodeAnswer,
    IdentifyData,
    NewPasswordAnswer,
    StepKind,
)
from kiosk.policy.schema import Method


async def test_back_from_identify_closes_the_session(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    token = kiosk.wire.token
    assert token is not None and await kiosk.session_alive(token)
    step = await kiosk.flow.back()
    assert step.kind is StepKind.START
    assert not await kiosk.session_alive(token)


async def test_back_from_the_first_gate_starts_a_new_session_keeping_the_user_id(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    old = kiosk.wire.token
    assert old is not None
    step = await kiosk.flow.back()
    assert step.kind is StepKind.IDENTIFY
    assert isinstance(step.data, IdentifyData)
    assert step.data.user_id == "emma"
    assert kiosk.wire.token != old
    assert not await kiosk.session_alive(old)
    assert (await kiosk.identify("emma")).kind is StepKind.CHOOSE_METHOD


async def test_back_from_a_challenge_offers_the_gate_methods_again(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    choose = await kiosk.identify("tara")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    step = await kiosk.flow.back()
    assert step.kind is StepKind.CHOOSE_METHOD
    assert step.data == choose.data
    step = await kiosk.flow.submit(ChooseMethodAnswer(Method.APP_CODE))
    assert (await kiosk.flow.submit(CodeAnswer(await kiosk.app_code("tara")))).kind is StepKind.CHOOSE_METHOD


async def test_back_is_a_no_op_where_the_page_has_none(kiosk: Kiosk) -> None:
    assert (await kiosk.flow.back()).kind is StepKind.START
    async with open_kiosk(demo_policy(reset={"early_refusals": True})) as early:
        await early.flow.submit(BeginAnswer())
        refused = await early.identify("nora")
        assert refused.kind is StepKind.REFUSED
        assert await early.flow.back() is refused


async def test_cancel_closes_the_session_and_forgets_everything(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    token = kiosk.wire.token
    assert token is not None
    step = await kiosk.flow.cancel()
    assert step.kind is StepKind.START
    assert not await kiosk.session_alive(token)
    step = await kiosk.flow.submit(BeginAnswer())
    assert isinstance(step.data, IdentifyData)
    assert step.data.user_id == ""  # nothing of the previous user survives a cancel


async def test_restart_after_done_returns_to_start(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("alex")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.APP_CODE))
    await kiosk.flow.submit(CodeAnswer(await kiosk.app_code("alex")))
    assert (await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))).kind is StepKind.DONE
    assert (await kiosk.flow.restart()).kind is StepKind.START
    assert kiosk.calls("DELETE", "/v1/session") == 1


async def test_refresh_captcha_shows_a_new_picture(kiosk: Kiosk) -> None:
    first = await kiosk.flow.submit(BeginAnswer())
    step = await kiosk.flow.refresh_captcha()
    assert isinstance(first.data, IdentifyData) and isinstance(step.data, IdentifyData)
    assert step.data.captcha_png != first.data.captcha_png
    assert (await kiosk.identify("emma")).kind is StepKind.CHOOSE_METHOD  # the new one is the one that counts


async def test_captcha_audio_is_a_wav(kiosk: Kiosk) -> None:
    assert await kiosk.flow.captcha_audio() == b""  # no CAPTCHA on the start page
    await kiosk.flow.submit(BeginAnswer())
    audio = await kiosk.flow.captcha_audio()
    assert audio[:4] == b"RIFF" and audio[8:12] == b"WAVE"


async def test_a_double_submit_does_not_interleave(kiosk: Kiosk) -> None:
    first, second = await asyncio.gather(kiosk.flow.submit(BeginAnswer()), kiosk.flow.submit(BeginAnswer()))
    assert first is second  # the second saw the identify page and was ignored
    assert kiosk.calls("POST", "/v1/sessions") == 1
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    steps = await asyncio.gather(*(kiosk.flow.submit(CodeAnswer("00000000")) for _ in range(3)))
    assert [step.errors[0].attempts_left for step in steps] == [4, 3, 2]


async def test_choose_method_page_keeps_the_gate_methods_after_a_wrong_pick(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("tara")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.APP_CODE))
    await kiosk.flow.submit(CodeAnswer(await kiosk.app_code("tara")))
    step = await kiosk.flow.submit(ChooseMethodAnswer(Method.APP_CODE))  # already passed: not again
    assert step.kind is StepKind.CHOOSE_METHOD
    assert isinstance(step.data, ChooseMethodData)
    assert step.error_for("method") is not None
