"""The backend's store: every piece of state, in SQLite (embedded, one process) or PostgreSQL (shared).

Work reaches the database only through `Store.call(work)`: `work(db)` runs in one transaction, off
the event loop (in embedded mode the loop is the Qt UI thread), and gets a connection that speaks
the SQL subset of `storage.db`. `Store.session_lock(key)` serialises the calls on one reset session
across everything that can serve it: an asyncio lock in the one SQLite process, an advisory lock in
PostgreSQL (held by the replica's connection, so a replica that dies releases it at once).

`Store.open(target)` picks the database: a path is an SQLite file, a `postgresql://` URL a server.
"""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from kiosk.services.backend.storage import migrations
from kiosk.services.backend.storage.db import Db, Dialect

if TYPE_CHECKING:
    from kiosk.services.backend.storage.target import PostgresSettings

T = TypeVar("T")


POSTGRES_DRIVER_MISSING = (
    'store.kind = "postgresql" needs the psycopg driver, which this installation does not carry (the kiosk\'s '
    "bundle and MSI leave it out: a kiosk keeps its store in SQLite, or calls a shared backend). Run the shared "
    "backend from a pip install of the project (README, \"Running the shared backend\")"
)
"""Why a PostgreSQL store cannot be opened without psycopg, and what to do instead."""


class StoreDriverMissing(RuntimeError):
    """The store's database driver is not installed here (PostgreSQL in the kiosk's frozen bundle)."""


class Store(ABC):
    """A database reached only through `call` (one transaction per call, never on the event loop)."""

    dialect: Dialect
    path: Path | None
    """The SQLite file; None for PostgreSQL."""

    @classmethod
    async def open(cls, target: Path | PostgresSettings) -> Store:
        """Open the store at `target` (an SQLite file, created if needed, or a PostgreSQL server) and
        bring its schema up to date (`storage.migrations`)."""
        if isinstance(target, Path):
            return await SqliteStore.connect(target)
        try:
            from kiosk.services.backend.storage.postgres import PostgresStore  # psycopg only when used
        except ImportError as error:
            raise StoreDriverMissing(POSTGRES_DRIVER_MISSING) from error
        return await PostgresStore.connect(target)

    @abstractmethod
    async def call(self, work: Callable[[Db], T]) -> T:
        """Run `work(db)` in one transaction and return its result (it may run more than once: PostgreSQL
        retries a transaction that lost a serialization conflict, so `work` touches only the database)."""

    @abstractmethod
    def session_lock(self, key: str) -> AbstractAsyncContextManager[None]:
        """Hold the lock named `key` (a session's token hash) for the block: one holder at a time,
        across every process that serves this store."""

    @abstractmethod
    async def close(self) -> None:
        """Close the connections (a second call does nothing)."""


class SqliteStore(Store):
    """An SQLite database with one connection, used only from one worker thread."""

    dialect = Dialect.SQLITE

    def __init__(self, path: Path, executor: ThreadPoolExecutor, connection: sqlite3.Connection) -> None:
        self.path = path
        self._executor = executor
        self._connection = connection
        self._closed = False
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @classmethod
    async def connect(cls, path: Path) -> SqliteStore:
        """Open (creating if needed) the database at `path` and migrate its schema."""
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-store")

        def connect() -> sqlite3.Connection:
            connection = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            connection.row_factory = sqlite3.Row
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute("PRAGMA journal_mode = WAL")
            # One transaction for every pending migration: in autocommit mode every CREATE would be
            # its own commit, each synced to disk; and a migration happens completely or not at all.
            connection.execute("BEGIN IMMEDIATE")
            try:
                migrations.apply(connection, Dialect.SQLITE)
            except BaseException:
                connection.execute("ROLLBACK")
                connection.close()
                raise
            connection.execute("COMMIT")
            return connection

        loop = asyncio.get_running_loop()
        try:
            connection = await loop.run_in_executor(executor, connect)
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(path, executor, connection)

    async def call(self, work: Callable[[Db], T]) -> T:
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

    @asynccontextmanager
    async def session_lock(self, key: str) -> AsyncIterator[None]:
        """An in-process lock: one SQLite store is only ever served by one process."""
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        async with lock:
            yield

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

    sqlite = isinstance(store, SqliteStore)

    def work(connection: Db) -> int:
        rows = connection.execute("SELECT login, totp_secret FROM users WHERE totp_secret != ''").fetchall()
        plain = [(row[0], row[1]) for row in rows if not is_sealed(row[1])]
        if plain and sqlite:
            connection.execute("PRAGMA secure_delete = ON")
        for login, secret in plain:
            connection.execute("UPDATE users SET totp_secret = ? WHERE login = ?", (seal(secret), login))
        return len(plain)

    sealed = await store.call(work)
    if sealed and isinstance(store, SqliteStore):
        await store.checkpoint()
    return sealed
