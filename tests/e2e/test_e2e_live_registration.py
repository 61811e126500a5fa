"""Registration, reconfirmation and the stolen-password attempt at the kiosk, through the real window, against
each LIVE directory (OpenLDAP, Samba AD), with e-mail on a real SMTP server and SMS on the FAKE gateway
(issue 13, Tests).

frank is in the enabled group with nothing registered and no mail or phone in the directory: a new
employee. He signs in to "Set up my security info" and registers security questions, the authenticator app
(its code computed from the secret read back from the QR code's pixels in the window, as a phone's camera
would; the key the page shows must be the same), a phone (the code the gateway got) and an e-mail (the code
the SMTP sink got). What he registered is kept under the entry's own immutable id (entryUUID / objectGUID)
and each of the four then resets his password in a session of its own. The enrollment store belongs to
each test's backend; the directory is shared by the session, so frank gets his password back after each.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import pyotp
import pytest
import segno
from kiosk_driver import KioskDriver, wrong_code
from live_delivery import Delivery, delivering_policy, enrolled, keyring_for, own_id, running_delivery
from live_servers.common import LiveDirectory, LiveUser, new_password
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import restore_password
from qr_reader import decode, read_drawn

from kiosk.flows.steps import StepKind
from kiosk.policy.schema import Method, Policy
from kiosk.services.api import Flow, ReconfirmChoice, RegistrationKind
from kiosk.services.backend import Backend
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.ui.pages.done import DonePage
from kiosk.ui.pages.reconfirm import ReconfirmPage
from kiosk.ui.pages.register import RegisterPage
from kiosk.ui.pages.register_app import RegisterAppPage
from kiosk.ui.pages.sign_in import SignInPage

ANSWERS = {"first_pet": "Biscuit", "first_school": "Oak Park Primary", "childhood_nickname": "Beanpole"}
"""frank's security answers, by predefined question id."""
PHONE_TYPED = "+1 555 0199 001"
PHONE = "+15550199001"
"""frank's new authentication phone, as he types it and as the gateway is asked to text it."""
EMAIL = "frank.private@example.org"
SECURITY_INFO_CHANGED = "Your Contoso security info was changed"
HOUR = 3600
DAY = 24 * HOUR
RECONFIRM_DAYS = 30


@pytest.fixture(scope="module")
def delivery() -> Iterator[Delivery]:
    """One SMTP sink and FAKE gateway for the module."""
    with running_delivery() as running:
        yield running


@pytest.fixture
def server(live_directory: LiveDirectory) -> LiveDirectory:
    """The live directory of this run of the test (each server in turn)."""
    return live_directory


@pytest.fixture
def live_keyring(server: LiveDirectory) -> Iterator[FakeMemoryKeyring]:
    """The FAKE keyring (service password, gateway token) for the whole test."""
    with keyring_for(server) as fake:
        yield fake


@pytest.fixture
def policy(server: LiveDirectory, delivery: Delivery, live_keyring: FakeMemoryKeyring) -> Policy:
    """Overrides the e2e demo policy: every method, real delivery, "still up to date?" after 30 days."""
    delivery.clear()
    return delivering_policy(server, delivery, reconfirm_days=RECONFIRM_DAYS)


@pytest.fixture
def frank(server: LiveDirectory) -> Iterator[LiveUser]:
    """frank, given back his provisioned password after the test."""
    yield server.users["frank"]
    restore_password(server, "frank")


async def registration_sign_in(kiosk: KioskDriver, user_id: str, password: str) -> None:
    """Start page → "Set up my security info" → sign in."""
    await kiosk.begin_flow(Flow.REGISTER)
    kiosk.assert_page(StepKind.SIGN_IN)
    assert kiosk.page(SignInPage).title.text() == "Sign in to set up your security info"
    await kiosk.sign_in(user_id, password)


def hub_news(kiosk: KioskDriver) -> str:
    """The hub's first line."""
    return kiosk.page(RegisterPage).news.text()


