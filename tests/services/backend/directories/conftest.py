"""Live directory fixtures for the adapter tests: both real servers, the FAKE in-memory keyring, an adapter.

The servers come from the session fixtures `openldap_server` / `samba_ad_server` of tests/conftest.py
when those exist, else this module starts them itself (once per session) from tests/live_servers.
The policy, keyring and restore helpers are shared with tests/e2e in `live_servers.kiosk_setup`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import fake_keyring_for, live_policy

from kiosk.services.backend.directory.factory import open_ldap_directory
from kiosk.services.backend.directory.ldap import LdapDirectory
from kiosk.services.backend.storage.store import Store

KINDS = ("openldap", "samba_ad")


def _own_server(request: pytest.FixtureRequest, kind: str) -> Any:
    """Start the server here when tests/conftest.py does not provide it."""
    if kind == "openldap":
        from live_servers.openldap import start_openldap

        server = start_openldap()
    else:
        from live_servers.samba_ad import start_samba_ad

        server = start_samba_ad()
    request.addfinalizer(server.stop)
    return server


@pytest.fixture(scope="session", params=KINDS)
def live(request: pytest.FixtureRequest) -> Any:
    """A running live directory (OpenLDAP with ppolicy, or Samba AD), shared by the session."""
    kind = str(request.param)
    try:
        return request.getfixturevalue(f"{kind}_server")
    except pytest.FixtureLookupError:
        return _own_server(request, kind)


@pytest.fixture
def fake_keyring(live: Any) -> Iterator[FakeMemoryKeyring]:
    """The FAKE in-memory keyring, holding the live server's service password, installed for one test."""
    with fake_keyring_for(live) as fake:
        yield fake


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    """A fresh backend store."""
    opened = await Store.open(tmp_path / "backend.sqlite3")
    yield opened
    await opened.close()


@pytest.fixture
async def directory(live: Any, fake_keyring: FakeMemoryKeyring, store: Store) -> AsyncIterator[LdapDirectory]:
    """The kiosk's adapter for the live directory."""
    opened = await open_ldap_directory(live_policy(live), store)
    yield opened
    await opened.close()
