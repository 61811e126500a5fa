"""Live directory fixtures for the adapter tests: both real servers, a FAKE in-memory keyring, policies.

The servers come from the session fixtures `openldap_server` / `samba_ad_server` of tests/conftest.py
when those exist, else this module starts them itself (once per session) from tests/live_servers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyring.backend import KeyringBackend

from kiosk.policy.schema import Method, Policy
from kiosk.services.backend.credentials import DIRECTORY_PASSWORD, SERVICE
from kiosk.services.backend.directory_factory import open_ldap_directory
from kiosk.services.backend.ldap_directory import LdapDirectory
from kiosk.services.backend.store import Store

from .fake_keyring import FakeMemoryKeyring

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
    previous: KeyringBackend = keyring.get_keyring()
    fake = FakeMemoryKeyring()
    fake.set_password(SERVICE, DIRECTORY_PASSWORD, live.service_password)
    keyring.set_keyring(fake)
    yield fake
    keyring.set_keyring(previous)


def live_policy(live: Any, **settings: Any) -> Policy:
    """A policy on the live directory: group-enabled, e-mail + SMS, unlock without reset allowed."""
    kind = "openldap" if live.kind == "openldap" else "active_directory"
    connection = {
        "urls": [live.ldaps_url],
        "ca_file": live.ca_file,
        "base_dn": live.base_dn,
        "bind_dn": live.service_bind_dn,
        "admin_groups": [live.groups.admin],
        "connect_timeout_seconds": 2,
        "operation_timeout_seconds": 5,
        **settings,
    }
    return Policy.model_validate(
        {
            "reset": {"enabled_for": "group", "groups": [live.groups.enabled]},
            "methods": {"enabled": [Method.EMAIL.value, Method.MOBILE_SMS.value], "required": 1},
            "on_premises": {"writeback": True, "allow_unlock_without_reset": True},
            "password": {"min_length": 8, "required_classes": 1, "history": 0, "min_strength": 0},
            "directory": {"kind": kind, kind: connection},
        }
    )


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


def restore_password(live: Any, login: str) -> None:
    """Give `login` back its provisioned password as the directory administrator (tests share the server)."""
    import ldap3

    user = live.users[login]
    with ldap3.Connection(live.server(), live.admin_bind_dn, live.admin_password, auto_bind=True) as admin:
        if live.kind == "openldap":
            admin.extend.standard.modify_password(user.dn, None, user.password)
        else:
            value = f'"{user.password}"'.encode("utf-16-le")
            admin.modify(user.dn, {"unicodePwd": [(ldap3.MODIFY_REPLACE, [value])]})
        assert admin.result["result"] == 0, admin.result["description"]


def relock(live: Any, login: str) -> None:
    """Lock `login` again by real failed binds (as provisioning did)."""
    for _ in range(3):
        live.bind_ok(live.users[login].dn, "Wrong-Password-1!")
