"""The replica harness itself (issue 12, part 5): HAProxy in front of real `kiosk serve` processes.

Each replica here keeps its own SQLite file: HAProxy's round robin and failover are checked over
`/v1/health` and sessions opened after a kill, and a whole e-mail reset runs through HAProxy on ONE
replica with the real client. The flows that alternate between replicas sharing one PostgreSQL store
are in `replica_flows_pending.py` (not collected yet: see there).
"""

from __future__ import annotations

import itertools
import time
from pathlib import Path

import httpx
from live_servers.haproxy import SERVED_BY
from live_servers.replicas import ReplicaSet, enroll_kiosk, sqlite_store

from kiosk.services.api import Outcome, Stage
from kiosk.services.client import BackendClient

from .conftest import StartHAProxy
from .served_flow import (
    DEMO_USER,
    EMAIL_RESET_EVENTS,
    PASSWORD_CHANGED,
    ServedKiosk,
    audit_events,
    audit_verify,
    sqlite_captcha,
)


def _health_served_by(http: httpx.Client) -> str:
    response = http.get("/v1/health")
    assert response.status_code == 200, response.text
    return response.headers[SERVED_BY]


async def test_haproxy_alternates_between_two_replicas_and_drops_a_killed_one(
    replicas: ReplicaSet, haproxy: StartHAProxy, tmp_path: Path
) -> None:
    first, second = replicas.start(2, lambda number: sqlite_store(tmp_path / f"replica{number}.sqlite3"))
    credential = await enroll_kiosk(tmp_path / "replica2.sqlite3", "lobby-1")  # the survivor knows the kiosk
    balancer = haproxy([first, second])
    with httpx.Client(base_url=balancer.url, timeout=5) as http:
        served = [_health_served_by(http) for _ in range(8)]
        assert sorted(set(served)) == [first.name, second.name]
        assert all(a != b for a, b in itertools.pairwise(served)), served  # round robin, call by call

        first.kill()
        assert not first.running
        killed_at = time.monotonic()
        after_kill = []
        while time.monotonic() - killed_at < 2.0:
            after_kill.append(_health_served_by(http))  # every call answered: none is lost to the dead replica
            time.sleep(0.05)
        assert set(after_kill) == {second.name}, after_kill
        assert len(after_kill) >= 10
        balancer.wait_for_states({first.name: "DOWN", second.name: "UP"}, timeout=0.5)

    # A POST right after a kill is not lost either (it never reached the dead replica), and the real
    # client over HAProxy sees nothing of it.
    second_kill_check = ServedKiosk(balancer.url, sqlite_captcha(tmp_path / "replica2.sqlite3"), credential)
    try:
        await second_kill_check.open()
        assert second_kill_check.view is not None and second_kill_check.view.stage is Stage.IDENTIFY
        assert second_kill_check.served_by == [second.name]
    finally:
        await second_kill_check.aclose()
    client = BackendClient.shared(balancer.url, timeout=5.0)
    try:
        assert (await client.health()).status == "ok"
    finally:
        await client.aclose()


async def test_a_post_is_redispatched_when_its_replica_was_killed_before_haproxy_noticed(
    replicas: ReplicaSet, haproxy: StartHAProxy, tmp_path: Path
) -> None:
    first, second = replicas.start(2, lambda number: sqlite_store(tmp_path / f"replica{number}.sqlite3"))
    credential = await enroll_kiosk(tmp_path / "replica2.sqlite3", "lobby-1")
    balancer = haproxy([first, second])
    captcha = sqlite_captcha(tmp_path / "replica2.sqlite3")
    kiosks = [ServedKiosk(balancer.url, captcha, credential) for _ in range(4)]
    try:
        first.kill()
        # Within HAProxy's first 200 ms after the kill, round robin still picks the dead replica for
        # every other session: connecting fails, and HAProxy sends the request to the other one.
        for kiosk in kiosks:
            await kiosk.open()
        assert [kiosk.served_by for kiosk in kiosks] == [[second.name]] * 4
    finally:
        for kiosk in kiosks:
            await kiosk.aclose()


async def test_a_whole_email_reset_through_haproxy_on_one_replica(
    replicas: ReplicaSet, haproxy: StartHAProxy, tmp_path: Path
) -> None:
    database = tmp_path / "backend.sqlite3"
    (replica,) = replicas.start(1, sqlite_store(database))
    credential = await enroll_kiosk(database, "lobby-1")
    balancer = haproxy([replica])
    kiosk = ServedKiosk(balancer.url, sqlite_captcha(database), credential)
    try:
        for step in kiosk.email_reset_steps():
            await step()
        assert kiosk.view is not None
        assert kiosk.view.stage is Stage.DONE and kiosk.view.outcome is Outcome.RESET
        assert (await kiosk.notices()).count(PASSWORD_CHANGED) == 1
    finally:
        await kiosk.aclose()
    assert len(kiosk.served_by) >= 7 and set(kiosk.served_by) == {replica.name}

    assert audit_verify(replica.policy_file, replica.environment).startswith("OK")
    events = audit_events(replica.policy_file, replica.environment)
    resets = [event for event in events if event["event"] == "reset"]
    assert [(event["user_id"], event["outcome"]) for event in resets] == [(DEMO_USER, "ok")]
    flow = [event["event"] for event in events if event["reference"] == resets[0]["reference"]]
    assert flow == list(EMAIL_RESET_EVENTS)
