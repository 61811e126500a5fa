"""Register each kind of security info at the kiosk, then reset with it: what is registered is what a
reset checks (answers hashed as they are verified, the app's secret from its QR code, codes to the new
contacts), and the user is told (never what) at the addresses from before and after."""

from __future__ import annotations

import segno

from kiosk.policy.schema import Method
from kiosk.services.api import RegistrationKind, SessionView
from kiosk.services.backend import Backend

from ..conftest import GOOD_PASSWORD, Kiosk
from .conftest import ANSWERS, clock_of, questions_body, register_app, register_contact, security_info, sign_in


async def _reset_done(kiosk: Kiosk, view: SessionView, password: str = GOOD_PASSWORD) -> None:
    """From a passed gate to a new password: a fresh registration is confirmed, so no reconfirmation."""
    if view.stage == "choose_action":
        view = await kiosk.ok("POST", "/session/action", {"action": "reset"})
    assert view.stage == "new_password", view
    response = await kiosk.password(password)
    assert response.status_code == 200 and response.json()["stage"] == "done", response.text


async def test_fay_registers_questions_and_resets_with_them(kiosk: Kiosk, backend: Backend) -> None:
    view = await sign_in(kiosk, "fay")  # nothing registered: no gate, straight to the hub
    assert view.stage == "register" and view.registration is not None
    assert view.registration.registered == ()
    assert RegistrationKind.QUESTIONS in view.registration.can_register
    assert view.registration.questions_to_register == 3
    view = await kiosk.ok("POST", "/session/register/questions", questions_body())
    assert [(m.kind, m.questions) for m in view.registration.registered] == [(RegistrationKind.QUESTIONS, 3)]  # type: ignore[union-attr]
    assert (await kiosk.ok("POST", "/session/register/done")).outcome == "registered"

    view = await kiosk.start("fay")
    view = await kiosk.choose(Method.SECURITY_QUESTIONS)
    # Typed differently from how they were registered: the same normalized answers.
    answers = {key: f"  {answer.upper()} " for key, answer in ANSWERS.items()}
    response = await kiosk.answer(view, answers)
    assert response.status_code == 200, response.text
    await _reset_done(kiosk, SessionView.model_validate_json(response.content))


async def test_fay_registers_an_app_from_its_qr_code_and_resets_with_it(kiosk: Kiosk, backend: Backend) -> None:
    await sign_in(kiosk, "fay")
    view = await kiosk.ok("POST", "/session/register/app")
    registration = view.registration
    assert registration is not None and registration.app_uri is not None and registration.app_qr_svg is not None
    assert registration.app_uri.startswith("otpauth://totp/Contoso:fay?secret=")
    assert "&issuer=Contoso" in registration.app_uri and "&digits=6" in registration.app_uri
    assert "&period=30" in registration.app_uri
    assert registration.app_secret is not None and registration.app_secret in registration.app_uri
    # The SVG is the QR code of exactly that URI.
    assert registration.app_qr_svg.startswith("<svg") and registration.app_qr_svg.rstrip().endswith("</svg>")
    expected = segno.make(registration.app_uri, error="m", micro=False).svg_inline(border=4)
    assert _path(registration.app_qr_svg) == _path(expected)
    secret = await register_app(kiosk, view)
    await kiosk.ok("POST", "/session/register/done")

    clock_of(backend).advance(30)  # the code that confirmed the app is used up: the next step's code
    await kiosk.start("fay")
    await kiosk.choose(Method.APP_CODE)
    import pyotp

    view = await kiosk.code(pyotp.TOTP(secret).at(backend.clock.now()))
    await _reset_done(kiosk, view)


def _path(svg: str) -> str:
    """The QR modules' path data of a segno SVG."""
    start = svg.index(' d="') + 4
    return svg[start : svg.index('"', start)]


