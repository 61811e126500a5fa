"""CAPTCHA challenges: digit strings rendered as a PNG picture or a WAV recording, off the event loop.

Digits only, so that every voice can read them out and nobody has to spell letters in a language
they do not know; 0 and 1 are left out so nobody mistakes them for O and l in the picture.

The recording is spoken by espeak-ng in the session's language (`speech`), digit by digit with a
pause between digits, twice; without a voice for that language (or without espeak-ng) it falls back
to the English voice of the `captcha` package.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import logging
import secrets

from kiosk.services.api import CaptchaAudio, CaptchaImage
from kiosk.services.backend.human_check import speech

log = logging.getLogger(__name__)

ALPHABET = "23456789"
LENGTH = 6


def new_challenge() -> str:
    """A fresh challenge text."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def solves(challenge: str, typed: str) -> bool:
    """True when `typed` solves `challenge` (case- and space-insensitive, constant time)."""
    if not challenge:
        return False
    candidate = "".join(typed.split()).casefold()
    return hmac.compare_digest(candidate.encode(), challenge.casefold().encode())


def _png(text: str) -> str:
    from captcha.image import ImageCaptcha  # lazily: Pillow costs start-up time

    return base64.b64encode(ImageCaptcha(width=240, height=80).generate(text).getvalue()).decode("ascii")


def english_wav(text: str) -> bytes:
    """`text` read by the captcha package's own English voice (its WAV data files): the fallback voice."""
    from captcha.audio import AudioCaptcha

    return bytes(AudioCaptcha().generate(text))


def _wav(text: str, locale: str) -> str:
    voice = speech.voice_for(locale)
    wav = speech.speak_characters(text, voice) if voice else None
    if wav is None:
        # The reason (no voice, espeak-ng missing, failed or too slow) was logged by `speech`; never the text.
        wav = english_wav(text)
    return base64.b64encode(wav).decode("ascii")


async def render_image(text: str) -> CaptchaImage:
    """The challenge as a PNG picture."""
    return CaptchaImage(png_base64=await asyncio.to_thread(_png, text))


async def render_audio(text: str, locale: str = "en") -> CaptchaAudio:
    """The challenge read out as a WAV recording, in `locale` (a BCP 47 tag) where a voice exists."""
    return CaptchaAudio(wav_base64=await asyncio.to_thread(_wav, text, locale))
