"""What people type at a Windows sign-in screen finds them on LIVE Samba AD: `DOMAIN\\user` and the implicit
UPN, as safe filter values, still refused when ambiguous; on OpenLDAP a backslash is just a character.

The domain is the harness's (NetBIOS KIOSK, DNS kiosk.test), read by the adapter from CN=Partitions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ldap3
import pytest
from live_servers.kiosk_setup import fake_keyring_for, live_policy
from live_servers.samba_ad import DOMAIN, REALM

from kiosk.services.api import Flow, SessionOpened, SessionView, Stage
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.directory.errors import AmbiguousUser
from kiosk.services.backend.directory.factory import open_ldap_directory
from kiosk.services.backend.directory.ldap import LdapDirectory
from kiosk.services.backend.storage.store import Store

from ..conftest import Kiosk, kiosk_for

DNS = REALM.lower()


@pytest.fixture
async def samba(samba_ad_server: Any, tmp_path: Path) -> AsyncIterator[LdapDirectory]:
    """The kiosk's adapter for the live Samba AD."""
    store = await Store.open(tmp_path / "backend.sqlite3")
    with fake_keyring_for(samba_ad_server):
        directory = await open_ldap_directory(live_policy(samba_ad_server), store)
        try:
            yield directory
        finally:
            await directory.close()
            await store.close()


@contextmanager
def attribute_set(live: Any, login: str, name: str, value: str | None) -> Iterator[None]:
    """Set (None: delete) one attribute of a provisioned user for the block, as the administrator."""
    dn = live.users[login].dn
    before = live.read(dn, [name]).get(name, [])
    with ldap3.Connection(live.server(), live.admin_bind_dn, live.admin_password, auto_bind=True) as admin:
        change = (ldap3.MODIFY_REPLACE, [value]) if value is not None else (ldap3.MODIFY_DELETE, [])
        assert admin.modify(dn, {name: [change]}), admin.result
        try:
            yield
        finally:
            restore = (ldap3.MODIFY_REPLACE, [str(v) for v in before]) if before else (ldap3.MODIFY_DELETE, [])
            assert admin.modify(dn, {name: [restore]}), admin.result


async def login_of(directory: LdapDirectory, typed: str) -> str | None:
    user = await directory.find_user(typed)
    return user.login if user else None


@pytest.mark.parametrize("domain", [DOMAIN, DOMAIN.lower(), DOMAIN.title()])
@pytest.mark.parametrize("name", ["alice", "ALICE", "Alice"])
async def test_domain_backslash_user_finds_the_account_in_any_case(
    samba: LdapDirectory, domain: str, name: str
) -> None:
    user = await samba.find_user(f"{domain}\\{name}")
    assert user is not None and user.login == "alice"
    assert user == await samba.find_user("alice")  # the same one account, read the same way


async def test_domain_backslash_reaches_the_user_whose_dn_has_metacharacters(samba: LdapDirectory) -> None:
    assert await login_of(samba, f"{DOMAIN}\\obrien") == "obrien"


@pytest.mark.parametrize(
    "typed",
    [
        "OTHER\\alice",  # another domain's prefix finds nobody
        f"{DOMAIN}X\\alice",
        f"{DNS}\\alice",  # the DNS name is not the NetBIOS name
        "\\alice",
        f"{DOMAIN}\\",
        f"{DOMAIN}\\\\alice",
        f"{DOMAIN}\\alice\\x",
        f"{DOMAIN}\\*",
        f"{DOMAIN}\\al*",
        f"{DOMAIN}\\alice)(sAMAccountName=*",
        f"{DOMAIN}\\*)(|(objectClass=*",
        f"{DOMAIN}\\alice\x00",  # Samba matches an escaped NUL as the value's end: refused before any search
        "alice\x00",
        "alice\x00\\",
        f"{DOMAIN}\\alice@{DNS}",  # DOMAIN\ takes an account name, not a UPN
        "*\\alice",
        "\\",
        "\\5c",
        "alice\\",
    ],
)
async def test_backslash_and_wildcard_injection_finds_nobody(samba: LdapDirectory, typed: str) -> None:
    assert await samba.find_user(typed) is None