async def register_app_from_the_qr_code(kiosk: KioskDriver) -> str:
    """Hub → authenticator app: read the QR code off the window, type the app's code; the secret it held."""
    await kiosk.open_registration(RegistrationKind.APP)
    kiosk.assert_page(StepKind.REGISTER_APP)
    page = kiosk.page(RegisterAppPage)
    picture = read_drawn(page.qr)
    # Sharp, as a phone's camera wants it: whole pixels a module, no blurred edges.
    assert picture.pixels_per_module == int(picture.pixels_per_module) >= 4 and picture.grey_pixels == 0
    drawn = picture.modules
    uri = decode(drawn)
    # The read is checked: the text re-encoded gives back exactly the modules on the screen.
    assert [[bool(bit) for bit in row] for row in segno.make(uri, error="m", micro=False).matrix] == drawn
    totp = pyotp.parse_uri(uri)
    assert isinstance(totp, pyotp.TOTP) and uri.startswith("otpauth://totp/") and totp.issuer == "Contoso"
    assert "".join(page.key.text().split()) == totp.secret  # the key to type by hand is the same secret
    await kiosk.confirm_app(wrong_code(totp.at(kiosk.clock.now())))  # a mistyped code first: told, kept here
    kiosk.assert_page(StepKind.REGISTER_APP)
    assert page.code.error.text().startswith("That code isn't right.")
    await kiosk.confirm_app(totp.at(kiosk.clock.now()))
    kiosk.assert_page(StepKind.REGISTER)
    assert hub_news(kiosk) == "✓ Your authenticator app is registered."
    assert page.key.text() == "" and not page.qr.has_code  # the secret left the page with it
    return str(totp.secret)


async def register_questions(kiosk: KioskDriver) -> None:
    """Hub → security questions: three picked and answered."""
    await kiosk.open_registration(RegistrationKind.QUESTIONS)
    kiosk.assert_page(StepKind.REGISTER_QUESTIONS)
    await kiosk.register_questions(ANSWERS)
    kiosk.assert_page(StepKind.REGISTER)
    assert hub_news(kiosk) == "✓ Your security questions are registered."


async def register_email(kiosk: KioskDriver, delivery: Delivery) -> None:
    """Hub → e-mail: the address typed, the code that reached it typed back."""
    await kiosk.open_registration(RegistrationKind.EMAIL)
    kiosk.assert_page(StepKind.REGISTER_CONTACT)
    await kiosk.register_contact(EMAIL)
    kiosk.assert_page(StepKind.REGISTER_VERIFY)
    await kiosk.enter_code(await delivery.emailed_code(kiosk.backend, EMAIL))
    kiosk.assert_page(StepKind.REGISTER)
    assert hub_news(kiosk).endswith("Your e-mail address is registered.")


async def enrolled_ids(backend: Backend) -> dict[str, set[str]]:
    """The directory ids the enrollment store's tables hold rows for."""

    def read(db: Any) -> dict[str, set[str]]:
        tables = ("enrolled_questions", "enrolled_totp", "enrolled_profiles")
        return {table: {row[0] for row in db.execute(f"SELECT directory_id FROM {table}")} for table in tables}  # noqa: S608

    return await backend._rt.store.call(read)  # type: ignore[no-any-return]


async def reset_with(
    kiosk: KioskDriver, method: Method, prove: Callable[[], Awaitable[None]], password: str
) -> None:
    """ "Can't access your account?" as frank, `method` chosen, `prove()` passes its gate, a new password."""
    await kiosk.begin()
    await kiosk.identify("frank")
    kiosk.assert_page(StepKind.CHOOSE_METHOD)
    assert kiosk.offered_methods() == [Method.EMAIL, Method.MOBILE_SMS, Method.SECURITY_QUESTIONS, Method.APP_CODE]
    await kiosk.choose(method)
    await prove()
    kiosk.assert_page(StepKind.NEW_PASSWORD)
    await kiosk.new_password(password)
    kiosk.assert_page(StepKind.DONE)
    assert kiosk.page(DonePage).title.text() == "Your password has been reset"
    await kiosk.finish()


