"""Through the real kiosk window on LIVE Samba AD: the sign-in of "Change my password" and "Set up my security
info" takes what people type at a Windows sign-in screen, `DOMAIN\\user` and the implicit UPN
(`user@dns-domain` when userPrincipalName has another suffix), and another domain's prefix with the right
password reads like any failed sign-in (issue 13, Tests). Recovery's identify page is covered by
test_e2e_protected_admin.py; the adapter's parsing by tests/services/backend/directories.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import ldap3
import pytest
from kiosk_driver import KioskDriver
from live_delivery import Delivery, delivering_policy, keyring_for, running_delivery
from live_servers.common import LiveDirectory, new_password
from live_servers.kiosk_setup import restore_password
from live_servers.samba_ad import DOMAIN, REALM

from kiosk.flows.steps import StepKind
from kiosk.policy.schema import Method, Policy
from kiosk.services.api import Flow
from kiosk.services.backend.audit.log import AuditEvent

DNS = REALM.lower()


@pytest.fixture(scope="module")
def delivery() -> Iterator[Delivery]:
    """One SMTP sink and FAKE gateway for the module."""
    with running_delivery() as running:
        yield running


@pytest.fixture
def policy(samba_ad_server: LiveDirectory, delivery: Delivery) -> Iterator[Policy]:
    """Overrides the e2e demo policy: the window's backend opens on the live Samba AD, delivering for real."""
    delivery.clear()
    with keyring_for(samba_ad_server):
        yield delivering_policy(samba_ad_server, delivery)


@contextmanager
def upn(server: LiveDirectory, login: str, value: str) -> Iterator[None]:
    """Give `login` another userPrincipalName for the block, as the administrator."""
    dn = server.users[login].dn
    before = [str(v) for v in server.read(dn, ["userPrincipalName"]).get("userPrincipalName", [])]
    with server.connect() as admin:
        assert admin.modify(dn, {"userPrincipalName": [(ldap3.MODIFY_REPLACE, [value])]}), admin.result
    try:
        yield
    finally:
        restore = (ldap3.MODIFY_REPLACE, before) if before else (ldap3.MODIFY_DELETE, [])
        with server.connect() as admin:
            assert admin.modify(dn, {"userPrincipalName": [restore]}), admin.result


async def test_a_change_signed_in_as_domain_backslash_user(samba_ad_server: LiveDirectory, kiosk: KioskDriver) -> None:
    alice = samba_ad_server.users["alice"]
    chosen = new_password()
    await kiosk.begin_flow(Flow.CHANGE)
    page = await kiosk.sign_in(f"OTHER\\{alice.login}", alice.password)  # another domain: nobody, as any failure
    kiosk.assert_page(StepKind.SIGN_IN)
    assert page.password.error.text().startswith("The user ID or password isn't right.")
    await kiosk.sign_in(f"{DOMAIN.lower()}\\{alice.login.upper()}", alice.password)
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    try:
        await kiosk.new_password(chosen)
        kiosk.assert_page(StepKind.DONE)
        assert samba_ad_server.bind_ok(alice.dn, chosen) and not samba_ad_server.bind_ok(alice.dn, alice.password)
    finally:
        restore_password(samba_ad_server, "alice")
    rows = [(r.event, r.user_id, r.outcome) for r in await kiosk.backend.audit_records()]
    assert [(u, o) for e, u, o in rows if e in (AuditEvent.SIGN_IN_FAILED, AuditEvent.SIGNED_IN)] == [
        ("", "unknown_user"), ("alice", "change")
    ]  # fmt: skip
    assert (AuditEvent.CHANGED, "alice", "ok") in rows


async def test_registration_signed_in_by_the_implicit_upn_asks_for_a_gate_first(
    samba_ad_server: LiveDirectory, delivery: Delivery, kiosk: KioskDriver
) -> None:
    """alice's UPN has another suffix; `alice@kiosk.test` still finds her. She has a mail address in the
    directory, so the kiosk asks for its code before the hub."""
    alice = samba_ad_server.users["alice"]
    with upn(samba_ad_server, "alice", "alice@corp.example"):
        await kiosk.begin_flow(Flow.REGISTER)
        await kiosk.sign_in(f"Alice@{DNS.upper()}", alice.password)
        kiosk.assert_page(StepKind.CHOOSE_METHOD)
        assert kiosk.offered_methods() == [Method.EMAIL]
        await kiosk.choose(Method.EMAIL)
        await kiosk.enter_code(await delivery.emailed_code(kiosk.backend, alice.mail))
        kiosk.assert_page(StepKind.REGISTER)
    signed = [(r.user_id, r.outcome) for r in await kiosk.backend.audit_records() if r.event is AuditEvent.SIGNED_IN]
    assert signed == [("alice", "register")]
