"""Smoke tests of the live directory fixtures themselves (OpenLDAP + ppolicy, Samba AD DC).

They prove what the adapter tests rely on: verified LDAPS, the service account's rights, the
users' states (dave locked by real failed binds, grace disabled), the wrong CA, stop/start with
the data kept, twins, nesting and the metacharacter user. Shared users are only read here; writes
go to a scratch user created and deleted by each test, so the session's state stays as provisioned.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import ldap3
import pytest
from ldap3.core.exceptions import LDAPException
from ldap3.utils.conv import escape_filter_chars
from live_servers.common import LiveDirectory, LiveServerError, new_password, port_open
from live_servers.users import METACHARACTER_CN, TWINS_MAIL_LOCAL

IN_CHAIN = "1.2.840.113556.1.4.1941"
"""AD's LDAP_MATCHING_RULE_IN_CHAIN (transitive membership)."""


def _search(directory: LiveDirectory, base: str, search_filter: str, attributes: list[str]) -> list[ldap3.Entry]:
    connection = directory.connect(directory.service_bind_dn, directory.service_password)
    try:
        assert connection.search(base, search_filter, attributes=attributes) or connection.result["result"] == 0
        return list(connection.entries)
    finally:
        connection.unbind()


@pytest.fixture
def scratch(live_directory: LiveDirectory) -> Iterator[tuple[str, str]]:
    """A user created by the admin for this test only (DN, password), deleted afterwards."""
    login, password = f"scratch{secrets.token_hex(3)}", new_password()
    admin = live_directory.connect()
    if live_directory.kind == "openldap":
        dn = f"uid={login},{live_directory.people_dn}"
        attributes: dict[str, object] = {"uid": login, "cn": login, "sn": "Scratch", "userPassword": password}
        assert admin.add(dn, ["inetOrgPerson"], attributes), admin.result
    else:
        dn = f"CN={login},{live_directory.people_dn}"
        attributes = {
            "sAMAccountName": login,
            "unicodePwd": f'"{password}"'.encode("utf-16-le"),
            "userAccountControl": 512,
        }
        assert admin.add(dn, ["user"], attributes), admin.result
    try:
        yield dn, password
    finally:
        admin.delete(dn)
        admin.unbind()


def _lock_markers(directory: LiveDirectory, dn: str) -> dict[str, list[object]]:
    if directory.kind == "openldap":
        return directory.read(dn, ["pwdAccountLockedTime"])
    values = directory.read(dn, ["lockoutTime", "msDS-User-Account-Control-Computed"])
    locked = int(values["msDS-User-Account-Control-Computed"][0]) & 0x10
    time = int(values.get("lockoutTime", ["0"])[0])
    return {"lockoutTime": [time]} if locked and time else {}


def test_service_account_binds_over_verified_ldaps(live_directory: LiveDirectory) -> None:
    assert live_directory.ldaps_url == f"ldaps://{live_directory.host}:{live_directory.ldaps_port}"
    assert live_directory.bind_ok(live_directory.service_bind_dn, live_directory.service_password)
    assert not live_directory.bind_ok(live_directory.service_bind_dn, new_password())


def test_every_user_binds_unless_locked_or_disabled(live_directory: LiveDirectory) -> None:
    for user in live_directory.users.values():
        assert live_directory.bind_ok(user.dn, user.password) is not (user.locked or user.disabled), user.login


def test_dave_is_locked_by_real_failed_binds(live_directory: LiveDirectory) -> None:
    dave = live_directory.users["dave"]
    assert dave.locked
    assert not live_directory.bind_ok(dave.dn, dave.password)
    assert _lock_markers(live_directory, dave.dn), "no pwdAccountLockedTime / lockoutTime on dave"


def test_grace_is_disabled(live_directory: LiveDirectory) -> None:
    grace = live_directory.users["grace"]
    if live_directory.kind == "openldap":
        assert live_directory.read(grace.dn, ["pwdAccountLockedTime"])["pwdAccountLockedTime"] == ["000001010000Z"]
    else:
        assert int(live_directory.read(grace.dn, ["userAccountControl"])["userAccountControl"][0]) & 0x2


def test_the_wrong_ca_fails_the_tls_handshake(live_directory: LiveDirectory) -> None:
    user = live_directory.users["alice"]
    connection = ldap3.Connection(
        live_directory.server(live_directory.wrong_ca_file), user=user.dn, password=user.password
    )
    with pytest.raises(LDAPException, match=r"(?i)certificate|ssl|tls|handshake|socket"):
        connection.open()
    assert live_directory.bind_ok(user.dn, user.password)


def test_stop_then_start_keeps_the_data(live_directory: LiveDirectory) -> None:
    alice, dave = live_directory.users["alice"], live_directory.users["dave"]
    with live_directory.stopped():
        assert not live_directory.running
        assert not port_open(live_directory.host, live_directory.ldaps_port)
        assert not live_directory.bind_ok(alice.dn, alice.password)
    assert live_directory.running
    assert live_directory.bind_ok(alice.dn, alice.password)
    assert _lock_markers(live_directory, dave.dn)


