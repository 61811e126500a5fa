"""The backend's SQLite store: one connection, used only from one worker thread, off the event loop.

In embedded mode the event loop is the Qt UI thread, so no sqlite call may run on it: every call is
shipped to a single-thread executor, which also serialises all access to the one connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from kiosk.services.backend.audit.chain import migrate as migrate_audit_chain

T = TypeVar("T")

SCHEMA = """
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
    superseded INTEGER NOT NULL DEFAULT 0
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
"""


def _add_code_subjects(connection: sqlite3.Connection) -> None:
    """Codes know whose they are (a new code supersedes every older code of that user, in every
    session): databases from before that get the column; their old codes belong to nobody."""
    columns = {row[1] for row in connection.execute("PRAGMA table_info(codes)")}
    if "subject" not in columns:
        connection.execute("ALTER TABLE codes ADD COLUMN subject TEXT NOT NULL DEFAULT ''")
    connection.execute("CREATE INDEX IF NOT EXISTS codes_by_subject ON codes(subject)")


class Store:
    """An SQLite database reached only through `call`, which runs work on the store's own thread."""

    def __init__(self, path: Path, executor: ThreadPoolExecutor, connection: sqlite3.Connection) -> None:
        self.path = path
        self._executor = executor
        self._connection = connection
        self._closed = False

    @classmethod
    async def open(cls, path: Path) -> Store:
        """Open (creating if needed) the database at `path` and make sure the schema exists."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-store")

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA journal_mode = WAL")
            # One transaction for the whole schema: in autocommit mode every CREATE would be its own
            # commit, each synced to disk, on every start. The audit chain's migration (older
            # databases) runs in the same transaction, so it happens completely or not at all.
            connection.executescript(f"BEGIN;\n{SCHEMA}")
            try:
                _add_code_subjects(connection)
                migrate_audit_chain(connection)
            except BaseException:
                connection.execute("ROLLBACK")
                raise
            connection.execute("COMMIT")
            return connection

        loop = asyncio.get_running_loop()
        connection = await loop.run_in_executor(executor, connect)
        return cls(path, executor, connection)

    async def call(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` in one transaction on the store thread and return its result."""

        def transaction() -> T:
            self._connection.execute("BEGIN IMMEDIATE")
            try:
                result = work(self._connection)
            except BaseException:
                self._connection.execute("ROLLBACK")
                raise
            self._connection.execute("COMMIT")
            return result

        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, transaction)

    async def checkpoint(self) -> None:
        """Copy the write-ahead log into the database file and empty it (outside any transaction)."""
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(
            self._executor, lambda: self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        )

    async def close(self) -> None:
        """Close the connection and stop the store thread (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, self._connection.close)
        self._executor.shutdown(wait=True)


async def seal_plain_totp_secrets(store: Store, seal: Callable[[str], str], is_sealed: Callable[[str], bool]) -> int:
    """Migration: embedded users' authenticator secrets kept in plain text (databases from before they
    were encrypted) are replaced by their sealed form; returns how many. Sealed ones are left alone,
    so it runs on every open and does nothing the second time.

    With `secure_delete` SQLite zeroes the bytes a rewritten row leaves behind, and the checkpoint
    copies the rewritten pages from the write-ahead log into the database file at once: no plain
    secret is left in either file.
    """

    def work(connection: sqlite3.Connection) -> int:
        rows = connection.execute("SELECT login, totp_secret FROM users WHERE totp_secret != ''").fetchall()
        plain = [(row[0], row[1]) for row in rows if not is_sealed(row[1])]
        if plain:
            connection.execute("PRAGMA secure_delete = ON")
        for login, secret in plain:
            connection.execute("UPDATE users SET totp_secret = ? WHERE login = ?", (seal(secret), login))
        return len(plain)

    sealed = await store.call(work)
    if sealed:
        await store.checkpoint()
    return sealed
