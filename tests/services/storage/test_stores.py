"""The store on both databases: migrations from empty and from every earlier version, and the rules that
must hold however many requests and replicas share it (PostgreSQL: two Store objects, each with its own
connection pool, are two replicas as far as the database can tell)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from live_servers.postgres import PostgresCluster

from kiosk.services.backend.audit.chain import ChainRow, row_fields, verify
from kiosk.services.backend.audit.log import AuditEvent, AuditLog
from kiosk.services.backend.clock import ManualClock
from kiosk.services.backend.storage import migrations
from kiosk.services.backend.storage.db import Db, Dialect
from kiosk.services.backend.storage.store import Store

from .places import Place


def versions(db: Db) -> list[int]:
    return [int(row[0]) for row in db.execute("SELECT version FROM schema_migrations ORDER BY version").fetchall()]


# ---------------------------------------------------------------- migrations


async def test_a_new_database_gets_every_migration_once(place: Place) -> None:
    async with place.store() as store:
        assert store.dialect is place.dialect
        assert await store.call(versions) == [m.version for m in migrations.MIGRATIONS]
    async with place.store() as store:  # a second start applies nothing again
        assert await store.call(versions) == [m.version for m in migrations.MIGRATIONS]
        assert await store.call(lambda db: db.execute("SELECT COUNT(*) FROM audit_chain").fetchone()[0]) == 1


def test_migrations_are_numbered_one_by_one() -> None:
    assert [m.version for m in migrations.MIGRATIONS] == list(range(1, len(migrations.MIGRATIONS) + 1))
    assert migrations.LATEST == migrations.MIGRATIONS[-1].version
    assert migrations.LATEST >= 2, "the upgrade test below needs an earlier version to start from"


@pytest.mark.parametrize("start", range(1, migrations.LATEST))
async def test_every_earlier_version_is_brought_up_to_date_and_keeps_its_rows(place: Place, start: int) -> None:
    def build(db: Db) -> None:
        migrations.apply(db, place.dialect, migrations.MIGRATIONS[:start])
        db.execute(
            "INSERT INTO sessions (token_hash, expires_at, state_json) VALUES (?, ?, ?)", ("kept", "2030-01-01", "{}")
        )

    place.raw(build)
    assert place.raw(versions) == list(range(1, start + 1))
    async with place.store() as store:
        assert await store.call(versions) == list(range(1, migrations.LATEST + 1))
        row = await store.call(
            lambda db: db.execute("SELECT state_json FROM sessions WHERE token_hash = ?", ("kept",)).fetchone()
        )
        assert row["state_json"] == "{}"


async def test_a_database_a_newer_kiosk_migrated_is_refused(place: Place) -> None:
    async with place.store():
        pass
    place.raw(
        lambda db: db.execute(
            "INSERT INTO schema_migrations (version, summary, applied_at) VALUES (?, ?, ?)",
            (migrations.LATEST + 1, "from the future", "2030-01-01"),
        )
    )
    with pytest.raises(migrations.SchemaTooNew, match=f"schema version {migrations.LATEST + 1}, newer"):
        await Store.open(place.target())


async def test_replicas_starting_together_migrate_once(place: Place) -> None:
    if place.dialect is Dialect.SQLITE:
        stores = [await Store.open(place.target())]  # one process only: nothing to race
    else:
        stores = list(await asyncio.gather(*(Store.open(place.target(2)) for _ in range(4))))
    try:
        assert await stores[0].call(versions) == list(range(1, migrations.LATEST + 1))
    finally:
        for store in stores:
            await store.close()


# ---------------------------------------------------------------- rules under concurrency


@asynccontextmanager
async def replicas(place: Place, count: int = 2) -> AsyncIterator[list[Store]]:
    """`count` stores on one database: separate pools on PostgreSQL; on SQLite one store serves all
    (an SQLite store is only ever used by one process, so "replicas" there are requests in one process)."""
    if place.dialect is Dialect.SQLITE:
        async with place.store() as store:
            yield [store] * count
        return
    opened = [await Store.open(place.target(4)) for _ in range(count)]
    try:
        yield opened
    finally:
        for store in opened:
            await store.close()


async def test_audit_rows_written_at_once_on_two_replicas_form_one_unbroken_chain(place: Place) -> None:
    clock = ManualClock(datetime(2026, 12, 7, 9, 0, tzinfo=UTC))
    async with replicas(place) as stores:
        logs = [AuditLog(store, clock, None) for store in stores]
        await asyncio.gather(
            *(
                logs[n % 2].record(AuditEvent.RESET, kiosk_id=f"k{n % 2}", reference=f"R{n}", user_id=f"u{n}")
                for n in range(60)
            )
        )
        rows = await stores[0].call(lambda db: db.execute("SELECT * FROM audit ORDER BY id").fetchall())
    report = verify(ChainRow(int(r["id"]), row_fields(r), r["prev_hash"], r["hash"]) for r in rows)
    assert report.intact, report.problem
    assert report.events == 60
    assert len({r["prev_hash"] for r in rows}) == 60  # no fork: every row has its own predecessor
    assert sorted(r["reference"] for r in rows) == sorted(f"R{n}" for n in range(60))


async def _increment_under_lock(store: Store, key: str) -> None:
    # Read, wait, write back: only the lock keeps two of these from losing each other's update.
    async with store.session_lock(key):
        row = await store.call(
            lambda db: db.execute("SELECT state_json FROM sessions WHERE token_hash = ?", (key,)).fetchone()
        )
        count = json.loads(row["state_json"])["count"]
        await asyncio.sleep(0.001)
        await store.call(
            lambda db: db.execute(
                "UPDATE sessions SET state_json = ? WHERE token_hash = ?", (json.dumps({"count": count + 1}), key)
            )
        )


async def _new_counter(store: Store, key: str) -> None:
    await store.call(
        lambda db: db.execute(
            "INSERT INTO sessions (token_hash, expires_at, state_json) VALUES (?, ?, ?)",
            (key, "2030-01-01", '{"count": 0}'),
        )
    )


async def _counter(store: Store, key: str) -> int:
    row = await store.call(
        lambda db: db.execute("SELECT state_json FROM sessions WHERE token_hash = ?", (key,)).fetchone()
    )
    return int(json.loads(row["state_json"])["count"])


@settings(max_examples=8, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(on=st.lists(st.sampled_from([0, 1]), min_size=2, max_size=24))
async def test_a_session_lock_holds_across_replicas_for_any_mix_of_requests(place: Place, on: list[int]) -> None:
    """Invariant: N read-modify-write steps on one session, spread over the replicas in any way, count N."""
    key = f"session-{len(on)}-{''.join(map(str, on))}"
    async with replicas(place) as stores:
        await _new_counter(stores[0], key)
        await asyncio.gather(*(_increment_under_lock(stores[replica], key) for replica in on))
        assert await _counter(stores[1], key) == len(on)


async def test_a_limit_checked_and_counted_in_one_call_is_never_overrun(place: Place) -> None:
    limit = 10

    def take(db: Db) -> bool:
        used = db.execute(
            "SELECT COUNT(*) FROM throttle_events WHERE scope = ? AND key = ?", ("kiosk", "k1")
        ).fetchone()[0]
        if used >= limit:
            return False
        db.execute(
            "INSERT INTO throttle_events (scope, key, event, at) VALUES (?, ?, ?, ?)", ("kiosk", "k1", "open", 1.0)
        )
        return True

    async with replicas(place) as stores:
        granted = await asyncio.gather(*(stores[n % 2].call(take) for n in range(40)))
        assert sum(granted) == limit
        assert (
            await stores[0].call(lambda db: db.execute("SELECT COUNT(*) FROM throttle_events").fetchone()[0]) == limit
        )


async def test_a_replica_that_dies_holding_a_session_lock_lets_the_other_go_on_at_once(
    postgres_cluster: PostgresCluster,
) -> None:
    name = postgres_cluster.fresh_database("store")
    try:
        place = Place(Dialect.POSTGRESQL, Path(), postgres_cluster, name)
        async with replicas(place) as (dying, survivor):
            held = asyncio.Event()
            release = asyncio.Event()

            async def hold() -> None:
                async with dying.session_lock("abc"):
                    held.set()
                    await release.wait()

            holder = asyncio.create_task(hold())
            await held.wait()
            waiting = asyncio.create_task(_locked_once(survivor, "abc"))
            await asyncio.sleep(0.3)
            assert not waiting.done()  # the lock is really held
            # What the database sees when a replica is killed: its connections end.
            postgres_cluster.psql(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted", name
            )
            await asyncio.wait_for(waiting, 5)
            release.set()
            await holder
    finally:
        postgres_cluster.drop_database(name)


async def _locked_once(store: Store, key: str) -> None:
    async with store.session_lock(key):
        await store.call(lambda db: db.execute("SELECT 1").fetchone())


async def test_text_and_numbers_round_trip_the_same_on_both(place: Place) -> None:
    values = ("plain", "with 'quote' and ? and %s and %", "ünïcödé 北京 שלום", "")
    async with place.store() as store:
        for value in values:
            await store.call(
                lambda db, v=value: db.execute("INSERT INTO backend_keys (name, value) VALUES (?, ?)", (v, v.encode()))
            )
        rows = await store.call(lambda db: db.execute("SELECT name, value FROM backend_keys ORDER BY name").fetchall())
        assert [(r["name"], bytes(r["value"])) for r in rows] == sorted((v, v.encode()) for v in values)
        assert await store.call(lambda db: db.execute("SELECT ? + 1", (True,)).fetchone()[0]) == 2


async def test_processes_seeding_one_fresh_store_at_once_add_the_demo_users_once(place: Place) -> None:
    from cryptography.fernet import Fernet

    from kiosk.services.backend.directory.demo_seed import load_demo_directory, seed_demo_users
    from kiosk.services.backend.directory.embedded import EmbeddedDirectory
    from kiosk.services.backend.directory.enrollment import SecretBox

    key = Fernet.generate_key()
    async with replicas(place, 3) as stores:
        directories = [await EmbeddedDirectory.open(store, SecretBox(key)) for store in stores]
        added = await asyncio.gather(*(seed_demo_users(directory) for directory in directories))
        expected = len(load_demo_directory().users)
        assert sorted(added) == [0, 0, expected]  # one process seeded, the others found users and left them
        assert len(await directories[0].all_users()) == expected
