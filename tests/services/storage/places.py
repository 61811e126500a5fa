"""Where a store test's database lives: an SQLite file or a database on the run's PostgreSQL cluster."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

import psycopg
from live_servers.postgres import PostgresCluster

from kiosk.services.backend.storage.db import Db, Dialect
from kiosk.services.backend.storage.postgres import PgDb
from kiosk.services.backend.storage.store import Store
from kiosk.services.backend.storage.target import PostgresSettings

DIALECTS = [Dialect.SQLITE, Dialect.POSTGRESQL]


class Place:
    """Where one test's database lives, on either database: open stores on it, or reach it raw."""

    def __init__(self, dialect: Dialect, path: Path, cluster: PostgresCluster | None, dbname: str) -> None:
        self.dialect = dialect
        self._path = path
        self._cluster = cluster
        self._dbname = dbname

    def target(self, pool_size: int = 6) -> Path | PostgresSettings:
        """What `Store.open` takes."""
        if self._cluster is None:
            return self._path
        return PostgresSettings(self._cluster.dsn(self._dbname), self._cluster.password, pool_size=pool_size)

    def raw(self, work: Callable[[Db], Any]) -> Any:
        """Run `work` in one transaction on a plain connection (to build an old database by hand)."""
        if self._cluster is None:
            with closing(sqlite3.connect(self._path, isolation_level=None)) as connection:
                connection.row_factory = sqlite3.Row
                connection.execute("BEGIN IMMEDIATE")
                result = work(connection)
                connection.execute("COMMIT")
                return result
        with psycopg.connect(self._cluster.dsn(self._dbname), password=self._cluster.password) as connection:
            return work(PgDb(connection))  # type: ignore[arg-type]  # psycopg's default rows are tuples

    @asynccontextmanager
    async def store(self, pool_size: int = 6) -> AsyncIterator[Store]:
        """An open store, closed afterwards."""
        store = await Store.open(self.target(pool_size))
        try:
            yield store
        finally:
            await store.close()
