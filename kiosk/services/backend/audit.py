"""The audit trail: one row per step, with kiosk, user, outcome, correlation id and session reference.

Never a password, code, answer, token or TOTP secret: callers pass only event names, canonical
login names and outcome codes, and `AuditLog.record` takes nothing else.
"""

from __future__ import annotations

import contextvars
import secrets
import sqlite3
from dataclasses import dataclass
from enum import StrEnum

from kiosk.services.backend.clock import Clock
from kiosk.services.backend.store import Store

REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read out over the phone

correlation_id: contextvars.ContextVar[str] = contextvars.ContextVar("correlation_id", default="")
"""The correlation id of the request being handled (set by the route wrapper)."""


def new_reference() -> str:
    """A short reference a user can read to the helpdesk, e.g. `K7Q2-M9XD`."""
    chars = "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


class AuditEvent(StrEnum):
    """Every kind of audited step."""

    SESSION_OPENED = "session_opened"
    CAPTCHA_FAILED = "captcha_failed"
    IDENTIFIED = "identified"
    REFUSED = "refused"
    METHOD_CHOSEN = "method_chosen"
    CODE_SENT = "code_sent"
    GATE_PASSED = "gate_passed"
    GATE_FAILED = "gate_failed"
    ACTION_CHOSEN = "action_chosen"
    PASSWORD_REJECTED = "password_rejected"  # noqa: S105 - an event name, not a password
    RESET = "reset"
    UNLOCKED = "unlocked"
    SESSION_CLOSED = "session_closed"
    STEP_REFUSED = "step_refused"
    BLOCKED = "blocked"
    """A throttle (SPEC §4) refused the step; outcome = what tripped and until when."""
    NOTICE_FAILED = "notice_failed"
    """A notice (password changed, administrator reset) could not be e-mailed; outcome = the reason."""


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One audit row."""

    id: int
    at: str
    kiosk_id: str
    reference: str
    user_id: str
    event: AuditEvent
    outcome: str
    correlation_id: str


class AuditLog:
    """Appends audit rows to the store."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def record(
        self, event: AuditEvent, *, kiosk_id: str, reference: str, user_id: str = "", outcome: str = "ok"
    ) -> None:
        """Append one row; `user_id` is a canonical login (never what a stranger typed)."""
        row = (self._clock.now().isoformat(), kiosk_id, reference, user_id, event.value, outcome, correlation_id.get())
        await self._store.call(
            lambda db: db.execute(
                "INSERT INTO audit (at, kiosk_id, reference, user_id, event, outcome, correlation_id) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                row,
            )
        )

    async def records(self) -> list[AuditRecord]:
        """Every row, oldest first."""

        def read(db: sqlite3.Connection) -> list[sqlite3.Row]:
            return db.execute("SELECT * FROM audit ORDER BY id").fetchall()

        return [
            AuditRecord(
                id=row["id"],
                at=row["at"],
                kiosk_id=row["kiosk_id"],
                reference=row["reference"],
                user_id=row["user_id"],
                event=AuditEvent(row["event"]),
                outcome=row["outcome"],
                correlation_id=row["correlation_id"],
            )
            for row in await self._store.call(read)
        ]
