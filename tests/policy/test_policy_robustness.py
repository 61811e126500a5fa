"""Never a traceback: mangled and hostile policy text always comes back as problems."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kiosk.policy.loader import MAX_POLICY_BYTES, check_policy_text

DEMO = (Path(__file__).resolve().parents[2] / "resources" / "demo-policy.toml").read_text(encoding="utf-8")
NOISE = [*"[]{}\"'=#.,\n \\x1-", '"""', "'''", "[[", "]]", "true", "1979-05-27", "\x00", "\U0001f600"]


@pytest.mark.parametrize("seed", range(400))
def test_mangled_demo_policy_gives_problems_not_exceptions(seed: int) -> None:
    rng = random.Random(seed)
    text = list(DEMO)
    for _ in range(rng.randrange(1, 6)):
        position = rng.randrange(len(text))
        if rng.random() < 0.5:
            del text[position]
        else:
            text.insert(position, rng.choice(NOISE))
    mangled = "".join(text)
    last_line = mangled.count("\n") + 1
    for problem in check_policy_text(mangled, "mangled.toml"):
        assert problem.message
        assert problem.line is None or 1 <= problem.line <= last_line


@pytest.mark.parametrize(
    "text",
    [
        "a = " + "[" * 100_000 + "]" * 100_000,
        "a = " + "{b = " * 50_000 + "1" + "}" * 50_000,
        "[methods]\nenabled = " + "[" * 100_000 + "]" * 100_000,
    ],
)
def test_deep_nesting_is_a_problem_not_a_crash(text: str) -> None:
    assert len(text.encode()) <= MAX_POLICY_BYTES
    [problem] = check_policy_text(text, "deep.toml")
    assert "nested too deeply" in problem.message
