"""The kiosk registry (issue 12, part 1) on both databases: enrolled by one replica, checked by another, and
a revocation by one refused at once by the other (two Store objects are two replicas to the database)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from live_servers.postgres import PostgresCluster

from kiosk.services.backend.clock import ManualClock
from kiosk.services.backend.kiosks import Credential, KioskRegistry, KioskRegistryError, Verdict, parse_credential
from kiosk.services.backend.storage.db import Dialect

from .test_stores import DIALECTS, Place

CLOCK = ManualClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))


@pytest.fixture(params=DIALECTS, ids=lambda dialect: dialect.value)
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Place]:
    """A fresh, empty database: an SQLite file, or a new database on the run's PostgreSQL cluster."""
    if request.param is Dialect.SQLITE:
        yield Place(Dialect.SQLITE, tmp_path / "store.sqlite3", None, "")
        return
    cluster: PostgresCluster = request.getfixturevalue("postgres_cluster")
    name = cluster.fresh_database("kiosks")
    try:
        yield Place(Dialect.POSTGRESQL, tmp_path, cluster, name)
    finally:
        cluster.drop_database(name)


async def test_a_kiosk_enrolled_and_revoked_on_one_replica_is_so_on_the_other(database: Place) -> None:
    async with database.store() as first, database.store() as second:
        here, there = KioskRegistry(first, CLOCK), KioskRegistry(second, CLOCK)
        credential = await here.add("lobby-1")
        assert await there.check(credential) is Verdict.OK
        assert await there.check(Credential("lobby-1", credential.secret + "x")) is Verdict.WRONG_SECRET
        assert await there.check(Credential("lobby-2", credential.secret)) is Verdict.UNKNOWN
        assert await there.check(parse_credential("lobby-1")) is Verdict.MALFORMED
        with pytest.raises(KioskRegistryError, match="already exists"):
            await there.add("lobby-1")
        await there.revoke("lobby-1")
        assert await here.check(credential) is Verdict.REVOKED  # no cache: the very next check
        (entry,) = await here.entries()
        assert (entry.name, entry.created_at, entry.revoked_at) == ("lobby-1", *[CLOCK.now().isoformat()] * 2)