async def test_a_new_employee_registers_four_ways_then_resets_with_each(
    server: LiveDirectory, delivery: Delivery, kiosk: KioskDriver, frank: LiveUser
) -> None:
    await registration_sign_in(kiosk, "frank", frank.password)
    kiosk.assert_page(StepKind.REGISTER)  # nothing registered: no gate before the hub
    assert {kind for kind, _choice in kiosk.page(RegisterPage).choices} == set(RegistrationKind)
    await register_questions(kiosk)
    secret = await register_app_from_the_qr_code(kiosk)
    await kiosk.open_registration(RegistrationKind.PHONE)
    kiosk.assert_page(StepKind.REGISTER_CONTACT)
    await kiosk.register_contact(PHONE_TYPED)
    kiosk.assert_page(StepKind.REGISTER_VERIFY)
    await kiosk.enter_code(await delivery.texted_code(kiosk.backend, PHONE))
    kiosk.assert_page(StepKind.REGISTER)
    assert hub_news(kiosk) == "✓ Your phone number is registered."
    await register_email(kiosk, delivery)
    await kiosk.finish_registration()
    kiosk.assert_page(StepKind.DONE)
    assert kiosk.page(DonePage).title.text() == "Your security info is saved"
    await kiosk.finish()

    backend = kiosk.backend
    user = await enrolled(backend, "frank")
    assert user.directory_id.lower() == own_id(server, "frank").lower()  # keyed by the entry's own id
    assert await enrolled_ids(backend) == {
        table: {user.directory_id} for table in ("enrolled_questions", "enrolled_totp", "enrolled_profiles")
    }
    assert (user.auth_email, user.auth_phone, user.totp_secret) == (EMAIL, PHONE, secret)
    assert [q.predefined_id for q in user.questions] == list(ANSWERS)
    assert not any(answer in q.answer_hash for q in user.questions for answer in ANSWERS.values())
    registered = [r.outcome for r in await backend.audit_records() if r.event is AuditEvent.REGISTERED]
    assert registered == ["questions", "app", "phone", "email"]
    await delivery.wait_for_mail(backend, EMAIL, SECURITY_INFO_CHANGED)  # told, at the address registered

    async def answers() -> None:
        await kiosk.answer(ANSWERS)

    async def app_code() -> None:
        await kiosk.enter_code(pyotp.TOTP(secret).at(kiosk.clock.now()))

    async def texted() -> None:
        await kiosk.enter_code(await delivery.texted_code(backend, PHONE))

    async def emailed() -> None:
        await kiosk.enter_code(await delivery.emailed_code(backend, EMAIL))

    before = len(delivery.gateway.requests)
    for method, prove in (
        (Method.SECURITY_QUESTIONS, answers),
        (Method.APP_CODE, app_code),
        (Method.MOBILE_SMS, texted),
        (Method.EMAIL, emailed),
    ):
        kiosk.clock.advance(HOUR)  # another time step for the app; the hourly limits start afresh
        chosen = new_password()
        await reset_with(kiosk, method, prove, chosen)
        assert server.bind_ok(frank.dn, chosen), method
    assert len(delivery.gateway.requests) == before + 1  # one SMS, for the SMS reset
    resets = [(r.user_id, r.outcome) for r in await backend.audit_records() if r.event is AuditEvent.RESET]
    assert resets == [("frank", "ok")] * 4
    assert delivery.subjects_to(EMAIL).count("Your Contoso password was changed") == 4


async def test_a_stolen_password_alone_cannot_replace_registered_methods(
    server: LiveDirectory, delivery: Delivery, kiosk: KioskDriver, frank: LiveUser
) -> None:
    """frank registered questions and an app. Someone who knows his password signs in to registration:
    the kiosk asks for one of them first, a wrong app code and wrong answers open nothing, no registration
    page is ever shown, and the store is as frank left it. frank himself, with his app, gets to the hub."""
    await registration_sign_in(kiosk, "frank", frank.password)
    await register_questions(kiosk)
    secret = await register_app_from_the_qr_code(kiosk)
    await kiosk.finish_registration()
    kiosk.assert_page(StepKind.DONE)
    await kiosk.finish()
    before = await enrolled(kiosk.backend, "frank")
    kiosk.clock.advance(HOUR)

    seen: list[StepKind] = []
    await registration_sign_in(kiosk, "frank", frank.password)
    seen.append(kiosk.step.kind)
    kiosk.assert_page(StepKind.CHOOSE_METHOD)  # the gate, not the hub
    assert kiosk.offered_methods() == [Method.SECURITY_QUESTIONS, Method.APP_CODE]
    await kiosk.choose(Method.APP_CODE)
    seen.append(kiosk.step.kind)
    await kiosk.enter_code(wrong_code(pyotp.TOTP(secret).at(kiosk.clock.now())))
    seen.append(kiosk.step.kind)
    kiosk.assert_page(StepKind.ENTER_CODE)
    await kiosk.back()
    seen.append(kiosk.step.kind)
    await kiosk.choose(Method.SECURITY_QUESTIONS)
    seen.append(kiosk.step.kind)
    await kiosk.answer({question: "Wrong guess" for question in ANSWERS})
    seen.append(kiosk.step.kind)
    await kiosk.cancel()
    await kiosk.wait_for(StepKind.START)
    assert not {StepKind.REGISTER, StepKind.REGISTER_APP, StepKind.REGISTER_CONTACT, StepKind.REGISTER_VERIFY,
                StepKind.REGISTER_QUESTIONS} & set(seen), seen
    assert same_registration(await enrolled(kiosk.backend, "frank"), before)
    registered = [r.outcome for r in await kiosk.backend.audit_records() if r.event is AuditEvent.REGISTERED]
    assert registered == ["questions", "app"]  # frank's own, nothing since

    kiosk.clock.advance(HOUR)
    await registration_sign_in(kiosk, "frank", frank.password)  # frank himself, his phone in hand
    await kiosk.choose(Method.APP_CODE)
    await kiosk.enter_code(pyotp.TOTP(secret).at(kiosk.clock.now()))
    kiosk.assert_page(StepKind.REGISTER)


