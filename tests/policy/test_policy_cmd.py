"""`kiosk policy check`: its output format and exit codes."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.cli.policy_cmd import policy_check

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def run(path: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = policy_check(path, out, err)
    return code, out.getvalue(), err.getvalue()


def test_valid_policy_prints_ok_and_returns_0() -> None:
    path = str(RESOURCES / "demo-policy.toml")
    assert run(path) == (0, f"OK: {path} is a valid policy\n", "")


def test_each_problem_is_one_line_on_stderr_and_returns_1(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[methods]\nrequired = 3\n\n[kiosk]\nlanguage = ["en"]\n', encoding="utf-8")
    code, out, err = run(str(path))
    assert (code, out) == (1, "")
    first, second = err.splitlines()
    assert first == f"{path}:2: methods.required: must be 1 or 2; got the number 3"
    assert second.startswith(f'{path}:5: kiosk.language: unknown key "language" in [kiosk]; allowed: ')


def test_broken_example_uses_the_path_as_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(RESOURCES.parent)
    code, _, err = run("resources/examples/unknown-key.toml")
    assert code == 1
    assert err.startswith("resources/examples/unknown-key.toml:7: methods.requird: unknown key")


def test_syntax_error_line_has_no_key() -> None:
    code, _, err = run(str(RESOURCES / "examples" / "syntax-error.toml"))
    assert code == 1
    assert err.startswith(f"{RESOURCES / 'examples' / 'syntax-error.toml'}:6: TOML syntax error: ")


def test_missing_file_has_no_line(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    assert run(str(missing)) == (1, "", f"{missing}: no such file; give the path of a policy .toml file\n")


def test_directory_returns_1(tmp_path: Path) -> None:
    code, _, err = run(str(tmp_path))
    assert code == 1 and "is a directory" in err


def test_importing_the_command_does_not_import_qt() -> None:
    script = "import sys, kiosk.cli.policy_cmd; sys.exit('PySide6' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 0  # noqa: S603 (our interpreter)
