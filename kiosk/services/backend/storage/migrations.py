"""The backend's schema as numbered migrations, applied in order on every open, for SQLite and PostgreSQL.

A database remembers the migrations it has had in `schema_migrations`. `apply` runs the missing
ones, in one transaction with the version bookkeeping, so a database is always at exactly one
version; one newer than this program knows is refused (`SchemaTooNew`) rather than guessed at.
On PostgreSQL an advisory lock makes replicas that start together take turns.

To change the schema, append a `Migration` at the END of `MIGRATIONS` with the next version; never
edit or reorder one that has shipped (databases in the field already ran it). Write its `sql` in
the subset both databases accept: types TEXT, INTEGER, REAL, BLOB and
`INTEGER PRIMARY KEY AUTOINCREMENT` are translated for PostgreSQL (`postgres_ddl`); anything else
that differs goes in `postgres`. Data changes go in `step(db, dialect)`.
Version 1 is the schema as it stood when migrations began; its step upgrades SQLite databases from
before that (which have tables but no `schema_migrations`) in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from kiosk.services.backend.audit import chain
from kiosk.services.backend.storage.db import Db, Dialect


class SchemaTooNew(Exception):
    """The database was migrated by a newer version of the kiosk than this one."""


@dataclass(frozen=True)
class Migration:
    """One numbered change of the schema."""

    version: int
    summary: str
    sql: str = ""
    """DDL statements separated by ';' (SQLite dialect, translated for PostgreSQL)."""
    postgres: str | None = None
    """PostgreSQL DDL when the translation of `sql` will not do."""
    step: Callable[[Db, Dialect], None] | None = None
    """Data changes, after the DDL, in the same transaction."""


BASELINE = """
CREATE TABLE IF NOT EXISTS users (
    login TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    auth_email TEXT NOT NULL DEFAULT '',
    alt_email TEXT NOT NULL DEFAULT '',
    auth_phone TEXT NOT NULL DEFAULT '',
    mobile_phone TEXT NOT NULL DEFAULT '',
    office_phone TEXT NOT NULL DEFAULT '',
    is_admin INTEGER NOT NULL DEFAULT 0,
    groups_json TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL DEFAULT 1,
    locked INTEGER NOT NULL DEFAULT 0,
    on_premises INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,
    history_json TEXT NOT NULL DEFAULT '[]',
    totp_secret TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS user_aliases (
    alias TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE
);
CREATE TABLE IF NOT EXISTS user_questions (
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    predefined_id TEXT,
    custom_text TEXT,
    answer_hash TEXT NOT NULL,
    PRIMARY KEY (login, position)
);
CREATE TABLE IF NOT EXISTS sessions (
    token_hash TEXT PRIMARY KEY,
    expires_at TEXT NOT NULL,
    state_json TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS codes (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_hash TEXT NOT NULL,
    method TEXT NOT NULL,
    target TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    attempts_left INTEGER NOT NULL,
    used INTEGER NOT NULL DEFAULT 0,
    superseded INTEGER NOT NULL DEFAULT 0,
    subject TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS codes_by_session ON codes(token_hash);
CREATE TABLE IF NOT EXISTS question_draws (
    subject TEXT PRIMARY KEY,
    positions_json TEXT NOT NULL,
    drawn_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS totp_steps (
    login TEXT PRIMARY KEY,
    last_step INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    user_id TEXT NOT NULL,
    event TEXT NOT NULL,
    outcome TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    prev_hash TEXT NOT NULL DEFAULT '',
    hash TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS audit_by_user ON audit(user_id);
CREATE INDEX IF NOT EXISTS audit_by_reference ON audit(reference);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS delivery_queue (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    channel TEXT NOT NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    locale TEXT NOT NULL,
    account TEXT NOT NULL,
    kiosk_id TEXT NOT NULL,
    reference TEXT NOT NULL,
    user_id TEXT NOT NULL,
    correlation_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    superseded INTEGER NOT NULL DEFAULT 0,
    queued_at REAL NOT NULL,
    next_attempt_at REAL NOT NULL,
    deadline REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS delivery_queue_due ON delivery_queue(owner, state, next_attempt_at);
CREATE INDEX IF NOT EXISTS delivery_queue_by_account ON delivery_queue(account);
CREATE TABLE IF NOT EXISTS throttle_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    event TEXT NOT NULL,
    at REAL NOT NULL,
    subject TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS throttle_events_by_key ON throttle_events(scope, key, event, at);
CREATE TABLE IF NOT EXISTS backend_keys (
    name TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS throttle_blocks (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    until REAL NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS enrolled_questions (
    directory_id TEXT NOT NULL,
    position INTEGER NOT NULL,
    predefined_id TEXT,
    custom_text TEXT,
    answer_hash TEXT NOT NULL,
    PRIMARY KEY (directory_id, position)
);
CREATE TABLE IF NOT EXISTS enrolled_totp (
    directory_id TEXT PRIMARY KEY,
    secret_token TEXT NOT NULL
);
"""

KIOSKS = """
CREATE TABLE IF NOT EXISTS kiosks (
    name TEXT PRIMARY KEY,
    secret_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT NOT NULL DEFAULT ''
)
"""
"""Migration 4 (`kiosks.KioskRegistry`): a revoked kiosk keeps its row, so its name is never given again."""


def _baseline_step(db: Db, dialect: Dialect) -> None:
    """Databases from before versioned migrations (SQLite): add what later releases added, in place.
    PostgreSQL: start the audit chain, and make a fork of it impossible (one successor per row)."""
    if dialect is Dialect.SQLITE:
        columns = {row[1] for row in db.execute("PRAGMA table_info(codes)")}
        if "subject" not in columns:
            # Codes know whose they are (a new code supersedes every older code of that user); the
            # old codes of such a database belong to nobody.
            db.execute("ALTER TABLE codes ADD COLUMN subject TEXT NOT NULL DEFAULT ''")
        chain.migrate(db)  # SQLite only: it reads PRAGMA table_info
    else:
        chain.start(db)
        db.execute("CREATE UNIQUE INDEX IF NOT EXISTS audit_one_successor ON audit(prev_hash)")
    db.execute("CREATE INDEX IF NOT EXISTS codes_by_subject ON codes(subject)")


AUDIT_SEQUENCE = """
CREATE TABLE audit_sequence (id INTEGER PRIMARY KEY CHECK (id = 1), last BIGINT NOT NULL);
INSERT INTO audit_sequence (id, last) SELECT 1, COALESCE(MAX(id), 0) FROM audit
"""
"""Migration 2: audit ids come from a counter row updated in the row's own transaction, not from a
sequence: a PostgreSQL sequence skips the numbers of rolled-back (retried) inserts, and `kiosk audit
verify` reads a missing id as a deleted row. The counter never goes back, also when rows are deleted."""

STEP_RESULTS = """
CREATE TABLE step_results (
    token_hash TEXT NOT NULL,
    request_id TEXT NOT NULL,
    body TEXT NOT NULL,
    kept_at TEXT NOT NULL,
    PRIMARY KEY (token_hash, request_id)
);
CREATE INDEX step_results_by_age ON step_results(kept_at)
"""
"""Migration 3 (`http.step_results`): a retried set_password or choose_action (same `Idempotency-Key`) is
answered from the kept session view (never a password), so it is never applied twice."""

DELIVERY_OWNERS = """
CREATE TABLE delivery_owners (
    owner TEXT PRIMARY KEY,
    seen_at REAL NOT NULL
);
ALTER TABLE delivery_queue ADD COLUMN key_id TEXT NOT NULL DEFAULT ''
"""
"""Migration 5 (`delivery.queue`): each delivery worker's last heartbeat, so a live one takes over the
queued messages of a backend that died (its rows' owner not seen for `DEAD_AFTER`); and which key sealed
a row's body (a fingerprint, '' for a key no other backend has), so only a backend that can open it does."""

REGISTRATION = """
CREATE TABLE enrolled_profiles (
    directory_id TEXT PRIMARY KEY,
    email_token TEXT NOT NULL DEFAULT '',
    phone_token TEXT NOT NULL DEFAULT '',
    confirmed_at TEXT NOT NULL DEFAULT ''
);
ALTER TABLE users ADD COLUMN confirmed_at TEXT NOT NULL DEFAULT ''
"""
"""Migration 6 (`directory.enrollment`, issue 13): a directory user's registered authentication e-mail and
phone (sealed like the app secrets: personal data) and when their security info was last registered or
reconfirmed ('' = never); the embedded directory keeps its users' registrations in its own tables, so only
`confirmed_at` is added there."""


def _registration_step(db: Db, dialect: Dialect) -> None:
    """What was registered before the kiosk kept a date for it (an administrator's or the demo's seed)
    counts as confirmed at the upgrade: the full reconfirmation window from now, not everyone asked at once."""
    now = datetime.now(UTC).isoformat()
    db.execute("UPDATE users SET confirmed_at = ?", (now,))
    db.execute(
        "INSERT INTO enrolled_profiles (directory_id, confirmed_at) "
        "SELECT directory_id, CAST(? AS TEXT) FROM enrolled_questions "
        "UNION SELECT directory_id, CAST(? AS TEXT) FROM enrolled_totp",
        (now, now),
    )


MIGRATIONS: list[Migration] = [
    Migration(
        1,
        "baseline: sessions, codes, throttles, audit chain, delivery queue, embedded directory, enrollment",
        sql=BASELINE,
        step=_baseline_step,
    ),
    Migration(2, "audit ids from a counter kept with the rows (gapless on PostgreSQL too)", sql=AUDIT_SEQUENCE),
    Migration(
        3,
        "step_results: the first answer of a step with an effect, by session token hash and request id",
        sql=STEP_RESULTS,
    ),
    Migration(
        4,
        "kiosks: the kiosks a served backend answers (name, SHA-256 of the secret, created, revoked)",
        sql=KIOSKS,
    ),
    Migration(
        5,
        "delivery_owners: each delivery worker's heartbeat, so a live backend takes over a dead one's messages; "
        "delivery_queue.key_id",
        sql=DELIVERY_OWNERS,
    ),
    Migration(
        6,
        "enrolled_profiles: registered authentication e-mail and phone (sealed) and confirmed_at per directory id; "
        "users.confirmed_at",
        sql=REGISTRATION,
        step=_registration_step,
    ),
]
"""Every migration, oldest first; versions are 1, 2, 3, … without gaps."""

LATEST = MIGRATIONS[-1].version
"""The schema version this program writes."""

_VERSIONS = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    summary TEXT NOT NULL,
    applied_at TEXT NOT NULL
)
"""

_MIGRATION_LOCK = 7_302_151_001
"""The PostgreSQL advisory lock that makes replicas starting together migrate one at a time."""

_TRANSLATIONS = (
    (re.compile(r"\bINTEGER PRIMARY KEY AUTOINCREMENT\b"), "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"),
    (re.compile(r"\bREAL\b"), "DOUBLE PRECISION"),
    (re.compile(r"\bBLOB\b"), "BYTEA"),
)


def postgres_ddl(sql: str) -> str:
    """`sql` (SQLite DDL) as PostgreSQL accepts it."""
    for pattern, replacement in _TRANSLATIONS:
        sql = pattern.sub(replacement, sql)
    return sql


def statements(sql: str) -> list[str]:
    """The statements of a DDL script (DDL here never has ';' inside a literal)."""
    return [statement.strip() for statement in sql.split(";") if statement.strip()]


def current_version(db: Db) -> int:
    """The highest migration the database has had (0: none, or no bookkeeping table yet)."""
    row = db.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
    return int(row[0] or 0)


def apply(db: Db, dialect: Dialect, migrations: list[Migration] | None = None) -> list[int]:
    """Bring the database up to the last of `migrations` (default: all); returns the versions applied.

    Runs inside the caller's transaction. Raises `SchemaTooNew` when the database is ahead.
    """
    migrations = MIGRATIONS if migrations is None else migrations
    if dialect is Dialect.POSTGRESQL:
        db.execute("SELECT pg_advisory_xact_lock(?)", (_MIGRATION_LOCK,))
    db.execute(_VERSIONS)
    have = current_version(db)
    latest = migrations[-1].version if migrations else 0
    if have > latest:
        raise SchemaTooNew(
            f"the database is at schema version {have}, newer than this kiosk knows ({latest}): "
            "upgrade the kiosk on this server (never run an older one against a migrated database)"
        )
    applied: list[int] = []
    for migration in migrations:
        if migration.version <= have or migration.version > latest:
            continue
        ddl = migration.sql
        if dialect is Dialect.POSTGRESQL:
            ddl = migration.postgres if migration.postgres is not None else postgres_ddl(migration.sql)
        for statement in statements(ddl):
            db.execute(statement)
        if migration.step is not None:
            migration.step(db, dialect)
        db.execute(
            "INSERT INTO schema_migrations (version, summary, applied_at) VALUES (?, ?, ?)",
            (migration.version, migration.summary, datetime.now(UTC).isoformat(timespec="seconds")),
        )
        applied.append(migration.version)
    return applied