async def test_implicit_upn_finds_a_user_whose_upn_suffix_differs(samba_ad_server: Any, samba: LdapDirectory) -> None:
    with attribute_set(samba_ad_server, "alice", "userPrincipalName", "alice@corp.example"):
        for typed in (f"alice@{DNS}", f"ALICE@{DNS.upper()}", "alice@corp.example", f"{DOMAIN}\\alice"):
            assert await login_of(samba, typed) == "alice", typed
        assert await login_of(samba, "alice@other.example") is None
        assert await login_of(samba, "al*@" + DNS) is None


async def test_implicit_upn_finds_a_user_without_a_upn(samba_ad_server: Any, samba: LdapDirectory) -> None:
    with attribute_set(samba_ad_server, "frank", "userPrincipalName", None):
        assert "userPrincipalName" not in samba_ad_server.read(samba_ad_server.users["frank"].dn, ["userPrincipalName"])
        assert await login_of(samba, f"frank@{DNS}") == "frank"


async def test_an_implicit_upn_that_is_also_another_users_mail_is_ambiguous(
    samba_ad_server: Any, samba: LdapDirectory
) -> None:
    with attribute_set(samba_ad_server, "alice", "userPrincipalName", "alice@corp.example"):
        with attribute_set(samba_ad_server, "erin", "mail", f"alice@{DNS}"):
            with pytest.raises(AmbiguousUser):
                await samba.find_user(f"alice@{DNS}")  # alice's implicit UPN, erin's mail: never guessed
            assert await login_of(samba, f"{DOMAIN}\\alice") == "alice"  # the account name alone is unique
    with pytest.raises(AmbiguousUser):
        await samba.find_user(f"same@{DNS}")  # the twins' shared mail, as before


async def test_a_recovery_session_starts_from_domain_backslash_user(samba_ad_server: Any) -> None:
    with fake_keyring_for(samba_ad_server):
        async with kiosk_for(live_policy(samba_ad_server)) as kiosk:
            view = await kiosk.start(f"{DOMAIN.lower()}\\Alice")
            assert view.stage is Stage.CHOOSE_METHOD
            assert (await kiosk.pass_email()).stage is Stage.NEW_PASSWORD  # the code went to alice's mail
            records = await kiosk.backend.audit_records()
    identified = [r for r in records if r.event is AuditEvent.IDENTIFIED]
    assert [(r.user_id, r.outcome) for r in identified] == [("alice", "ok")]


async def test_openldap_takes_a_backslash_as_a_character(openldap_server: Any, tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "backend.sqlite3")
    with fake_keyring_for(openldap_server):
        directory = await open_ldap_directory(live_policy(openldap_server), store)
        try:
            assert await login_of(directory, "alice") == "alice"
            for typed in (f"{DOMAIN}\\alice", "example\\alice", "\\alice", "alice@example.test\\"):
                assert await directory.find_user(typed) is None, typed
        finally:
            await directory.close()
            await store.close()


async def signed_in(kiosk: Kiosk, flow: Flow, user_id: str, password: str) -> SessionView:
    """Open a session of `flow` and sign in with `user_id` and `password`."""
    response = await kiosk.request("POST", "/sessions", {"kiosk_id": "lobby-1", "locale": "en", "flow": flow.value})
    assert response.status_code == 201, response.text
    kiosk.token = SessionOpened.model_validate_json(response.content).token
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    body = {"user_id": user_id, "password": password, "captcha": captcha}
    return await kiosk.ok("POST", "/session/sign-in", body)


async def test_change_and_registration_sign_in_take_the_windows_forms(samba_ad_server: Any) -> None:
    alice = samba_ad_server.users["alice"]
    with fake_keyring_for(samba_ad_server), attribute_set(samba_ad_server, "alice", "userPrincipalName", None):
        async with kiosk_for(live_policy(samba_ad_server)) as kiosk:
            view = await signed_in(kiosk, Flow.CHANGE, f"{DOMAIN.lower()}\\ALICE", alice.password)
            assert view.stage is Stage.NEW_PASSWORD
            view = await signed_in(kiosk, Flow.REGISTER, f"alice@{DNS}", alice.password)  # implicit UPN, no UPN set
            assert view.stage is Stage.CHOOSE_METHOD  # alice has a mail address: a gate before any change
            await kiosk.error(
                "POST",
                "/session/sign-in",
                {"user_id": "x", "password": "y", "captcha": "z"},
                409,
                "step_not_allowed",
            )
            records = await kiosk.backend.audit_records()
    assert [r.user_id for r in records if r.event is AuditEvent.SIGNED_IN] == ["alice", "alice"]
