"""A property of the sign-in, as an attacker would probe it: whatever user ID and password are typed, only
an enabled, unlocked account's own password signs in, and every other try answers the same bytes."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.services.backend import Backend, ManualClock

from ..conftest import DEMO_PASSWORD, START, demo_policy

KNOWN_IDS = ("emma", "EMMA", "emma.jansen@contoso.com", "luke", "dana", "owen", "nora", "adele", "nobody", "fay")
"""Real logins and aliases (any case), a locked and a disabled account, and an ID that is no account."""
printable = st.characters(min_codepoint=0x20, max_codepoint=0x7E)
user_ids = st.sampled_from(KNOWN_IDS) | st.text(alphabet=printable, min_size=1, max_size=40).filter(str.strip)
passwords = st.sampled_from((DEMO_PASSWORD, DEMO_PASSWORD.lower(), DEMO_PASSWORD + " ")) | st.text(
    alphabet=printable, min_size=1, max_size=40
)


def _bytes(response: httpx.Response) -> bytes:
    return response.content.replace(response.headers["X-Correlation-Id"].encode(), b"<cid>")


def test_only_the_accounts_own_password_signs_in_and_every_failure_looks_the_same() -> None:
    loop = asyncio.new_event_loop()
    clock = ManualClock(START)
    backend = loop.run_until_complete(Backend.open(demo_policy(), clock=clock))
    http = httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk")
    failures: set[bytes] = set()
    outcomes = {"in": 0, "out": 0}

    async def attempt(user_id: str, password: str) -> None:
        # A day on each time: no earlier try's counters or blocks, nor the kiosk's caps, are in the way.
        clock.advance(timedelta(hours=25).total_seconds())
        opened = await http.post("/v1/sessions", json={"kiosk_id": "k", "locale": "en", "flow": "change"})
        token = opened.json()["token"]
        captcha = await backend.captcha_text_for_test(token)
        response = await http.post(
            "/v1/session/sign-in",
            json={"user_id": user_id, "password": password, "captcha": captcha},
            headers={"Authorization": f"Bearer {token}"},
        )
        user = await backend.directory.find_user(user_id)
        expected = user is not None and user.enabled and not user.locked and password == DEMO_PASSWORD
        if expected:
            assert response.status_code == 200, (user_id, response.text)
            assert response.json()["stage"] in ("new_password", "refused")
            outcomes["in"] += 1
        else:
            assert response.status_code == 400 and response.json()["code"] == "sign_in_failed", (user_id, response.text)
            failures.add(_bytes(response))
            outcomes["out"] += 1

    @settings(max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(user_id=user_ids, password=passwords)
    def property_holds(user_id: str, password: str) -> None:
        loop.run_until_complete(attempt(user_id, password))

    try:
        property_holds()
        # The controls: a right and a wrong pair each happened at least once, and every failure was one body.
        loop.run_until_complete(attempt("emma", DEMO_PASSWORD))
        loop.run_until_complete(attempt("emma", "Not-Her-Password-1"))
        assert outcomes["in"] >= 1 and outcomes["out"] >= 1
        assert len(failures) == 1
    finally:
        loop.run_until_complete(http.aclose())
        loop.run_until_complete(backend.close())
        loop.close()
