"""Whole flows across two replicas on one PostgreSQL store, through HAProxy (issue 12, part 5).

What they check, over the real client, two real `kiosk serve` processes (two workers each, as on this
2-core machine) on one PostgreSQL database, and HAProxy:
- an e-mail reset whose calls alternate between the replicas, call by call, finishes;
- the replica that served the previous call is SIGKILLed before each step in turn, and the flow
  finishes on the other: the audit chain verifies, the session's events are exactly those of an
  undisturbed flow (none missing, none twice), and the password changed exactly once (one `reset`
  event, one notice, the history one hash longer, the new password verifies);
- the replica handling `set_password` is SIGKILLed while it hashes: HAProxy sends the step (it carries
  its request id) to the other replica, or the client tries again with the same id, and the reset
  still happens exactly once.

What they found, fixed since: the workers of a replica seeding one fresh database at once (one failed
on users_pkey); a code queued by the killed replica never sent (the outbox's key lived in its memory:
now derived from the enrollment key, and a live worker adopts a dead one's rows); an idle HAProxy
connection to the killed replica losing the next POST (`http-reuse never`); a connection closed
without an answer not retried by the kiosk although the step carried its request id.
"""

from __future__ import annotations

import asyncio
import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from argon2 import PasswordHasher
from argon2.exceptions import VerificationError
from live_servers.postgres import PostgresCluster
from live_servers.replicas import Replica, ReplicaSet, StoreConfiguration, enroll_kiosk

from kiosk.services.api import Outcome, Stage

from .conftest import StartHAProxy
from .served_flow import (
    DEMO_USER,
    EMAIL_RESET_EVENTS,
    NEW_PASSWORD,
    PASSWORD_CHANGED,
    ServedKiosk,
    audit_events,
    audit_verify,
    postgres_captcha,
)

STEPS = 6
"""Calls of `ServedKiosk.email_reset_steps` (open, identify, choose e-mail, read the code, enter it, password)."""


@dataclass
class SharedStore:
    """How replicas reach one PostgreSQL database, and how the test reaches it."""

    settings: StoreConfiguration
    """Merged into every replica's policy (never the password)."""
    environment: dict[str, str] = field(repr=False)
    """Added to every replica's environment (the database password, if it comes from there)."""
    target: Any = field(repr=False)
    """What `Store.open` takes (for `enroll_kiosk`)."""


def postgres_store(cluster: PostgresCluster, dbname: str) -> SharedStore:
    """The `[store]` section on the cluster's database (no password in it: KIOSK_DATABASE_PASSWORD carries it)."""
    from kiosk.services.backend.storage.target import PostgresSettings

    return SharedStore(
        settings={"store": {"kind": "postgresql", "url": cluster.dsn(dbname)}},
        environment={"KIOSK_DATABASE_PASSWORD": cluster.password},
        target=PostgresSettings(cluster.dsn(dbname), cluster.password),
    )


def start_pair(
    cluster: PostgresCluster, replicas: ReplicaSet, haproxy: StartHAProxy
) -> tuple[list[Replica], str, SharedStore, str]:
    """Two replicas on a fresh database behind HAProxy: the replicas, HAProxy's URL, the store, the database."""
    dbname = cluster.fresh_database()
    store = postgres_store(cluster, dbname)
    # Two workers each, as `kiosk serve` runs on PostgreSQL on this 2-core machine.
    started = replicas.start(2, store.settings, environment=store.environment, workers=2)
    return started, haproxy(started).url, store, dbname


def emma(cluster: PostgresCluster, dbname: str) -> tuple[str, list[str]]:
    """The demo user's stored password hash and password history."""
    assert DEMO_USER == "emma"
    row = cluster.psql("SELECT password_hash || ' ' || history_json FROM users WHERE login = 'emma'", dbname)
    password_hash, _, history = row.strip().partition(" ")
    return password_hash, list(json.loads(history))


