"""Read the audit trail of a backend database without writing to it: filtered rows, and the chain check.

An SQLite file is opened read-only (`mode=ro`), and everything is read in one read transaction: in
the store's WAL mode that is a consistent snapshot that never blocks a running backend's writes. A
PostgreSQL store is read in one READ ONLY, REPEATABLE READ transaction: the same snapshot, on a
database every replica is writing to. So an administrator can list or verify a live shared backend.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from kiosk.services.backend.audit.chain import Break, ChainProblem, ChainReport, ChainRow, row_fields, verify
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.storage.db import Db, Dialect, Row
from kiosk.services.backend.storage.target import PostgresSettings, StoreTarget, first_line, store_location

BUSY_TIMEOUT_MS = 2000


class AuditReadError(Exception):
    """The database cannot be read as a kiosk backend's audit trail; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which rows to read; every set criterion must hold."""

    user: str = ""
    """Canonical login, compared without regard to ASCII letter case."""
    since: datetime | None = None
    """Timezone-aware; rows at or after it."""
    until: datetime | None = None
    """Timezone-aware; rows at or before it."""
    outcome: str = ""
    """The outcome, or its code before ':' (`delivery_failed` matches `delivery_failed:timeout`)."""
    event: AuditEvent | None = None
    kiosk: str = ""
    reference: str = ""
    limit: int | None = None
    """Keep only the newest `limit` matching rows (still oldest first)."""


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One stored row, exactly as stored (an edited row may hold an event name the backend never writes)."""

    id: int
    at: str
    kiosk_id: str
    reference: str
    user_id: str
    event: str
    outcome: str
    correlation_id: str
    prev_hash: str
    hash: str


ENTRY_FIELDS = tuple(AuditEntry.__dataclass_fields__)
"""Column names of an export, in order."""


@dataclass(frozen=True, slots=True)
class AuditSelection:
    """The rows a filter matched (oldest first) and how many matched before the limit."""

    entries: list[AuditEntry]
    matched: int


@dataclass(frozen=True, slots=True)
class ChainVerdict:
    """The chain check of a database, with where chaining began."""

    report: ChainReport
    began_at: str = ""
    rows_before: int = 0
    """Rows an older version wrote, chained only when this version first opened the database."""
    last_id_before: int = 0


@contextmanager
def read_only(source: StoreTarget) -> Iterator[tuple[Db, Dialect]]:
    """An open read-only connection inside one read transaction (a consistent snapshot), and its dialect."""
    if isinstance(source, PostgresSettings):
        with _postgres_read_only(source) as db:
            yield db, Dialect.POSTGRESQL
        return
    with _sqlite_read_only(source) as connection:
        yield connection, Dialect.SQLITE


@contextmanager
def _postgres_read_only(source: PostgresSettings) -> Iterator[Db]:
    import psycopg

    from kiosk.services.backend.storage.postgres import PgDb, row_factory

    where = store_location(source.conninfo)
    try:
        connection = psycopg.connect(
            source.conninfo, password=source.password or None, connect_timeout=10, row_factory=row_factory
        )
    except psycopg.Error as error:
        raise AuditReadError(f"cannot connect to the PostgreSQL store {where}: {first_line(error)}") from None
    with connection:
        connection.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        connection.read_only = True
        try:
            with connection.transaction():
                found = connection.execute("SELECT to_regclass('audit') IS NOT NULL").fetchone()
                if not (found and found[0]):
                    raise AuditReadError(f"{where} is not a kiosk backend database (it has no audit table)")
                yield PgDb(connection)
        except psycopg.Error as error:
            raise AuditReadError(f"cannot read the PostgreSQL store {where}: {first_line(error)}") from None


@contextmanager
def _sqlite_read_only(path: Path) -> Iterator[sqlite3.Connection]:
    if not path.is_file():
        raise AuditReadError(f"no database at {path} (the backend creates it when it first starts)")
    uri = f"{path.resolve().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True, isolation_level=None)
    except sqlite3.Error as error:
        raise AuditReadError(f"cannot open {path}: {error}") from None
    with closing(connection):
        connection.row_factory = sqlite3.Row
        try:
            connection.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            connection.execute("BEGIN")
            tables = {str(row[0]) for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        except sqlite3.DatabaseError as error:
            raise AuditReadError(f"{path} is not an SQLite database ({error})") from None
        if "audit" not in tables:
            raise AuditReadError(f"{path} is not a kiosk backend database (it has no audit table)")
        try:
            yield connection
        except sqlite3.DatabaseError as error:
            raise AuditReadError(f"cannot read {path}: {error}") from None
        finally:
            if connection.in_transaction:
                connection.execute("ROLLBACK")


def _columns(db: Db, dialect: Dialect) -> set[str]:
    if dialect is Dialect.POSTGRESQL:
        query = "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit'"
        return {str(row[0]) for row in db.execute(query).fetchall()}
    return {str(row[1]) for row in db.execute("PRAGMA table_info(audit)")}


def _tables(db: Db, dialect: Dialect) -> set[str]:
    if dialect is Dialect.POSTGRESQL:
        query = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        return {str(row[0]) for row in db.execute(query).fetchall()}
    return {str(row[0]) for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _entry(row: Row, chained: bool) -> AuditEntry:
    return AuditEntry(
        id=int(row["id"]),
        at=str(row["at"]),
        kiosk_id=str(row["kiosk_id"]),
        reference=str(row["reference"]),
        user_id=str(row["user_id"]),
        event=str(row["event"]),
        outcome=str(row["outcome"]),
        correlation_id=str(row["correlation_id"]),
        prev_hash=str(row["prev_hash"]) if chained else "",
        hash=str(row["hash"]) if chained else "",
    )


def _in_time(at: str, selection: AuditFilter) -> bool:
    if selection.since is None and selection.until is None:
        return True
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return False  # not a time the backend wrote; `kiosk audit verify` reports the row
    if moment.tzinfo is None:
        return False
    if selection.since is not None and moment < selection.since:
        return False
    return not (selection.until is not None and moment > selection.until)


def select(path: StoreTarget, selection: AuditFilter) -> AuditSelection:
    """The rows of the store at `path` (an SQLite file or a PostgreSQL server) that match `selection`, oldest first."""
    clauses: list[str] = []
    values: list[str] = []
    if selection.user:
        clauses.append("lower(user_id) = lower(?)")
        values.append(selection.user)
    if selection.event is not None:
        clauses.append("event = ?")
        values.append(selection.event.value)
    if selection.kiosk:
        clauses.append("lower(kiosk_id) = lower(?)")
        values.append(selection.kiosk)
    if selection.reference:
        clauses.append("lower(reference) = lower(?)")
        values.append(selection.reference)
    if selection.outcome:
        clauses.append("(outcome = ? OR substr(outcome, 1, length(?) + 1) = ? || ':')")
        values += [selection.outcome] * 3
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    with read_only(path) as (db, dialect):
        chained = "hash" in _columns(db, dialect)
        cursor = db.execute(f"SELECT * FROM audit {where} ORDER BY id", values)  # noqa: S608 - fixed clauses
        entries = [_entry(row, chained) for row in cursor if _in_time(str(row["at"]), selection)]
    matched = len(entries)
    if selection.limit is not None:
        entries = entries[-selection.limit :] if selection.limit else []
    return AuditSelection(entries, matched)


def check_chain(path: StoreTarget, *, expect_head: str = "") -> ChainVerdict:
    """Walk the hash chain of the store at `path` (see `audit_chain.verify`)."""
    with read_only(path) as (db, dialect):
        if "hash" not in _columns(db, dialect):
            problem = ChainProblem(
                Break.NOT_CHAINED,
                0,
                "",
                "an older version wrote this database and it has no hash chain yet: "
                "the backend chains its rows the next time it opens it",
            )
            return ChainVerdict(ChainReport(events=0, head="", problem=problem))
        tables = _tables(db, dialect)
        # The highest id ever given: the audit counter (schema 2 on), else SQLite's own sequence.
        if "audit_sequence" in tables:
            sequence = db.execute("SELECT last FROM audit_sequence WHERE id = 1").fetchone()
        elif dialect is Dialect.SQLITE:
            sequence = db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        else:
            sequence = None
        marker = db.execute("SELECT * FROM audit_chain WHERE id = 1").fetchone() if "audit_chain" in tables else None
        rows = (
            ChainRow(int(row["id"]), row_fields(row), str(row["prev_hash"]), str(row["hash"]))
            for row in db.execute("SELECT * FROM audit ORDER BY id")
        )
        report = verify(rows, last_sequence=int(sequence[0]) if sequence else 0, expect_head=expect_head)
    if marker is None:
        if report.intact:
            problem = ChainProblem(
                Break.NOT_CHAINED, 0, "", "the record of where hash chaining began (table audit_chain) was deleted"
            )
            report = ChainReport(report.events, report.head, problem)
        return ChainVerdict(report)
    return ChainVerdict(
        report,
        began_at=str(marker["began_at"]),
        rows_before=int(marker["rows_before"]),
        last_id_before=int(marker["last_id_before"]),
    )