def test_the_twins_both_match_the_mail_filter(live_directory: LiveDirectory) -> None:
    mail = live_directory.users["twin1"].mail
    assert mail == live_directory.users["twin2"].mail and mail.startswith(f"{TWINS_MAIL_LOCAL}@")
    entries = _search(live_directory, live_directory.people_dn, f"(mail={escape_filter_chars(mail)})", ["mail"])
    assert {entry.entry_dn for entry in entries} == {live_directory.users[t].dn for t in ("twin1", "twin2")}


def test_nested_membership_is_visible(live_directory: LiveDirectory) -> None:
    groups, bob = live_directory.groups, live_directory.users["bob"]
    assert bob.groups == (groups.nested,) and bob.enabled_member
    # Direct: bob in the nested group, the nested group in the enabled group (both servers).
    nested = _search(live_directory, live_directory.groups_dn, f"(member={escape_filter_chars(bob.dn)})", ["cn"])
    assert [entry.entry_dn for entry in nested] == [groups.nested_dn]
    parent = _search(live_directory, live_directory.groups_dn, f"(member={escape_filter_chars(groups.nested_dn)})", [])
    assert [entry.entry_dn for entry in parent] == [groups.enabled_dn]
    if live_directory.kind == "samba_ad":  # AD resolves the chain itself
        chain = f"(memberOf:{IN_CHAIN}:={escape_filter_chars(groups.enabled_dn)})"
        members = {entry.entry_dn for entry in _search(live_directory, live_directory.people_dn, chain, [])}
        assert bob.dn in members and live_directory.users["erin"].dn not in members


def test_admin_and_outsider(live_directory: LiveDirectory) -> None:
    carol, erin = live_directory.users["carol"], live_directory.users["erin"]
    admins = _search(live_directory, live_directory.groups_dn, f"(member={escape_filter_chars(carol.dn)})", [])
    assert live_directory.groups.admin_dn in {entry.entry_dn for entry in admins} and carol.is_admin
    assert not _search(live_directory, live_directory.groups_dn, f"(member={escape_filter_chars(erin.dn)})", [])


def test_the_metacharacter_user_is_found_with_an_escaped_filter(live_directory: LiveDirectory) -> None:
    obrien = live_directory.users["obrien"]
    entries = _search(live_directory, live_directory.people_dn, f"(cn={escape_filter_chars(METACHARACTER_CN)})", [])
    assert [entry.entry_dn for entry in entries] == [obrien.dn]
    assert "\\," in obrien.dn or "\\2C" in obrien.dn
    assert live_directory.bind_ok(obrien.dn, obrien.password)


def test_the_service_account_resets_refuses_and_unlocks(
    live_directory: LiveDirectory, scratch: tuple[str, str]
) -> None:
    dn, old = scratch
    service = live_directory.connect(live_directory.service_bind_dn, live_directory.service_password)
    ad = live_directory.kind == "samba_ad"

    def password_change(password: str) -> dict[str, list[tuple[str, list[object]]]]:
        if ad:
            return {"unicodePwd": [(ldap3.MODIFY_REPLACE, [f'"{password}"'.encode("utf-16-le")])]}
        return {"userPassword": [(ldap3.MODIFY_REPLACE, [password])]}

    try:
        assert not service.modify(dn, password_change("Ab1!")), "a too short password was accepted"
        assert service.result["description"] == "constraintViolation", service.result
        new = new_password()
        assert service.modify(dn, password_change(new)), service.result
        assert live_directory.bind_ok(dn, new)
        assert not live_directory.bind_ok(dn, old)
        for _ in range(3):
            assert not live_directory.bind_ok(dn, new_password())
        assert not live_directory.bind_ok(dn, new)
        assert _lock_markers(live_directory, dn)
        unlock = (
            {"lockoutTime": [(ldap3.MODIFY_REPLACE, ["0"])]}
            if ad
            else {"pwdAccountLockedTime": [(ldap3.MODIFY_DELETE, [])]}
        )
        assert service.modify(dn, unlock), service.result
        assert not _lock_markers(live_directory, dn)
        assert live_directory.bind_ok(dn, new)
    finally:
        service.unbind()


def test_the_unreachable_url_refuses_connections(unreachable_ldaps_url: str) -> None:
    server = ldap3.Server(unreachable_ldaps_url, use_ssl=True, connect_timeout=2, get_info=ldap3.NONE)
    with pytest.raises(LDAPException):
        ldap3.Connection(server).open()


def test_a_missing_program_fails_with_an_install_hint() -> None:
    from live_servers.common import program

    with pytest.raises(LiveServerError, match="make test-deps"):
        program("no-such-directory-server")
