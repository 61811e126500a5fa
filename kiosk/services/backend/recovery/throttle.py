"""Throttles (SPEC §4), kept in the backend store so they survive a restart and are shared by every
kiosk of one backend.

Per user (the canonical login):

- 5 failed identity proofs (wrong code, wrong app code, wrong answers) in 24 h: the 5th failure blocks;
- 5 phone/SMS/app/question attempts (an SMS or voice code sent, an app code or a set of answers
  checked) in 1 h: a 6th is refused and blocks;
- more than 10 e-mailed codes in 10 min: the 11th is refused and blocks;
- 5 resets or unlocks in 1 h: a 6th is refused and blocks;

a block lasts 24 h. A completed reset or unlock clears the user's counters (all but the resets, which
count successes). Per kiosk (and per source address, when one is known): at most
`KIOSK_DISTINCT_USERS` different accounts identified in `KIOSK_WINDOW`; the next new account is
refused until the oldest of them leaves the window. Opening a session draws a CAPTCHA, so per kiosk
and per source address at most `KIOSK_SESSIONS` sessions open in a sliding 10 minutes (refused before
anything is drawn), and one session may ask for at most `CAPTCHAS_PER_SESSION` new CAPTCHAs. These are
the defaults; the policy's `[limits]` may make the per-user ones stricter (never looser: the schema
refuses it) and tune the kiosk ones.

Every check-and-record is ONE `Store.call`, i.e. one transaction on the store's single thread, so
parallel requests cannot both pass the last free attempt. A proof is reserved as a failure before
the secret is checked and refunded when it was right, so parallel wrong guesses never exceed the
limit. A block never touches the directory.
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from kiosk.policy.schema import LimitSettings
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.storage.db import Db, Row
from kiosk.services.backend.storage.store import Store

BLOCK_FOR = timedelta(hours=24)
"""How long a user stays blocked once a per-user limit trips."""

KIOSK_DISTINCT_USERS = 20
"""At most this many different accounts identified per kiosk (and per source address) …"""
KIOSK_WINDOW = timedelta(minutes=10)
"""… within this window."""


class Scope(StrEnum):
    """Whose counter an event counts against."""

    USER = "user"
    KIOSK = "kiosk"
    ADDRESS = "address"
    SESSION = "session"


class Event(StrEnum):
    """What is counted."""

    FAILED_PROOF = "failed_proof"
    PHONE_ATTEMPT = "phone_attempt"
    EMAIL = "email"
    RESET = "reset"
    IDENTIFIED = "identified"
    SESSION_OPENED = "session_opened"
    CAPTCHA = "captcha"
    """A new CAPTCHA drawn or read aloud for a session (not the one drawn when it opens)."""


@dataclass(frozen=True, slots=True)
class Limit:
    """At most `count` events in `window`."""

    count: int
    window: timedelta


USER_LIMITS: dict[Event, Limit] = {
    Event.FAILED_PROOF: Limit(5, timedelta(hours=24)),
    Event.PHONE_ATTEMPT: Limit(5, timedelta(hours=1)),
    Event.EMAIL: Limit(10, timedelta(minutes=10)),
    Event.RESET: Limit(5, timedelta(hours=1)),
}
"""Per-user limits by default: SPEC §4's, the loosest the policy may set."""

KIOSK_SESSIONS = Limit(30, timedelta(minutes=10))
"""Sessions opened per kiosk (and per source address) by default: each one draws a CAPTCHA, so this bounds
the drawing one kiosk can ask for (a person opens one, maybe a few; 30 is one every 20 s for 10 min)."""
CAPTCHAS_PER_SESSION = 20
"""New CAPTCHAs (picture, picture check, read aloud) one session may ask for by default."""
SESSION_SPAN = timedelta(minutes=15)
"""A session's CAPTCHAs are counted over this long: no session lives longer (`backend.session_minutes`)."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The limits one backend enforces (from the policy's `[limits]`)."""

    user: dict[Event, Limit]
    block_for: timedelta
    kiosk_distinct_users: int
    kiosk_window: timedelta
    kiosk_sessions: Limit = KIOSK_SESSIONS
    """Sessions one kiosk, and one source address, may open in a sliding window."""
    captchas_per_session: int = CAPTCHAS_PER_SESSION

    @classmethod
    def from_settings(cls, settings: LimitSettings) -> Limits:
        """The limits of a policy's `[limits]` section."""
        return cls(
            user={
                Event.FAILED_PROOF: Limit(settings.failed_proofs_per_day, timedelta(hours=24)),
                Event.PHONE_ATTEMPT: Limit(settings.attempts_per_hour, timedelta(hours=1)),
                Event.EMAIL: Limit(settings.emails_per_10_minutes, timedelta(minutes=10)),
                Event.RESET: Limit(settings.resets_per_hour, timedelta(hours=1)),
            },
            block_for=timedelta(hours=settings.block_hours),
            kiosk_distinct_users=settings.kiosk_distinct_accounts,
            kiosk_window=timedelta(minutes=settings.kiosk_window_minutes),
            kiosk_sessions=Limit(settings.kiosk_sessions_per_10_minutes, timedelta(minutes=10)),
            captchas_per_session=settings.captchas_per_session,
        )


