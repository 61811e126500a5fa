"""`kiosk diagnose --policy FILE [--json]` as an administrator runs it: the demo, a live directory, broken input.

The console script itself runs the demo policy (no OS keyring on this machine: a warning, not a
failure); the live-directory runs go through `main()` in-process, because the FAKE in-memory keyring
that holds the service password exists only in this process.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from live_servers.common import LiveDirectory
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import fake_keyring_for

from kiosk.cli.main import main as cli_main

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / ".venv" / "bin" / "kiosk"
LINE = re.compile(r"  (OK|WARN|FAIL|SKIP) +(\S.*?)  +(\S.*)")


def run_kiosk(*args: str) -> subprocess.CompletedProcess[str]:
    """The installed `kiosk` command, from the repository root."""
    return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), *args], cwd=REPO, env={**os.environ}, capture_output=True, text=True, timeout=60, check=False
    )


def report_lines(text: str) -> dict[str, str]:
    """Check name → status, from the printed report."""
    return {match.group(2).strip(): match.group(1) for match in map(LINE.fullmatch, text.splitlines()) if match}


def live_toml(live: LiveDirectory, path: Path, **connection: str) -> Path:
    """A policy file on the live directory (the service password is in the keyring, not here)."""
    kind = "openldap" if live.kind == "openldap" else "active_directory"
    settings = {
        "urls": f'["{live.ldaps_url}"]',
        "ca_file": f'"{live.ca_file}"',
        "base_dn": f'"{live.base_dn}"',
        "bind_dn": f'"{live.service_bind_dn}"',
        "connect_timeout_seconds": "2",
        **{key: f'"{value}"' for key, value in connection.items()},
    }
    body = "\n".join(f"{key} = {value}" for key, value in settings.items())
    path.write_text(f'[directory]\nkind = "{kind}"\n\n[directory.{kind}]\n{body}\n', encoding="utf-8")
    return path


def test_the_demo_policy_diagnoses_ok_from_the_console_script() -> None:
    result = run_kiosk("diagnose", "--policy", "resources/demo-policy.toml")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = report_lines(result.stdout)
    assert lines["policy"] == "OK" and lines["backend"] == "OK"
    assert lines["directory"] == lines["SMTP"] == lines["gateway"] == "SKIP"
    assert result.stdout.splitlines()[0].startswith("kiosk diagnose: resources/demo-policy.toml (kiosk ")
    assert result.stdout.rstrip().splitlines()[-1].startswith("OK: 0 failed,")


def test_json_output_holds_every_check(memory_keyring: FakeMemoryKeyring, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["diagnose", "--policy", "resources/demo-policy.toml", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True and report["policy"] == "resources/demo-policy.toml"
    names = [check["name"] for check in report["checks"]]
    assert names[:2] == ["policy", "backend"] and names[-1] == "clock"
    assert {check["status"] for check in report["checks"]} <= {"OK", "WARN", "FAIL", "SKIP"}
    assert report["counts"]["FAIL"] == 0 and sum(report["counts"].values()) == len(names)


def test_a_broken_policy_fails_with_its_problems_and_checks_nothing_else(capsys: pytest.CaptureFixture[str]) -> None:
    path = "resources/examples/unknown-key.toml"
    assert cli_main(["diagnose", "--policy", path]) == 1
    out = capsys.readouterr().out
    assert report_lines(out) == {"policy": "FAIL", "other checks": "SKIP"}
    assert f"{path}:7: methods.requird: unknown key" in out
    assert f"fix: fix the file, then run `kiosk policy check {path}`" in out


def test_a_missing_policy_file_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["diagnose", "--policy", str(tmp_path / "nowhere.toml")]) == 1
    assert report_lines(capsys.readouterr().out)["policy"] == "FAIL"


def test_the_policy_option_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as usage:
        cli_main(["diagnose"])
    assert usage.value.code == 2
    assert "--policy" in capsys.readouterr().err


def test_a_live_directory_diagnoses_ok_and_a_wrong_ca_fails(
    live_directory: LiveDirectory, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = live_toml(live_directory, tmp_path / "good.toml")
    wrong = live_toml(live_directory, tmp_path / "wrong.toml", ca_file=live_directory.wrong_ca_file)
    where = f"{live_directory.host}:{live_directory.ldaps_port}"
    with fake_keyring_for(live_directory):
        assert cli_main(["diagnose", "--policy", str(good)]) == 0
        out = capsys.readouterr().out
        assert cli_main(["diagnose", "--policy", str(wrong)]) == 1
        failed = capsys.readouterr().out
    lines = report_lines(out)
    assert lines[f"directory bind {where}"] == "OK" and lines[f"directory base DN {where}"] == "OK"
    assert lines[f"directory TLS {where}"] == "WARN"  # the throwaway certificate expires within 30 days
    assert live_directory.service_password not in out + failed
    assert report_lines(failed)[f"directory TLS {where}"] == "FAIL"
    assert "fix: set ca_file to the PEM of the CA" in failed
    assert failed.rstrip().splitlines()[-1].startswith("FAILED: 1 failed,")


async def test_the_kiosk_page_gets_the_same_checks_run_off_the_calling_thread(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading

    from kiosk.cli.main import kiosk_diagnostics
    from kiosk.policy.schema import Policy
    from kiosk.services.backend.diagnostics import checks as diagnostics
    from kiosk.services.diagnosis import DiagnosticReport

    threads: list[threading.Thread] = []
    real = diagnostics.run_diagnostics

    async def recording(policy: Policy, *, source: str) -> DiagnosticReport:
        threads.append(threading.current_thread())
        return await real(policy, source=source)

    monkeypatch.setattr(diagnostics, "run_diagnostics", recording)
    report = await kiosk_diagnostics(Policy(), "resources/demo-policy.toml")()
    assert threads and threads[0] is not threading.main_thread()
    assert report.checks[0].detail == "resources/demo-policy.toml: valid" and report.ok
