"""Invisible direction characters (U+202E and the other bidi controls) in a user ID are a field error.

They are invisible, nobody can retype them, and in an audit row they make text read differently from
what it is: the engine refuses them like any other bad character, before a backend call.
"""

from __future__ import annotations

import pytest
from flow_driver import Kiosk

from kiosk.flows.steps import BeginAnswer, FieldError, IdentifyAnswer, StepKind
from kiosk.flows.validation import BAD_CHARACTERS, identify_errors

BIDI_CONTROLS = [
    "\u061c",  # ARABIC LETTER MARK
    "\u200e",  # LEFT-TO-RIGHT MARK
    "\u200f",  # RIGHT-TO-LEFT MARK
    "\u202a",  # LEFT-TO-RIGHT EMBEDDING
    "\u202b",  # RIGHT-TO-LEFT EMBEDDING
    "\u202c",  # POP DIRECTIONAL FORMATTING
    "\u202d",  # LEFT-TO-RIGHT OVERRIDE
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",  # LEFT-TO-RIGHT ISOLATE
    "\u2067",  # RIGHT-TO-LEFT ISOLATE
    "\u2068",  # FIRST STRONG ISOLATE
    "\u2069",  # POP DIRECTIONAL ISOLATE
]
IDS = [f"U+{ord(ch):04X}" for ch in BIDI_CONTROLS]


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=IDS)
def test_a_bidi_control_in_the_user_id_is_a_bad_character(control: str) -> None:
    assert identify_errors(IdentifyAnswer(f"emma{control}nimda", "123456")) == (FieldError("user_id", BAD_CHARACTERS),)


@pytest.mark.parametrize("user_id", ["emma", "محمد.علي", "דוד", "Çağrı-ß"])
def test_right_to_left_and_other_scripts_are_fine(user_id: str) -> None:
    assert identify_errors(IdentifyAnswer(user_id, "123456")) == ()


@pytest.mark.parametrize("control", ["\u202e", "\u200f", "\u2066"], ids=["U+202E", "U+200F", "U+2066"])
async def test_the_engine_refuses_it_without_asking_the_backend(kiosk: Kiosk, control: str) -> None:
    await kiosk.flow.submit(BeginAnswer())
    step = await kiosk.flow.submit(IdentifyAnswer(f"admin{control}amme", "123456"))
    assert step.kind is StepKind.IDENTIFY
    assert step.errors == (FieldError("user_id", BAD_CHARACTERS),)
    assert kiosk.calls("POST", "/v1/session/identify") == 0
