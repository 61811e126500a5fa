"""The diagnostics report as plain data: what `kiosk diagnose` prints and the kiosk's administrator page shows.

Neutral ground between the layers: the backend's checks (`kiosk.services.backend.diagnostics.checks`)
produce it, the CLI prints it and the UI shows it, and none of them imports another for it. A
check's name, detail and hint are administrator-facing English, like any CLI output, and never hold
a secret (no password, token or secret, and not the length of one either).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any


class CheckStatus(StrEnum):
    """How a check came out; SKIP means the policy does not use what it would check."""

    OK = "OK"
    WARN = "WARN"
    FAIL = "FAIL"
    SKIP = "SKIP"


@dataclass(frozen=True, slots=True)
class CheckResult:
    """One line of the report: what was checked, how it came out, what was seen and what to do."""

    name: str
    status: CheckStatus
    detail: str
    hint: str = ""

    def as_dict(self) -> dict[str, str]:
        """The result as JSON-ready values."""
        return {"name": self.name, "status": self.status.value, "detail": self.detail, "hint": self.hint}


@dataclass(frozen=True, slots=True)
class DiagnosticReport:
    """Every check of one run, in the order they were made."""

    checks: tuple[CheckResult, ...]
    started_at: datetime
    seconds: float
    """How long the whole run took."""

    @property
    def ok(self) -> bool:
        """True when no check failed (warnings and skips do not fail a run)."""
        return all(check.status is not CheckStatus.FAIL for check in self.checks)

    def count(self, status: CheckStatus) -> int:
        """How many checks came out as `status`."""
        return sum(1 for check in self.checks if check.status is status)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-ready values (`kiosk diagnose --json`)."""
        return {
            "ok": self.ok,
            "started_at": self.started_at.isoformat(),
            "seconds": round(self.seconds, 3),
            "counts": {status.value: self.count(status) for status in CheckStatus},
            "checks": [check.as_dict() for check in self.checks],
        }
