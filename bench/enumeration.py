"""Identify latency per kind of user ID: can a stranger tell accounts apart by timing? (SPEC §4)

Opens a demo backend in-process (embedded directory, the real HTTP app over httpx's ASGI
transport) and times `POST /v1/session/identify` for an unknown ID, a disabled account, an
ineligible one (not enabled) and an eligible one, interleaved so machine noise hits all alike.
Prints the median, the 10th/90th percentiles and, for each kind against the unknown ID, the
difference of medians and a Mann-Whitney U test (p < 0.01 would mean the two are told apart). Then
the same for choosing security questions (the decoy's questions against a real account's).

Then delivery (issue 11, finding 2): the steps that send a code (choose e-mail, send a new code) and
the wrong code after them, through a slow sender (150 ms per message, like a distant SMTP relay) and a
failing one (every message refused), for IDs whose code is really sent (an eligible account, an
ineligible one, told after its code) and IDs that get a decoy (unknown, nothing registered). Each
step's status must be the same for all, and its time too: the request only queues the message, the
delivery worker sends it in the background (`kiosk/services/backend/delivery/queue.py`).

    python bench/enumeration.py [--rounds N] [--only identify|delivery]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import random
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from kiosk.policy.schema import (
    DirectorySettings,
    EmbeddedDirectorySettings,
    EnabledFor,
    Method,
    Policy,
    ResetSettings,
)
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.delivery.sender import DeliveryError, DeliveryFailure, Sender

KINDS = {
    "unknown": "nobody.here@contoso.com",
    "disabled": "dana",
    "ineligible": "nora",
    "eligible": "emma",
    "questions": "quinn",  # eligible, with registered security questions: real questions, real hashes
}


def mann_whitney_p(first: list[float], second: list[float]) -> float:
    """Two-sided p-value of the Mann-Whitney U test (normal approximation; fine for n ≥ 20)."""
    ranked = sorted([(value, 0) for value in first] + [(value, 1) for value in second])
    ranks = [0.0] * len(ranked)
    index = 0
    while index < len(ranked):  # average ranks over ties
        end = index
        while end + 1 < len(ranked) and ranked[end + 1][0] == ranked[index][0]:
            end += 1
        for position in range(index, end + 1):
            ranks[position] = (index + end) / 2 + 1
        index = end + 1
    n1, n2 = len(first), len(second)
    rank_sum = sum(rank for rank, (_, group) in zip(ranks, ranked, strict=True) if group == 0)
    u = rank_sum - n1 * (n1 + 1) / 2
    mean, sd = n1 * n2 / 2, math.sqrt(n1 * n2 * (n1 + n2 + 1) / 12)
    z = (u - mean) / sd if sd else 0.0
    return math.erfc(abs(z) / math.sqrt(2))


async def _timed(
    http: httpx.AsyncClient, path: str, body: dict[str, Any] | None, headers: dict[str, str], status: int = 200
) -> float:
    started = time.perf_counter()
    response = await http.post(path, json=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == status, response.text
    return elapsed * 1000


async def measure(rounds: int) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per step and kind over `rounds` interleaved rounds."""
    policy = Policy(
        reset=ResetSettings(enabled_for=EnabledFor.GROUP, groups=("SSPR-Users",)),
        directory=DirectorySettings(embedded=EmbeddedDirectorySettings(seed_demo_users=True)),
    )
    clock = ManualClock(datetime.now(UTC))
    backend = await Backend.open(policy, clock=clock, kiosk_id="bench")
    results: dict[str, dict[str, list[float]]] = {"identify": {}, "questions": {}}
    try:
        transport = httpx.ASGITransport(app=backend.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for round_number in range(rounds + 3):  # the first rounds warm caches up, not counted
                clock.advance(24 * 3600)  # throttles and caps start afresh every round
                for kind, user_id in KINDS.items():
                    opened = await http.post("/v1/sessions", json={"kiosk_id": f"bench-{round_number}"})
                    headers = {"Authorization": f"Bearer {opened.json()['token']}"}
                    captcha = await backend.captcha_text_for_test(opened.json()["token"])
                    body = {"user_id": user_id, "captcha": captcha}
                    identify = await _timed(http, "/v1/session/identify", body, headers)
                    method = {"method": "security_questions"}
                    questions = await _timed(http, "/v1/session/method", method, headers)
                    if round_number >= 3:
                        results["identify"].setdefault(kind, []).append(identify)
                        results["questions"].setdefault(kind, []).append(questions)
    finally:
        await backend.close()
    return results


SENDER_DELAY = 0.150
"""Seconds the slow sender takes per message (the issue measured 258 ms against 98 ms with it, inline)."""

DELIVERY_KINDS = {
    "unknown": "nobody.here@contoso.com",  # decoy: no account
    "nothing": "fay",  # decoy: an account with nothing registered
    "ineligible": "nora",  # real send: not enabled, told after the code
    "eligible": "emma",  # real send
}


class SlowSender:
    """Takes `SENDER_DELAY` per message, then drops it (as if a distant relay accepted it)."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        await asyncio.sleep(SENDER_DELAY)
        self.sent += 1


class FailingSender:
    """Refuses every message (a relay that is down)."""

    def __init__(self) -> None:
        self.sent = 0

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        self.sent += 1
        raise DeliveryError(DeliveryFailure.UNREACHABLE, "bench")


async def measure_delivery(rounds: int, sender: Sender) -> dict[str, dict[str, list[float]]]:
    """Milliseconds per code step and kind over `rounds` interleaved rounds, messages going to `sender`."""
    policy = Policy(
        reset=ResetSettings(enabled_for=EnabledFor.GROUP, groups=("SSPR-Users",)),
        directory=DirectorySettings(embedded=EmbeddedDirectorySettings(seed_demo_users=True)),
    )
    clock = ManualClock(datetime.now(UTC))
    backend = await Backend.open(policy, clock=clock, kiosk_id="bench", sender=sender)
    results: dict[str, dict[str, list[float]]] = {"choose e-mail": {}, "send a new code": {}, "wrong code": {}}
    order = random.Random(11)  # a new order every round (the same every run): no kind is always first
    try:
        transport = httpx.ASGITransport(app=backend.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for round_number in range(rounds + 3):  # the first rounds warm caches up, not counted
                clock.advance(24 * 3600)  # throttles and caps start afresh every round
                kinds = list(DELIVERY_KINDS.items())
                order.shuffle(kinds)
                for kind, user_id in kinds:
                    opened = await http.post("/v1/sessions", json={"kiosk_id": f"bench-{round_number}"})
                    headers = {"Authorization": f"Bearer {opened.json()['token']}"}
                    captcha = await backend.captcha_text_for_test(opened.json()["token"])
                    identified = await http.post(
                        "/v1/session/identify", json={"user_id": user_id, "captcha": captcha}, headers=headers
                    )
                    assert identified.status_code == 200, identified.text
                    times = {
                        "choose e-mail": await _timed(http, "/v1/session/method", {"method": "email"}, headers),
                        "send a new code": await _timed(http, "/v1/session/code/resend", None, headers),
                        "wrong code": await _timed(http, "/v1/session/code", {"code": "00000000"}, headers, 400),
                    }
                    if round_number >= 3:
                        for step, elapsed in times.items():
                            results[step].setdefault(kind, []).append(elapsed)
    finally:
        await backend.close()
    # The report compares with 'unknown': list it first.
    return {step: {kind: by_kind[kind] for kind in DELIVERY_KINDS} for step, by_kind in results.items()}


def report(results: dict[str, dict[str, list[float]]]) -> None:
    """Print the table."""
    for step, kinds in results.items():
        print(f"\n{step}: ms per request (median, p10–p90), difference to 'unknown', Mann-Whitney p")
        baseline = kinds["unknown"]
        for kind, times in kinds.items():
            deciles = statistics.quantiles(times, n=10)
            difference = statistics.median(times) - statistics.median(baseline)
            p = mann_whitney_p(times, baseline) if kind != "unknown" else 1.0
            print(
                f"  {kind:<11} {statistics.median(times):7.2f}  ({deciles[0]:6.2f}–{deciles[-1]:6.2f})"
                f"  {difference:+6.2f}  p={p:.3f}"
            )


def main() -> None:
    """Measure and print."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--only", choices=("identify", "delivery"), default=None)
    arguments = parser.parse_args()
    if arguments.only != "delivery":
        report(asyncio.run(measure(arguments.rounds)))
    if arguments.only != "identify":
        for name, sender in (("slow sender (150 ms)", SlowSender()), ("failing sender", FailingSender())):
            print(f"\n=== delivery through a {name}: real sends (ineligible, eligible) against decoys ===")
            report(asyncio.run(measure_delivery(arguments.rounds, sender)))
            print(f"  (the sender was called {sender.sent} times)")


if __name__ == "__main__":
    # The failing sender's attempts would each log a warning.
    logging.getLogger("kiosk.services.backend.delivery").setLevel(logging.ERROR)
    main()
