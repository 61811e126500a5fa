"""Throttles (SPEC §4, issue 4 item 3): per user, per kiosk and per source address, kept in the store.

Time only moves by the ManualClock; nothing sleeps.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.policy.loader import check_policy_text
from kiosk.policy.schema import LimitSettings, Method, Policy
from kiosk.services.api import SessionView, Stage
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.hashing import Hashing
from kiosk.services.backend.recovery.throttle import (
    BLOCK_FOR,
    KIOSK_DISTINCT_USERS,
    KIOSK_WINDOW,
    USER_LIMITS,
    Event,
    Limits,
)

from .conftest import GOOD_PASSWORD, START, Kiosk, demo_policy, kiosk_for


@pytest.fixture
async def backend(policy: Policy, clock: ManualClock) -> AsyncIterator[Backend]:
    """A backend whose hashing queue admits the parallel bursts below (up to 24 at once): what they test
    is the throttles under concurrency; a full queue's `busy` answers are test_capacity's subject."""
    opened = await Backend.open(policy, clock=clock, kiosk_id="test-kiosk", hashing=Hashing(queue=32))
    yield opened
    await opened.close()


def _wrong(code: str) -> str:
    return "1" * len(code) if code != "1" * len(code) else "2" * len(code)


def _blocked(payload: dict[str, Any], clock: ManualClock) -> datetime:
    """The end of the block an error body announces: 24 h from now."""
    until = datetime.fromisoformat(payload["blocked_until"])
    assert until == clock.now() + BLOCK_FOR
    return until


async def _identify_blocked(kiosk: Kiosk, user_id: str) -> dict[str, Any]:
    await kiosk.open()
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    return await kiosk.error(
        "POST", "/session/identify", {"user_id": user_id, "captcha": captcha}, 429, "too_many_attempts"
    )


async def _fail_proofs(kiosk: Kiosk, count: int) -> list[dict[str, Any]]:
    """`count` wrong e-mail codes for emma, in one session (4 at most before the code burns)."""
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    code = await kiosk.sent_code()
    bodies = []
    for _ in range(count):
        response = await kiosk.request("POST", "/session/code", {"code": _wrong(code)})
        bodies.append(response.json())
    return bodies


async def test_limits_are_never_looser_than_the_spec() -> None:
    assert USER_LIMITS[Event.FAILED_PROOF].count <= 5 and USER_LIMITS[Event.FAILED_PROOF].window >= timedelta(hours=24)
    assert USER_LIMITS[Event.PHONE_ATTEMPT].count <= 5 and USER_LIMITS[Event.PHONE_ATTEMPT].window >= timedelta(hours=1)
    assert USER_LIMITS[Event.EMAIL].count <= 10 and USER_LIMITS[Event.EMAIL].window >= timedelta(minutes=10)
    assert USER_LIMITS[Event.RESET].count <= 5 and USER_LIMITS[Event.RESET].window >= timedelta(hours=1)
    assert BLOCK_FOR >= timedelta(hours=24)


async def test_fifth_failed_proof_blocks_for_24_hours(kiosk: Kiosk, backend: Backend, clock: ManualClock) -> None:
    assert not await backend.directory.is_locked("emma")
    bodies = await _fail_proofs(kiosk, 4)
    assert [b["code"] for b in bodies] == ["code_wrong"] * 4
    # A new session (the first code has one try left): the 5th failed proof in 24 h trips the block.
    clock.advance(3600)
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    code = await kiosk.sent_code()
    payload = await kiosk.error("POST", "/session/code", {"code": _wrong(code)}, 429, "too_many_attempts")
    until = _blocked(payload, clock)
    # Blocked everywhere: even the right code, and a new session.
    await kiosk.error("POST", "/session/code", {"code": code}, 429, "too_many_attempts")
    again = await _identify_blocked(kiosk, "emma")
    assert datetime.fromisoformat(again["blocked_until"]) == until
    # The block lives in the kiosk's store, never in the directory.
    assert not await backend.directory.is_locked("emma")
    records = await backend.audit_records()
    blocked = [r for r in records if r.event is AuditEvent.BLOCKED]
    assert blocked and all(r.user_id == "emma" for r in blocked)
    assert blocked[0].outcome == f"failed_proof:until={until.isoformat()}"
    # 24 h later the block is gone.
    clock.advance(BLOCK_FOR.total_seconds())
    assert (await kiosk.start("emma")).stage is Stage.CHOOSE_METHOD


async def test_failed_proofs_older_than_24_hours_do_not_count(kiosk: Kiosk, clock: ManualClock) -> None:
    await _fail_proofs(kiosk, 4)
    clock.advance(24 * 3600 + 1)
    bodies = await _fail_proofs(kiosk, 4)
    assert [b["code"] for b in bodies] == ["code_wrong"] * 4


async def test_sixth_phone_attempt_in_an_hour_blocks(kiosk: Kiosk, clock: ManualClock) -> None:
    await kiosk.start("tara")
    await kiosk.choose(Method.MOBILE_SMS)  # 1st SMS
    for _ in range(4):  # 2nd … 5th
        await kiosk.ok("POST", "/session/code/resend")
    payload = await kiosk.error("POST", "/session/code/resend", None, 429, "too_many_attempts")
    _blocked(payload, clock)
    await _identify_blocked(kiosk, "tara")


async def test_phone_attempts_older_than_an_hour_do_not_count(kiosk: Kiosk, clock: ManualClock) -> None:
    await kiosk.start("tara")
    await kiosk.choose(Method.MOBILE_SMS)
    for _ in range(4):
        await kiosk.ok("POST", "/session/code/resend")
    clock.advance(3601)
    await kiosk.start("tara")
    await kiosk.choose(Method.MOBILE_SMS)


async def test_more_than_ten_emails_in_ten_minutes_blocks(kiosk: Kiosk, clock: ManualClock) -> None:
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)  # 1st e-mail
    for _ in range(9):  # 2nd … 10th
        await kiosk.ok("POST", "/session/code/resend")
    payload = await kiosk.error("POST", "/session/code/resend", None, 429, "too_many_attempts")
    _blocked(payload, clock)


async def test_sixth_reset_in_an_hour_blocks(kiosk: Kiosk, backend: Backend, clock: ManualClock) -> None:
    for number in range(5):
        await kiosk.start("emma")
        await kiosk.pass_email()
        response = await kiosk.password(f"Lantern-Orbit-Meadow-{number}{number}")
        assert response.status_code == 200, response.text
        clock.advance(60)
    await kiosk.start("emma")
    await kiosk.pass_email()
    response = await kiosk.password("Lantern-Orbit-Meadow-99")
    assert response.status_code == 429 and response.json()["code"] == "too_many_attempts"
    _blocked(response.json(), clock)
    # The refused reset changed nothing.
    assert await backend.directory.verify_password("emma", "Lantern-Orbit-Meadow-44")
    await _identify_blocked(kiosk, "emma")


async def test_a_completed_reset_clears_the_counters(kiosk: Kiosk) -> None:
    await _fail_proofs(kiosk, 4)
    await kiosk.start("emma")
    await kiosk.pass_email()
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    bodies = await _fail_proofs(kiosk, 4)  # without the clearing, the first of these would block
    assert [b["code"] for b in bodies] == ["code_wrong"] * 4


async def test_a_completed_unlock_clears_the_counters(kiosk: Kiosk, backend: Backend) -> None:
    await _fail_proofs(kiosk, 4)
    await backend.directory.set_locked("emma", True)
    await kiosk.start("emma")
    await kiosk.pass_email()
    await kiosk.ok("POST", "/session/action", {"action": "unlock"})
    bodies = await _fail_proofs(kiosk, 4)
    assert [b["code"] for b in bodies] == ["code_wrong"] * 4


@pytest.mark.usefixtures("memory_keyring")  # the store file seals app secrets with the keyring's key
async def test_the_block_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    database = tmp_path / "kiosk.sqlite3"
    policy = demo_policy()
    first = await Backend.open(policy, clock=clock, database=database)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=first.asgi), base_url="http://kiosk") as http:
            kiosk = Kiosk(first, http)
            await _fail_proofs(kiosk, 4)
            bodies = await _fail_proofs(kiosk, 1)
            assert bodies[0]["code"] == "too_many_attempts"
    finally:
        await first.close()
    clock.advance(3600)
    second = await Backend.open(policy, clock=clock, database=database)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=second.asgi), base_url="http://kiosk") as http:
            payload = await _identify_blocked(Kiosk(second, http), "emma")
            assert datetime.fromisoformat(payload["blocked_until"]) == START + BLOCK_FOR
            assert not await second.directory.is_locked("emma")
    finally:
        await second.close()


async def test_parallel_wrong_guesses_in_one_session_never_exceed_the_limit(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    code = await kiosk.sent_code()
    responses = await asyncio.gather(
        *(kiosk.request("POST", "/session/code", {"code": _wrong(code)}) for _ in range(12))
    )
    codes = sorted(r.json()["code"] for r in responses)
    assert codes == ["code_wrong"] * 4 + ["too_many_attempts"] * 8
    failed = [r for r in await backend.audit_records() if r.event is AuditEvent.GATE_FAILED]
    assert len(failed) == 5


async def test_parallel_wrong_guesses_across_sessions_never_exceed_the_limit(
    backend: Backend, http: httpx.AsyncClient
) -> None:
    kiosks = [Kiosk(backend, http) for _ in range(8)]
    codes = []
    for kiosk in kiosks:  # 8 e-mails: under the e-mail limit
        await kiosk.start("emma")
        await kiosk.choose(Method.EMAIL)
        codes.append(await kiosk.sent_code())
    responses = await asyncio.gather(
        *(
            kiosk.request("POST", "/session/code", {"code": _wrong(code)})
            for kiosk, code in zip(kiosks, codes, strict=True)
            for _ in range(3)
        )
    )
    answered = [r.json()["code"] for r in responses]
    assert answered.count("code_wrong") + answered.count("code_burned") <= 4
    # Only the newest session's code is live (a new code of a user supersedes the older ones): the
    # others answer code_expired without checking a guess; the rest is refused by the throttle.
    assert answered.count("too_many_attempts") + answered.count("code_expired") >= 20
    failed = [r for r in await backend.audit_records() if r.event is AuditEvent.GATE_FAILED]
    guesses = [r for r in failed if r.outcome != "expired"]
    assert len(guesses) <= 5  # never more than the limit of guesses was checked


async def test_two_parallel_correct_passwords_give_exactly_one_reset(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("emma")
    await kiosk.pass_email()
    first, second = await asyncio.gather(kiosk.password(GOOD_PASSWORD), kiosk.password("Quartz-Harbor-Violet-73"))
    assert sorted([first.status_code, second.status_code]) == [200, 409]
    resets = [r for r in await backend.audit_records() if r.event is AuditEvent.RESET and r.outcome == "ok"]
    assert len(resets) == 1


async def _identify_from(http: httpx.AsyncClient, backend: Backend, kiosk_id: str, user_id: str) -> httpx.Response:
    opened = await http.post("/v1/sessions", json={"kiosk_id": kiosk_id, "locale": "en"})
    token = opened.json()["token"]
    captcha = await backend.captcha_text_for_test(token)
    return await http.post(
        "/v1/session/identify",
        json={"user_id": user_id, "captcha": captcha},
        headers={"Authorization": f"Bearer {token}"},
    )


async def test_one_kiosk_cannot_sweep_many_accounts(
    backend: Backend, http: httpx.AsyncClient, clock: ManualClock
) -> None:
    for number in range(KIOSK_DISTINCT_USERS - 1):  # unknown IDs count too
        response = await _identify_from(http, backend, "lobby-1", f"nobody{number}")
        assert response.status_code == 200
    assert (await _identify_from(http, backend, "lobby-1", "emma")).status_code == 200
    clock.advance(60)
    refused = await _identify_from(http, backend, "lobby-1", "nobody-new")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
    assert datetime.fromisoformat(refused.json()["blocked_until"]) == START + KIOSK_WINDOW
    # An account this kiosk already saw still passes; so does a new one on another kiosk … from
    # another address (the in-process client always comes from the same address: see below).
    view = SessionView.model_validate_json((await _identify_from(http, backend, "lobby-1", "emma")).content)
    assert view.stage is Stage.CHOOSE_METHOD
    assert not await backend.directory.is_locked("emma")
    # Once the window has passed, the kiosk may identify new accounts again.
    clock.advance(KIOSK_WINDOW.total_seconds())
    assert (await _identify_from(http, backend, "lobby-1", "nobody-new")).status_code == 200


async def test_one_source_address_cannot_sweep_from_many_kiosk_ids(backend: Backend, http: httpx.AsyncClient) -> None:
    for number in range(KIOSK_DISTINCT_USERS):
        response = await _identify_from(http, backend, f"kiosk-{number}", f"nobody{number}")
        assert response.status_code == 200
    refused = await _identify_from(http, backend, "kiosk-new", "nobody-new")
    assert refused.status_code == 429 and refused.json()["code"] == "too_many_attempts"
    records = [r for r in await backend.audit_records() if r.event is AuditEvent.BLOCKED]
    assert records[-1].outcome.startswith("address_cap:")


async def test_the_default_limits_are_the_specs() -> None:
    defaults = Limits.from_settings(LimitSettings())
    assert defaults == Limits(USER_LIMITS, BLOCK_FOR, KIOSK_DISTINCT_USERS, KIOSK_WINDOW)


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("failed_proofs_per_day", 6),
        ("attempts_per_hour", 6),
        ("emails_per_10_minutes", 11),
        ("resets_per_hour", 6),
        ("block_hours", 23),
        ("kiosk_distinct_accounts", 0),
    ],
)
def test_a_policy_may_not_loosen_a_limit(key: str, value: int) -> None:
    text = f"[limits]\n{key} = {value}\n"
    [problem] = check_policy_text(text, "p.toml")
    assert problem.line == 2 and problem.key == f"limits.{key}"


async def test_a_stricter_policy_blocks_sooner_and_longer() -> None:
    limits = LimitSettings(failed_proofs_per_day=2, block_hours=48)
    clock = ManualClock(START)
    async with kiosk_for(demo_policy(limits=limits), clock) as kiosk:
        bodies = await _fail_proofs(kiosk, 2)
        assert [body["code"] for body in bodies] == ["code_wrong", "too_many_attempts"]
        assert datetime.fromisoformat(bodies[-1]["blocked_until"]) == clock.now() + timedelta(hours=48)


async def test_a_busy_lobby_may_raise_the_kiosk_cap() -> None:
    for cap, expected in ((3, 429), (50, 200)):
        policy = demo_policy(limits=LimitSettings(kiosk_distinct_accounts=cap))
        async with kiosk_for(policy) as kiosk:
            for number in range(3):
                first = await _identify_from(kiosk.http, kiosk.backend, "lobby-1", f"nobody{number}")
                assert first.status_code == 200
            response = await _identify_from(kiosk.http, kiosk.backend, "lobby-1", "emma")
            assert response.status_code == expected