def assert_reset_exactly_once(
    cluster: PostgresCluster, dbname: str, replica: Replica, history_before: list[str], notices: list[str]
) -> None:
    """One `reset` event, the session's events those of an undisturbed flow, the chain intact, the password
    changed once (history one longer, the new password verifies), one notice."""
    assert audit_verify(replica.policy_file, replica.environment).startswith("OK")
    events = audit_events(replica.policy_file, replica.environment)
    resets = [event for event in events if event["event"] == "reset"]
    assert [(event["user_id"], event["outcome"]) for event in resets] == [(DEMO_USER, "ok")]
    flow = [event["event"] for event in events if event["reference"] == resets[0]["reference"]]
    assert flow == list(EMAIL_RESET_EVENTS)
    password_hash, history = emma(cluster, dbname)
    assert len(history) == len(history_before) + 1
    try:
        PasswordHasher().verify(password_hash, NEW_PASSWORD)
    except VerificationError:
        pytest.fail("the new password is not the one stored")
    assert notices.count(PASSWORD_CHANGED) == 1


async def test_an_email_reset_whose_calls_alternate_between_two_replicas(
    postgres_cluster: PostgresCluster, replicas: ReplicaSet, haproxy: StartHAProxy
) -> None:
    (first, second), url, store, dbname = start_pair(postgres_cluster, replicas, haproxy)
    credential = await enroll_kiosk(store.target, "lobby-1")
    _, history_before = emma(postgres_cluster, dbname)
    kiosk = ServedKiosk(url, postgres_captcha(postgres_cluster, dbname), credential)
    try:
        for step in kiosk.email_reset_steps():
            await step()
        assert kiosk.view is not None and kiosk.view.stage is Stage.DONE and kiosk.view.outcome is Outcome.RESET
        notices = await kiosk.notices()
    finally:
        await kiosk.aclose()
    assert set(kiosk.served_by) == {first.name, second.name}
    assert all(a != b for a, b in itertools.pairwise(kiosk.served_by)), kiosk.served_by
    assert_reset_exactly_once(postgres_cluster, dbname, second, history_before, notices)


@pytest.mark.parametrize("kill_before_step", range(1, STEPS))
async def test_the_replica_that_served_the_previous_call_is_killed_and_the_flow_finishes_on_the_other(
    postgres_cluster: PostgresCluster, replicas: ReplicaSet, haproxy: StartHAProxy, kill_before_step: int
) -> None:
    (first, second), url, store, dbname = start_pair(postgres_cluster, replicas, haproxy)
    credential = await enroll_kiosk(store.target, "lobby-1")
    _, history_before = emma(postgres_cluster, dbname)
    kiosk = ServedKiosk(url, postgres_captcha(postgres_cluster, dbname), credential)
    try:
        steps = kiosk.email_reset_steps()
        assert len(steps) == STEPS
        for step in steps[:kill_before_step]:
            await step()
        victim = replicas.by_name(kiosk.last_served_by)
        survivor = second if victim is first else first
        victim.kill()
        calls_before_kill = len(kiosk.served_by)
        for step in steps[kill_before_step:]:
            await step()
        assert kiosk.view is not None and kiosk.view.stage is Stage.DONE and kiosk.view.outcome is Outcome.RESET
        notices = await kiosk.notices()
    finally:
        await kiosk.aclose()
    assert set(kiosk.served_by[calls_before_kill:]) == {survivor.name}
    assert_reset_exactly_once(postgres_cluster, dbname, survivor, history_before, notices)


async def test_the_replica_handling_set_password_is_killed_and_the_reset_happens_exactly_once(
    postgres_cluster: PostgresCluster, replicas: ReplicaSet, haproxy: StartHAProxy
) -> None:
    (first, second), url, store, dbname = start_pair(postgres_cluster, replicas, haproxy)
    credential = await enroll_kiosk(store.target, "lobby-1")
    _, history_before = emma(postgres_cluster, dbname)
    kiosk = ServedKiosk(url, postgres_captcha(postgres_cluster, dbname), credential)
    try:
        steps = kiosk.email_reset_steps()
        for step in steps[:-1]:
            await step()
        # Round robin with one client: the next call goes to the replica that did not serve this one.
        victim = first if kiosk.last_served_by == second.name else second
        survivor = second if victim is first else first
        calls_before = len(kiosk.served_by)
        setting = asyncio.create_task(steps[-1]())
        await asyncio.sleep(0.05)  # the request is in: hashing the new password takes longer than this
        victim.kill()
        await setting
        assert kiosk.view is not None and kiosk.view.stage is Stage.DONE and kiosk.view.outcome is Outcome.RESET
        notices = await kiosk.notices()
    finally:
        await kiosk.aclose()
    assert kiosk.served_by[calls_before:][-2:] == [survivor.name, survivor.name]  # the step, then the outbox
    assert_reset_exactly_once(postgres_cluster, dbname, survivor, history_before, notices)
