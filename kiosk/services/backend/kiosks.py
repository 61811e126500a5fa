"""The kiosks a served backend answers: their names and the hashes of their secrets, kept in the store.

A kiosk proves who it is with its credential `NAME:SECRET` on every call (`http/kiosk_identity`).
`kiosk kiosks add NAME` makes the secret (256 random bits, shown once); the store keeps only its
SHA-256 (table `kiosks`, schema migration 4 in `storage.migrations`). A fast hash is right here,
unlike for passwords: the secret is random and long, so there is nothing to guess from the hash,
and every request checks one. `kiosk kiosks revoke NAME` marks the row; every request reads the row
afresh (no cache), so a revocation holds at once in every process that shares the store. A revoked
name stays in the table (the audit trail names it) and cannot be given to another kiosk.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, field
from enum import StrEnum

from kiosk.services.backend.clock import Clock
from kiosk.services.backend.storage.db import Db
from kiosk.services.backend.storage.store import Store

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
"""A kiosk's name: 1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter or digit. It
travels in an HTTP header and is written into audit rows, so nothing else (no ':', space or invisible
character) is allowed."""
NAME_RULE = "1 to 64 ASCII letters, digits, '.', '_' or '-', starting with a letter or a digit"
MAX_CREDENTIAL = 256
"""A longer credential is refused without a look at the store (a real one is about 110 characters)."""
SECRET_BYTES = 32
"""256 random bits per secret."""
_DUMMY_HASH = hashlib.sha256(b"no such kiosk").hexdigest()


def is_name(text: str) -> bool:
    """Whether `text` may be a kiosk's name."""
    return NAME_PATTERN.fullmatch(text) is not None


def secret_hash(secret: str) -> str:
    """The stored form of a kiosk's secret."""
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Credential:
    """A credential as presented: the kiosk's name and its secret. The secret is never shown or logged."""

    name: str
    secret: str = field(repr=False)  # never in a repr, whatever prints one

    @property
    def text(self) -> str:
        """The credential as the kiosk keeps and sends it: `NAME:SECRET`."""
        return f"{self.name}:{self.secret}"


def parse_credential(text: str) -> Credential | None:
    """`NAME:SECRET` as a `Credential`, or None when it is not one (bad name, empty secret, too long)."""
    if len(text) > MAX_CREDENTIAL:
        return None
    name, colon, secret = text.partition(":")
    if not colon or not is_name(name) or not secret or not secret.isascii() or not secret.isprintable():
        return None
    return Credential(name, secret)


class Verdict(StrEnum):
    """What the registry says of a presented credential: `ok`, or why it is refused (for the audit only)."""

    OK = "ok"
    MISSING = "missing"
    MALFORMED = "malformed"
    UNKNOWN = "unknown"
    WRONG_SECRET = "wrong_secret"  # noqa: S105 - a reason code, not a secret
    REVOKED = "revoked"


@dataclass(frozen=True, slots=True)
class KioskEntry:
    """One enrolled kiosk as administrators see it: never its secret or hash."""

    name: str
    created_at: str
    revoked_at: str
    """'' while the kiosk may call."""


class KioskRegistryError(Exception):
    """An administrator's request that cannot be done; the message says why (never a secret)."""


class KioskRegistry:
    """Enrols, lists, revokes and checks kiosks, in the backend's store."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def add(self, name: str) -> Credential:
        """Enrol a kiosk; its credential is returned once and never kept."""
        if not is_name(name):
            raise KioskRegistryError(f"{name[:80]!r} is not a kiosk name: use {NAME_RULE}")
        secret = secrets.token_urlsafe(SECRET_BYTES)
        now = self._clock.now().isoformat()

        def insert(db: Db) -> str | None:
            row = db.execute("SELECT revoked_at FROM kiosks WHERE name = ?", (name,)).fetchone()
            if row is not None:
                return str(row["revoked_at"]) or "live"
            db.execute(
                "INSERT INTO kiosks (name, secret_hash, created_at) VALUES (?, ?, ?)", (name, secret_hash(secret), now)
            )
            return None

        existing = await self._store.call(insert)
        if existing == "live":
            raise KioskRegistryError(f"a kiosk named {name} already exists: choose another name")
        if existing is not None:
            raise KioskRegistryError(
                f"a kiosk named {name} existed and was revoked at {existing}; a revoked name is never given "
                "again (the audit trail names it): choose another name"
            )
        return Credential(name, secret)

    async def revoke(self, name: str) -> str:
        """Revoke a kiosk at once; returns when. Unknown and already revoked names are errors."""
        now = self._clock.now().isoformat()

        def update(db: Db) -> str | None:
            row = db.execute("SELECT revoked_at FROM kiosks WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            if row["revoked_at"]:
                return str(row["revoked_at"])
            db.execute("UPDATE kiosks SET revoked_at = ? WHERE name = ?", (now, name))
            return ""

        before = await self._store.call(update)
        if before is None:
            raise KioskRegistryError(f"no kiosk named {name[:80]!r} (`kiosk kiosks list` shows them)")
        if before:
            raise KioskRegistryError(f"the kiosk {name} was already revoked at {before}")
        return now

    async def entries(self) -> list[KioskEntry]:
        """Every kiosk ever enrolled, by name."""
        rows = await self._store.call(
            lambda db: db.execute("SELECT name, created_at, revoked_at FROM kiosks ORDER BY name").fetchall()
        )
        return [KioskEntry(str(row["name"]), str(row["created_at"]), str(row["revoked_at"])) for row in rows]

    async def check(self, credential: Credential | None) -> Verdict:
        """Whether `credential` is a live kiosk's: read from the store on every call, never cached."""
        if credential is None:
            return Verdict.MALFORMED
        name = credential.name
        row = await self._store.call(
            lambda db: db.execute("SELECT secret_hash, revoked_at FROM kiosks WHERE name = ?", (name,)).fetchone()
        )
        # The comparison runs for an unknown name too, so the answer takes as long either way.
        stored = str(row["secret_hash"]) if row is not None else _DUMMY_HASH
        matches = hmac.compare_digest(stored, secret_hash(credential.secret))
        if row is None:
            return Verdict.UNKNOWN
        if row["revoked_at"]:
            return Verdict.REVOKED
        return Verdict.OK if matches else Verdict.WRONG_SECRET
