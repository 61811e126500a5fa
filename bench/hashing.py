"""How much argon2 one backend process can do, and what a full hashing queue answers (issue 12, part 6).

First the raw throughput of the `Hashing` service for 1, 2, 4 and 8 worker threads: strong hashes
(passwords, answers: `verify_secret`) and light ones (one-time codes: `hash_code`) per second, and
the cost of one reset's hashing (a history of 5 checked, the new password hashed: 6 strong hashes).
Then a burst: N concurrent set_password requests (default 100, as many kiosks at once) on a backend
with the default service, counting answers 200 vs 503 `busy` and the time of each; a `busy` answer
must come at once (nothing was done), a 200 within the step deadline.

    python bench/hashing.py [--burst N] [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import time
import uuid

import httpx

from kiosk.services.api import IDEMPOTENCY_HEADER, step_deadline
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.hashing import Hashing, hash_secret

STRONG_IN_A_RESET = 6  # a history of 5 checked, then the new password hashed


async def throughput(workers: int, rounds: int) -> tuple[float, float]:
    """Strong checks and light hashes per second with `workers` threads, `rounds` jobs of each."""
    hashing = Hashing(workers=workers, queue=rounds)
    encoded = await hash_secret("a password nobody types")
    try:
        started = time.perf_counter()
        await asyncio.gather(*(hashing.verify_secret(encoded, "wrong") for _ in range(rounds)))
        strong = rounds / (time.perf_counter() - started)
        started = time.perf_counter()
        await asyncio.gather(*(hashing.hash_code("12345678") for _ in range(rounds)))
        light = rounds / (time.perf_counter() - started)
    finally:
        hashing.close()
    return strong, light


async def burst(count: int) -> None:
    """`count` kiosks send a new password at the same moment to one backend (default hashing service)."""
    from datetime import UTC, datetime

    from kiosk.policy.schema import DirectorySettings, EmbeddedDirectorySettings, Policy

    policy = Policy(directory=DirectorySettings(embedded=EmbeddedDirectorySettings(seed_demo_users=True)))
    backend = await Backend.open(policy, clock=ManualClock(datetime(2026, 3, 2, 9, tzinfo=UTC)), kiosk_id="bench")
    transport = httpx.ASGITransport(app=backend.asgi)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=60) as http:
            # Sessions at the new-password stage are not needed to measure admission: an unknown token
            # is refused (401) after the ticket, so a 401 is "admitted", a 503 "busy".
            async def one() -> tuple[int, float]:
                started = time.perf_counter()
                response = await http.post(
                    "/v1/session/password",
                    json={"password": "Lantern-Orbit-Meadow-42"},
                    headers={"Authorization": f"Bearer {uuid.uuid4().hex}", IDEMPOTENCY_HEADER: str(uuid.uuid4())},
                )
                return response.status_code, time.perf_counter() - started

            answers = await asyncio.gather(*(one() for _ in range(count)))
    finally:
        await backend.close()
    busy = [seconds for status, seconds in answers if status == 503]
    admitted = [seconds for status, seconds in answers if status != 503]
    print(f"burst of {count}: {len(admitted)} admitted, {len(busy)} answered 503 busy")
    if busy:
        print(f"  busy answers: median {statistics.median(busy) * 1000:.1f} ms, max {max(busy) * 1000:.1f} ms")


async def main() -> None:
    """Run the measurements and print them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=24)
    parser.add_argument("--burst", type=int, default=100)
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU(s); the default service has {Hashing().workers} worker(s)")
    for workers in (1, 2, 4, 8):
        strong, light = await throughput(workers, args.rounds)
        print(
            f"{workers} worker(s): {strong:5.1f} strong checks/s, {light:5.1f} code hashes/s; "
            f"one reset's hashing {STRONG_IN_A_RESET / strong * 1000:.0f} ms of the machine"
        )
    print(f"step deadline for a kiosk timeout of 10 s: {step_deadline(10.0):.1f} s")
    await burst(args.burst)


if __name__ == "__main__":
    asyncio.run(main())
