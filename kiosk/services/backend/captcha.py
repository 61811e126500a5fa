"""CAPTCHA challenges: digit strings rendered as a PNG picture or a WAV recording, off the event loop.

Digits only, because the audio voices of the `captcha` package speak digits; 0 and 1 are left out
so nobody mistakes them for O and l in the picture.
"""

from __future__ import annotations

import asyncio
import base64
import hmac
import secrets

from kiosk.services.api import CaptchaAudio, CaptchaImage

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


def _wav(text: str) -> str:
    from captcha.audio import AudioCaptcha

    return base64.b64encode(bytes(AudioCaptcha().generate(text))).decode("ascii")


async def render_image(text: str) -> CaptchaImage:
    """The challenge as a PNG picture."""
    return CaptchaImage(png_base64=await asyncio.to_thread(_png, text))


async def render_audio(text: str) -> CaptchaAudio:
    """The challenge read out as a WAV recording."""
    return CaptchaAudio(wav_base64=await asyncio.to_thread(_wav, text))
