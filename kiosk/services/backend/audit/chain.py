"""The audit hash chain: how each row's hash is computed, how older databases join the chain, how to check it.

Encoding (version 1), so an auditor can re-implement the check from an export alone::

    hash = lowercase hex of SHA-256( N("kiosk-audit-chain-v1")
                                     + N(at) + N(kiosk_id) + N(reference) + N(user_id)
                                     + N(event) + N(outcome) + N(correlation_id) + N(prev_hash) )

    N(text) = the netstring of text's UTF-8 bytes: their length in ASCII decimal, ":", the bytes, ","
              (e.g. N("reset") = b"5:reset,"; N("") = b"0:,")

Every field is the exact text stored in the row (`at` as written, ISO 8601 with its UTC offset).
`prev_hash` is the `hash` of the row with the next-lower id, or 64 zeros (`GENESIS`) for the first
row. The row id is not hashed: the links order the rows, and ids only help name a gap.

Rows are chained inside the insert's own transaction (`BEGIN IMMEDIATE` on the store thread), so
requests running at the same time can never both link to the same predecessor.

Rows written before this version (an audit table without the `hash` column) are chained when the
store is first opened by it, in the order of their ids, and `audit_chain` remembers how many and
when: changes made to those rows *before* that moment cannot be detected, and `kiosk audit verify`
says so.

A chain without a key proves only that rows were not changed by someone who did not also recompute
every later hash: whoever can write the database can rewrite the whole chain. Copies of the hashes
kept elsewhere (syslog forwarding, a head hash an administrator wrote down and checks with
`kiosk audit verify --expect-head`) are what catch that.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from kiosk.services.backend.storage.db import Db, Row

CHAIN_VERSION = "kiosk-audit-chain-v1"
GENESIS = "0" * 64
"""The `prev_hash` of the first row."""

HASHED_FIELDS = ("at", "kiosk_id", "reference", "user_id", "event", "outcome", "correlation_id")
"""The row's columns that go into its hash, in order (then `prev_hash`)."""

CHAIN_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_chain (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    began_at TEXT NOT NULL,
    rows_before INTEGER NOT NULL,
    last_id_before INTEGER NOT NULL
);
"""
"""One row: when this database's rows started being chained as they were written, and how many came before."""


def _netstring(text: str) -> bytes:
    data = text.encode("utf-8")
    return b"%d:%s," % (len(data), data)


def chain_hash(fields: Sequence[str], prev_hash: str) -> str:
    """The hash of one row: `fields` are the values of `HASHED_FIELDS`, in that order."""
    if len(fields) != len(HASHED_FIELDS):
        raise ValueError(f"an audit row hashes {len(HASHED_FIELDS)} fields, got {len(fields)}")
    digest = hashlib.sha256(_netstring(CHAIN_VERSION))
    for value in (*fields, prev_hash):
        digest.update(_netstring(value))
    return digest.hexdigest()


def row_fields(row: Row) -> tuple[str, ...]:
    """The hashed fields of a stored row, in hashing order."""
    return tuple(str(row[name]) for name in HASHED_FIELDS)


def migrate(db: Db) -> None:
    """Add the chain columns to an older audit table and chain its rows; record where chaining began.

    Runs inside the schema transaction of `Store.open`. Rows are chained here only when the columns
    were missing (a database an older version wrote): re-chaining an already chained table would
    silently bless any change made to it since.
    """
    columns = {row[1] for row in db.execute("PRAGMA table_info(audit)")}
    if "hash" in columns:
        start(db)
        return
    db.execute(CHAIN_SCHEMA)
    db.execute("ALTER TABLE audit ADD COLUMN prev_hash TEXT NOT NULL DEFAULT ''")
    db.execute("ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT ''")
    previous = GENESIS
    count = last_id = 0
    for row in db.execute("SELECT * FROM audit ORDER BY id").fetchall():
        digest = chain_hash(row_fields(row), previous)
        db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (previous, digest, row["id"]))
        previous = digest
        count += 1
        last_id = int(row["id"])
    db.execute("DELETE FROM audit_chain")
    _mark(db, rows_before=count, last_id_before=last_id)


def start(db: Db) -> None:
    """Create the chain's bookkeeping table; a new database is marked as chained from its first row."""
    db.execute(CHAIN_SCHEMA)
    if db.execute("SELECT 1 FROM audit_chain").fetchone() is None and _empty(db):
        _mark(db, rows_before=0, last_id_before=0)


def _empty(db: Db) -> bool:
    return db.execute("SELECT 1 FROM audit LIMIT 1").fetchone() is None


def _mark(db: Db, *, rows_before: int, last_id_before: int) -> None:
    db.execute(
        "INSERT INTO audit_chain (id, began_at, rows_before, last_id_before) VALUES (1, ?, ?, ?)",
        (datetime.now(UTC).isoformat(timespec="seconds"), rows_before, last_id_before),
    )


class Break(StrEnum):
    """What a broken link of the chain says happened."""

    EDITED = "edited"
    INSERTED = "inserted"
    DELETED = "deleted"
    REORDERED = "reordered"
    TRUNCATED = "truncated"
    HEAD_MISSING = "head_missing"
    NOT_CHAINED = "not_chained"


