"""`kiosk diagnose --policy FILE [--json]`: check everything the policy relies on and print a report.

Exit 0 when no check failed (warnings and skips are fine), 1 otherwise. The report is English, as
all administrator-facing output, and never holds a secret. The checks themselves are in
`kiosk.services.backend.diagnostics.checks`; the kiosk's diagnostics page shows the same report.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import TextIO

import kiosk
from kiosk.services.diagnosis import CheckStatus, DiagnosticReport

_SUMMARY_ORDER = (CheckStatus.FAIL, CheckStatus.WARN, CheckStatus.OK, CheckStatus.SKIP)
_SUMMARY_WORDS = {
    CheckStatus.FAIL: ("failed", "failed"),
    CheckStatus.WARN: ("warning", "warnings"),
    CheckStatus.OK: ("OK", "OK"),
    CheckStatus.SKIP: ("skipped", "skipped"),
}


def format_report(report: DiagnosticReport, source: str) -> str:
    """The report as aligned text: one line per check (status, name, detail), the fix under a problem."""
    width = max((len(check.name) for check in report.checks), default=0)
    indent = " " * (2 + 4 + 2 + width + 2)
    lines = [f"kiosk diagnose: {source} (kiosk {kiosk.__version__}, {report.started_at:%Y-%m-%d %H:%M:%S %Z})", ""]
    for check in report.checks:
        detail, *more = check.detail.splitlines() or [""]
        lines.append(f"  {check.status.value:<4}  {check.name:<{width}}  {detail}")
        lines.extend(f"{indent}{line}" for line in more)
        if check.hint and check.status in (CheckStatus.FAIL, CheckStatus.WARN):
            lines.append(f"{indent}fix: {check.hint}")
    counts = ", ".join(
        f"{report.count(status)} {_SUMMARY_WORDS[status][report.count(status) != 1]}" for status in _SUMMARY_ORDER
    )
    verdict = "OK" if report.ok else "FAILED"
    lines += ["", f"{verdict}: {counts} ({report.seconds:.1f} s)"]
    return "\n".join(lines)


def diagnose(policy_file: str, out: TextIO, *, as_json: bool = False) -> int:
    """Load the policy, run every check and print the report: 0 when nothing failed, 1 otherwise."""
    from kiosk.policy.group_policy import system_registry_reader
    from kiosk.policy.loader import PolicyError, format_problem, load_policy
    from kiosk.services.backend.diagnostics.checks import invalid_policy_report, run_diagnostics

    try:
        # The policy in effect here: Group Policy (Windows) over the file, as the kiosk itself loads it.
        policy = load_policy(Path(policy_file), system_registry_reader())
    except PolicyError as error:
        report = invalid_policy_report(policy_file, [format_problem(policy_file, p) for p in error.problems])
    else:
        report = asyncio.run(run_diagnostics(policy, source=policy_file))
    if as_json:
        print(
            json.dumps({"policy": policy_file, "kiosk_version": kiosk.__version__, **report.as_dict()}, indent=2),
            file=out,
        )
    else:
        print(format_report(report, policy_file), file=out)
    return 0 if report.ok else 1
