"""The audit trail: one row per step, with kiosk, user, outcome, correlation id and session reference.

Never a password, code, answer, token or TOTP secret: callers pass only event names, canonical
login names and outcome codes, and `AuditLog.record` takes nothing else. Each row is hash-chained to
the one before it as it is written (see `audit_chain` for the exact encoding), and, when the policy
configures a syslog server, handed to a forwarder that sends a copy without holding up the request.
"""

from __future__ import annotations

import contextvars
import secrets
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from kiosk.services.backend.audit.chain import GENESIS, chain_hash
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.storage.db import Db, Row
from kiosk.services.backend.storage.store import Store

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
    SIGNED_IN = "signed_in"
    """Flows change and register: the user ID and current password matched; outcome = the flow."""
    SIGN_IN_FAILED = "sign_in_failed"
    """The user ID and current password did not match (an unknown ID and a wrong password alike)."""
    CHANGED = "changed"
    """The user's own password change was written (flow change)."""
    REGISTERED = "registered"
    """One method of security info was registered or replaced; outcome = its kind (never its value)."""
    RECONFIRMED = "reconfirmed"
    """The user confirmed their security info is still up to date (or chose to update it; outcome says)."""
    SESSION_CLOSED = "session_closed"
    STEP_REFUSED = "step_refused"
    BLOCKED = "blocked"
    """A throttle (SPEC §4) refused the step; outcome = what tripped and until when."""
    NOTICE_FAILED = "notice_failed"
    """A notice (password changed, administrator reset) could not be e-mailed; outcome = the reason."""
    KIOSK_REFUSED = "kiosk_refused"
    """A served backend refused a call without a live kiosk credential (or with another kiosk's session);
    outcome = why and the client's address (see `http.kiosk_identity`); kiosk id = the enrolled kiosk named, if any."""
    KIOSK_ADDED = "kiosk_added"
    """An administrator enrolled a kiosk (`kiosk kiosks add`); outcome = `ok:by=<OS account>`."""
    KIOSK_REVOKED = "kiosk_revoked"
    """An administrator revoked a kiosk (`kiosk kiosks revoke`); outcome = `ok:by=<OS account>`."""


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
    prev_hash: str = ""
    """The hash of the row before (64 zeros for the first row)."""
    hash: str = ""
    """SHA-256 over this row's fields and `prev_hash` (see `audit_chain`)."""

    @property
    def hashed_fields(self) -> tuple[str, ...]:
        """The fields that go into the hash, in `audit_chain.HASHED_FIELDS` order."""
        event = self.event.value
        return (self.at, self.kiosk_id, self.reference, self.user_id, event, self.outcome, self.correlation_id)


class AuditSink(Protocol):
    """Somewhere a copy of each new row goes (the syslog forwarder); must return at once."""

    def submit(self, record: AuditRecord) -> None:
        """Take one written row; never blocks and never raises."""
        ...

    async def close(self) -> None:
        """Finish what was taken (within the sink's own time limit) and let go of connections."""
        ...


class AuditLog:
    """Appends hash-chained audit rows to the store, and hands each one to the sink (if any)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        sink: AuditSink | None = None,
        observer: Callable[[AuditEvent, str], None] | None = None,
    ) -> None:
        self._store = store
        self._clock = clock
        self._sink = sink
        self._observer = observer
        """Told the event and outcome of every row written (the served backend's metrics count them)."""

    async def record(
        self, event: AuditEvent, *, kiosk_id: str, reference: str, user_id: str = "", outcome: str = "ok"
    ) -> None:
        """Append one row; `user_id` is a canonical login (never what a stranger typed)."""
        at = self._clock.now().isoformat()
        cid = correlation_id.get()

        def insert(db: Db) -> AuditRecord:
            # Read the head and insert in one store transaction (SQLite: BEGIN IMMEDIATE; PostgreSQL:
            # serializable, and a unique index on prev_hash): two requests at once, on any replica,
            # can never chain to the same predecessor; the loser is retried on the new head.
            # The counter first: its row lock makes concurrent appends on PostgreSQL queue (and retry).
            counted = db.execute("UPDATE audit_sequence SET last = last + 1 WHERE id = 1 RETURNING last")
            row_id = int(counted.fetchone()[0])
            head = db.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
            prev_hash = str(head["hash"]) if head is not None else GENESIS
            record = AuditRecord(row_id, at, kiosk_id, reference, user_id, event, outcome, cid, prev_hash)
            digest = chain_hash(record.hashed_fields, prev_hash)
            db.execute(
                "INSERT INTO audit (id, at, kiosk_id, reference, user_id, event, outcome, correlation_id, prev_hash, "
                "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (row_id, *record.hashed_fields, prev_hash, digest),
            )
            return replace(record, hash=digest)

        written = await self._store.call(insert)
        if self._observer is not None:
            self._observer(event, outcome)
        if self._sink is not None:
            self._sink.submit(written)

    @property
    def sink(self) -> AuditSink | None:
        """Where copies of new rows go (the syslog forwarder), or None."""
        return self._sink

    async def close(self) -> None:
        """Close the sink (the store is closed by its owner)."""
        if self._sink is not None:
            await self._sink.close()

    async def records(self) -> list[AuditRecord]:
        """Every row, oldest first."""

        def read(db: Db) -> list[Row]:
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
                prev_hash=row["prev_hash"],
                hash=row["hash"],
            )
            for row in await self._store.call(read)
        ]
