"""Harness for every test: Python's cyclic garbage collector runs on the main thread only.

Backend work runs on worker threads (SQLite, argon2, CAPTCHA). Were a collection triggered there,
it could destroy Qt objects left in reference cycles by a UI test off the GUI thread, which warns
or crashes (see kiosk/ui/gc_guard.py, which does the same for the running kiosk).
"""

from __future__ import annotations

import gc
import shutil
from collections.abc import Callable, Iterator

import pytest
from live_servers.common import LiveDirectory, LiveServerError
from live_servers.common import unreachable_ldaps_url as closed_ldaps_url
from live_servers.fake_keyring import FakeMemoryKeyring, installed
from live_servers.openldap import start_openldap
from live_servers.postgres import PostgresCluster, start_postgres
from live_servers.samba_ad import start_samba_ad

from kiosk.ui.gc_guard import collect_due_generations

THRESHOLDS = gc.get_threshold()


@pytest.fixture(autouse=True, scope="session")
def _no_automatic_garbage_collection() -> Iterator[None]:
    """Switch automatic collection off for the whole run, and collect everything at its end."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """After every test, collect what automatic collection would have, here on the main thread."""
    yield
    collect_due_generations(THRESHOLDS)


# ---------------------------------------------------------------- live directory servers (issue 3)
# Started only when a test asks for them, once per session; each fixture stops its server and
# deletes its temporary directory at the end, also when a test or the provisioning failed.
# A missing server program or a busy port FAILS the requesting tests (CI runs as root, never skip).


def _live_directory(start: Callable[[], LiveDirectory]) -> Iterator[LiveDirectory]:
    try:
        directory = start()
    except LiveServerError as error:
        pytest.fail(f"live directory server unavailable: {error}", pytrace=False)
    try:
        yield directory
    finally:
        directory.stop()
        shutil.rmtree(directory.workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def openldap_server() -> Iterator[LiveDirectory]:
    """A provisioned OpenLDAP slapd with ppolicy on free loopback ports (see tests/live_servers/openldap.py)."""
    yield from _live_directory(start_openldap)


@pytest.fixture(scope="session")
def samba_ad_server() -> Iterator[LiveDirectory]:
    """A provisioned Samba AD DC on 127.0.0.2:389/636 (see tests/live_servers/samba_ad.py)."""
    yield from _live_directory(start_samba_ad)


@pytest.fixture(scope="session", params=["openldap", "samba_ad"])
def live_directory(request: pytest.FixtureRequest) -> LiveDirectory:
    """Each live directory in turn (for tests that hold on both servers)."""
    return request.getfixturevalue(f"{request.param}_server")  # type: ignore[no-any-return]


# ---------------------------------------------------------------- PostgreSQL (issue 12, parts 4 and 5)
# One throwaway cluster per session (initdb in a temporary folder, a free port, a random password),
# stopped and deleted at the end, also on failure; each test module that wants a database of its own
# takes `postgres_database` (CREATE DATABASE, dropped after the module). No PostgreSQL FAILS the tests.


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    """A running PostgreSQL cluster on 127.0.0.1 (see tests/live_servers/postgres.py)."""
    try:
        cluster = start_postgres()
    except LiveServerError as error:
        pytest.fail(f"PostgreSQL unavailable: {error}", pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(cluster.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres_database(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """The name of a new, empty database on the cluster, for one test module (dropped afterwards)."""
    name = postgres_cluster.fresh_database()
    try:
        yield name
    finally:
        postgres_cluster.drop_database(name)


@pytest.fixture
def unreachable_ldaps_url() -> str:
    """An ldaps:// URL on a closed loopback port: the directory unreachable at start-up."""
    return closed_ldaps_url()


@pytest.fixture
def memory_keyring() -> Iterator[FakeMemoryKeyring]:
    """The FAKE in-memory keyring (the machine has no OS keyring daemon), installed for one test."""
    with installed() as fake:
        yield fake
