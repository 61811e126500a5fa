"""The audit hash chain as the backend writes it: the documented encoding, no fork under concurrency, migration.

The hash is recomputed here from the encoding in kiosk/services/backend/audit/chain.py's docstring,
written out again independently (an auditor's re-implementation), not by calling `chain_hash`.
"""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from contextlib import closing
from pathlib import Path

from kiosk.services.backend import Backend
from kiosk.services.backend.audit.chain import GENESIS, Break
from kiosk.services.backend.audit.log import AuditEvent, AuditLog, AuditRecord
from kiosk.services.backend.audit.reader import check_chain
from kiosk.services.backend.clock import ManualClock
from kiosk.services.backend.storage.store import Store

from .conftest import GOOD_PASSWORD, START, Kiosk

# The audit table as versions before the hash chain created it.
OLD_AUDIT_TABLE = """
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    correlation_id TEXT NOT NULL
);
"""


def auditor_hash(values: list[str], prev_hash: str) -> str:
    """SHA-256 over netstrings of "kiosk-audit-chain-v1", the seven fields and prev_hash, as documented."""
    data = b""
    for value in ["kiosk-audit-chain-v1", *values, prev_hash]:
        raw = value.encode("utf-8")
        data += str(len(raw)).encode("ascii") + b":" + raw + b","
    return hashlib.sha256(data).hexdigest()


def record_values(record: AuditRecord) -> list[str]:
    return [
        record.at,
        record.kiosk_id,
        record.reference,
        record.user_id,
        record.event.value,
        record.outcome,
        record.correlation_id,
    ]


def assert_chained(records: list[AuditRecord]) -> None:
    """Every row links to the one before and carries the hash of its own fields."""
    previous = GENESIS
    for number, record in enumerate(records, start=1):
        assert record.id == number
        assert record.prev_hash == previous, record
        assert record.hash == auditor_hash(record_values(record), record.prev_hash), record
        previous = record.hash


async def test_rows_are_chained_with_the_documented_encoding(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("emma")
    await kiosk.pass_email()
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    records = await backend.audit_records()
    assert [r.event for r in records][-1] is AuditEvent.RESET
    assert records[0].prev_hash == "0" * 64
    assert_chained(records)
    assert len({r.hash for r in records}) == len(records)


async def test_the_encoding_is_unambiguous_across_field_boundaries() -> None:
    # "ab" + "c" and "a" + "bc" must not hash alike: the netstrings carry each field's length.
    first = auditor_hash(["ab", "c", "", "", "", "", ""], GENESIS)
    second = auditor_hash(["a", "bc", "", "", "", "", ""], GENESIS)
    assert first != second


async def test_concurrent_requests_never_fork_the_chain(backend: Backend) -> None:
    audit = backend._rt.audit

    async def one(number: int) -> None:
        await audit.record(AuditEvent.SESSION_OPENED, kiosk_id=f"kiosk-{number % 7}", reference=f"R{number:04d}")

    await asyncio.gather(*(one(number) for number in range(200)))
    records = await backend.audit_records()
    assert len(records) == 200
    assert_chained(records)
    assert len({r.prev_hash for r in records}) == 200  # no two rows claim the same predecessor


async def test_a_database_from_before_chaining_is_chained_once_when_opened(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    with closing(sqlite3.connect(path)) as db:
        db.executescript(OLD_AUDIT_TABLE)
        for number in range(3):
            db.execute(
                "INSERT INTO audit (at, kiosk_id, reference, user_id, event, outcome, correlation_id) "
                "VALUES (?, 'old-kiosk', ?, 'emma', 'identified', 'ok', '')",
                (f"2024-01-0{number + 1}T08:00:00+00:00", f"OLD{number}"),
            )
        db.commit()
    old_listing = check_chain(path)
    assert old_listing.report.problem is not None and old_listing.report.problem.kind is Break.NOT_CHAINED

    store = await Store.open(path)
    try:
        log = AuditLog(store, ManualClock(START))
        await log.record(AuditEvent.SESSION_OPENED, kiosk_id="new-kiosk", reference="NEW1")
        records = await log.records()
    finally:
        await store.close()
    assert [r.kiosk_id for r in records] == ["old-kiosk"] * 3 + ["new-kiosk"]
    assert_chained(records)
    verdict = check_chain(path)
    assert verdict.report.intact and verdict.report.events == 4
    assert (verdict.rows_before, verdict.last_id_before) == (3, 3)

    # Opening it again changes nothing: rows are chained once, never again.
    store = await Store.open(path)
    await store.close()
    assert check_chain(path).report.head == records[-1].hash
    assert check_chain(path).rows_before == 3


async def test_reopening_never_rechains_a_tampered_table(tmp_path: Path) -> None:
    """Deleting the chain's bookkeeping row and restarting must not bless an edit made meanwhile."""
    path = tmp_path / "backend.sqlite3"
    store = await Store.open(path)
    log = AuditLog(store, ManualClock(START))
    for number in range(3):
        await log.record(AuditEvent.IDENTIFIED, kiosk_id="k", reference=f"R{number}", user_id="emma")
    await store.close()
    with closing(sqlite3.connect(path)) as db:
        db.execute("UPDATE audit SET user_id = 'mallory' WHERE id = 2")
        db.execute("DELETE FROM audit_chain")
        db.commit()
    store = await Store.open(path)
    await store.close()
    problem = check_chain(path).report.problem
    assert problem is not None and (problem.kind, problem.row_id) == (Break.EDITED, 2)
