"""Registration against each live directory: what a user registers is kept in the enrollment store under
the entry's immutable id (entryUUID / objectGUID), and a reset then uses it; a registered e-mail wins over
the directory's `mail`; writing a contact to the directory where the service account may not is refused
with the directory's reason and stores nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import ldap3
import pyotp
import pytest
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import live_policy, restore_password

from kiosk.policy.schema import Method, MethodSettings, Policy, RegistrationSettings
from kiosk.services.api import SessionView, Stage
from kiosk.services.backend import Backend

from ..conftest import Kiosk, kiosk_for
from ..registration.conftest import ANSWERS, clock_of, questions_body, register_app, register_contact, sign_in

METHODS = MethodSettings(
    enabled=(Method.EMAIL, Method.MOBILE_SMS, Method.SECURITY_QUESTIONS, Method.APP_CODE), required=1
)


def _policy(live: Any, *, write_to_directory: bool = False) -> Policy:
    """The live policy with every method a user can register, optionally writing contacts through."""
    return live_policy(live).model_copy(
        update={"methods": METHODS, "registration": RegistrationSettings(write_to_directory=write_to_directory)}
    )


@pytest.fixture
async def live_kiosk(live: Any, fake_keyring: FakeMemoryKeyring) -> AsyncIterator[Kiosk]:
    """A kiosk driver on a backend whose directory is the live server, every method enabled."""
    async with kiosk_for(_policy(live)) as kiosk:
        yield kiosk


async def _enrolled_ids(backend: Backend) -> dict[str, set[str]]:
    def read(db: Any) -> dict[str, set[str]]:
        tables = ("enrolled_questions", "enrolled_totp", "enrolled_profiles")
        return {table: {row[0] for row in db.execute(f"SELECT directory_id FROM {table}")} for table in tables}  # noqa: S608

    return await backend._rt.store.call(read)


async def _reset(kiosk: Kiosk, login: str, method: Method, proof: Any, password: str) -> SessionView:
    """A reset of `login` with `method`; `proof` gives the code or answers for the open gate."""
    view = await kiosk.start(login)
    view = await kiosk.choose(method)
    if method is Method.SECURITY_QUESTIONS:
        response = await kiosk.answer(view, ANSWERS)
        assert response.status_code == 200, response.text
    else:
        await kiosk.code(await proof())
    response = await kiosk.password(password)
    assert response.status_code == 200, response.text
    return SessionView.model_validate_json(response.content)


async def test_register_questions_app_and_email_then_reset_with_each(live: Any, live_kiosk: Kiosk) -> None:
    frank = live.users["frank"]  # in the enabled group, nothing registered: no gate before the hub
    backend = live_kiosk.backend
    view = await sign_in(live_kiosk, "frank", password=frank.password)
    assert view.stage is Stage.REGISTER
    await live_kiosk.ok("POST", "/session/register/questions", questions_body())
    secret = await register_app(live_kiosk)
    view = await register_contact(live_kiosk, "email", "frank.private@example.org")
    await live_kiosk.ok("POST", "/session/register/done")

    user = await backend._rt.directory.user_by_login("frank")
    assert user is not None
    assert str(uuid.UUID(user.directory_id)) == user.directory_id.lower()  # entryUUID / objectGUID as a UUID
    immutable = "entryUUID" if live.kind == "openldap" else "objectGUID"
    raw = live.read(frank.dn, [immutable])[immutable][0]
    own = str(uuid.UUID(bytes_le=raw)) if isinstance(raw, bytes) else str(raw).strip("{}")  # objectGUID: 16 bytes
    assert own.lower() == user.directory_id.lower()  # keyed by the entry's own id
    ids = await _enrolled_ids(backend)
    assert ids == {table: {user.directory_id} for table in ids}
    assert user.auth_email == "frank.private@example.org" and len(user.questions) == 3 and user.totp_secret == secret
    assert user.confirmed_at == backend.clock.now()
    assert [r.outcome for r in await backend.audit_records() if r.event == "registered"] == [
        "questions",
        "app",
        "email",
    ]

    clock = backend.clock
    try:
        view = await _reset(live_kiosk, "frank", Method.SECURITY_QUESTIONS, None, "Harbor-Violet-Quarry-71!")
        assert view.stage is Stage.DONE  # just registered: nothing to reconfirm
        assert live.bind_ok(frank.dn, "Harbor-Violet-Quarry-71!")
        clock_of(backend).advance(60)

        async def app_code() -> str:
            return str(pyotp.TOTP(secret).at(clock.now()))

        view = await _reset(live_kiosk, "frank", Method.APP_CODE, app_code, "Harbor-Violet-Quarry-72!")
        assert view.stage is Stage.DONE and live.bind_ok(frank.dn, "Harbor-Violet-Quarry-72!")

        async def emailed() -> str:
            assert (await backend.outbox())[-1].to == "frank.private@example.org"
            return await live_kiosk.sent_code()

        view = await _reset(live_kiosk, "frank", Method.EMAIL, emailed, "Harbor-Violet-Quarry-73!")
        assert view.stage is Stage.DONE and live.bind_ok(frank.dn, "Harbor-Violet-Quarry-73!")
    finally:
        restore_password(live, "frank")


async def test_a_registered_email_wins_over_the_directorys_mail(live: Any, live_kiosk: Kiosk) -> None:
    alice = live.users["alice"]
    backend = live_kiosk.backend
    view = await sign_in(live_kiosk, "alice", password=alice.password)
    assert view.stage is Stage.CHOOSE_METHOD  # her directory mail is registered: a gate first
    await live_kiosk.pass_email()
    assert (await backend.outbox())[-1].to == alice.mail
    await register_contact(live_kiosk, "email", "alice.private@example.org")
    await live_kiosk.ok("POST", "/session/register/done")
    notices = [m.to for m in await backend.outbox() if "security info" in m.subject]
    assert sorted(notices) == sorted([alice.mail, "alice.private@example.org"])  # the old address learns too
    try:
        await live_kiosk.start("alice")
        await live_kiosk.choose(Method.EMAIL)
        assert (await backend.outbox())[-1].to == "alice.private@example.org"
        await live_kiosk.code(await live_kiosk.sent_code())
        assert (await live_kiosk.password("Harbor-Violet-Quarry-74!")).json()["stage"] == "done"
    finally:
        restore_password(live, "alice")
    # The directory's attribute itself is untouched (write_to_directory is off).
    assert live.read(alice.dn, ["mail"])["mail"] == [alice.mail]


async def test_writing_a_contact_the_service_account_may_not_is_refused(
    live: Any, fake_keyring: FakeMemoryKeyring
) -> None:
    async with kiosk_for(_policy(live, write_to_directory=True)) as kiosk:
        frank = live.users["frank"]
        await sign_in(kiosk, "frank", password=frank.password)
        await kiosk.ok("POST", "/session/register/contact", {"kind": "email", "value": "frank.private@example.org"})
        await kiosk.backend.deliver_pending()
        code = await kiosk.sent_code()
        await kiosk.error("POST", "/session/register/contact/code", {"code": code}, 502, "writeback_failed")
        assert await _enrolled_ids(kiosk.backend) == {
            "enrolled_questions": set(),
            "enrolled_totp": set(),
            "enrolled_profiles": set(),
        }
        outcomes = [r.outcome for r in await kiosk.backend.audit_records() if r.event == "registered"]
        assert outcomes == ["writeback_failed:insufficientAccessRights"]
        user = await kiosk.backend._rt.directory.user_by_login("frank")
        assert user is not None and user.auth_email == ""


MAIL_ATTRIBUTE = "bf967961-0de6-11d0-a285-00aa003049e2"
"""The schema GUID of Active Directory's `mail` (E-mail-Addresses), for a write-property ACE."""


