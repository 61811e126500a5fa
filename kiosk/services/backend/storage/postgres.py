"""The shared backend's store in PostgreSQL: psycopg 3, a connection pool, serializable transactions.

Every `call` is one SERIALIZABLE transaction, so work written for SQLite's one-writer-at-a-time
(`BEGIN IMMEDIATE`) means the same here, whatever replica runs it: a transaction that loses a
conflict (serialization failure, deadlock, or a second audit row chaining to the same predecessor)
is rolled back and run again, a few times, with a short random pause.

`session_lock` takes a PostgreSQL advisory lock on a connection it keeps for the whole block, and the
calls made inside the block run on that connection. The lock belongs to the database session: a
replica killed with SIGKILL drops its connection and the lock with it, so another replica can go on
at once. An asyncio semaphore hands out the pool's connections before a thread asks for one, so no
worker thread ever waits for a connection that only another waiting thread could give back.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import hashlib
import random
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar

import psycopg
from psycopg import errors
from psycopg.rows import RowMaker
from psycopg_pool import ConnectionPool

from kiosk.services.backend.storage import migrations
from kiosk.services.backend.storage.db import Dialect
from kiosk.services.backend.storage.store import Store
from kiosk.services.backend.storage.target import PostgresSettings

T = TypeVar("T")

RETRY_SECONDS = 5.0
"""How long a transaction that keeps losing conflicts is run again before the error is raised (within a
step's deadline of 7 s)."""
MAX_PAUSE_SECONDS = 0.05
"""The longest random pause between two tries."""

LOCK_POLL_SECONDS = 0.01
"""First pause between tries for a session lock another request holds (doubling up to 0.1 s)."""

CONNECT_TIMEOUT = 10.0
"""Seconds to wait for the first connection when the store opens."""

_RETRYABLE_UNIQUE = frozenset({"audit_one_successor"})
"""Unique indexes whose violation means "lost a race": run again on the new state."""


class PgRow(tuple[Any, ...]):
    """A row that answers by position and by column name, as `sqlite3.Row` does."""

    _index: dict[str, int]

    def __new__(cls, values: Sequence[Any], index: dict[str, int]) -> PgRow:
        row = super().__new__(cls, values)
        row._index = index
        return row

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return super().__getitem__(self._index[key])
        return super().__getitem__(key)

    def keys(self) -> list[str]:
        """The column names, in order."""
        return list(self._index)


def row_factory(cursor: psycopg.Cursor[Any]) -> RowMaker[PgRow]:
    """psycopg's row factory for `PgRow`."""
    names = [column.name for column in cursor.description or ()]
    index = {name: position for position, name in enumerate(names)}
    return lambda values: PgRow(values, index)


@functools.lru_cache(maxsize=1024)
def translate(sql: str) -> str:
    """`sql` with SQLite's `?` placeholders as psycopg's `%s` (and a literal `%` doubled); text inside
    single quotes is left alone."""
    parts = sql.split("'")
    for position in range(0, len(parts), 2):  # even parts are outside quotes
        parts[position] = parts[position].replace("%", "%%").replace("?", "%s")
    return "'".join(parts)


def _adapt(parameters: Sequence[Any]) -> tuple[Any, ...]:
    # SQLite stores a bool as 0/1 and an enum by its value; PostgreSQL wants exactly that in an
    # INTEGER/TEXT column (psycopg would send a boolean, or an enum's name).
    return tuple(
        int(value) if isinstance(value, bool) else value.value if isinstance(value, Enum) else value
        for value in parameters
    )


class _Cursor:
    """A psycopg cursor seen through `storage.db.Cursor`."""

    def __init__(self, cursor: psycopg.Cursor[PgRow]) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        """Rows the statement changed."""
        return self._cursor.rowcount

    def fetchone(self) -> PgRow | None:
        """The next row, or None."""
        return self._cursor.fetchone()

    def fetchall(self) -> list[PgRow]:
        """The remaining rows."""
        return self._cursor.fetchall()

    def __iter__(self) -> Iterator[PgRow]:
        return iter(self._cursor.fetchall())


class PgDb:
    """A psycopg connection seen through `storage.db.Db` (SQLite's placeholders and parameter types)."""

    def __init__(self, connection: psycopg.Connection[PgRow]) -> None:
        self._connection = connection

    def execute(self, sql: str, parameters: Sequence[Any] = (), /) -> _Cursor:
        """Run one statement (a script of several when there are no parameters)."""
        cursor = self._connection.cursor()
        if parameters:
            cursor.execute(translate(sql), _adapt(parameters))
        else:
            cursor.execute(sql)  # our own SQL text, never built from input
        return _Cursor(cursor)

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> _Cursor:
        """Run one statement for each parameter tuple."""
        cursor = self._connection.cursor()
        cursor.executemany(translate(sql), [_adapt(row) for row in parameters])
        return _Cursor(cursor)


def _lost_race(error: psycopg.Error) -> bool:
    if isinstance(error, errors.SerializationFailure | errors.DeadlockDetected):
        return True
    return isinstance(error, errors.UniqueViolation) and error.diag.constraint_name in _RETRYABLE_UNIQUE


def run_transaction(connection: psycopg.Connection[PgRow], work: Callable[[PgDb], T]) -> T:
    """`work` in one serializable transaction on `connection`, run again when it loses a conflict.

    Tried again for up to `RETRY_SECONDS`, not a number of times: under a burst (100 kiosks opening
    sessions through one proxy address, all counting against one limit) a transaction can lose a dozen
    rounds in a row, yet each round one of them commits, so waiting a little longer always ends.
    """
    started = time.monotonic()
    attempt = 0
    while True:
        try:
            with connection.transaction():
                return work(PgDb(connection))
        except psycopg.Error as error:
            if not _lost_race(error) or time.monotonic() - started > RETRY_SECONDS:
                raise
        attempt += 1
        # Random pauses so that the transactions that collided do not collide again in lockstep.
        time.sleep(random.uniform(0, min(MAX_PAUSE_SECONDS, 0.002 * 2**attempt)))  # noqa: S311 - jitter


def _lock_id(key: str) -> int:
    """The 64-bit advisory lock id of a session key."""
    return int.from_bytes(hashlib.sha256(b"kiosk-session:" + key.encode()).digest()[:8], "big", signed=True)


@dataclass
class _Held:
    """A connection a task keeps while it holds a session lock; its store calls run on it."""

    store: PostgresStore
    connection: psycopg.Connection[PgRow]
    key: str
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    released: bool = False


_held: contextvars.ContextVar[_Held | None] = contextvars.ContextVar("kiosk_store_held", default=None)


class PostgresStore(Store):
    """A PostgreSQL database behind a connection pool; work runs on a thread pool of the same size."""

    dialect = Dialect.POSTGRESQL
    path = None

    def __init__(self, pool: ConnectionPool[psycopg.Connection[PgRow]], size: int) -> None:
        self._pool = pool
        self._executor = ThreadPoolExecutor(max_workers=2 * size + 2, thread_name_prefix="kiosk-pg")
        # The pool has 2 × size connections: up to `size` for requests holding a session lock (whose
        # calls run on them), `size` for every other call. Neither kind can take the other's, so a
        # lock holder waiting on work that needs a connection of its own (the delivery worker, say)
        # always gets one, and no worker thread ever blocks in the pool.
        self._slots = asyncio.Semaphore(size)
        self._lock_slots = asyncio.Semaphore(size)
        self._closed = False

    @classmethod
    async def connect(cls, settings: PostgresSettings) -> PostgresStore:
        """Open the pool, wait for a first connection and migrate the schema (replicas take turns)."""
        options_no_rows: dict[str, Any] = {"autocommit": True}
        if settings.password:
            options_no_rows["password"] = settings.password
        options = {**options_no_rows, "row_factory": row_factory}

        def configure(connection: psycopg.Connection[PgRow]) -> None:
            connection.isolation_level = psycopg.IsolationLevel.SERIALIZABLE

        pool: ConnectionPool[psycopg.Connection[PgRow]] = ConnectionPool(
            settings.conninfo,
            kwargs=options,
            min_size=1,
            max_size=2 * settings.pool_size,
            open=False,
            configure=configure,
            check=ConnectionPool.check_connection,
            name="kiosk-store",
        )

        def start() -> None:
            # One plain connection first: a refused login or an unreachable server fails here with
            # libpq's own words (the pool would only time out), and the schema is migrated on it.
            # Read committed: after waiting for another replica's migration lock, the next statement
            # sees what that replica committed (serializable would see the snapshot from before).
            with psycopg.connect(
                settings.conninfo, connect_timeout=int(CONNECT_TIMEOUT), row_factory=row_factory, **options_no_rows
            ) as connection:
                with connection.transaction():
                    migrations.apply(PgDb(connection), Dialect.POSTGRESQL)
            pool.open(wait=True, timeout=CONNECT_TIMEOUT)

        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(None, start)
        except BaseException:
            await loop.run_in_executor(None, pool.close)
            raise
        return cls(pool, settings.pool_size)

    async def _run(self, function: Callable[[], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    async def call(self, work: Callable[[Any], T]) -> T:
        """Run `work(db)` in one serializable transaction (on the session's connection inside `session_lock`)."""
        held = _held.get()
        if held is not None and held.store is self and not held.released:
            async with held.turn:  # one transaction at a time on one connection
                return await self._run(lambda: run_transaction(held.connection, work))

        def borrowed() -> T:
            with self._pool.connection() as connection:
                return run_transaction(connection, work)

        async with self._slots:
            return await self._run(borrowed)

    @asynccontextmanager
    async def session_lock(self, key: str) -> AsyncIterator[None]:
        """Hold the advisory lock of `key` on a connection of our own until the block ends.

        A request that finds the lock taken gives its connection back while it waits, so waiting
        requests never starve the ones that hold a lock of the connections they need.
        """
        held = _held.get()
        if held is not None and held.store is self and held.key == key and not held.released:
            yield  # already ours (a nested call on the same session)
            return
        lock = _lock_id(key)
        pause = LOCK_POLL_SECONDS
        while True:
            await self._lock_slots.acquire()
            try:
                connection = await self._run(self._pool.getconn)
            except BaseException:
                self._lock_slots.release()
                raise
            try:
                if await self._run(functools.partial(_try_lock, connection, lock)):
                    break
            except BaseException:
                await self._give_back(connection)
                raise
            await self._give_back(connection)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 0.1)
        mine = _Held(self, connection, key)
        token = _held.set(mine)
        try:
            yield
        finally:
            _held.reset(token)
            async with mine.turn:
                mine.released = True
            try:
                await self._run(lambda: _unlock(connection, lock))
            finally:
                await self._give_back(connection)

    async def _give_back(self, connection: psycopg.Connection[PgRow]) -> None:
        try:
            await self._run(lambda: self._pool.putconn(connection))
        finally:
            self._lock_slots.release()

    async def close(self) -> None:
        """Close the pool and stop the threads (a second call does nothing)."""
        if self._closed:
            return
        self._closed = True
        await asyncio.get_running_loop().run_in_executor(None, self._pool.close)
        self._executor.shutdown(wait=True)


def _try_lock(connection: psycopg.Connection[PgRow], lock: int) -> bool:
    row = connection.execute("SELECT pg_try_advisory_lock(%s)", (lock,)).fetchone()
    return bool(row is not None and row[0])


def _unlock(connection: psycopg.Connection[PgRow], lock: int) -> None:
    try:
        connection.execute("SELECT pg_advisory_unlock(%s)", (lock,))
    except psycopg.Error:
        pass  # a broken connection has lost the lock with the session; the pool discards it
