"""The policy refuses invisible direction characters and control characters in the kiosk id and in languages.

`backend.kiosk_id` is written into every audit row of the kiosk: an id like `lobby<U+202E>1` would read
differently from what it is. Language tags carry no such characters either.
"""

from __future__ import annotations

import json

import pytest

from kiosk.policy.loader import PolicyProblem, check_policy_text, load_policy_text
from kiosk.policy.schema import Policy

BIDI_CONTROLS = ["\u061c", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e"]
BIDI_CONTROLS += ["\u2066", "\u2067", "\u2068", "\u2069"]
CONTROLS = ["\x00", "\x1b", "\n", "\x7f", "\x85"]
BAD = BIDI_CONTROLS + CONTROLS
IDS = [f"U+{ord(ch):04X}" for ch in BAD]


def toml_string(value: str) -> str:
    """A TOML basic string: JSON's escapes (\\uXXXX) are TOML's too."""
    return json.dumps(value, ensure_ascii=True)


def only_problem(text: str) -> PolicyProblem:
    problems = check_policy_text(text, "test.toml")
    assert len(problems) == 1, problems
    return problems[0]


@pytest.mark.parametrize("control", BAD, ids=IDS)
def test_a_kiosk_id_with_an_invisible_or_control_character_is_refused(control: str) -> None:
    problem = only_problem(f"[backend]\nkiosk_id = {toml_string(f'lobby{control}1')}\n")
    assert (problem.key, problem.line) == ("backend.kiosk_id", 2)
    assert "invisible" in problem.message and "control" in problem.message


@pytest.mark.parametrize("control", BAD, ids=IDS)
def test_a_language_with_an_invisible_or_control_character_is_refused(control: str) -> None:
    problem = only_problem(f"[kiosk]\ndefault_language = {toml_string(f'ar{control}')}\n")
    assert (problem.key, problem.line) == ("kiosk.default_language", 2)
    problem = only_problem(f'[kiosk]\nlanguages = ["en", {toml_string(f"{control}de")}]\n')
    assert problem.key.startswith("kiosk.languages") and problem.line == 2
    assert "invisible" in problem.message


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=IDS[: len(BIDI_CONTROLS)])
def test_the_model_refuses_it_too(control: str) -> None:
    with pytest.raises(ValueError, match="invisible"):
        Policy.model_validate({"backend": {"kiosk_id": f"{control}lobby"}})


def test_ordinary_kiosk_ids_and_languages_still_load() -> None:
    policy = load_policy_text(
        '[backend]\nkiosk_id = "Lobby 2 – Gebäude Nord / مدخل"\n[kiosk]\nlanguages = ["ar", "de", "pt-BR"]\n'
        'default_language = "ar"\n',
        "test.toml",
    )
    assert policy.backend.kiosk_id == "Lobby 2 – Gebäude Nord / مدخل"
    assert policy.kiosk.languages == ("ar", "de", "pt-BR")
