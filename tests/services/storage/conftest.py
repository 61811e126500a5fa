"""The store tests' database: each test runs once on SQLite and once on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from live_servers.postgres import PostgresCluster

from kiosk.services.backend.storage.db import Dialect

from .places import DIALECTS, Place


@pytest.fixture(params=DIALECTS, ids=lambda dialect: dialect.value)
def place(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    """A fresh, empty database: an SQLite file, or a new database on the run's PostgreSQL cluster."""
    if request.param is Dialect.SQLITE:
        yield Place(Dialect.SQLITE, tmp_path / "store.sqlite3", None, "")
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = cluster.fresh_database("store")
    try:
        yield Place(Dialect.POSTGRESQL, tmp_path, cluster, name)
    finally:
        cluster.drop_database(name)
