"""Opening sessions and drawing CAPTCHAs are throttled (issue 11, finding 12).

Every `POST /v1/sessions` draws a CAPTCHA picture, so opening is limited per kiosk id and per source
address (`limits.kiosk_sessions_per_10_minutes`, 30 in a sliding 10 minutes) and refused with 429
`too_many_attempts` BEFORE anything is drawn; and one session may ask for at most
`limits.captchas_per_session` (20) new CAPTCHAs (new picture, picture check, audio). Time only moves
by the ManualClock; the source address is the ASGI client's, set per test client.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from kiosk.policy.loader import check_policy_text
from kiosk.policy.schema import CaptchaSettings, LimitSettings
from kiosk.services.api import ErrorCode
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.http.openapi import build_document
from kiosk.services.backend.http.routes import active_routes
from kiosk.services.backend.human_check import captcha, pictures

from .conftest import START, demo_policy, kiosk_for

SESSIONS = 30
"""The default number of sessions one kiosk id, and one source address, may open …"""
WINDOW = timedelta(minutes=10)
"""… in this sliding window."""
CAPTCHAS = 20
"""The default number of new CAPTCHAs (picture, picture check, audio) one session may ask for."""
SESSION_LIFETIME = timedelta(minutes=15)


@pytest.fixture
def renders(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every CAPTCHA drawn or spoken from now on, by kind (the real renderers still run)."""
    drawn: list[str] = []

    def counting(kind: str, original: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        async def render(*args: Any, **kwargs: Any) -> Any:
            drawn.append(kind)
            return await original(*args, **kwargs)

        return render

    monkeypatch.setattr(captcha, "render_image", counting("image", captcha.render_image))
    monkeypatch.setattr(captcha, "render_audio", counting("audio", captcha.render_audio))
    monkeypatch.setattr(pictures, "render", counting("pictures", pictures.render))
    return drawn


async def open_from(backend: Backend, address: str, kiosk_id: str = "lobby-1") -> httpx.Response:
    """`POST /v1/sessions` from `address` (the ASGI client the backend sees) naming `kiosk_id`."""
    transport = httpx.ASGITransport(app=backend.asgi, client=(address, 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://kiosk") as http:
        return await http.post("/v1/sessions", json={"kiosk_id": kiosk_id, "locale": "en"})


def refused_until(response: httpx.Response) -> datetime:
    """The end of the refusal a 429 announces."""
    assert response.status_code == 429, response.text
    payload = response.json()
    assert payload["code"] == "too_many_attempts" and payload["message_key"] == "error.too_many_attempts"
    assert payload["correlation_id"] == response.headers["X-Correlation-Id"]
    return datetime.fromisoformat(payload["blocked_until"])


async def opened_count(backend: Backend) -> int:
    return sum(1 for r in await backend.audit_records() if r.event is AuditEvent.SESSION_OPENED)


# ------------------------------------------------------------------------------ opening


async def test_one_kiosk_id_opens_30_sessions_then_is_refused_before_any_captcha_is_drawn(
    backend: Backend, renders: list[str]
) -> None:
    # From 31 different addresses, so only the per-kiosk limit can trip.
    for number in range(SESSIONS):
        response = await open_from(backend, f"10.0.0.{number + 1}")
        assert response.status_code == 201, response.text
    assert renders == ["image"] * SESSIONS
    refused = await open_from(backend, "10.0.1.1")
    assert refused_until(refused) == START + WINDOW
    assert renders == ["image"] * SESSIONS  # nothing drawn for the refused one
    assert await opened_count(backend) == SESSIONS  # and no session made
    # Audited without a session: no reference, no user; the kiosk id and what tripped.
    [blocked] = [r for r in await backend.audit_records() if r.event is AuditEvent.BLOCKED]
    assert (blocked.kiosk_id, blocked.reference, blocked.user_id) == ("lobby-1", "", "")
    assert blocked.outcome == f"kiosk_sessions:until={(START + WINDOW).isoformat()}"
    assert blocked.correlation_id == refused.headers["X-Correlation-Id"]
    # Other kiosks are not affected, from that same address too.
    assert (await open_from(backend, "10.0.1.1", "lobby-2")).status_code == 201


async def test_a_foreign_kiosk_id_is_no_way_around_the_per_address_limit(
    backend: Backend, renders: list[str]
) -> None:
    for number in range(SESSIONS):
        response = await open_from(backend, "192.0.2.7", f"kiosk-{number}")
        assert response.status_code == 201, response.text
    for kiosk_id in ("kiosk-new", "lobby-1", "test-kiosk", ""):
        refused = await open_from(backend, "192.0.2.7", kiosk_id)
        assert refused_until(refused) == START + WINDOW
    assert len(renders) == SESSIONS
    blocked = [r for r in await backend.audit_records() if r.event is AuditEvent.BLOCKED]
    assert [r.outcome.partition(":")[0] for r in blocked] == ["address_sessions"] * 4
    # Another address is not affected, even naming the same kiosk ids.
    assert (await open_from(backend, "192.0.2.8", "kiosk-new")).status_code == 201
    assert (await open_from(backend, "192.0.2.8", "kiosk-0")).status_code == 201


async def test_the_window_slides(backend: Backend, clock: ManualClock, renders: list[str]) -> None:
    first = clock.now()
    for _ in range(SESSIONS // 2):
        assert (await open_from(backend, "10.0.0.1")).status_code == 201
    clock.advance(5 * 60)
    second = clock.now()
    for _ in range(SESSIONS - SESSIONS // 2):
        assert (await open_from(backend, "10.0.0.1")).status_code == 201
    assert refused_until(await open_from(backend, "10.0.0.1")) == first + WINDOW
    clock.advance(4 * 60 + 59)  # one second short of the first ones leaving
    assert refused_until(await open_from(backend, "10.0.0.1")) == first + WINDOW
    clock.advance(1)  # the first half has left the window; the second is still in it
    for _ in range(SESSIONS // 2):
        assert (await open_from(backend, "10.0.0.1")).status_code == 201
    assert refused_until(await open_from(backend, "10.0.0.1")) == second + WINDOW
    assert len(renders) == SESSIONS + SESSIONS // 2


async def test_parallel_opens_never_exceed_the_limit(backend: Backend, renders: list[str]) -> None:
    responses = await asyncio.gather(*(open_from(backend, "10.0.0.1") for _ in range(SESSIONS + 12)))
    statuses = sorted(response.status_code for response in responses)
    assert statuses == [201] * SESSIONS + [429] * 12
    assert len(renders) == SESSIONS
    assert await opened_count(backend) == SESSIONS


async def test_parallel_opens_from_many_addresses_never_exceed_the_kiosk_limit(
    backend: Backend, renders: list[str]
) -> None:
    responses = await asyncio.gather(*(open_from(backend, f"10.0.1.{n + 1}") for n in range(SESSIONS + 12)))
    assert sorted(response.status_code for response in responses) == [201] * SESSIONS + [429] * 12
    assert len(renders) == SESSIONS


async def test_the_limit_is_set_in_the_policy() -> None:
    for limit, expected in ((3, 429), (100, 201)):
        policy = demo_policy(limits=LimitSettings(kiosk_sessions_per_10_minutes=limit))
        async with kiosk_for(policy) as kiosk:
            for _ in range(3):
                assert (await open_from(kiosk.backend, "10.0.0.1")).status_code == 201
            assert (await open_from(kiosk.backend, "10.0.0.1")).status_code == expected
            if expected == 201:
                for _ in range(SESSIONS - 4):
                    assert (await open_from(kiosk.backend, "10.0.0.1")).status_code == 201
                assert (await open_from(kiosk.backend, "10.0.0.1")).status_code == 201  # the 31st


def test_the_defaults() -> None:
    limits = LimitSettings()
    assert (limits.kiosk_sessions_per_10_minutes, limits.captchas_per_session) == (SESSIONS, CAPTCHAS)


@pytest.mark.parametrize(("key", "value"), [("kiosk_sessions_per_10_minutes", 0), ("captchas_per_session", 0)])
def test_a_policy_may_not_switch_a_limit_off(key: str, value: int) -> None:
    [problem] = check_policy_text(f"[limits]\n{key} = {value}\n", "p.toml")
    assert problem.line == 2 and problem.key == f"limits.{key}"


# ------------------------------------------------------------------------------ CAPTCHAs of one session


async def test_one_session_may_ask_for_20_new_captchas_of_any_kind(renders: list[str]) -> None:
    policy = demo_policy(captcha=CaptchaSettings(audio=True, no_transcription_alternative=True))
    async with kiosk_for(policy, ManualClock(START)) as kiosk:
        await kiosk.open()
        routes = [
            ("POST", "/session/captcha"),
            ("GET", "/session/captcha/audio"),
            ("POST", "/session/captcha/pictures"),
        ]
        for number in range(CAPTCHAS):  # a new picture, it read aloud, a picture check, again …
            method, path = routes[number % 3]
            response = await kiosk.request(method, path)
            assert response.status_code == 200, response.text
        assert renders == ["image"] + [("image", "audio", "pictures")[n % 3] for n in range(CAPTCHAS)]
        drawn = list(renders)
        for method, path in routes:
            refused = await kiosk.request(method, path)
            # The session cannot ask for more: until it ends (a new session starts over).
            assert refused_until(refused) == START + SESSION_LIFETIME
        assert renders == drawn
        records = await kiosk.backend.audit_records()
        blocked = [r for r in records if r.event is AuditEvent.BLOCKED]
        opened = next(r for r in records if r.event is AuditEvent.SESSION_OPENED)
        assert len(blocked) == 3 and all(r.reference == opened.reference for r in blocked)
        assert blocked[0].outcome == f"session_captchas:until={(START + SESSION_LIFETIME).isoformat()}"
        # The CAPTCHA on show still works: the refusal changed nothing.
        assert (await kiosk.identify("emma")).stage.value == "choose_method"
        # Another session of the same kiosk starts over.
        await kiosk.open()
        assert (await kiosk.request("POST", "/session/captcha")).status_code == 200


async def test_many_parallel_refreshes_of_one_session_never_exceed_the_limit(renders: list[str]) -> None:
    async with kiosk_for(demo_policy(), ManualClock(START)) as kiosk:
        await kiosk.open()
        responses = await asyncio.gather(*(kiosk.request("POST", "/session/captcha") for _ in range(CAPTCHAS + 10)))
        assert sorted(r.status_code for r in responses) == [200] * CAPTCHAS + [429] * 10
        assert len(renders) == 1 + CAPTCHAS


async def test_the_captcha_limit_is_set_in_the_policy(renders: list[str]) -> None:
    async with kiosk_for(demo_policy(limits=LimitSettings(captchas_per_session=2)), ManualClock(START)) as kiosk:
        await kiosk.open()
        for _ in range(2):
            assert (await kiosk.request("POST", "/session/captcha")).status_code == 200
        assert (await kiosk.request("POST", "/session/captcha")).status_code == 429
        assert (await kiosk.request("GET", "/session/captcha/audio")).status_code == 429


# ------------------------------------------------------------------------------ documented


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/v1/sessions"),
        ("post", "/v1/session/captcha"),
        ("post", "/v1/session/captcha/pictures"),
        ("get", "/v1/session/captcha/audio"),
    ],
)
def test_the_routes_that_can_refuse_say_so(method: str, path: str) -> None:
    [spec] = [s for s in active_routes(demo=True) if s.path == path and s.method.lower() == method]
    assert ErrorCode.TOO_MANY_ATTEMPTS in spec.all_errors
    document = build_document(active_routes(demo=True))
    assert "429" in document["paths"][path][method]["responses"]
