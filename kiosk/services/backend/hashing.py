"""Argon2 hashing of passwords, answers and one-time codes, always off the event loop."""

from __future__ import annotations

import asyncio
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from argon2 import PasswordHasher


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


async def hash_secret(secret: str) -> str:
    """Hash a long-lived secret (password, answer) with the strong profile."""
    return await asyncio.to_thread(_strong().hash, secret)


async def verify_secret(encoded: str, secret: str) -> bool:
    """True when `secret` matches the argon2 hash `encoded` (any profile); never raises on mismatch."""
    return await asyncio.to_thread(_verify, _strong(), encoded, secret)


async def verify_any(encoded_hashes: list[str], secret: str) -> bool:
    """True when `secret` matches any of the hashes (all are checked, so timing does not say which)."""

    def check_all() -> bool:
        results = [_verify(_strong(), encoded, secret) for encoded in encoded_hashes]
        return any(results)

    return await asyncio.to_thread(check_all)


async def hash_code(code: str) -> str:
    """Hash a short-lived one-time code with the light profile."""
    return await asyncio.to_thread(_light().hash, code)
