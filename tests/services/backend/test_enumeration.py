"""No account enumeration: a stranger cannot tell an unknown, disabled, ineligible or eligible user ID
apart, from the answers (status, shape, content) or from the work behind them (a proxy for timing;
the measured timing is in bench/enumeration.py)."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from kiosk.policy.schema import Method
from kiosk.services.backend import Backend, ManualClock, hashing
from kiosk.services.backend.recovery.throttle import USER_LIMITS, Event

from .conftest import Kiosk, kiosk_for

# unknown, disabled, not enabled, nothing registered, password on premises, eligible, administrator,
# two-gate group, questions only, app only
USER_IDS = ["nobody@contoso.com", "dana", "nora", "fay", "owen", "emma", "adele", "tara", "quinn", "alex"]


def _comparable(response: httpx.Response) -> tuple[int, list[str], dict[str, Any]]:
    """What a stranger sees of a response, minus what differs per request anyway."""
    body: dict[str, Any] = response.json()
    body.pop("correlation_id", None)
    headers = sorted(name for name in response.headers if name.lower() != "content-length")
    return response.status_code, headers, body


async def _identify(kiosk: Kiosk, user_id: str) -> httpx.Response:
    await kiosk.open()
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    return await kiosk.request("POST", "/session/identify", {"user_id": user_id, "captcha": captcha})


async def test_identify_answers_every_user_id_alike(kiosk: Kiosk) -> None:
    seen = {user_id: _comparable(await _identify(kiosk, user_id)) for user_id in USER_IDS}
    first = seen[USER_IDS[0]]
    assert first[0] == 200 and first[2]["stage"] == "choose_method" and first[2]["refusal"] is None
    for user_id, answer in seen.items():
        assert answer == first, user_id


@pytest.mark.parametrize("method", [Method.EMAIL, Method.MOBILE_SMS, Method.APP_CODE])
async def test_code_gates_answer_alike(kiosk: Kiosk, method: Method) -> None:
    chosen, wrong = {}, {}
    for user_id in USER_IDS:
        await _identify(kiosk, user_id)
        chosen[user_id] = _comparable(await kiosk.request("POST", "/session/method", {"method": method.value}))
        wrong[user_id] = _comparable(
            await kiosk.request("POST", "/session/code", {"code": "00000000"[: 6 if method is Method.APP_CODE else 8]})
        )
    for table in (chosen, wrong):
        first = table[USER_IDS[0]]
        assert all(answer == first for answer in table.values()), table
    assert chosen[USER_IDS[0]][2]["code"]["masked_target"] is None
    assert wrong[USER_IDS[0]][0] == 400


async def test_questions_look_alike_and_are_stable_for_an_unknown_id(kiosk: Kiosk, clock: ManualClock) -> None:
    shapes = {}
    for user_id in USER_IDS:
        await _identify(kiosk, user_id)
        response = await kiosk.request("POST", "/session/method", {"method": "security_questions"})
        status, headers, body = _comparable(response)
        asked = body.pop("questions")
        assert [q["id"] for q in asked] == ["q1", "q2", "q3"] and all(q["predefined_id"] for q in asked)
        shapes[user_id] = (status, headers, body)
    assert all(shape == shapes[USER_IDS[0]] for shape in shapes.values())

    async def pool_of(user_id: str) -> set[str]:
        # The union over several visits approaches the ID's 'registered' set, as for a real account.
        found: set[str] = set()
        for _ in range(8):
            clock.advance(60)  # visits a minute apart: one kiosk may open 30 sessions in 10 minutes
            await _identify(kiosk, user_id)
            view = await kiosk.choose(Method.SECURITY_QUESTIONS)
            found |= {q.predefined_id or "" for q in view.questions}
        return found

    ghost = await pool_of("ghost.user@contoso.com")
    assert len(ghost) == 3  # number_to_register of the policy: the same three every visit
    assert await pool_of("Ghost.User@contoso.com ") == ghost  # the same ID, however it is typed
    other_pools = {frozenset(await pool_of(f"ghost{n}@contoso.com")) for n in range(4)}
    assert len(other_pools | {frozenset(ghost)}) > 1  # keyed per ID, not one fixed set for all


async def test_a_decoy_gate_cannot_be_passed(kiosk: Kiosk, backend: Backend) -> None:
    await _identify(kiosk, "nobody@contoso.com")
    await kiosk.choose(Method.EMAIL)
    codes = await backend._rt.store.call(lambda db: db.execute("SELECT code_hash, target FROM codes").fetchall())
    assert [row["target"] for row in codes] == [""] and codes[0]["code_hash"].startswith("$argon2")
    for code in ("00000000", "12345678", "99999999"):
        await kiosk.error("POST", "/session/code", {"code": code}, 400, "code_wrong")
    assert await backend.outbox() == []


async def test_throttles_treat_an_unknown_id_like_an_account(kiosk: Kiosk) -> None:
    limit = USER_LIMITS[Event.FAILED_PROOF].count
    answers: dict[str, list[tuple[int, str]]] = {}
    for user_id in ("nobody@contoso.com", "emma"):
        trail = []
        for _ in range(limit):
            await _identify(kiosk, user_id)
            await kiosk.choose(Method.APP_CODE)
            response = await kiosk.request("POST", "/session/code", {"code": "000000"})
            trail.append((response.status_code, response.json()["code"]))
        response = await _identify(kiosk, user_id)
        trail.append((response.status_code, response.json()["code"]))
        answers[user_id] = trail
    assert answers["nobody@contoso.com"] == answers["emma"]
    assert answers["emma"][-1] == (429, "too_many_attempts")


async def test_the_work_behind_each_answer_is_the_same(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Directory lookups and argon2 checks per step are what take time; they are the same for all."""
    work: Counter[str] = Counter()
    find_user = backend.directory.find_user
    user_by_login = backend.directory.user_by_login
    verify = hashing._verify

    async def counted_find(user_id: str) -> Any:
        work["lookup"] += 1
        return await find_user(user_id)

    async def counted_by_login(login: str) -> Any:
        work["lookup"] += 1
        return await user_by_login(login)

    def counted_verify(*args: Any) -> bool:
        work["argon2"] += 1
        return verify(*args)

    monkeypatch.setattr(backend.directory, "find_user", counted_find)
    monkeypatch.setattr(backend.directory, "user_by_login", counted_by_login)
    monkeypatch.setattr(hashing, "_verify", counted_verify)
    steps: dict[str, list[Counter[str]]] = {}
    for user_id in USER_IDS:
        trail = []
        for step in ("identify", "questions", "answers"):
            work.clear()
            if step == "identify":
                await _identify(kiosk, user_id)
            elif step == "questions":
                await kiosk.request("POST", "/session/method", {"method": "security_questions"})
            else:
                view = await kiosk.ok("GET", "/session")
                await kiosk.answer(view, {q.predefined_id or "": "wrong" for q in view.questions})
            trail.append(Counter(work))
        steps[user_id] = trail
    first = steps[USER_IDS[0]]
    assert first[0]["lookup"] >= 1 and first[2]["argon2"] == 3
    for user_id, trail in steps.items():
        assert trail == first, user_id


async def test_early_refusals_tell_at_once_when_the_policy_asks_for_it() -> None:
    """The opt-in trade-off is real: with it, the answers do differ (documented in the README)."""
    from .test_refusals import early

    async with kiosk_for(early()) as kiosk:
        unknown = _comparable(await _identify(kiosk, "nobody@contoso.com"))
        eligible = _comparable(await _identify(kiosk, "emma"))
        assert unknown[2]["stage"] == "refused" and eligible[2]["stage"] == "choose_method"
