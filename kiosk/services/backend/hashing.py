"""Argon2 hashing of passwords, answers and one-time codes: one service per backend, bounded, off the loop.

All slow hashing of a backend (and the password-strength estimate, as CPU-heavy) runs on its
`Hashing` service: `workers` threads (argon2-cffi releases the GIL, so threads use every core of the
process), and in front of them an admission count. A request that will hash takes a ticket
(`admit`) before it does anything; when `capacity` tickets (the workers plus the queue) are out, it
is refused at once with `HashingBusy` (the HTTP layer answers 503 `busy` with `Retry-After`), so a
flood of kiosks meets a quick "busy, try again" instead of answers that arrive after the kiosk gave
up. Bounding the admitted requests bounds how long one waits for a worker, which keeps every step
inside its deadline (`kiosk.services.api.step_deadline`).
"""

from __future__ import annotations

import asyncio
import math
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from argon2 import PasswordHasher

T = TypeVar("T")

QUEUE_PER_WORKER = 2
"""Default requests admitted beyond the workers, per worker. A set_password with a history of five
checks six strong hashes, about 1 s of the whole reference machine (2 cores: a strong hash's 4 lanes
already use both, so it is the machine's time, not one worker's; `bench/hashing.py`). With two queued
per worker, the last admitted of 6 resets starts hashing within about 5 s: inside the step deadline
(7 s of the kiosk's 10 s). Code checks (~25 ms) and answers (3 strong hashes) wait less."""

MAX_RETRY_AFTER = 10
"""The longest `Retry-After` (seconds) a busy answer suggests."""


@cache
def _strong() -> PasswordHasher:
    from argon2 import PasswordHasher  # lazily: keeps backend import time low

    return PasswordHasher()  # RFC 9106 low-memory profile: passwords and answers live for years


@cache
def _light() -> PasswordHasher:
    from argon2 import PasswordHasher

    # OWASP's minimum profile: a one-time code lives 5 minutes and allows a handful of tries, so a
    # lighter hash is enough and keeps code round-trips quick.
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)


def _verify(hasher: PasswordHasher, encoded: str, secret: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return hasher.verify(encoded, secret)
    except (VerificationError, InvalidHashError):
        return False


class HashingBusy(Exception):
    """The hashing queue is full: the request is refused before it does any work."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"hashing queue full, retry after {retry_after} s")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class HashingLoad:
    """What the hashing service is doing now (for the metrics)."""

    admitted: int
    """Requests holding a ticket: running or waiting to hash (the queue's depth)."""
    capacity: int
    running: int
    """Jobs on a worker thread now."""
    waiting: int
    """Jobs submitted and waiting for a worker."""
    refused: int
    """Requests refused as busy since the service started."""


class Hashing:
    """The bounded hashing service of one backend: `workers` threads behind at most `queue` more requests."""

    def __init__(self, workers: int | None = None, queue: int | None = None) -> None:
        self.workers = max(1, workers if workers is not None else os.cpu_count() or 1)
        self.capacity = self.workers + max(0, queue if queue is not None else QUEUE_PER_WORKER * self.workers)
        self.reserve = min(self.workers, self.capacity - 1)
        """Tickets a heavy step (a reset, answers: seconds of strong hashing) may never take: kept for the
        light ones (a code: milliseconds), so a burst of resets cannot turn every code check away
        (measured: bench/shared_backend.py, most give-ups were at "choose e-mail")."""
        self._pool: ThreadPoolExecutor | None = None  # threads start on the first job, not at open
        self._admitted = 0
        self._running = 0
        self._waiting = 0
        self._counting = threading.Lock()  # running/waiting change on worker threads and on the loop
        self._refused = 0
        self._seconds_per_request = 0.5  # a running estimate of how long a ticket is held, for Retry-After

    def __repr__(self) -> str:
        return f"Hashing(workers={self.workers}, capacity={self.capacity})"

    @contextmanager
    def admit(self, *, heavy: bool = False) -> Iterator[None]:
        """Hold a ticket for one request that will hash; `HashingBusy` at once when all are out (for a
        `heavy` request: all but the `reserve`)."""
        if self._admitted >= self.capacity - (self.reserve if heavy else 0):
            self._refused += 1
            raise HashingBusy(self.retry_after())
        self._admitted += 1
        started = time.monotonic()
        try:
            yield
        finally:
            self._admitted -= 1
            held = time.monotonic() - started
            self._seconds_per_request += (held - self._seconds_per_request) / 8  # a moving average

    def retry_after(self) -> int:
        """Whole seconds until a ticket is likely free: the queue drained by the workers, 1 to 10."""
        drain = self._admitted * self._seconds_per_request / self.workers
        return min(MAX_RETRY_AFTER, max(1, math.ceil(drain)))

    def load(self) -> HashingLoad:
        """The service's current load."""
        return HashingLoad(self._admitted, self.capacity, self._running, self._waiting, self._refused)

    async def run(self, work: Callable[..., T], *args: object) -> T:
        """Run CPU-heavy `work(*args)` on a hashing worker (the event loop stays free)."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="kiosk-hashing")

        def job() -> T:
            with self._counting:
                self._waiting -= 1
                self._running += 1
            try:
                return work(*args)
            finally:
                with self._counting:
                    self._running -= 1

        with self._counting:
            self._waiting += 1
        submitted = self._pool.submit(job)
        try:
            return await asyncio.wrap_future(submitted)
        except asyncio.CancelledError:
            if submitted.cancelled():  # cancelled before a worker took it: it never ran, it no longer waits
                with self._counting:
                    self._waiting -= 1
            raise

    async def hash_secret(self, secret: str) -> str:
        """Hash a long-lived secret (password, answer) with the strong profile."""
        return await self.run(_strong().hash, secret)

    async def verify_secret(self, encoded: str, secret: str) -> bool:
        """True when `secret` matches the argon2 hash `encoded` (any profile); never raises on mismatch."""
        return await self.run(_verify, _strong(), encoded, secret)

    async def verify_any(self, encoded_hashes: list[str], secret: str) -> bool:
        """True when `secret` matches any of the hashes (all are checked, so timing does not say which)."""

        def check_all() -> bool:
            results = [_verify(_strong(), encoded, secret) for encoded in encoded_hashes]
            return any(results)

        return await self.run(check_all)

    async def hash_code(self, code: str) -> str:
        """Hash a short-lived one-time code with the light profile."""
        return await self.run(_light().hash, code)

    def close(self) -> None:
        """Stop the workers (a job already running finishes; queued ones are dropped)."""
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


@cache
def default_hashing() -> Hashing:
    """The process's hashing service for tools outside a backend (install check, policy simulator)."""
    return Hashing()


async def hash_secret(secret: str) -> str:
    """Hash a long-lived secret on the process's service (tools and test fixtures; a backend uses its own)."""
    return await default_hashing().hash_secret(secret)