@pytest.mark.parametrize("live", ["samba_ad"], indirect=True)
async def test_a_contact_is_written_to_the_directory_where_the_policy_asks_and_rights_allow(
    live: Any, fake_keyring: FakeMemoryKeyring
) -> None:
    """With `registration.write_to_directory` and the right to write `mail` on the entry (an administrator's
    delegation, here an explicit ACE), the registered e-mail lands in the directory and in the store."""
    from live_servers.samba_ad import SERVICE_DN, granted

    frank = live.users["frank"]
    async with kiosk_for(_policy(live, write_to_directory=True)) as kiosk:
        with granted(live, frank.dn, SERVICE_DN, (("WP", MAIL_ATTRIBUTE),)):
            try:
                await sign_in(kiosk, "frank", password=frank.password)
                view = await register_contact(kiosk, "email", "frank.private@example.org")
                assert view.stage is Stage.REGISTER
                assert live.read(frank.dn, ["mail"])["mail"] == ["frank.private@example.org"]
                ids = await _enrolled_ids(kiosk.backend)
                assert len(ids["enrolled_profiles"]) == 1
                registered = [r.outcome for r in await kiosk.backend.audit_records() if r.event == "registered"]
                assert registered == ["email"]
            finally:
                with live.connect() as admin:
                    admin.modify(frank.dn, {"mail": [(ldap3.MODIFY_DELETE, [])]})
    assert "mail" not in live.read(frank.dn, ["mail"])
