"""Drives a `RecoveryFlow` against the REAL in-process backend, the way a person at the kiosk would.

The driver reads what a person would read elsewhere: the CAPTCHA (through the backend's test hook;
a person reads the picture), e-mailed codes (the dev outbox) and authenticator codes (the dev
endpoint; a person reads their phone). Network faults are injected below the client, in the
transport, so the engine and the client run unchanged.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from kiosk.flows.engine import RecoveryFlow
from kiosk.flows.steps import IdentifyAnswer, SignInAnswer, Step
from kiosk.policy.schema import Policy
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.client import BackendClient, request_timeouts

DEMO_POLICY = Path(__file__).resolve().parents[2] / "resources" / "demo-policy.toml"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "Tulip-Harbor-93!"
"""A new password every demo user may take."""
DEMO_PASSWORD = "Contoso-Demo-2025!"
"""Every demo user's current password (what they know at the change and registration sign-in)."""
QUINN_ANSWERS = {"first_pet": "Rex", "first_school": "Oak Park", "childhood_nickname": "Bean"}


def demo_policy(**overrides: dict[str, Any]) -> Policy:
    """The demo policy file, with some sections' keys overridden."""
    with DEMO_POLICY.open("rb") as file:
        data = tomllib.load(file)
    for section, values in overrides.items():
        data.setdefault(section, {}).update(values)
    return Policy.model_validate(data)


class Wire(httpx.AsyncBaseTransport):
    """The real ASGI transport, recording requests and able to fail the next one (a network fault)."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        self._inner = inner
        self.fault: httpx.TransportError | None = None
        self.fault_after_backend = False
        self.requests: list[tuple[str, str]] = []
        self.request_ids: list[tuple[str, str | None]] = []
        """(path, Idempotency-Key or None) of every request."""
        self.token: str | None = None

    def fail_next(self, fault: httpx.TransportError, *, after_backend: bool = False) -> None:
        """Fail the next request: before it reaches the backend, or after the backend handled it."""
        self.fault, self.fault_after_backend = fault, after_backend

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward the request (or fail it); note the session token a new session answers with."""
        self.requests.append((request.method, request.url.path))
        self.request_ids.append((request.url.path, request.headers.get("Idempotency-Key")))
        fault, self.fault = self.fault, None
        if fault is not None and not self.fault_after_backend:
            raise fault
        response = await self._inner.handle_async_request(request)
        if fault is not None:
            raise fault
        if request.url.path == "/v1/sessions" and response.status_code == 201:
            body = await response.aread()
            self.token = json.loads(body)["token"]
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        return response

    async def aclose(self) -> None:
        """Close the real transport."""
        await self._inner.aclose()


@dataclass
class Kiosk:
    """A flow, its real backend and the wire between them."""

    flow: RecoveryFlow
    client: BackendClient
    backend: Backend
    clock: ManualClock
    wire: Wire

    def calls(self, method: str, path: str) -> int:
        """How many times a route was called over the wire."""
        return self.wire.requests.count((method, path))

    async def captcha(self) -> str:
        """The current CAPTCHA's answer (what a person reads off the picture)."""
        assert self.wire.token is not None, "no session was opened"
        return await self.backend.captcha_text_for_test(self.wire.token)

    async def session_alive(self, token: str) -> bool:
        """True while the backend still knows the session of `token`."""
        try:
            await self.backend.captcha_text_for_test(token)
        except Exception:  # noqa: BLE001 - the hook raises the backend's own error type for a dead session
            return False
        return True

    async def identify(self, user_id: str) -> Step:
        """Type the user ID and solve the CAPTCHA."""
        return await self.flow.submit(IdentifyAnswer(user_id=user_id, captcha=await self.captcha()))

    async def sign_in(self, user_id: str, password: str = DEMO_PASSWORD) -> Step:
        """Type the user ID and current password, and solve the CAPTCHA (the change and registration sign-in)."""
        return await self.flow.submit(SignInAnswer(user_id=user_id, password=password, captcha=await self.captcha()))

    async def emailed_code(self, address: str) -> str:
        """The latest code e-mailed (or texted, given a phone number) to `address`."""
        messages = [message for message in await self.backend.outbox() if message.to == address]
        assert messages, f"nothing was sent to {address}"
        match = re.search(r"\b(\d{6,10})\b", messages[-1].body)
        assert match is not None
        return match.group(1)

    async def app_code(self, login: str) -> str:
        """The current authenticator-app code of a demo user (what their phone shows)."""
        authenticator = await self.client.dev_authenticator()
        return next(code.code for code in authenticator.codes if code.user_id == login)


@asynccontextmanager
async def open_kiosk(policy: Policy) -> AsyncIterator[Kiosk]:
    """A recovery flow talking to a freshly seeded real backend with `policy` and a manual clock."""
    clock = ManualClock(START)
    backend = await Backend.open(policy, clock=clock, kiosk_id="test-kiosk")
    wire = Wire(httpx.ASGITransport(app=backend.asgi, raise_app_exceptions=False))
    http = httpx.AsyncClient(transport=wire, base_url="http://embedded", timeout=request_timeouts(10.0))
    client = BackendClient(http)
    flow = RecoveryFlow(client, policy, kiosk_id="test-kiosk", locale=lambda: "en")
    try:
        yield Kiosk(flow=flow, client=client, backend=backend, clock=clock, wire=wire)
    finally:
        await client.aclose()
        await backend.close()
