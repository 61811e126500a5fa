"""A registration driver over HTTP (sign in, register each kind, read codes from the dev outbox) and a
look at everything the store keeps of one account's security info."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs, urlparse

import pyotp

from kiosk.services.api import SessionView
from kiosk.services.backend import Backend, ManualClock

from ..conftest import DEMO_PASSWORD, Kiosk

ANSWERS = {"first_pet": "Biscuit", "first_school": "Elm Street", "childhood_nickname": "Sprout"}
"""Three answers fay registers (the demo policy asks for 3)."""


def questions_body(answers: dict[str, str] = ANSWERS) -> dict[str, Any]:
    """The body of `POST /session/register/questions` for predefined ids → answers."""
    return {"questions": [{"predefined_id": key, "answer": answer} for key, answer in answers.items()]}


def app_secret(view: SessionView) -> str:
    """The secret in the view's `otpauth://` URI (what an app reads from the QR code)."""
    assert view.registration is not None and view.registration.app_uri is not None
    uri = urlparse(view.registration.app_uri)
    assert uri.scheme == "otpauth" and uri.netloc == "totp"
    (secret,) = parse_qs(uri.query)["secret"]
    return secret


def clock_of(backend: Backend) -> ManualClock:
    """The backend's manual clock."""
    assert isinstance(backend.clock, ManualClock)
    return backend.clock


async def sign_in(kiosk: Kiosk, user_id: str, *, flow: str = "register", password: str = DEMO_PASSWORD) -> SessionView:
    """Open a session of `flow` and sign in (solving the CAPTCHA through the test hook)."""
    opened = await kiosk.request("POST", "/sessions", {"kiosk_id": "lobby-1", "locale": "en", "flow": flow})
    assert opened.status_code == 201, opened.text
    kiosk.token = opened.json()["token"]
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    return await kiosk.ok("POST", "/session/sign-in", {"user_id": user_id, "password": password, "captcha": captcha})


async def register_app(kiosk: Kiosk, view: SessionView | None = None) -> str:
    """Register an authenticator app from the QR code's URI (of `view`, or of a new start); returns its secret."""
    view = view or await kiosk.ok("POST", "/session/register/app")
    assert view.stage == "register_app"
    secret = app_secret(view)
    code = pyotp.TOTP(secret).at(kiosk.backend.clock.now())
    view = await kiosk.ok("POST", "/session/register/app/code", {"code": code})
    assert view.stage == "register" and view.registration is not None
    return secret


async def register_contact(kiosk: Kiosk, kind: str, value: str) -> SessionView:
    """Register an e-mail or phone with the code sent to it (read from the dev outbox)."""
    view = await kiosk.ok("POST", "/session/register/contact", {"kind": kind, "value": value})
    assert view.stage == "register_verify"
    await kiosk.backend.deliver_pending()
    return await kiosk.ok("POST", "/session/register/contact/code", {"code": await kiosk.sent_code()})


async def security_info(backend: Backend, login: str) -> dict[str, Any]:
    """Everything the store keeps of `login`'s security info (the embedded directory's own tables) and
    every row of the enrollment tables, as plain values to compare."""

    def read(db: Any) -> dict[str, Any]:
        user = db.execute(
            "SELECT auth_email, alt_email, auth_phone, mobile_phone, totp_secret, confirmed_at, enabled "
            "FROM users WHERE login = ?",
            (login,),
        ).fetchone()
        questions = db.execute("SELECT * FROM user_questions WHERE login = ? ORDER BY position", (login,)).fetchall()
        enrolled = {
            table: [tuple(row) for row in db.execute(f"SELECT * FROM {table} ORDER BY directory_id")]  # noqa: S608
            for table in ("enrolled_questions", "enrolled_totp", "enrolled_profiles")
        }
        return {
            "user": tuple(user) if user is not None else None,
            "questions": [tuple(row) for row in questions],
            "enrolled": json.dumps(enrolled, default=str),
        }

    return await backend._rt.store.call(read)  # the test looks at the store itself
