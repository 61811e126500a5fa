"""One-time codes sent by e-mail, SMS or voice: issued, hashed at rest, checked, burned and used once.

A code is `length` random digits from `secrets`, stored only as an argon2 hash, valid for the
policy's lifetime, allows `attempts` wrong tries and is then burned; issuing a new code for a
user supersedes every older code of that user, in every session (SPEC §4): a superseded code
answers `expired`, whichever session it was sent in.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from kiosk.policy.schema import Method
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.hashing import Hashing
from kiosk.services.backend.storage.db import Db, Row
from kiosk.services.backend.storage.store import Store


def new_code(length: int) -> str:
    """`length` uniformly random decimal digits."""
    return "".join(secrets.choice("0123456789") for _ in range(length))


class CodeStatus(StrEnum):
    """The result of checking a typed code."""

    OK = "ok"
    WRONG = "wrong"
    BURNED = "burned"
    EXPIRED = "expired"
    NONE = "none"


@dataclass(frozen=True, slots=True)
class ActiveCode:
    """The session's current code as the kiosk may see it (no hash)."""

    method: Method
    target: str
    expires_at: datetime
    attempts_left: int


@dataclass(frozen=True, slots=True)
class CodeCheck:
    """The outcome of `CodeBook.check`."""

    status: CodeStatus
    attempts_left: int = 0
    spent: bool = False
    """A wrong guess was checked (and cost an attempt)."""


class CodeBook:
    """The one-time codes of all sessions."""

    def __init__(
        self, store: Store, clock: Clock, *, length: int, lifetime: timedelta, attempts: int, hashing: Hashing
    ) -> None:
        self._store = store
        self._clock = clock
        self._hashing = hashing
        self.length = length
        self._lifetime = lifetime
        self._attempts = attempts

    async def issue(
        self, session: str, method: Method, target: str, *, subject: str, genuine: bool = True
    ) -> tuple[str, ActiveCode]:
        """Create a code for `session` of the user `subject`, superseding every older code of that user
        (in any session) and of that session; returns the plain code, to send, once.

        A decoy code (`genuine=False`, see `decoys`) is made and hashed the same way, but what is
        stored is the hash of a value no typed code can equal, so it can never be passed.
        """
        code = new_code(self.length)
        encoded = await self._hashing.hash_code(code if genuine else f"{code}-decoy")
        expires_at = self._clock.now() + self._lifetime

        def write(db: Db) -> None:
            db.execute("UPDATE codes SET superseded = 1 WHERE token_hash = ? OR subject = ?", (session, subject))
            db.execute(
                "INSERT INTO codes (token_hash, subject, method, target, code_hash, expires_at, attempts_left) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (session, subject, method.value, target, encoded, expires_at.isoformat(), self._attempts),
            )

        await self._store.call(write)
        return code, ActiveCode(method, target, expires_at, self._attempts)

    async def _current(self, session: str) -> Row | None:
        """The session's newest code; `superseded` is set when a newer code of the user replaced it."""
        return await self._store.call(
            lambda db: db.execute(
                "SELECT * FROM codes WHERE token_hash = ? ORDER BY id DESC LIMIT 1", (session,)
            ).fetchone()
        )

    async def active(self, session: str) -> ActiveCode | None:
        """The session's current, unused code (possibly expired or burned), or None."""
        row = await self._current(session)
        if row is None or row["used"]:
            return None
        return ActiveCode(
            Method(row["method"]), row["target"], datetime.fromisoformat(row["expires_at"]), row["attempts_left"]
        )

    async def check(self, session: str, typed: str) -> CodeCheck:
        """Check a typed code: OK uses it up; a wrong one costs an attempt, the last attempt burns it."""
        row = await self._current(session)
        if row is None or row["used"]:
            return CodeCheck(CodeStatus.NONE)
        if row["attempts_left"] <= 0:
            return CodeCheck(CodeStatus.BURNED)
        if row["superseded"] or self._clock.now() >= datetime.fromisoformat(row["expires_at"]):
            return CodeCheck(CodeStatus.EXPIRED)
        candidate = "".join(typed.split())
        matches = candidate.isdigit() and len(candidate) == self.length
        # Hash even a malformed code, so a wrong answer takes as long as any other.
        matches = await self._hashing.verify_secret(row["code_hash"], candidate) and matches
        code_id = row["id"]
        if matches:
            await self._store.call(lambda db: db.execute("UPDATE codes SET used = 1 WHERE id = ?", (code_id,)))
            return CodeCheck(CodeStatus.OK)
        left = row["attempts_left"] - 1
        await self._store.call(
            lambda db: db.execute("UPDATE codes SET attempts_left = ? WHERE id = ?", (left, code_id))
        )
        return CodeCheck(CodeStatus.BURNED if left <= 0 else CodeStatus.WRONG, attempts_left=left, spent=True)
