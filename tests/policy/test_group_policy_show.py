"""`kiosk policy show [FILE] [--effective] [--json] [--registry FILE.reg]`, through the real command line."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from kiosk.cli.group_policy_cmd import toml_value
from kiosk.cli.main import main as cli_main
from kiosk.policy import group_policy
from kiosk.policy.group_policy import ROOT, DictRegistryReader, RegistryValue, RegType, leaves
from kiosk.policy.schema import Policy

KEY = r"HKEY_LOCAL_MACHINE\SOFTWARE\Policies\Contoso\AccountRecoveryKiosk"
POLICY = """\
[methods]
enabled = ["email", "app_code"]
required = 1

[kiosk.branding]
organisation = "Fabrikam"
"""
EXPORT = f"""\
Windows Registry Editor Version 5.00

[{KEY}\\methods]
"required"=dword:00000002

[{KEY}\\kiosk]
"idle_timeout_seconds"=dword:0000012c
"""


@pytest.fixture
def files(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "policy.toml"
    policy.write_text(POLICY, encoding="utf-8")
    export = tmp_path / "gp.reg"
    export.write_bytes(b"\xff\xfe" + EXPORT.replace("\n", "\r\n").encode("utf-16-le"))
    return policy, export


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = cli_main(["policy", "show", *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def lines_by_key(out: str) -> dict[str, str]:
    return {line.split(" = ", 1)[0]: line for line in out.splitlines() if not line.startswith("#")}


def test_show_file_lists_what_the_file_sets_with_its_lines(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, _ = files
    code, out, err = run(capsys, str(policy))
    assert (code, err) == (0, "")
    header, *rows = out.splitlines()
    assert header == f"# What {policy} sets (kiosk policy show --effective adds defaults and Group Policy)"
    assert [row.split("  # ") for row in rows] == [
        ['methods.enabled = ["email", "app_code"]'.ljust(56), f"file ({policy}:2)"],
        ["methods.required = 1".ljust(56), f"file ({policy}:3)"],
        ['kiosk.branding.organisation = "Fabrikam"'.ljust(56), f"file ({policy}:6)"],
    ]


def test_show_effective_gives_every_setting_and_its_source(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, export = files
    code, out, err = run(capsys, str(policy), "--effective", "--registry", str(export))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"# The effective policy: defaults < {policy} < Group Policy ({export}, {ROOT})"
    rows = lines_by_key(out)
    assert rows["methods.required"] == (
        "methods.required = 2".ljust(56) + f"  # group policy ({ROOT}\\methods\\required), over file ({policy}:3)"
    )
    assert rows["kiosk.idle_timeout_seconds"].endswith(f"# group policy ({ROOT}\\kiosk\\idle_timeout_seconds)")
    assert rows["kiosk.idle_timeout_seconds"].startswith("kiosk.idle_timeout_seconds = 300 ")
    assert rows["methods.enabled"].endswith(f"# file ({policy}:2)")
    assert rows["methods.code_length"] == "methods.code_length = 8".ljust(56) + "  # default"
    # Every setting of the schema, except those of sections the policy does not use (no LDAP directory here).
    defaults = Policy().model_dump(mode="json")
    expected = [leaf.dotted for leaf in leaves() if in_use(defaults, leaf.path)]
    assert "directory.openldap.base_dn" not in expected and len(expected) > 80
    assert list(rows) == expected


def in_use(values: dict[str, Any], path: tuple[str, ...]) -> bool:
    """False for a setting in a section the policy leaves out (an optional section such as [directory.openldap])."""
    node: Any = values
    for part in path[:-1]:
        node = node.get(part)
        if node is None:
            return False
    return True


def test_effective_lines_are_valid_toml_that_round_trips(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, export = files
    _, out, _ = run(capsys, str(policy), "--effective", "--registry", str(export))
    parsed = tomllib.loads(out)  # dotted keys and values, comments ignored
    assert parsed["methods"]["required"] == 2
    assert parsed["kiosk"]["branding"]["organisation"] == "Fabrikam"
    assert parsed["security_questions"]["custom"] == []


def test_show_effective_json(files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, export = files
    code, out, _ = run(capsys, str(policy), "--effective", "--json", "--registry", str(export))
    document = json.loads(out)
    assert code == 0
    assert (document["file"], document["group_policy"]) == (str(policy), f"{export}, {ROOT}")
    settings = {setting["key"]: setting for setting in document["settings"]}
    assert settings["methods.required"] == {
        "key": "methods.required",
        "value": 2,
        "source": "group_policy",
        "location": f"{ROOT}\\methods\\required",
        "overrides": f"{policy}:3",
    }
    assert settings["methods.enabled"]["source"] == "file"
    assert settings["methods.enabled"]["value"] == ["email", "app_code"]
    assert settings["password.min_length"] == {
        "key": "password.min_length", "value": 10, "source": "default", "location": None, "overrides": None
    }  # fmt: skip


def test_effective_without_a_file_is_defaults_and_group_policy(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, export = files
    code, out, _ = run(capsys, "--effective", "--registry", str(export))
    assert code == 0
    assert out.splitlines()[0] == f"# The effective policy: defaults < Group Policy ({export}, {ROOT})"
    sources = {line.rsplit("  # ", 1)[1].split(" (")[0] for line in out.splitlines()[1:]}
    assert sources == {"default", "group policy"}


def test_off_windows_effective_has_no_group_policy_unless_given(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, _ = files
    code, out, _ = run(capsys, str(policy), "--effective")
    assert code == 0
    assert out.splitlines()[0] == (
        f"# The effective policy: defaults < {policy} < Group Policy (none: not on Windows; give an export with "
        "--registry FILE.reg)"
    )
    assert "group policy" not in out


def test_effective_uses_the_systems_registry_reader(
    files: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """On Windows the live registry: injected here as a dict-backed reader."""
    policy, _ = files
    reader = DictRegistryReader({("captcha",): {"audio": RegistryValue(RegType.REG_DWORD, 0)}})
    monkeypatch.setattr(group_policy, "system_registry_reader", lambda: reader)
    code, out, _ = run(capsys, str(policy), "--effective")
    assert code == 0
    assert out.splitlines()[0].endswith(f"< Group Policy ({ROOT})")
    assert lines_by_key(out)["captcha.audio"] == "captcha.audio = false".ljust(56) + (
        f"  # group policy ({ROOT}\\captcha\\audio)"
    )


def test_a_bad_group_policy_value_is_reported_and_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "bad.reg"
    export.write_text(
        f'Windows Registry Editor Version 5.00\n\n[{KEY}\\methods]\n"code_length"=dword:00000004\n"requird"=dword:2\n',
        encoding="utf-8",
    )
    code, out, err = run(capsys, "--effective", "--registry", str(export))
    assert (code, out) == (1, "")
    assert err.splitlines() == [  # sorted by key
        f"{ROOT}\\methods\\code_length: methods.code_length: must be a whole number between 6 and 10; got the number 4",
        f'{ROOT}\\methods\\requird: methods.requird: unknown value "requird" in {ROOT}\\methods; allowed values: '
        "enabled, required, two_gate_groups, code_length, code_lifetime_minutes, code_attempts "
        "(did you mean required?)",
    ]


def test_a_broken_export_names_its_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    export = tmp_path / "broken.reg"
    export.write_text(f'Windows Registry Editor Version 5.00\n[{KEY}]\n"a"=dword:zz\n', encoding="utf-8")
    code, _, err = run(capsys, "--effective", "--registry", str(export))
    assert code == 1
    assert err == f'{export}:3: unrecognised value data: expected "text", dword:…, hex…: or -\n'


def test_a_bad_policy_file_is_reported_by_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "p.toml"
    policy.write_text("[methods]\nrequired = 3\n", encoding="utf-8")
    for args in ([str(policy)], [str(policy), "--effective"]):
        code, out, err = run(capsys, *args)
        assert (code, out) == (1, "")
        assert err == f"{policy}:2: methods.required: must be 1 or 2; got the number 3\n"


@pytest.mark.parametrize("args", [[], ["--registry", "x.reg", "p.toml"], ["--json"]])
def test_show_needs_a_file_or_effective(args: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, *args)
    assert (code, out) == (2, "")
    assert err.startswith("kiosk policy show: give a FILE to show what it sets, or --effective")


def test_toml_values() -> None:
    assert [toml_value(v) for v in (True, 8, 2.5, 'a "b"\x7f', ["x", 1])] == [
        "true", "8", "2.5", '"a \\"b\\"\\u007F"', '["x", 1]'
    ]  # fmt: skip
    tricky = "tab\tnew\nline \\ é \u0001"
    assert tomllib.loads("v = " + toml_value(tricky))["v"] == tricky
    with pytest.raises(TypeError):
        toml_value({"a": 1})


def test_the_policy_commands_stay_light() -> None:
    """`kiosk policy show/admx` import neither Qt nor the backend, so they start fast and need no display."""
    script = (
        "import sys, kiosk.cli.group_policy_cmd; "
        "sys.exit(any(m in sys.modules for m in ('PySide6', 'kiosk.services.backend', 'starlette')))"
    )
    assert subprocess.run([sys.executable, "-c", script], check=False).returncode == 0  # noqa: S603 (our interpreter)


def test_the_readme_example_export_overrides_the_demo_policy(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    example = "resources/examples/group-policy.reg"
    code, out, err = run(capsys, "resources/demo-policy.toml", "--effective", "--registry", example)
    assert (code, err) == (0, "")
    overridden = [key for key, line in lines_by_key(out).items() if "# group policy (" in line]
    assert overridden == [
        "methods.enabled",
        "methods.required",
        "kiosk.idle_timeout_seconds",
        "kiosk.helpdesk.phone",
        "kiosk.lockdown",
    ]
    assert lines_by_key(out)["methods.required"].startswith("methods.required = 2 ")
