"""Through the real kiosk window on LIVE Samba AD: a person types `DOMAIN\\user` as at a Windows sign-in screen,
and a protected Domain Admins member (AdminSDHolder's ACL, which the service account's delegation on
OU=People does not reach) is told after the first gate that only the service desk can reset them; nothing
is written. The harness applies what SDProp would (Samba runs none): tests/live_servers/samba_ad.py.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kiosk_driver import KioskDriver
from live_servers.common import LiveDirectory, LiveUser
from live_servers.kiosk_setup import fake_keyring_for, live_policy
from live_servers.samba_ad import DOMAIN, protected_admin

from kiosk.flows.steps import StepKind
from kiosk.policy.schema import Method, Policy, RegistrationSettings
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.ui.pages.refused import RefusedPage


@pytest.fixture
def admin(samba_ad_server: LiveDirectory) -> Iterator[LiveUser]:
    """`root3`: a Domain Admins member protected as SDProp would, in the enabled group, with mail and mobile."""
    with fake_keyring_for(samba_ad_server), protected_admin(samba_ad_server, "root3") as user:
        yield user


@pytest.fixture
def policy(samba_ad_server: LiveDirectory, admin: LiveUser) -> Policy:
    """Overrides the e2e demo policy: the window's backend opens on the live Samba AD."""
    policy = live_policy(samba_ad_server)
    return policy.model_copy(update={"registration": RegistrationSettings(reconfirm_days=0)})


async def test_a_protected_admin_typed_as_domain_backslash_user_is_told_after_the_first_gate(
    samba_ad_server: LiveDirectory, admin: LiveUser, kiosk: KioskDriver
) -> None:
    await kiosk.begin()
    await kiosk.identify(f"{DOMAIN.lower()}\\{admin.login.upper()}")
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    assert kiosk.offered_methods() == [Method.EMAIL, Method.MOBILE_SMS]  # the policy's, as for anyone
    await kiosk.choose(Method.EMAIL)
    kiosk.assert_page(StepKind.ENTER_CODE)
    await kiosk.enter_code(await kiosk.emailed_code(admin.mail))
    kiosk.assert_page(StepKind.REFUSED)
    page = kiosk.page(RefusedPage)
    assert "This account is protected: only the IT service desk can reset its password." in page.intro.text()
    records = await kiosk.audit_for(page.reference.text())
    assert [r.outcome for r in records if r.event is AuditEvent.REFUSED] == ["writeback_not_permitted"]
    assert {r.user_id for r in records if r.user_id} == {admin.login}
    assert not [r for r in await kiosk.backend.audit_records() if r.outcome.startswith("writeback_failed")]
    assert samba_ad_server.bind_ok(admin.dn, admin.password)  # nothing was written


async def test_alice_typed_as_domain_backslash_user_gets_to_the_new_password(
    samba_ad_server: LiveDirectory, admin: LiveUser, kiosk: KioskDriver
) -> None:
    alice = samba_ad_server.users["alice"]
    await kiosk.begin()
    await kiosk.identify(f"{DOMAIN}\\alice")
    await kiosk.choose(Method.EMAIL)
    await kiosk.enter_code(await kiosk.emailed_code(alice.mail))
    kiosk.assert_page(StepKind.NEW_PASSWORD)
