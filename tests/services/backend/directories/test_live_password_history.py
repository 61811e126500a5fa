"""The history rule on the checklist is a promise only where a history check happens (issue 11, finding 8).

For directory users the kiosk does not keep passwords; the directory's own history must refuse a
reused one. What each LIVE directory does with the kiosk's reset, as measured:

- OpenLDAP 2.5 ppolicy applies `pwdInHistory` to the password modify operation of the service
  account (not the rootdn, which bypasses ppolicy): a previous password is refused, `directory_history`.
- Samba 4.17 applies no history to an administrator reset, with or without the policy-hints control
  (non-critical: ignored; critical: `unavailableCriticalExtension`) and advertises neither OID in its
  rootDSE: the kiosk must not claim the rule there.
- Windows AD applies its history to a reset that carries LDAP_SERVER_POLICY_HINTS (and advertises the
  control): the AD adapter sends it on every reset.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest
from live_servers.common import new_password
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import fake_keyring_for, live_policy, restore_password

from kiosk.policy.password import PasswordRule
from kiosk.policy.schema import Policy, RegistrationSettings
from kiosk.services.api import SessionView, Stage
from kiosk.services.backend.directory.active_directory import (
    POLICY_HINTS,
    POLICY_HINTS_DEPRECATED,
    advertises_policy_hints,
    policy_hints_value,
)
from kiosk.services.backend.directory.errors import PasswordRefused
from kiosk.services.backend.directory.factory import open_ldap_directory
from kiosk.services.backend.directory.ldap import LdapDirectory
from kiosk.services.backend.storage.store import Store

from ..conftest import kiosk_for

HISTORY = 5


def _with_history(live: Any) -> Policy:
    policy = live_policy(live)
    # About the history: none of these resets asks "still up to date?" (the users never confirmed).
    update = {"password": policy.password.model_copy(update={"history": HISTORY})}
    return policy.model_copy(update={**update, "registration": RegistrationSettings(reconfirm_days=0)})


async def test_a_previous_password_is_refused_or_the_rule_is_not_claimed(
    live: Any, fake_keyring: FakeMemoryKeyring
) -> None:
    alice = live.users["alice"]
    async with kiosk_for(_with_history(live)) as kiosk:
        try:
            await kiosk.start("alice")
            await kiosk.pass_email()
            assert (await kiosk.password(new_password())).status_code == 200  # one reset first

            await kiosk.start("alice")
            view = await kiosk.pass_email()
            assert view.stage is Stage.NEW_PASSWORD and view.rules is not None
            claimed = view.rules.history
            response = await kiosk.password(alice.password)  # the password before that reset
            refused = response.status_code == 422 and response.json()["reasons"] == ["directory_history"]
            # The one thing that must never happen: the rule shown and the old password accepted.
            assert refused or claimed == 0, (claimed, response.status_code, response.text)
            if live.kind == "openldap":
                assert refused and claimed == HISTORY  # measured: ppolicy keeps its history on this path
            else:
                assert response.status_code == 200 and claimed == 0  # measured: Samba 4.17 keeps none
                assert SessionView.model_validate_json(response.content).stage is Stage.DONE
        finally:
            restore_password(live, "alice")


async def test_the_adapter_says_whether_the_directory_keeps_history(live: Any, directory: LdapDirectory) -> None:
    assert await directory.enforces_history("alice") is (live.kind == "openldap")


def test_the_policy_hints_value_is_ber_sequence_of_integer_one() -> None:
    assert policy_hints_value() == bytes.fromhex("3003020101")  # SEQUENCE { INTEGER 1 }
    assert POLICY_HINTS == "1.2.840.113556.1.4.2239"
    assert POLICY_HINTS_DEPRECATED == "1.2.840.113556.1.4.2066"


def test_history_is_enforced_where_a_domain_controller_advertises_the_control() -> None:
    assert advertises_policy_hints(["1.2.840.113556.1.4.319", POLICY_HINTS])  # Windows Server 2012 and later
    assert advertises_policy_hints([POLICY_HINTS_DEPRECATED])  # 2008 R2 with the update
    assert not advertises_policy_hints(["1.2.840.113556.1.4.319", "1.2.840.113556.1.4.2064"])  # Samba 4.17


@asynccontextmanager
async def _adapter(live: Any) -> AsyncIterator[LdapDirectory]:
    """The kiosk's adapter for `live`, on a scratch store, the service password in the FAKE keyring."""
    with fake_keyring_for(live), tempfile.TemporaryDirectory() as scratch:
        store = await Store.open(Path(scratch) / "backend.sqlite3")
        try:
            directory = await open_ldap_directory(live_policy(live), store)
            try:
                yield directory
            finally:
                await directory.close()
        finally:
            await store.close()


async def test_the_policy_hints_control_is_on_the_wire_of_an_ad_reset(
    samba_ad_server: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ldap3.protocol.rfc4511 import LDAPMessage
    from ldap3.strategy.base import BaseStrategy
    from ldap3.utils.asn1 import encode

    sent: list[tuple[str, list[tuple[str, bool, bytes]], bytes]] = []
    original = BaseStrategy.sending

    def spy(strategy: BaseStrategy, message: LDAPMessage) -> None:
        """Record each LDAP message as it goes to the socket: its operation, controls and BER bytes."""
        controls = [
            (str(c["controlType"]), bool(c["criticality"]), bytes(c["controlValue"]))
            for c in (message["controls"] if message["controls"].isValue else [])
        ]
        sent.append((message["protocolOp"].getName(), controls, encode(message)))
        original(strategy, message)

    monkeypatch.setattr(BaseStrategy, "sending", spy)
    try:
        async with _adapter(samba_ad_server) as directory:
            await directory.reset_password("alice", new_password())
    finally:
        monkeypatch.undo()
        restore_password(samba_ad_server, "alice")
    [(_, controls, wire)] = [entry for entry in sent if entry[0] == "modifyRequest"]
    value = bytes.fromhex("3003020101")
    assert controls == [(POLICY_HINTS, False, value), (POLICY_HINTS_DEPRECATED, False, value)]
    for oid in (POLICY_HINTS, POLICY_HINTS_DEPRECATED):
        assert bytes([0x04, len(oid)]) + oid.encode() in wire  # controlType: the OID as an octet string
    assert bytes([0x04, len(value)]) + value in wire  # controlValue: the BER value as an octet string


async def test_active_directory_names_a_reused_password_in_a_users_own_change(samba_ad_server: Any) -> None:
    """Where AD does apply its history (a user's own change), its refusal maps to `directory_history`."""
    alice = samba_ad_server.users["alice"]
    changed = new_password()
    try:
        async with _adapter(samba_ad_server) as directory:
            await directory.change_password("alice", alice.password, changed)
            with pytest.raises(PasswordRefused) as refused:
                await directory.change_password("alice", changed, alice.password)
        assert refused.value.rule is PasswordRule.DIRECTORY_HISTORY
    finally:
        restore_password(samba_ad_server, "alice")


async def test_no_history_is_claimed_where_ppolicy_keeps_none(openldap_server: Any) -> None:
    import ldap3
    from live_servers.openldap import POLICY_DN

    def set_history(count: int) -> None:
        with openldap_server.connect() as admin:
            assert admin.modify(POLICY_DN, {"pwdInHistory": [(ldap3.MODIFY_REPLACE, [str(count)])]}), admin.result

    async with _adapter(openldap_server) as directory:
        assert await directory.enforces_history("alice")
        set_history(0)
        try:
            assert not await directory.enforces_history("alice")
        finally:
            set_history(int(openldap_server.policy["pwdInHistory"]))
        assert await directory.enforces_history("alice")
