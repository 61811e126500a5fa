"""Fixtures of the replica tests: `kiosk serve` replicas and HAProxy in front of them, started by the test.

Each test gets its own replicas (`replicas`, a `ReplicaSet` it starts as it needs) and load balancer
(`haproxy`, a function of the replicas to put behind it); both are stopped and reaped at the end of the
test, also when it failed. The PostgreSQL cluster (`postgres_cluster`) is in tests/conftest.py, shared by
the session. A missing program FAILS the test with the command that installs it: these tests never skip.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from live_servers.common import LiveServerError
from live_servers.haproxy import HAProxy, Upstream, start_haproxy
from live_servers.replicas import Replica, ReplicaSet

StartHAProxy = Callable[[Sequence[Replica]], HAProxy]


@pytest.fixture
def replicas(tmp_path: Path) -> Iterator[ReplicaSet]:
    """Starts `kiosk serve` replicas on demand (`replicas.start(count, store)`); all reaped at the end."""
    replica_set = ReplicaSet(tmp_path / "replicas")
    try:
        yield replica_set
    finally:
        replica_set.close()


@pytest.fixture
def haproxy(tmp_path: Path) -> Iterator[StartHAProxy]:
    """`haproxy(replicas)`: HAProxy in front of them, returned once it sees every one of them up."""
    started: list[HAProxy] = []
    workdir = tmp_path / "haproxy"

    def start(behind: Sequence[Replica]) -> HAProxy:
        workdir.mkdir(exist_ok=True)
        try:
            balancer = start_haproxy([Upstream(r.name, r.host, r.port) for r in behind], workdir)
        except LiveServerError as error:
            pytest.fail(f"HAProxy unavailable: {error}", pytrace=False)
        started.append(balancer)
        balancer.wait_for_states({replica.name: "UP" for replica in behind})
        return balancer

    try:
        yield start
    finally:
        for balancer in started:
            balancer.stop()  # its configuration and log stay in tmp_path, with the replicas' logs