async def test_fay_registers_an_email_and_a_phone_and_resets_with_each(kiosk: Kiosk, backend: Backend) -> None:
    await sign_in(kiosk, "fay")
    view = await register_contact(kiosk, "email", "Fay.Mulder@Example.ORG")
    assert view.stage == "register"
    view = await register_contact(kiosk, "phone", "+31 6-1234 5678")
    registered = {m.kind: m.masked_target for m in view.registration.registered}  # type: ignore[union-attr]
    assert registered == {RegistrationKind.EMAIL: "F•••••@example.org", RegistrationKind.PHONE: "•• ••• ••78"}
    await kiosk.ok("POST", "/session/register/done")
    fay = await backend.directory.find_user("fay")
    assert fay is not None and (fay.auth_email, fay.auth_phone) == ("Fay.Mulder@example.org", "+31612345678")

    await kiosk.start("fay")
    await kiosk.choose(Method.EMAIL)
    outbox = await backend.outbox()
    assert outbox[-1].to == "Fay.Mulder@example.org"
    await _reset_done(kiosk, await kiosk.code(await kiosk.sent_code()))

    clock_of(backend).advance(3600)
    await kiosk.start("fay")
    await kiosk.choose(Method.MOBILE_SMS)
    assert (await backend.outbox())[-1].to == "+31612345678"
    await _reset_done(kiosk, await kiosk.code(await kiosk.sent_code()), "Harbor-Quartz-Willow-77")


async def test_the_owner_is_told_at_the_old_and_new_address_and_never_what(kiosk: Kiosk, backend: Backend) -> None:
    await sign_in(kiosk, "emma")  # emma.jansen@contoso.com is registered: a gate first
    await kiosk.pass_email()
    before = len(await backend.outbox())
    await register_contact(kiosk, "email", "emma.private@example.net")
    await kiosk.ok("POST", "/session/register/questions", questions_body())
    await register_app(kiosk)
    await kiosk.ok("POST", "/session/register/done")
    notices = [m for m in (await backend.outbox())[before:] if "security info" in m.subject]
    # One notice per address per session, however many things changed: the old one (the real owner
    # learns) and the new one.
    assert sorted(m.to for m in notices) == ["emma.jansen@contoso.com", "emma.private@example.net"]
    for notice in notices:
        assert "emma.private" not in notice.body and "Biscuit" not in notice.body and "otpauth" not in notice.body
    records = [r for r in await backend.audit_records() if r.event == "registered"]
    assert [r.outcome for r in records] == ["email", "questions", "app"]


async def test_a_wrong_contact_code_is_counted_and_a_new_one_can_be_sent(kiosk: Kiosk, backend: Backend) -> None:
    await sign_in(kiosk, "fay")
    await kiosk.ok("POST", "/session/register/contact", {"kind": "email", "value": "fay@example.org"})
    await backend.deliver_pending()
    first = await kiosk.sent_code()
    wrong = "0" * len(first) if first != "0" * len(first) else "1" * len(first)
    body = await kiosk.error("POST", "/session/register/contact/code", {"code": wrong}, 400, "code_wrong")
    assert body["attempts_left"] == 4
    view = await kiosk.ok("POST", "/session/register/contact/resend")
    assert view.registration is not None and view.registration.pending is not None
    assert view.registration.pending.masked_target == "f•••••@example.org" and view.registration.pending.can_resend
    await backend.deliver_pending()
    second = await kiosk.sent_code()
    if second != first:  # the old code stopped working
        await kiosk.error("POST", "/session/register/contact/code", {"code": first}, 400, "code_wrong")
    view = await kiosk.ok("POST", "/session/register/contact/code", {"code": second})
    assert view.stage == "register"
    assert (await security_info(backend, "fay"))["user"][0] == "fay@example.org"


async def test_five_wrong_app_codes_drop_the_pending_secret(kiosk: Kiosk, backend: Backend) -> None:
    await sign_in(kiosk, "fay")
    await kiosk.ok("POST", "/session/register/app")
    before = await security_info(backend, "fay")
    for left in (4, 3, 2, 1):
        body = await kiosk.error("POST", "/session/register/app/code", {"code": "000000"}, 400, "code_wrong")
        assert body["attempts_left"] == left
    await kiosk.error("POST", "/session/register/app/code", {"code": "000000"}, 400, "code_burned")
    view = await kiosk.ok("GET", "/session")
    assert view.stage == "register" and view.registration is not None and view.registration.app_secret is None
    await kiosk.error("POST", "/session/register/app/code", {"code": "000000"}, 409, "step_not_allowed")
    assert await security_info(backend, "fay") == before


