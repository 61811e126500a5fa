"""A password change whose calls alternate between two replicas on one PostgreSQL store (issue 13).

The sign-in seals the current password into the session (`Runtime.sealer`, the enrollment key every
replica shares); the replica that writes the change must open it. Through HAProxy's round robin the
sign-in and the new password are served by different replicas.
"""

from __future__ import annotations

import itertools

from argon2 import PasswordHasher
from live_servers.postgres import PostgresCluster
from live_servers.replicas import ReplicaSet, enroll_kiosk

from kiosk.services.api import Flow, Outcome, Stage

from .conftest import StartHAProxy
from .served_flow import DEMO_USER, NEW_PASSWORD, PASSWORD_CHANGED, ServedKiosk, audit_events, postgres_captcha
from .test_replica_flows import emma, start_pair

DEMO_PASSWORD = "Contoso-Demo-2025!"


async def test_a_change_signed_in_on_one_replica_is_written_by_the_other(
    postgres_cluster: PostgresCluster, replicas: ReplicaSet, haproxy: StartHAProxy
) -> None:
    (first, second), url, store, dbname = start_pair(postgres_cluster, replicas, haproxy)
    credential = await enroll_kiosk(store.target, "lobby-1")
    captcha = postgres_captcha(postgres_cluster, dbname)
    kiosk = ServedKiosk(url, captcha, credential)
    try:
        opened = await kiosk.client.open_session(kiosk_id="lobby-1", locale="en", flow=Flow.CHANGE)
        signed = await kiosk.client.sign_in(DEMO_USER, DEMO_PASSWORD, captcha(opened.token))
        assert signed.stage is Stage.NEW_PASSWORD
        done = await kiosk.client.set_password(NEW_PASSWORD)
        assert done.outcome is Outcome.CHANGED
        notices = await kiosk.notices()
    finally:
        await kiosk.aclose()
    served = kiosk.served_by[:3]
    assert set(served) == {first.name, second.name} and all(a != b for a, b in itertools.pairwise(served)), served
    password_hash, _ = emma(postgres_cluster, dbname)
    assert PasswordHasher().verify(password_hash, NEW_PASSWORD)
    assert notices.count(PASSWORD_CHANGED) == 1
    events = audit_events(second.policy_file, second.environment)
    assert [(e["event"], e["outcome"]) for e in events if e["event"] in ("signed_in", "changed")] == [
        ("signed_in", "change"), ("changed", "ok")
    ]  # fmt: skip
