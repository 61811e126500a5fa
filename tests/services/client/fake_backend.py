"""A FAKE of the backend's HTTP peer, used only to test the client's wire format and error mapping.

It is not the backend: it answers canned bodies per route and records what it was sent, so tests
can check paths, headers and bodies, and feed the client error bodies, garbage and crashes. Whole
flows run against the real backend in `tests/flows`.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from kiosk.services.api import (
    Authenticator,
    AuthenticatorCode,
    CaptchaAudio,
    CaptchaImage,
    Health,
    Outbox,
    SessionOpened,
    SessionView,
    Stage,
)

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

FAKE_TOKEN = "fake-token-7f3a"
EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Canned:
    """One canned answer: status, raw body and content type."""

    status: int
    body: bytes = b""
    content_type: str = "application/json"


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    authorization: str | None
    body: Any


def _json(model: Any, status: int = 200) -> Canned:
    return Canned(status, model.model_dump_json().encode())


def view(stage: Stage = Stage.IDENTIFY) -> SessionView:
    """A minimal valid session view."""
    return SessionView(stage=stage, expires_at=EXPIRES)


def default_answers() -> dict[tuple[str, str], Canned]:
    """Valid answers for every route of the API."""
    captcha = CaptchaImage(png_base64="iVBORw0KGgo=")
    session_view = _json(view())
    return {
        ("GET", "/v1/health"): _json(Health(status="ok", version="fake")),
        ("POST", "/v1/sessions"): _json(SessionOpened(token=FAKE_TOKEN, view=view(), captcha=captcha), 201),
        ("GET", "/v1/session"): session_view,
        ("DELETE", "/v1/session"): Canned(204),
        ("POST", "/v1/session/captcha"): _json(captcha),
        ("GET", "/v1/session/captcha/audio"): _json(CaptchaAudio(wav_base64="UklGRg==")),
        ("POST", "/v1/session/identify"): session_view,
        ("POST", "/v1/session/method"): session_view,
        ("POST", "/v1/session/code"): session_view,
        ("POST", "/v1/session/code/resend"): session_view,
        ("POST", "/v1/session/answers"): session_view,
        ("POST", "/v1/session/action"): session_view,
        ("POST", "/v1/session/password"): session_view,
        ("GET", "/v1/dev/outbox"): _json(Outbox(messages=())),
        ("GET", "/v1/dev/authenticator"): _json(
            Authenticator(codes=(AuthenticatorCode(user_id="alex", code="123456", seconds_left=12),))
        ),
    }


def error_body(code: str, **extra: Any) -> Canned:
    """A canned ErrorBody answer."""
    status = extra.pop("status", 400)
    body = {"code": code, "message_key": f"error.{code}", "correlation_id": "corr-1", **extra}
    return Canned(status, json.dumps(body).encode())


@dataclass
class FakeBackendPeer:
    """An ASGI app answering canned bodies per (method, path) and recording requests (a fake, see module doc)."""

    answers: dict[tuple[str, str], Canned] = field(default_factory=default_answers)
    requests: list[Recorded] = field(default_factory=list)
    crash: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve one HTTP request."""
        if scope["type"] != "http":
            return
        raw = b""
        while True:
            message = await receive()
            raw += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
        body = json.loads(raw) if raw else None
        self.requests.append(Recorded(scope["method"], scope["path"], headers.get("authorization"), body))
        if self.crash:
            raise RuntimeError("the fake backend crashed")
        canned = self.answers.get((scope["method"], scope["path"]), error_body("not_found", status=404))
        response_headers = [(b"content-length", str(len(canned.body)).encode())]
        if canned.body:
            response_headers.append((b"content-type", canned.content_type.encode()))
        await send({"type": "http.response.start", "status": canned.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": canned.body})