async def test_cancel_drops_a_pending_contact(kiosk: Kiosk, backend: Backend) -> None:
    await sign_in(kiosk, "fay")
    await kiosk.ok("POST", "/session/register/contact", {"kind": "phone", "value": "+31 6 1234 5678"})
    await backend.deliver_pending()
    code = await kiosk.sent_code()
    assert (await kiosk.ok("POST", "/session/register/cancel")).stage == "register"
    await kiosk.error("POST", "/session/register/contact/code", {"code": code}, 409, "step_not_allowed")
    assert (await security_info(backend, "fay"))["user"][2] == ""


async def test_a_stolen_password_alone_replaces_nothing(kiosk: Kiosk, backend: Backend) -> None:
    """emma's password is right, but she has an e-mail registered: without passing it as a gate, no call
    changes her questions, app or contacts; each is refused and audited."""
    view = await sign_in(kiosk, "emma")
    assert view.stage == "choose_method" and view.gates_required == 1
    before = await security_info(backend, "emma")
    attempts = [
        ("/session/register/questions", questions_body()),
        ("/session/register/app", None),
        ("/session/register/contact", {"kind": "email", "value": "thief@example.org"}),
        ("/session/register/contact/code", {"code": "12345678"}),
        ("/session/register/done", None),
        ("/session/reconfirm", {"choice": "keep"}),
    ]
    for path, body in attempts:
        await kiosk.error("POST", path, body, 409, "step_not_allowed")
    # A wrong code for the gate does not open the hub either.
    await kiosk.choose(Method.EMAIL)
    await kiosk.error("POST", "/session/code", {"code": "00000000"}, 400, "code_wrong")
    await kiosk.error("POST", "/session/register/questions", questions_body(), 409, "step_not_allowed")
    assert await security_info(backend, "emma") == before
    refused = [r for r in await backend.audit_records() if r.event == "step_refused" and r.user_id == "emma"]
    assert len(refused) == len(attempts) + 1
    assert not any(r.event == "registered" for r in await backend.audit_records())


async def test_contact_codes_burn_and_expire_like_gate_codes_without_blocking_the_account(
    kiosk: Kiosk, backend: Backend
) -> None:
    await sign_in(kiosk, "fay")
    await kiosk.ok("POST", "/session/register/contact", {"kind": "email", "value": "fay@example.org"})
    await backend.deliver_pending()
    right = await kiosk.sent_code()
    wrong = "1" * len(right) if right != "1" * len(right) else "2" * len(right)
    for left in (4, 3, 2, 1):
        body = await kiosk.error("POST", "/session/register/contact/code", {"code": wrong}, 400, "code_wrong")
        assert body["attempts_left"] == left
    await kiosk.error("POST", "/session/register/contact/code", {"code": wrong}, 400, "code_burned")
    await kiosk.error("POST", "/session/register/contact/code", {"code": right}, 400, "code_burned")  # too late
    # A new code; left until it expires, it is refused even when right.
    await kiosk.ok("POST", "/session/register/contact/resend")
    await backend.deliver_pending()
    late = await kiosk.sent_code()
    clock_of(backend).advance(backend._rt.policy.methods.code_lifetime_minutes * 60)
    await kiosk.error("POST", "/session/register/contact/code", {"code": late}, 400, "code_expired")
    assert (await security_info(backend, "fay"))["user"][0] == ""
    # Five typos in a new address are no failed proofs: the account is not blocked, a fresh code works.
    await kiosk.ok("POST", "/session/register/contact/resend")
    await backend.deliver_pending()
    view = await kiosk.ok("POST", "/session/register/contact/code", {"code": await kiosk.sent_code()})
    assert view.stage == "register" and (await security_info(backend, "fay"))["user"][0] == "fay@example.org"
    await kiosk.start("fay")
    await kiosk.choose(Method.EMAIL)  # a reset is not blocked either
    outcomes = [r.outcome for r in await backend.audit_records() if r.event == "gate_failed"]
    assert outcomes == [*["register_email:wrong"] * 4, "register_email:burned", "register_email:burned",
                        "register_email:expired"]  # fmt: skip
    assert not [r for r in await backend.audit_records() if r.event == "blocked"]