source_address: contextvars.ContextVar[str] = contextvars.ContextVar("source_address", default="")
"""The client address of the request being handled (set by the app; empty in-process)."""


class Blocked(Exception):
    """A throttle refused the step: `reason` is what tripped, `until` when it ends."""

    def __init__(self, reason: str, until: datetime) -> None:
        super().__init__(reason)
        self.reason = reason
        self.until = until


def _ts(moment: datetime) -> float:
    return moment.timestamp()


def _dt(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def _active_block(db: Db, scope: Scope, key: str, now: float) -> Row | None:
    row: Row | None = db.execute(
        "SELECT until, reason FROM throttle_blocks WHERE scope = ? AND key = ? AND until > ?", (scope, key, now)
    ).fetchone()
    return row


def _count(db: Db, scope: Scope, key: str, event: Event, since: float) -> int:
    row = db.execute(
        "SELECT COUNT(*) FROM throttle_events WHERE scope = ? AND key = ? AND event = ? AND at > ?",
        (scope, key, event, since),
    ).fetchone()
    return int(row[0])


def _block(db: Db, scope: Scope, key: str, reason: str, until: float) -> None:
    db.execute(
        "INSERT INTO throttle_blocks (scope, key, until, reason) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (scope, key) DO UPDATE SET until = CASE WHEN excluded.until > throttle_blocks.until "
        "THEN excluded.until ELSE throttle_blocks.until END, reason = excluded.reason",
        (scope, key, until, reason),
    )


class Throttle:
    """The counters and blocks of users, kiosks and source addresses."""

    def __init__(self, store: Store, clock: Clock, limits: Limits | None = None) -> None:
        self._store = store
        self._clock = clock
        self.limits = limits or Limits.from_settings(LimitSettings())

    async def blocked_until(self, login: str) -> datetime | None:
        """When the user's block ends, or None if not blocked."""
        now = _ts(self._clock.now())

        def read(db: Db) -> float | None:
            row = _active_block(db, Scope.USER, login, now)
            return None if row is None else float(row["until"])

        until = await self._store.call(read)
        return None if until is None else _dt(until)

    async def check(self, login: str) -> None:
        """Raise `Blocked` if the user is blocked."""
        until = await self.blocked_until(login)
        if until is not None:
            raise Blocked("user_blocked", until)

    async def take(self, login: str, *events: Event) -> list[int]:
        """Check the user's block and limits, then record `events` — all in one transaction.

        An event whose limit is already reached is refused (`Blocked`), and the user is blocked for
        `BLOCK_FOR`; nothing is recorded then. Returns the ids of the recorded events (for `settle`).
        """
        now = self._clock.now()
        stamp = _ts(now)

        def work(db: Db) -> tuple[list[int], tuple[str, float] | None]:
            row = _active_block(db, Scope.USER, login, stamp)
            if row is not None:
                return [], ("user_blocked", float(row["until"]))
            for event in events:
                limit = self.limits.user[event]
                if _count(db, Scope.USER, login, event, stamp - limit.window.total_seconds()) >= limit.count:
                    until = _ts(now + self.limits.block_for)
                    _block(db, Scope.USER, login, event.value, until)
                    return [], (event.value, until)
            ids = []
            for event in events:
                cursor = db.execute(
                    "INSERT INTO throttle_events (scope, key, event, at) VALUES (?, ?, ?, ?) RETURNING id",
                    (Scope.USER, login, event, stamp),
                )
                ids.append(int(cursor.fetchone()[0]))
            return ids, None

        ids, refused = await self._store.call(work)
        if refused is not None:
            raise Blocked(refused[0], _dt(refused[1]))
        return ids

    async def settle(self, login: str, event_id: int, *, failed: bool) -> datetime | None:
        """Settle a reserved failed proof: refunded if the proof was right; if it was wrong and the
        limit is now reached, the user is blocked and the end of the block returned."""
        now = self._clock.now()
        stamp = _ts(now)
        limit = self.limits.user[Event.FAILED_PROOF]

        def work(db: Db) -> float | None:
            if not failed:
                db.execute("DELETE FROM throttle_events WHERE id = ?", (event_id,))
                return None
            since = stamp - limit.window.total_seconds()
            if _count(db, Scope.USER, login, Event.FAILED_PROOF, since) < limit.count:
                return None
            until = _ts(now + self.limits.block_for)
            _block(db, Scope.USER, login, Event.FAILED_PROOF.value, until)
            return until

        until = await self._store.call(work)
        return None if until is None else _dt(until)

    async def refund(self, event_ids: list[int]) -> None:
        """Forget recorded events (the step they were taken for did not happen)."""

        def work(db: Db) -> None:
            db.executemany("DELETE FROM throttle_events WHERE id = ?", [(event_id,) for event_id in event_ids])

        await self._store.call(work)

    async def succeeded(self, login: str) -> None:
        """A completed reset or unlock: clear the user's counters (resets keep counting)."""
        await self._store.call(
            lambda db: db.execute(
                "DELETE FROM throttle_events WHERE scope = ? AND key = ? AND event != ?",
                (Scope.USER, login, Event.RESET),
            )
        )

    async def identified(self, keys: list[tuple[Scope, str]], subject: str) -> None:
        """Count an identified account (`subject`) against each kiosk/address key, in one transaction.

        A key that already saw `KIOSK_DISTINCT_USERS` other accounts within `KIOSK_WINDOW` refuses a
        new one (`Blocked`) until the oldest of them leaves the window; an account it already saw
        passes. Nothing is recorded when refused.
        """
        stamp = _ts(self._clock.now())
        window = self.limits.kiosk_window.total_seconds()
        cap = self.limits.kiosk_distinct_users
        since = stamp - window

        def work(db: Db) -> tuple[str, float] | None:
            for scope, key in keys:
                rows = db.execute(
                    "SELECT subject, MIN(at) AS first FROM throttle_events "
                    "WHERE scope = ? AND key = ? AND event = ? AND at > ? GROUP BY subject ORDER BY first",
                    (scope, key, Event.IDENTIFIED, since),
                ).fetchall()
                seen = {row["subject"] for row in rows}
                if subject not in seen and len(seen) >= cap:
                    # The oldest distinct account's first sighting leaves the window first.
                    return f"{scope.value}_cap", float(rows[0]["first"]) + window
            db.executemany(
                "INSERT INTO throttle_events (scope, key, event, at, subject) VALUES (?, ?, ?, ?, ?)",
                [(scope, key, Event.IDENTIFIED, stamp, subject) for scope, key in keys],
            )
            return None

        refused = await self._store.call(work)
        if refused is not None:
            raise Blocked(refused[0], _dt(refused[1]))

    async def opened(self, keys: list[tuple[Scope, str]]) -> None:
        """Count a session about to open against each kiosk/address key, in one transaction.

        A key that already opened `limits.kiosk_sessions` sessions within its window refuses the next
        (`Blocked`, `kiosk_sessions` / `address_sessions`) until the oldest of them leaves the window;
        nothing is recorded then. Call it BEFORE anything is drawn.
        """
        now = self._clock.now()

        def forget_old_captchas(db: Db) -> None:
            # Sessions that opened before this span have ended: their CAPTCHA counts are of no more use.
            db.execute(
                "DELETE FROM throttle_events WHERE scope = ? AND event = ? AND at <= ?",
                (Scope.SESSION, Event.CAPTCHA, _ts(now - SESSION_SPAN)),
            )

        await self._take(keys, Event.SESSION_OPENED, self.limits.kiosk_sessions, "sessions", forget_old_captchas)

    async def captcha(self, session: str, ends: datetime) -> None:
        """Count a new CAPTCHA against the session (`session`: its token hash; `ends`: when it expires).

        The session's `limits.captchas_per_session`-th is its last: the next is refused (`Blocked`,
        `session_captchas`) until the session ends, and a new session starts over.
        """
        limit = Limit(self.limits.captchas_per_session, SESSION_SPAN)
        try:
            await self._take([(Scope.SESSION, session)], Event.CAPTCHA, limit, "captchas")
        except Blocked as blocked:
            raise Blocked(blocked.reason, ends) from None

    async def _take(
        self,
        keys: list[tuple[Scope, str]],
        event: Event,
        limit: Limit,
        what: str,
        also: Callable[[Db], None] | None = None,
    ) -> None:
        """Record one `event` for every key, unless a key already has `limit.count` of them within
        `limit.window`: then `Blocked` (`<scope>_<what>`, until enough have left the window) and nothing is
        recorded. One transaction: parallel requests cannot both take the last one. Events that have left
        the window are forgotten for these keys; `also` runs in the same transaction when recorded."""
        stamp = _ts(self._clock.now())
        window = limit.window.total_seconds()
        since = stamp - window

        def work(db: Db) -> tuple[str, float] | None:
            for scope, key in keys:
                rows = db.execute(
                    "SELECT at FROM throttle_events WHERE scope = ? AND key = ? AND event = ? AND at > ? ORDER BY at",
                    (scope, key, event, since),
                ).fetchall()
                if len(rows) >= limit.count:
                    # One more fits once all but `count - 1` of them have left the window.
                    return f"{scope.value}_{what}", float(rows[len(rows) - limit.count]["at"]) + window
            db.executemany(
                "DELETE FROM throttle_events WHERE scope = ? AND key = ? AND event = ? AND at <= ?",
                [(scope, key, event, since) for scope, key in keys],
            )
            db.executemany(
                "INSERT INTO throttle_events (scope, key, event, at) VALUES (?, ?, ?, ?)",
                [(scope, key, event, stamp) for scope, key in keys],
            )
            if also is not None:
                also(db)
            return None

        refused = await self._store.call(work)
        if refused is not None:
            raise Blocked(refused[0], _dt(refused[1]))
