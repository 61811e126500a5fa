"""The `kiosk` command as an administrator runs it: policy check, screenshots and the start-up self-test."""

from __future__ import annotations

import os
import re
import struct
import subprocess
from pathlib import Path

import pytest
from kiosk_driver import REPO

from kiosk.flows.steps import StepKind

KIOSK = REPO / ".venv" / "bin" / "kiosk"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def run_kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the installed `kiosk` command from the repository root, offscreen."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


@pytest.mark.parametrize(
    ("example", "problems"),
    [
        (
            "out-of-range.toml",
            [(3, "methods.enabled", "carrier_pigeon"), (7, "methods.code_length", "between 6 and 10")],
        ),
        ("syntax-error.toml", [(6, None, "TOML syntax error")]),
        ("unknown-key.toml", [(7, "methods.requird", "did you mean required?")]),
        ("wrong-type.toml", [(4, "password.history", "whole number")]),
    ],
)
def test_policy_check_names_file_line_key_and_message_of_each_problem(
    example: str, problems: list[tuple[int, str | None, str]]
) -> None:
    """An administrator checks a broken policy: exit 1 and one `file:line: key: message` line per problem."""
    path = f"resources/examples/{example}"
    result = run_kiosk("policy", "check", path)
    assert result.returncode == 1
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == len(problems), result.stderr
    for line, (number, key, words) in zip(lines, problems, strict=True):
        match = re.fullmatch(rf"{re.escape(path)}:(\d+): (?:([\w.]+): )?(.+)", line)
        assert match is not None, line
        assert int(match.group(1)) == number
        if key is not None:
            assert match.group(2) == key
        assert words in match.group(3)


def test_policy_check_accepts_the_demo_policy() -> None:
    """The demo policy is valid: exit 0 and an OK line."""
    result = run_kiosk("policy", "check", "resources/demo-policy.toml")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "OK: resources/demo-policy.toml is a valid policy"


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's header (after checking it is a PNG)."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_screenshots_writes_one_png_per_page(tmp_path: Path) -> None:
    """`kiosk screenshots --out DIR` renders every page (one PNG per StepKind) and prints each path."""
    out = tmp_path / "shots"
    result = run_kiosk("screenshots", "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = {Path(line) for line in result.stdout.splitlines()}
    assert written == set(out.glob("*.png"))
    for kind in StepKind:
        shot = out / f"{kind.value}.png"
        assert shot in written, f"no screenshot of the {kind.value} page"
        width, height = png_size(shot)
        assert width >= 640 and height >= 480


def test_demo_self_test_starts_and_prints_ready() -> None:
    """`kiosk --demo --self-test` starts the window against the embedded backend, prints READY and exits 0."""
    result = run_kiosk("--demo", "--self-test")
    assert result.returncode == 0, result.stderr
    assert re.search(r"^READY \d+ ms$", result.stdout, re.MULTILINE), result.stdout
    assert "FAILED" not in result.stdout
