"""Authenticator-app (TOTP, RFC 6238) codes, checked at the injected clock's time, each time-step used once."""

from __future__ import annotations

import hmac
from datetime import datetime

from kiosk.services.backend.clock import Clock
from kiosk.services.backend.storage.db import Db
from kiosk.services.backend.storage.store import Store

STEP_SECONDS = 30
DIGITS = 6
VALID_WINDOW = 1  # accept the previous and next time-step too: phone clocks drift


def new_secret() -> str:
    """A fresh random base32 TOTP secret."""
    import pyotp

    return str(pyotp.random_base32())


def code_at(secret: str, when: datetime) -> str:
    """The authenticator code of `secret` at `when`."""
    import pyotp

    return str(pyotp.TOTP(secret).at(when))


def seconds_left(when: datetime) -> int:
    """Seconds until the code shown at `when` rolls over."""
    return STEP_SECONDS - int(when.timestamp()) % STEP_SECONDS


class Authenticator:
    """Verifies TOTP codes and refuses a time-step that was already used (replay)."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def verify(self, login: str, secret: str, typed: str) -> bool:
        """True when `typed` is a code of a not-yet-used time-step within the window; records that step."""
        import pyotp

        candidate = "".join(typed.split())
        totp = pyotp.TOTP(secret)
        now = self._clock.now()
        current = int(totp.timecode(now))
        matched: int | None = None
        for offset in range(-VALID_WINDOW, VALID_WINDOW + 1):
            if hmac.compare_digest(str(totp.at(now, counter_offset=offset)), candidate):
                matched = current + offset
        if matched is None:
            return False
        step = matched

        def claim(db: Db) -> bool:
            row = db.execute("SELECT last_step FROM totp_steps WHERE login = ?", (login,)).fetchone()
            if row is not None and row["last_step"] >= step:
                return False  # this step (or a later one) was already used: a replay
            db.execute(
                "INSERT INTO totp_steps (login, last_step) VALUES (?, ?) "
                "ON CONFLICT(login) DO UPDATE SET last_step = excluded.last_step",
                (login, step),
            )
            return True

        return await self._store.call(claim)