def same_registration(now: DirectoryUser, before: DirectoryUser) -> bool:
    """Nothing of the security info changed: questions and their hashes, app secret, contacts, confirmation."""
    fields = ("questions", "totp_secret", "auth_email", "auth_phone", "confirmed_at")
    return all(getattr(now, name) == getattr(before, name) for name in fields)


async def test_after_the_window_passes_a_change_asks_to_reconfirm_and_keep_then_a_reset_updates(
    server: LiveDirectory, delivery: Delivery, kiosk: KioskDriver, frank: LiveUser
) -> None:
    backend = kiosk.backend
    await registration_sign_in(kiosk, "frank", frank.password)
    await register_questions(kiosk)
    await kiosk.finish_registration()
    await kiosk.finish()
    registered_at = (await enrolled(backend, "frank")).confirmed_at
    assert registered_at == kiosk.clock.now()

    # Within the window: a change ends at done, nothing asked.
    kiosk.clock.advance(RECONFIRM_DAYS * DAY - HOUR)
    password = new_password()
    await kiosk.begin_flow(Flow.CHANGE)
    await kiosk.sign_in("frank", frank.password)
    await kiosk.new_password(password)
    kiosk.assert_page(StepKind.DONE)
    await kiosk.finish()

    # The window passed: "Is this still up to date?" — keep.
    kiosk.clock.advance(2 * HOUR)
    changed = new_password()
    await kiosk.begin_flow(Flow.CHANGE)
    await kiosk.sign_in("frank", password)
    await kiosk.new_password(changed)
    kiosk.assert_page(StepKind.RECONFIRM)
    page = kiosk.page(ReconfirmPage)
    assert page.news.text() == "✓ Your password has been changed."
    assert page.title.text() == "Is this still up to date?"
    assert [line.text() for line in page.lines] == ["• Security questions: 3 registered"]
    assert server.bind_ok(frank.dn, changed)  # the change is made before the question
    await kiosk.reconfirm(ReconfirmChoice.KEEP)
    kiosk.assert_page(StepKind.DONE)
    assert kiosk.page(DonePage).title.text() == "Your password has been changed"
    assert (await enrolled(backend, "frank")).confirmed_at == kiosk.clock.now()

    # Again past the window, a reset by his questions: "Update" leads to the hub, where he adds an e-mail.
    await kiosk.finish()
    kiosk.clock.advance((RECONFIRM_DAYS + 1) * DAY)
    await kiosk.begin()
    await kiosk.identify("frank")
    await kiosk.choose(Method.SECURITY_QUESTIONS)
    await kiosk.answer(ANSWERS)
    await kiosk.new_password(new_password())
    kiosk.assert_page(StepKind.RECONFIRM)
    assert kiosk.page(ReconfirmPage).news.text() == "✓ Your password has been reset."
    await kiosk.reconfirm(ReconfirmChoice.UPDATE)
    kiosk.assert_page(StepKind.REGISTER)
    assert hub_news(kiosk) == "✓ Your password has been reset."
    await register_email(kiosk, delivery)
    await kiosk.finish_registration()
    kiosk.assert_page(StepKind.DONE)
    user = await enrolled(backend, "frank")
    assert user.auth_email == EMAIL and len(user.questions) == 3 and user.confirmed_at == kiosk.clock.now()
    await delivery.wait_for_mail(backend, EMAIL, SECURITY_INFO_CHANGED)
    rows = [(r.event, r.outcome) for r in await backend.audit_records()]
    assert [outcome for event, outcome in rows if event is AuditEvent.RECONFIRMED] == ["keep", "update"]
