"""The engine and the live checklist take any password the policy allows, and refuse what nobody can retype.

Long passphrases (up to the policy's 256 characters), disguised banned words, decomposed Unicode and
invisible direction marks, through the real engine and the real in-process backend.
"""

from __future__ import annotations

import unicodedata

import pytest
from flow_driver import NEW_PASSWORD, Kiosk

from kiosk.flows.steps import (
    BeginAnswer,
    ChooseMethodAnswer,
    CodeAnswer,
    FieldError,
    NewPasswordAnswer,
    NewPasswordData,
    StepKind,
)
from kiosk.flows.validation import BAD_CHARACTERS, FAILS_RULES, TOO_LONG, new_password_errors
from kiosk.policy.password import PasswordRule, PasswordRules
from kiosk.policy.schema import Method, PasswordSettings

EMMA = "emma.jansen@contoso.com"
_WORDS = "Quartz lantern 97 Orbit meadow Falcon tundra Ginger harbor Violet canyon Maple ember Juniper 48".split()
BIDI_CONTROLS = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066"]
BIDI_CONTROLS += ["\u2067", "\u2068", "\u2069"]


def passphrase(length: int) -> str:
    """A varied passphrase of exactly `length` characters."""
    text = "-".join(_WORDS)
    while len(text) < length:
        text += "-" + "-".join(reversed(_WORDS))
    return text[:length]


async def at_new_password(kiosk: Kiosk) -> NewPasswordData:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA)))
    assert step.kind is StepKind.NEW_PASSWORD
    assert isinstance(step.data, NewPasswordData)
    return step.data


# --- finding 5: long passwords --------------------------------------------------------------------


@pytest.mark.parametrize("length", [72, 73, 128, 256])
async def test_the_live_checklist_takes_a_long_passphrase(kiosk: Kiosk, length: int) -> None:
    await at_new_password(kiosk)
    check = kiosk.flow.check_password(passphrase(length))
    assert check.ok, check.failed
    assert check.strength == 4


@pytest.mark.parametrize("length", [72, 73, 128, 256])
async def test_a_long_passphrase_is_set_end_to_end(kiosk: Kiosk, length: int) -> None:
    await at_new_password(kiosk)
    password = passphrase(length)
    step = await kiosk.flow.submit(NewPasswordAnswer(password, password))
    assert step.kind is StepKind.DONE, step
    assert await kiosk.backend.directory.verify_password("emma", password)


async def test_longer_than_the_policy_is_a_field_error(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    assert kiosk.flow.check_password(passphrase(257)).failed == (PasswordRule.MAX_LENGTH,)
    step = await kiosk.flow.submit(NewPasswordAnswer(passphrase(257), passphrase(257)))
    assert step.errors == (FieldError("password", TOO_LONG),)
    assert kiosk.calls("POST", "/v1/session/password") == 0


# --- finding 6: disguised banned words ------------------------------------------------------------


@pytest.mark.parametrize(
    "password", ["C0nt0so-Kiosk-2025", "P@ssw0rd-Lobby-99", "W3lcome-Lobby-99", "Welcom3-Lobby-99"]
)
async def test_a_disguised_banned_word_is_caught_by_the_checklist(kiosk: Kiosk, password: str) -> None:
    await at_new_password(kiosk)
    assert kiosk.flow.check_password(password).failed == (PasswordRule.NO_BANNED_WORDS,)
    step = await kiosk.flow.submit(NewPasswordAnswer(password, password))
    assert step.errors == (FieldError("password", FAILS_RULES),)
    assert kiosk.calls("POST", "/v1/session/password") == 0


# --- finding 7: Unicode normalization -------------------------------------------------------------


def test_a_password_typed_decomposed_matches_its_composed_confirmation() -> None:
    rules = PasswordRules.from_settings(PasswordSettings(max_length=22))
    composed = "Crème-Brûlée-Éclair-42"  # 22 characters; 25 code points decomposed
    decomposed = unicodedata.normalize("NFD", composed)
    data = NewPasswordData(rules=rules, user_names=("emma", "Emma Jansen"))
    assert new_password_errors(decomposed, composed, data) == ()
    assert new_password_errors(decomposed, decomposed, data) == ()


async def test_the_decomposed_form_of_the_last_password_is_refused_as_recent(kiosk: Kiosk) -> None:
    password = "Crème-Brûlée-Éclair-42"
    await at_new_password(kiosk)
    assert (await kiosk.flow.submit(NewPasswordAnswer(password, password))).kind is StepKind.DONE
    await kiosk.flow.restart()
    await at_new_password(kiosk)
    decomposed = unicodedata.normalize("NFD", password)
    step = await kiosk.flow.submit(NewPasswordAnswer(decomposed, decomposed))
    assert step.kind is StepKind.NEW_PASSWORD
    assert isinstance(step.data, NewPasswordData)
    assert step.data.rejected == ("not_recent",)


# --- finding 9: invisible direction marks ---------------------------------------------------------


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=[f"U+{ord(ch):04X}" for ch in BIDI_CONTROLS])
def test_a_bidi_control_in_a_new_password_is_a_bad_character(control: str) -> None:
    data = NewPasswordData(rules=PasswordRules.from_settings(PasswordSettings()), user_names=("emma",))
    password = f"Tulip{control}-Harbor-93!"
    assert new_password_errors(password, password, data) == (FieldError("password", BAD_CHARACTERS),)


async def test_the_engine_refuses_it_without_asking_the_backend(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    password = NEW_PASSWORD + "\u202e"
    step = await kiosk.flow.submit(NewPasswordAnswer(password, password))
    assert step.kind is StepKind.NEW_PASSWORD
    assert step.errors == (FieldError("password", BAD_CHARACTERS),)
    assert kiosk.calls("POST", "/v1/session/password") == 0
