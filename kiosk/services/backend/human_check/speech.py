"""Characters read out in a given language by espeak-ng (the CAPTCHA's audio alternative).

Blocking (a subprocess): call it on a worker thread, never on the event loop. The text goes to
espeak-ng on stdin, never on its command line (which other local users can read in /proc), and is
never logged.
"""

from __future__ import annotations

import functools
import io
import logging
import shutil
import subprocess
import tempfile
import wave
from array import array
from pathlib import Path

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 10.0
"""How long espeak-ng may take for one recording (it needs well under a second)."""

PAUSE_BETWEEN_CHARACTERS_MS = 600
PAUSE_BEFORE_REPEAT_MS = 1500
WORDS_PER_MINUTE = 140  # espeak-ng's default (175) is fast for characters read one by one

# BCP 47 tags (lower case) whose espeak-ng voice has another name. Chinese is Mandarin ("cmn") for
# both scripts, Cantonese ("yue") only for Hong Kong; espeak-ng's French and English are regional.
_ALIASES = {
    "zh": "cmn",
    "zh-hans": "cmn",
    "zh-hant": "cmn",
    "zh-hk": "yue",
    "zh-hant-hk": "yue",
    "no": "nb",
    "sr-latn": "sr",
    "fr": "fr-fr",
    "en": "en-us",
}


def _espeak() -> str | None:
    return shutil.which("espeak-ng")


@functools.cache
def installed_voices() -> frozenset[str]:
    """The languages espeak-ng has a voice for (lower case, e.g. `de`, `pt-br`, `cmn`); empty without it."""
    program = _espeak()
    if program is None:
        log.warning("espeak-ng is not installed: the CAPTCHA is read out in English only (make system-deps)")
        return frozenset()
    try:
        listing = subprocess.run(  # noqa: S603 - a fixed program and arguments
            [program, "--voices"], capture_output=True, text=True, timeout=TIMEOUT_SECONDS, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError) as error:
        log.warning("could not list espeak-ng's voices (%s): the CAPTCHA is read out in English", type(error).__name__)
        return frozenset()
    # "Pty Language Age/Gender VoiceName File Other Languages": the second column, after the header.
    return frozenset(line.split()[1].lower() for line in listing.splitlines()[1:] if len(line.split()) > 1)


def voice_for(tag: str) -> str | None:
    """The espeak-ng voice for a BCP 47 or gettext tag (`pt-BR`, `pt_BR`, `zh-Hant`), or None.

    The tag is narrowed step by step (`fr-CA` → `fr`); the result is always a name from espeak-ng's
    own list, so nothing the client sent reaches the command line.
    """
    voices = installed_voices()
    parts = tag.replace("_", "-").lower().split("-")
    for size in range(len(parts), 0, -1):
        candidate = "-".join(parts[:size])
        alias = _ALIASES.get(candidate)
        if alias in voices:
            return alias
        if candidate in voices:
            return candidate
    return None


def characters_markup(text: str) -> str:
    """SSML that reads `text` character by character with pauses, then once more."""
    pause = f'<break time="{PAUSE_BETWEEN_CHARACTERS_MS}ms"/>'
    once = pause.join(_escape(character) for character in text)
    return f'<speak>{once}<break time="{PAUSE_BEFORE_REPEAT_MS}ms"/>{once}</speak>'


def _escape(character: str) -> str:
    return {"<": "&lt;", ">": "&gt;", "&": "&amp;"}.get(character, character)


def speak_characters(text: str, voice: str) -> bytes | None:
    """`text` read out by `voice` as a WAV recording; None (and logged, without the text) on failure."""
    program = _espeak()
    if program is None:
        return None
    with tempfile.TemporaryDirectory(prefix="kiosk-speech-") as folder:
        # To a file rather than stdout: espeak-ng writes a WAV header with no length to a pipe.
        target = Path(folder) / "captcha.wav"
        command = [program, "-v", voice, "-s", str(WORDS_PER_MINUTE), "-m", "--stdin", "-w", str(target)]
        try:
            subprocess.run(  # noqa: S603 - fixed arguments; the voice comes from espeak-ng's own list
                command,
                input=characters_markup(text),
                capture_output=True,
                text=True,
                timeout=TIMEOUT_SECONDS,
                check=True,
            )
            wav = target.read_bytes()
        except subprocess.TimeoutExpired:
            log.warning("espeak-ng took longer than %ss (voice %s)", TIMEOUT_SECONDS, voice)
            return None
        except (OSError, subprocess.SubprocessError) as error:
            log.warning("espeak-ng failed (voice %s): %s", voice, type(error).__name__)
            return None
    try:
        return compact(wav)
    except (wave.Error, EOFError, ValueError):
        log.warning("espeak-ng wrote no usable WAV (voice %s)", voice)
        return None


def compact(wav: bytes) -> bytes:
    """espeak-ng's 22050 Hz 16-bit recording as 11025 Hz 8-bit: a quarter of the size (it travels as
    base64 JSON), still clear for speech, like the captcha package's own 8000 Hz 8-bit voice."""
    with wave.open(io.BytesIO(wav)) as source:
        if source.getsampwidth() != 2 or source.getnchannels() != 1:
            raise ValueError("not 16-bit mono")
        rate = source.getframerate()
        samples = array("h", source.readframes(source.getnframes()))
    # Each pair of samples averaged (a crude low-pass before halving the rate), then to unsigned 8-bit.
    pairs = zip(samples[0::2], samples[1::2], strict=False)
    frames = bytes(min(255, ((first + second) >> 9) + 128) for first, second in pairs)
    output = io.BytesIO()
    with wave.open(output, "wb") as target:
        target.setnchannels(1)
        target.setsampwidth(1)
        target.setframerate(rate // 2)
        target.writeframes(frames)
    return output.getvalue()