@dataclass(frozen=True, slots=True)
class ChainRow:
    """What verification needs of one row."""

    id: int
    fields: tuple[str, ...]
    prev_hash: str
    hash: str

    @property
    def at(self) -> str:
        """When the row says it was written."""
        return self.fields[0]


@dataclass(frozen=True, slots=True)
class ChainProblem:
    """The first place the chain is broken: which row, and what is wrong with it."""

    kind: Break
    row_id: int
    at: str
    detail: str


@dataclass(frozen=True, slots=True)
class ChainReport:
    """The outcome of walking the chain."""

    events: int
    head: str
    problem: ChainProblem | None
    head_found_at: int | None = None
    """With an expected head: the id of the row that carries it."""
    events_after_head: int = 0
    """With an expected head: how many rows follow it."""

    @property
    def intact(self) -> bool:
        """True when no problem was found."""
        return self.problem is None


def _problem(kind: Break, row: ChainRow, detail: str) -> ChainProblem:
    return ChainProblem(kind, row.id, row.at, detail)


def _ids(first: int, last: int) -> str:
    return f"id {first}" if first == last else f"ids {first}-{last}"


def _broken_link(
    row: ChainRow, previous: ChainRow | None, table: list[ChainRow], positions: dict[str, int]
) -> ChainProblem:
    """Explain why `row`, whose own hash is right, does not follow the row before it."""
    expected_id = previous.id + 1 if previous else 1
    position = positions.get(row.prev_hash)
    if position is not None:
        target = table[position]
        if target.id > row.id:
            return _problem(
                Break.REORDERED, row, f"it was written after the row now at id {target.id}, which comes later"
            )
        between = _ids(target.id + 1, row.id - 1) if row.id - 1 > target.id else "rows"
        return _problem(
            Break.INSERTED, row, f"it was written right after id {target.id}, so {between} before it were inserted"
        )
    if row.prev_hash == GENESIS:
        return _problem(Break.INSERTED, row, "it claims to be the first row, so the rows before it were inserted")
    if row.id > expected_id:
        return _problem(
            Break.DELETED, row, f"the row(s) before it were deleted ({_ids(expected_id, row.id - 1)} missing)"
        )
    return _problem(Break.DELETED, row, "the row it was chained to is missing (deleted, ids renumbered)")


def _check_row(
    row: ChainRow, previous: ChainRow | None, table: list[ChainRow], positions: dict[str, int]
) -> ChainProblem | None:
    """The problem with one row, given the (intact) row before it; None when it follows correctly."""
    expected_id = previous.id + 1 if previous else 1
    content_ok = bool(row.hash) and chain_hash(row.fields, row.prev_hash) == row.hash
    link_ok = row.prev_hash == (previous.hash if previous else GENESIS)
    if not row.hash:
        return _problem(
            Break.INSERTED, row, "it has no hash: it was not written through the backend, or its hash was removed"
        )
    if not content_ok and link_ok:
        return _problem(Break.EDITED, row, "its contents no longer match its hash (changed after it was written)")
    if not content_ok:
        return _problem(
            Break.INSERTED, row, "neither its contents nor its link to the row before match (inserted or replaced)"
        )
    if not link_ok:
        return _broken_link(row, previous, table, positions)
    if row.id != expected_id:
        return _problem(
            Break.DELETED,
            row,
            f"{_ids(expected_id, row.id - 1)} missing: the newest rows were deleted, then new rows chained on",
        )
    return None


def verify(rows: Iterable[ChainRow], *, last_sequence: int = 0, expect_head: str = "") -> ChainReport:
    """Walk the rows in id order and report the first break.

    `last_sequence` is the highest id SQLite ever handed out for the table (sqlite_sequence), which
    reveals rows deleted from the end; `expect_head` is a hash recorded earlier that must still be
    in the chain.
    """
    table = list(rows)
    positions = {row.hash: index for index, row in enumerate(table) if row.hash}
    previous: ChainRow | None = None
    for row in table:
        problem = _check_row(row, previous, table, positions)
        if problem is not None:
            return ChainReport(events=len(table), head=table[-1].hash, problem=problem)
        previous = row
    head = previous.hash if previous else GENESIS
    last_id = previous.id if previous else 0
    if last_sequence > last_id:
        deleted = _ids(last_id + 1, last_sequence)
        verb = "was" if last_sequence == last_id + 1 else "were"
        detail = f"{deleted} {verb} written and then deleted from the end of the log"
        return ChainReport(events=len(table), head=head, problem=ChainProblem(Break.TRUNCATED, last_id + 1, "", detail))
    if not expect_head:
        return ChainReport(events=len(table), head=head, problem=None)
    wanted = expect_head.strip().lower()
    found = positions.get(wanted)
    if found is None:
        detail = f"the recorded head {wanted} is not in the chain: rows up to it were rewritten or deleted"
        return ChainReport(events=len(table), head=head, problem=ChainProblem(Break.HEAD_MISSING, last_id, "", detail))
    after = len(table) - 1 - found
    return ChainReport(len(table), head, None, head_found_at=table[found].id, events_after_head=after)
