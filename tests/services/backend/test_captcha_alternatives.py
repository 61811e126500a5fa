"""The CAPTCHA's alternatives (issue 5, accessibility 4): audio in the user's language, and a picture check.

Audio: espeak-ng (a real subprocess, installed by `make system-deps`) reads the characters in the
session's language; the captcha package's English voice is the fallback. The recordings are told
apart by their sample rate: the espeak-ng recording is sent at 11025 Hz, the captcha package's at 8000 Hz.
"""

from __future__ import annotations

import base64
import io
import logging
import wave

import pytest

from kiosk.policy.schema import CaptchaSettings, LimitSettings
from kiosk.services.api import CaptchaAudio, PictureCheck, PictureSubject, Stage
from kiosk.services.backend.human_check import captcha, speech
from kiosk.services.backend.human_check import pictures as picture_check

from .conftest import Kiosk, demo_policy, kiosk_for

ESPEAK_RATE = 11025
LIBRARY_RATE = 8000
PICTURES = demo_policy(captcha=CaptchaSettings(no_transcription_alternative=True))


def _rate(wav_base64: str) -> int:
    with wave.open(io.BytesIO(base64.b64decode(wav_base64))) as recording:
        return recording.getframerate()


# --- espeak-ng -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tag", "voice"),
    [
        ("ar", "ar"),
        ("de-AT", "de"),
        ("pt-BR", "pt-br"),
        ("pt_PT", "pt"),
        ("zh-Hans", "cmn"),
        ("zh-Hant", "cmn"),
        ("sr_Latn", "sr"),
        ("fr-CA", "fr-fr"),
        ("en", "en-us"),
        ("en-GB", "en-gb"),
        ("gl", None),  # espeak-ng has no Galician voice: the English fallback
        ("xx-nonsense", None),
    ],
)
def test_a_voice_is_found_for_the_session_language(tag: str, voice: str | None) -> None:
    assert speech.voice_for(tag) == voice


def test_characters_are_read_one_by_one_with_pauses_twice() -> None:
    markup = speech.characters_markup("482")
    once = '4<break time="600ms"/>8<break time="600ms"/>2'
    assert markup == f'<speak>{once}<break time="1500ms"/>{once}</speak>'


@pytest.mark.parametrize("locale", ["de", "ar", "ja", "pt-BR"])
async def test_audio_is_spoken_by_espeak_in_the_session_language(locale: str) -> None:
    audio = await captcha.render_audio("482957", locale)
    assert _rate(audio.wav_base64) == ESPEAK_RATE


async def test_a_language_without_a_voice_falls_back_to_the_english_voice() -> None:
    assert _rate((await captcha.render_audio("482957", "gl")).wav_base64) == LIBRARY_RATE


async def test_a_slow_espeak_times_out_into_the_fallback_and_no_log_has_the_text(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(speech, "TIMEOUT_SECONDS", 0.0001)
    with caplog.at_level(logging.DEBUG):
        audio = await captcha.render_audio("482957", "de")
    assert _rate(audio.wav_base64) == LIBRARY_RATE
    assert "longer than" in caplog.text and "482957" not in caplog.text


async def test_without_espeak_the_english_voice_answers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(speech, "_espeak", lambda: None)
    assert speech.speak_characters("482957", "de") is None
    assert _rate((await captcha.render_audio("482957", "de")).wav_base64) == LIBRARY_RATE


async def test_the_audio_route_speaks_the_session_language(kiosk: Kiosk) -> None:
    response = await kiosk.request("POST", "/sessions", {"kiosk_id": "lobby-1", "locale": "de"})
    kiosk.token = response.json()["token"]
    response = await kiosk.request("GET", "/session/captcha/audio")
    assert response.status_code == 200
    assert _rate(CaptchaAudio.model_validate_json(response.content).wav_base64) == ESPEAK_RATE


async def test_audio_turned_off_by_the_policy_is_a_clear_403() -> None:
    async with kiosk_for(demo_policy(captcha=CaptchaSettings(audio=False))) as kiosk:
        await kiosk.open()
        await kiosk.error("GET", "/session/captcha/audio", None, 403, "captcha_disabled")


# --- the picture check ---------------------------------------------------------------------------


def test_a_picture_check_shows_every_subject_once_under_random_ids() -> None:
    challenge = picture_check.new_challenge()
    assert sorted(subject for _id, subject in challenge.pictures) == sorted(PictureSubject)
    ids = [picture_id for picture_id, _subject in challenge.pictures]
    assert len(set(ids)) == len(ids) and all(len(picture_id) == 8 for picture_id in ids)
    assert (challenge.answer, challenge.subject) in challenge.pictures


@pytest.mark.parametrize("subject", list(PictureSubject))
def test_every_subject_draws_a_different_picture_each_time(subject: PictureSubject) -> None:
    first, second = picture_check.draw_png(subject), picture_check.draw_png(subject)
    assert first.startswith(b"\x89PNG") and first != second


async def test_the_picture_check_is_answered_by_the_right_id() -> None:
    async with kiosk_for(PICTURES) as kiosk:
        await kiosk.open()
        response = await kiosk.request("POST", "/session/captcha/pictures")
        assert response.status_code == 200
        check = PictureCheck.model_validate_json(response.content)
        assert len(check.choices) == len(PictureSubject)
        answer = await kiosk.backend.captcha_text_for_test(kiosk.token)
        assert answer in {choice.id for choice in check.choices}
        # A picture check is never read out: its answer is an id.
        await kiosk.error("GET", "/session/captcha/audio", None, 409, "step_not_allowed")
        view = await kiosk.ok("POST", "/session/identify", {"user_id": "emma", "captcha": answer})
        assert view.stage is Stage.CHOOSE_METHOD


async def test_a_wrong_picture_spends_the_check_like_a_wrong_text() -> None:
    async with kiosk_for(PICTURES) as kiosk:
        await kiosk.open()
        check = PictureCheck.model_validate_json((await kiosk.request("POST", "/session/captcha/pictures")).content)
        answer = await kiosk.backend.captcha_text_for_test(kiosk.token)
        wrong = next(choice.id for choice in check.choices if choice.id != answer)
        await kiosk.error("POST", "/session/identify", {"user_id": "emma", "captcha": wrong}, 400, "captcha_wrong")
        # One try per check: the right answer of the spent check no longer works either.
        await kiosk.error("POST", "/session/identify", {"user_id": "emma", "captcha": answer}, 400, "captcha_wrong")


async def test_the_picture_check_is_403_unless_the_policy_offers_it(kiosk: Kiosk) -> None:
    await kiosk.open()
    await kiosk.error("POST", "/session/captcha/pictures", None, 403, "captcha_disabled")


async def test_the_picture_check_counts_against_the_distinct_id_cap() -> None:
    policy = PICTURES.model_copy(update={"limits": LimitSettings(kiosk_distinct_accounts=3)})
    async with kiosk_for(policy) as kiosk:
        statuses = []
        for number in range(4):
            await kiosk.open()
            await kiosk.request("POST", "/session/captcha/pictures")
            answer = await kiosk.backend.captcha_text_for_test(kiosk.token)
            body = {"user_id": f"nobody{number}", "captcha": answer}
            response = await kiosk.request("POST", "/session/identify", body)
            statuses.append(response.status_code)
        assert statuses == [200, 200, 200, 429]
