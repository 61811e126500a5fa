"""What a kiosk needs to run on a live directory, shared by the adapter tests and the end-to-end tests.

A policy pointing at the server, the FAKE in-memory keyring holding the service password, and
putting a user back as provisioned after a test changed it (the servers are shared by the session).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import ldap3

from kiosk.policy.schema import Method, Policy
from kiosk.services.backend.credentials import DIRECTORY_PASSWORD

from .common import LiveDirectory
from .fake_keyring import FakeMemoryKeyring, installed


def live_policy(live: LiveDirectory, *, early_refusals: bool = False, **settings: Any) -> Policy:
    """A policy on the live directory: group-enabled, e-mail + SMS, unlock without reset allowed.

    Delivery stays the dev outbox (the policy's default), so a test reads the e-mailed codes there.
    `early_refusals` sets `reset.early_refusals`; `settings` override the directory connection settings.
    """
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
            "reset": {"enabled_for": "group", "groups": [live.groups.enabled], "early_refusals": early_refusals},
            "methods": {"enabled": [Method.EMAIL.value, Method.MOBILE_SMS.value], "required": 1},
            "on_premises": {"writeback": True, "allow_unlock_without_reset": True},
            "password": {"min_length": 8, "required_classes": 1, "history": 0, "min_strength": 0},
            "directory": {"kind": kind, kind: connection},
        }
    )


@contextmanager
def fake_keyring_for(live: LiveDirectory) -> Iterator[FakeMemoryKeyring]:
    """Install the FAKE in-memory keyring, holding the live server's service password, for the block."""
    with installed(**{DIRECTORY_PASSWORD: live.service_password}) as fake:
        yield fake


def restore_password(live: LiveDirectory, login: str) -> None:
    """Give `login` back its provisioned password as the directory administrator (tests share the server)."""
    user = live.users[login]
    with ldap3.Connection(live.server(), live.admin_bind_dn, live.admin_password, auto_bind=True) as admin:
        if live.kind == "openldap":
            admin.extend.standard.modify_password(user.dn, None, user.password)
        else:
            value = f'"{user.password}"'.encode("utf-16-le")
            admin.modify(user.dn, {"unicodePwd": [(ldap3.MODIFY_REPLACE, [value])]})
        assert admin.result["result"] == 0, admin.result["description"]


def relock(live: LiveDirectory, login: str) -> None:
    """Lock `login` again by real failed binds (as provisioning did)."""
    for _ in range(3):
        live.bind_ok(live.users[login].dn, "Wrong-Password-1!")
