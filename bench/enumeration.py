"""Identify latency per kind of user ID: can a stranger tell accounts apart by timing? (SPEC §4)

Opens a demo backend in-process (embedded directory, the real HTTP app over httpx's ASGI
transport) and times `POST /v1/session/identify` for an unknown ID, a disabled account, an
ineligible one (not enabled) and an eligible one, interleaved so machine noise hits all alike.
Prints the median, the 10th/90th percentiles and, for each kind against the unknown ID, the
difference of medians and a Mann-Whitney U test (p < 0.01 would mean the two are told apart). Then
the same for choosing security questions (the decoy's questions against a real account's).

    python bench/enumeration.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from kiosk.policy.schema import DirectorySettings, EmbeddedDirectorySettings, EnabledFor, Policy, ResetSettings
from kiosk.services.backend import Backend, ManualClock

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


async def _timed(http: httpx.AsyncClient, path: str, body: dict[str, Any], headers: dict[str, str]) -> float:
    started = time.perf_counter()
    response = await http.post(path, json=body, headers=headers)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.text
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
    report(asyncio.run(measure(parser.parse_args().rounds)))


if __name__ == "__main__":
    main()
