"""One-time codes, authenticator codes, the CAPTCHA and session expiry, with a manual clock."""

from __future__ import annotations

import base64

from kiosk.policy.schema import Method, MethodSettings
from kiosk.services.api import CaptchaAudio, CaptchaImage, SessionView, Stage
from kiosk.services.backend import ManualClock

from .conftest import Kiosk, demo_policy, kiosk_for


def _wrong(code: str) -> str:
    return code[:-1] + str((int(code[-1]) + 1) % 10)


async def test_wrong_code_then_right(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    code = await kiosk.sent_code()
    lefts = []
    for _ in range(3):
        error = await kiosk.error("POST", "/session/code", {"code": _wrong(code)}, 400, "code_wrong")
        lefts.append(error["attempts_left"])
    assert lefts == [4, 3, 2]
    view = await kiosk.ok("GET", "/session")
    assert view.code is not None and view.code.attempts_left == 2
    assert (await kiosk.code(code)).stage is Stage.NEW_PASSWORD


async def test_code_expires(kiosk: Kiosk, clock: ManualClock) -> None:
    await kiosk.start("emma")
    view = await kiosk.choose(Method.EMAIL)
    assert view.code is not None and view.code.expires_at is not None
    assert (view.code.expires_at - clock.now()).total_seconds() == 300
    code = await kiosk.sent_code()
    clock.advance(301)
    await kiosk.error("POST", "/session/code", {"code": code}, 400, "code_expired")
    await kiosk.ok("POST", "/session/code/resend")
    assert (await kiosk.code(await kiosk.sent_code())).stage is Stage.NEW_PASSWORD


async def test_code_is_single_use(kiosk: Kiosk) -> None:
    await kiosk.start("tara")
    await kiosk.choose(Method.EMAIL)
    code = await kiosk.sent_code()
    await kiosk.code(code)
    await kiosk.error("POST", "/session/code", {"code": code}, 409, "no_active_code")


# 4 tries per code: with 5, the 5th wrong try is also the user's 5th failed identity proof, which
# blocks the user for 24 h (429, test_throttles.py) before the burned code could be seen.
_FOUR_TRIES = {"methods": MethodSettings(**{**demo_policy().methods.model_dump(), "code_attempts": 4})}


async def test_code_burned_after_the_allowed_tries() -> None:
    async with kiosk_for(demo_policy(**_FOUR_TRIES)) as kiosk:
        await kiosk.start("emma")
        await kiosk.choose(Method.EMAIL)
        code = await kiosk.sent_code()
        for _ in range(3):
            await kiosk.error("POST", "/session/code", {"code": _wrong(code)}, 400, "code_wrong")
        error = await kiosk.error("POST", "/session/code", {"code": _wrong(code)}, 400, "code_burned")
        assert error["attempts_left"] == 0
        await kiosk.error("POST", "/session/code", {"code": code}, 400, "code_burned")  # even the right one


async def test_resend_invalidates_the_old_code(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    old = await kiosk.sent_code()
    view = await kiosk.ok("POST", "/session/code/resend")
    assert view.code is not None and view.code.attempts_left == 5
    new = await kiosk.sent_code()
    if old != new:
        await kiosk.error("POST", "/session/code", {"code": old}, 400, "code_wrong")
    assert (await kiosk.code(new)).stage is Stage.NEW_PASSWORD


async def test_choosing_the_method_again_sends_a_new_code(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    await kiosk.choose(Method.EMAIL)
    assert len([m for m in await kiosk.backend.outbox() if m.channel is Method.EMAIL]) == 2


async def test_voice_calls_read_the_code_out() -> None:
    methods = MethodSettings(enabled=(Method.MOBILE_CALL, Method.EMAIL), code_length=6)
    async with kiosk_for(demo_policy(methods=methods)) as kiosk:
        await kiosk.start("tara")  # still two gates (Finance)
        view = await kiosk.choose(Method.MOBILE_CALL)
        assert view.code is not None and view.code.code_length == 6
        message = (await kiosk.backend.outbox())[-1]
        assert message.channel is Method.MOBILE_CALL and message.to == "+31 6 2345 6778"
        assert (await kiosk.code(await kiosk.sent_code())).gates_passed == 1


async def test_app_code_cannot_be_resent(kiosk: Kiosk) -> None:
    await kiosk.start("alex")
    await kiosk.choose(Method.APP_CODE)
    await kiosk.error("POST", "/session/code/resend", None, 409, "step_not_allowed")


async def test_totp_replay_is_refused(kiosk: Kiosk) -> None:
    await kiosk.start("tara")
    code = await kiosk.app_code("tara")
    await kiosk.choose(Method.APP_CODE)
    await kiosk.code(code)
    # A second session (say, someone who watched the screen) tries the same code in the same time-step.
    await kiosk.start("tara")
    await kiosk.choose(Method.APP_CODE)
    error = await kiosk.error("POST", "/session/code", {"code": code}, 400, "code_wrong")
    assert error["attempts_left"] == 4


async def test_totp_accepts_one_step_of_drift(kiosk: Kiosk, clock: ManualClock) -> None:
    await kiosk.start("alex")
    await kiosk.choose(Method.APP_CODE)
    previous = await kiosk.app_code("alex", offset_steps=-1)
    assert (await kiosk.code(previous)).stage is Stage.NEW_PASSWORD


async def test_app_code_used_up_after_the_allowed_tries() -> None:
    async with kiosk_for(demo_policy(**_FOUR_TRIES)) as kiosk:
        await kiosk.start("tara")
        await kiosk.choose(Method.APP_CODE)
        for left in (3, 2, 1):
            error = await kiosk.error("POST", "/session/code", {"code": "000000x"}, 400, "code_wrong")
            assert error["attempts_left"] == left
        await kiosk.error("POST", "/session/code", {"code": "000000x"}, 400, "code_burned")
        view = await kiosk.ok("GET", "/session")
        assert view.stage is Stage.CHOOSE_METHOD and Method.APP_CODE not in {m.method for m in view.methods}
        await kiosk.error("POST", "/session/method", {"method": "app_code"}, 409, "method_not_available")


async def test_wrong_captcha_replaces_the_challenge(kiosk: Kiosk) -> None:
    opened = await kiosk.open()
    assert base64.b64decode(opened.captcha.png_base64).startswith(b"\x89PNG")
    first = await kiosk.backend.captcha_text_for_test(kiosk.token)
    wrong = "9" * 6 if first != "9" * 6 else "8" * 6
    await kiosk.error("POST", "/session/identify", {"user_id": "emma", "captcha": wrong}, 400, "captcha_wrong")
    second = await kiosk.backend.captcha_text_for_test(kiosk.token)
    # One try per challenge: the first answer is worthless now (unless chance repeats it).
    if second != first:
        await kiosk.error("POST", "/session/identify", {"user_id": "emma", "captcha": first}, 400, "captcha_wrong")
    assert (await kiosk.identify("emma")).stage is Stage.CHOOSE_METHOD


async def test_new_captcha_and_audio(kiosk: Kiosk) -> None:
    await kiosk.open()
    before = await kiosk.backend.captcha_text_for_test(kiosk.token)
    response = await kiosk.request("POST", "/session/captcha")
    assert response.status_code == 200
    CaptchaImage.model_validate_json(response.content)
    after = await kiosk.backend.captcha_text_for_test(kiosk.token)
    assert len(after) == len(before) == 6 and after.isdigit()
    response = await kiosk.request("GET", "/session/captcha/audio")
    assert response.status_code == 200
    wav = base64.b64decode(CaptchaAudio.model_validate_json(response.content).wav_base64)
    assert wav.startswith(b"RIFF") and b"WAVE" in wav[:16]


async def test_captcha_is_case_and_space_insensitive(kiosk: Kiosk) -> None:
    await kiosk.open()
    text = await kiosk.backend.captcha_text_for_test(kiosk.token)
    view = await kiosk.ok("POST", "/session/identify", {"user_id": "emma", "captcha": f" {text[:3]} {text[3:]} "})
    assert view.stage is Stage.CHOOSE_METHOD


async def test_session_expires(kiosk: Kiosk, clock: ManualClock) -> None:
    opened = await kiosk.open()
    assert (opened.view.expires_at - clock.now()).total_seconds() == 15 * 60
    await kiosk.identify("emma")
    clock.advance(15 * 60)
    await kiosk.error("GET", "/session", None, 401, "session_expired")
    await kiosk.error("POST", "/session/method", {"method": "email"}, 401, "session_expired")


async def test_missing_or_unknown_token(kiosk: Kiosk) -> None:
    await kiosk.error("GET", "/session", None, 401, "session_required")
    kiosk.token = "not-a-real-token"
    await kiosk.error("GET", "/session", None, 401, "session_required")


async def test_views_match_between_get_and_post(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    posted = await kiosk.choose(Method.EMAIL)
    got = await kiosk.ok("GET", "/session")
    assert got == posted
    assert isinstance(got, SessionView)
