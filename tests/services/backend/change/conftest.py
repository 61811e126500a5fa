"""Driving the password-change flow (and the sign-in it shares with registration) over HTTP."""

from __future__ import annotations

import httpx

from kiosk.services.api import Flow, SessionOpened, SessionView

from ..conftest import Kiosk


async def open_flow(kiosk: Kiosk, flow: Flow = Flow.CHANGE) -> SessionOpened:
    """Open a session of `flow` (its token becomes the kiosk's)."""
    response = await kiosk.request("POST", "/sessions", {"kiosk_id": "lobby-1", "locale": "en", "flow": flow.value})
    assert response.status_code == 201, response.text
    opened = SessionOpened.model_validate_json(response.content)
    kiosk.token = opened.token
    return opened


async def sign_in(kiosk: Kiosk, user_id: str, password: str, *, captcha: str | None = None) -> httpx.Response:
    """Send a sign-in, solving the CAPTCHA through the test hook unless `captcha` is given."""
    answer = captcha if captcha is not None else await kiosk.backend.captcha_text_for_test(kiosk.token)
    body = {"user_id": user_id, "password": password, "captcha": answer}
    return await kiosk.request("POST", "/session/sign-in", body)


async def signed_in(kiosk: Kiosk, user_id: str, password: str, flow: Flow = Flow.CHANGE) -> SessionView:
    """Open a session of `flow` and sign in; the sign-in must succeed."""
    await open_flow(kiosk, flow)
    response = await sign_in(kiosk, user_id, password)
    assert response.status_code == 200, response.text
    return SessionView.model_validate_json(response.content)
