"""The LDAP adapters against the real servers (OpenLDAP + ppolicy, Samba AD): find, groups, lock, writes, outages."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

import pytest
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import live_policy, relock, restore_password

from kiosk.policy.password import PasswordRule
from kiosk.services.api import ErrorCode
from kiosk.services.backend.directory.errors import (
    AmbiguousUser,
    DirectoryUnavailable,
    PasswordRefused,
    Unavailability,
    WrongCurrentPassword,
)
from kiosk.services.backend.directory.factory import open_ldap_directory
from kiosk.services.backend.directory.ldap import LdapDirectory
from kiosk.services.backend.recovery.eligibility import assess
from kiosk.services.backend.storage.store import Store

NEW_PASSWORD = "Lantern-Orbit-Meadow-42!"


def _locked_attribute(live: Any) -> str:
    return "pwdAccountLockedTime" if live.kind == "openldap" else "lockoutTime"


async def test_finds_a_user_by_each_identifier_form(live: Any, directory: LdapDirectory) -> None:
    alice = live.users["alice"]
    forms = [alice.login, alice.mail, alice.mail.upper()]
    if live.kind == "samba_ad":
        forms.append(f"alice@{live.base_dn.replace('DC=', '').replace(',', '.').lower()}")  # the UPN
    for form in forms:
        user = await directory.find_user(form)
        assert user is not None, form
        assert user.login == "alice" and user.auth_email == alice.mail
        assert user.directory_id and user.password_managed_on_premises


@pytest.mark.parametrize("typed", ["*)(uid=*", "*", "O'Brien, Pat (Ops)*", "alice)(|(uid=*", "\\", "\x00"])
async def test_filter_and_dn_metacharacters_find_nothing_and_never_error(directory: LdapDirectory, typed: str) -> None:
    assert await directory.find_user(typed) is None


async def test_the_user_with_metacharacters_in_the_dn_is_found_by_login(directory: LdapDirectory) -> None:
    user = await directory.find_user("obrien")
    assert user is not None and user.display_name == "O'Brien, Pat (Ops)*"
    assert user.office_phone == "+15550100010"
    assert await directory.is_locked("obrien") is False


async def test_a_user_id_matching_two_entries_is_refused(live: Any, directory: LdapDirectory) -> None:
    with pytest.raises(AmbiguousUser):
        await directory.find_user(live.users["twin1"].mail)


async def test_eligibility_from_the_directory(live: Any, directory: LdapDirectory) -> None:
    policy = live_policy(live)

    async def verdict(login: str) -> ErrorCode | None:
        return assess(await directory.find_user(login), policy).refusal

    assert await verdict("alice") is None
    assert await verdict("bob") is None  # only through the nested group
    bob = await directory.find_user("bob")
    assert bob is not None and live.groups.nested in bob.groups and live.groups.enabled in bob.groups
    assert await verdict("grace") is ErrorCode.ACCOUNT_DISABLED
    assert await verdict("erin") is ErrorCode.NOT_ENABLED
    assert await verdict("frank") is ErrorCode.TOO_FEW_METHODS
    carol = await directory.find_user("carol")
    assert carol is not None and carol.is_admin
    assert assess(carol, policy).gates_required == 2
    alice = await directory.find_user("alice")
    assert alice is not None and not alice.is_admin
    assert [admin.login for admin in await directory.administrators()] == ["carol"]


async def test_unlock_clears_the_lock_in_the_directory(live: Any, directory: LdapDirectory) -> None:
    dave = live.users["dave"]
    assert await directory.is_locked("dave") is True
    assert not live.bind_ok(dave.dn, dave.password)
    try:
        await directory.unlock("dave")
        assert await directory.is_locked("dave") is False
        remaining = live.read(dave.dn, [_locked_attribute(live)]).get(_locked_attribute(live), [])
        assert remaining in ([], ["0"]), remaining
        assert live.bind_ok(dave.dn, dave.password)
    finally:
        relock(live, "dave")
    assert await directory.is_locked("dave") is True


async def test_reset_then_the_new_password_binds_and_the_old_fails(live: Any, directory: LdapDirectory) -> None:
    alice = live.users["alice"]
    try:
        await directory.reset_password("alice", NEW_PASSWORD)
        assert live.bind_ok(alice.dn, NEW_PASSWORD)
        assert not live.bind_ok(alice.dn, alice.password)
        assert await directory.verify_password("alice", NEW_PASSWORD)
        assert not await directory.verify_password("alice", alice.password)
    finally:
        restore_password(live, "alice")


async def test_a_password_the_directory_refuses_changes_nothing(live: Any, directory: LdapDirectory) -> None:
    alice = live.users["alice"]
    with pytest.raises(PasswordRefused) as refused:
        await directory.reset_password("alice", "Ab1!")
    assert refused.value.rule is PasswordRule.DIRECTORY_TOO_SHORT
    assert "Ab1!" not in str(refused.value)
    assert live.bind_ok(alice.dn, alice.password)


async def test_history_on_an_administrator_reset(live: Any, directory: LdapDirectory) -> None:
    alice = live.users["alice"]
    if live.kind == "samba_ad":
        # Samba 4.17 enforces no history on an administrator reset (the policy-hints control is
        # unsupported, see real-servers.md): the reuse goes through, so the kiosk cannot report it.
        await directory.reset_password("alice", alice.password)
        assert live.bind_ok(alice.dn, alice.password)
        return
    with pytest.raises(PasswordRefused) as refused:
        await directory.reset_password("alice", alice.password)
    assert refused.value.rule is PasswordRule.DIRECTORY_HISTORY


async def test_directory_stopped_then_started(live: Any, directory: LdapDirectory) -> None:
    assert await directory.find_user("alice") is not None
    live.stop()
    try:
        with pytest.raises(DirectoryUnavailable) as outage:
            await directory.find_user("alice")
        assert outage.value.reason is Unavailability.UNREACHABLE
        with pytest.raises(DirectoryUnavailable):
            await directory.reset_password("alice", NEW_PASSWORD)
    finally:
        live.start()
    assert await directory.find_user("alice") is not None
    assert live.bind_ok(live.users["alice"].dn, live.users["alice"].password)  # nothing was changed


async def test_certificate_from_another_ca_is_refused_at_open(
    live: Any, fake_keyring: FakeMemoryKeyring, store: Store
) -> None:
    with pytest.raises(DirectoryUnavailable) as refused:
        await open_ldap_directory(live_policy(live, ca_file=live.wrong_ca_file), store)
    assert refused.value.reason is Unavailability.TLS


async def test_a_refused_service_password_is_refused_at_open(
    live: Any, fake_keyring: FakeMemoryKeyring, store: Store
) -> None:
    fake_keyring.set_password("account-recovery-kiosk", "directory", "not-the-password")
    with pytest.raises(DirectoryUnavailable) as refused:
        await open_ldap_directory(live_policy(live), store)
    assert refused.value.reason is Unavailability.SERVICE_BIND_REFUSED


async def test_an_unreachable_server_opens_and_the_first_call_says_unavailable(
    live: Any, fake_keyring: FakeMemoryKeyring, store: Store
) -> None:
    from live_servers.common import unreachable_ldaps_url

    directory = await open_ldap_directory(live_policy(live, urls=[unreachable_ldaps_url()]), store)
    try:
        with pytest.raises(DirectoryUnavailable) as outage:
            await directory.find_user("alice")
        assert outage.value.reason is Unavailability.UNREACHABLE
    finally:
        await directory.close()


async def test_no_keyring_secret_is_a_clear_error(live: Any, store: Store, tmp_path: Path) -> None:
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FakeMemoryKeyring())
    try:
        with pytest.raises(DirectoryUnavailable, match="kiosk secrets set directory"):
            await open_ldap_directory(live_policy(live), store)
    finally:
        keyring.set_keyring(previous)


async def test_registered_data_is_keyed_by_the_immutable_id_and_encrypted(
    directory: LdapDirectory, store: Store
) -> None:
    from kiosk.services.backend.directory.embedded import RegisteredQuestion
    from kiosk.services.backend.hashing import hash_secret

    alice = await directory.find_user("alice")
    assert alice is not None and alice.totp_secret == "" and alice.questions == ()
    secret = "JBSWY3DPEHPK3PXPSENTINEL"
    await directory.enrollment.set_totp_secret(alice.directory_id, secret)
    await directory.enrollment.set_questions(
        alice.directory_id, [RegisteredQuestion("first_pet", None, await hash_secret("sentinel-rex"))]
    )
    again = await directory.find_user(alice.auth_email)
    assert again is not None and again.totp_secret == secret and len(again.questions) == 1
    raw = b"".join(
        Path(f"{store.path}{suffix}").read_bytes() for suffix in ("", "-wal") if Path(f"{store.path}{suffix}").exists()
    )
    assert secret.encode() not in raw and b"sentinel-rex" not in raw


def test_kiosk_directory_test_reports_what_the_kiosk_sees(live: Any, fake_keyring: FakeMemoryKeyring) -> None:
    import io

    from kiosk.cli.directory_cmd import directory_test

    out, err = io.StringIO(), io.StringIO()
    assert directory_test(live_policy(live), "carol", out, err) == 0, err.getvalue()
    text = out.getvalue()
    assert "admin: True" in text and live.groups.admin in text and "eligibility: eligible, 2 gate(s)" in text
    out = io.StringIO()
    assert directory_test(live_policy(live), "dave", out, err) == 0
    assert "locked: True" in out.getvalue()
    assert directory_test(live_policy(live), "nobody-here", io.StringIO(), err) == 1
    assert directory_test(live_policy(live, ca_file=live.wrong_ca_file), "alice", io.StringIO(), err) == 1
    assert "tls" in err.getvalue()


async def test_the_users_own_change_needs_the_current_password(live: Any, directory: LdapDirectory) -> None:
    alice = live.users["alice"]
    fresh = f"Own-Change-{secrets.token_hex(4)}-9a!"  # never used before: history would refuse a reuse
    try:
        with pytest.raises(WrongCurrentPassword):  # never an outage, never a raw ldap3 error
            await directory.change_password("alice", "not-her-password-1A!", fresh)
        assert live.bind_ok(alice.dn, alice.password)  # nothing changed
        await directory.change_password("alice", alice.password, fresh)
        assert live.bind_ok(alice.dn, fresh)
        assert not live.bind_ok(alice.dn, alice.password)
    finally:
        restore_password(live, "alice")
