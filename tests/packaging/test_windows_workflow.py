""".github/workflows/windows.yml: the steps issue 14 asks of the Windows build job, in order, with the product's paths.

The job cannot run here; actionlint (`make lint`) checks its syntax, this checks what it does.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml  # PyYAML, installed with the dev extras (schemathesis needs it)
from packaging_build import REPO

from kiosk.product import DISPLAY_NAME, INSTALL_KEY, PRODUCT, VENDOR

WORKFLOW = REPO / ".github" / "workflows" / "windows.yml"


def load(path: Path = WORKFLOW) -> dict[Any, Any]:
    """The workflow as data (PyYAML reads the key `on` as True, which nothing here uses)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def job() -> dict[str, Any]:
    """The one job of the workflow."""
    (only,) = load()["jobs"].values()
    return dict(only)


def step_index(steps: list[dict[str, Any]], pattern: str, *, uses: bool = False) -> int:
    """The index of the first step whose `run` (or `uses`) matches `pattern`; fails naming the pattern."""
    for index, step in enumerate(steps):
        if re.search(pattern, str(step.get("uses" if uses else "run", "")), re.IGNORECASE):
            return index
    pytest.fail(f"no step {'uses' if uses else 'runs'} {pattern!r}")


def test_it_runs_on_windows_on_every_push_and_pull_request() -> None:
    workflow = load()
    triggers = workflow[True]  # YAML 1.1: `on` is a boolean key
    assert "pull_request" in triggers and "push" in triggers and "workflow_dispatch" in triggers
    assert job()["runs-on"] == "windows-latest"
    assert workflow["permissions"] == {"contents": "read"}


def test_the_steps_come_in_the_order_the_issue_lists() -> None:
    steps = job()["steps"]
    order = [
        step_index(steps, r"^actions/checkout@", uses=True),
        step_index(steps, r"^actions/setup-python@", uses=True),
        step_index(steps, r'pip install -e "\.\[dev\]"'),
        step_index(steps, r"babel\.messages\.frontend -q compile"),
        step_index(steps, r"-m PyInstaller .*packaging\\kiosk\.spec"),
        step_index(steps, r"AccountRecoveryKiosk\.exe.*GUI"),
        step_index(steps, r"^dist\\kiosk\\kiosk\.exe --demo --self-test$"),
        step_index(steps, r"Start-Process dist\\kiosk\\AccountRecoveryKiosk\.exe .*--self-test.* -Wait -PassThru"),
        step_index(steps, r"^dist\\kiosk\\kiosk\.exe check-install$"),
        step_index(steps, r"dotnet tool install --global wix --version \d+\.\d+\.\d+"),
        step_index(steps, r"packaging\\wix4\.py dist\\kiosk --out"),
        step_index(steps, r"msiexec\.exe .*/i .*/qn /l\*v"),
        step_index(steps, r'INSTALL_DIR\\kiosk\.exe" check-install'),
        step_index(steps, r'INSTALL_DIR\\kiosk\.exe" --demo --self-test'),
        step_index(steps, r"msiexec\.exe .*/x .*/qn /l\*v"),
        step_index(steps, r"^actions/upload-artifact@", uses=True),
    ]
    assert order == sorted(order), order
    assert len(set(order)) == len(order)


def test_python_is_the_version_pyproject_requires() -> None:
    requires = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["requires-python"]
    (setup,) = [step for step in job()["steps"] if str(step.get("uses", "")).startswith("actions/setup-python@")]
    assert requires == ">=" + setup["with"]["python-version"]


def test_the_self_tests_run_offscreen() -> None:
    self_tests = [step for step in job()["steps"] if "--self-test" in str(step.get("run", ""))]
    assert len(self_tests) == 3  # the bundle's kiosk.exe and AccountRecoveryKiosk.exe, then the installed program
    assert all(step["env"]["QT_QPA_PLATFORM"] == "offscreen" for step in self_tests)


def test_the_paths_it_checks_are_the_ones_the_msi_installs() -> None:
    env = job()["env"]
    assert env["INSTALL_DIR"] == rf"C:\Program Files\{VENDOR}\{DISPLAY_NAME}"
    assert env["INSTALL_KEY"] == rf"HKLM:\{INSTALL_KEY}"
    assert env["POLICY_FILE"] == rf"C:\ProgramData\{VENDOR}\{PRODUCT}\policy.toml"
    assert env["SHORTCUT"].endswith(rf"\Start Menu\Programs\{DISPLAY_NAME}.lnk")


def test_the_msi_and_the_msiexec_logs_are_uploaded_even_when_a_step_failed() -> None:
    uploads = [step for step in job()["steps"] if str(step.get("uses", "")).startswith("actions/upload-artifact@")]
    by_path = {step["with"]["path"]: step for step in uploads}
    assert set(by_path) == {"${{ env.MSI }}", "${{ env.LOGS }}"}
    assert by_path["${{ env.LOGS }}"].get("if") == "always()"
    runs = "\n".join(str(step.get("run", "")) for step in job()["steps"])
    assert r'/l*v `"$env:LOGS\install.log`"' in runs
    assert r'/l*v `"$env:LOGS\uninstall.log`"' in runs


def test_uninstalling_is_checked_to_keep_the_policy_file() -> None:
    steps = job()["steps"]
    after = steps[step_index(steps, r"msiexec\.exe .*/x ") + 1 :]
    checks = "\n".join(str(step.get("run", "")) for step in after)
    assert 'if (-not (Test-Path -LiteralPath "$env:POLICY_FILE"))' in checks
    assert 'if (Test-Path -LiteralPath "$env:INSTALL_DIR\\kiosk.exe")' in checks


def test_actionlint_accepts_the_workflow_and_rejects_a_broken_one(tmp_path: Path) -> None:
    actionlint = shutil.which("actionlint", path=str(REPO / ".venv" / "bin")) or shutil.which("actionlint")
    assert actionlint, "actionlint is missing: pip install -e '.[dev]'"
    good = subprocess.run([actionlint, str(WORKFLOW)], capture_output=True, text=True, check=False)  # noqa: S603
    assert good.returncode == 0, good.stdout + good.stderr
    broken = tmp_path / "windows.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8").replace("${{ env.MSI }}", "${{ env.MSI "), encoding="utf-8")
    bad = subprocess.run([actionlint, str(broken)], capture_output=True, text=True, check=False)  # noqa: S603
    assert bad.returncode == 1 and "expression" in bad.stdout
