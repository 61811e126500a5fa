"""The durable outbox: codes and notices are queued in the backend's store and sent by a background worker.

Why a queue: a request that sent inline waited for SMTP or the gateway, and a decoy gate (an ID
without that method, see `recovery/decoys.py`) had nothing to wait for, so the time of "choose a
method" told real accounts apart, and so did a 503 when sending failed. Now the request only queues
the message: one store round trip, the same for a decoy (its row holds a decoy code's message and
the worker drops it), and answers at once, the same way for every ID. The worker sends, retries
and audits; the person at the kiosk has "send a new code" and "try another method" if nothing comes.

- **Bodies hold the code**: stored encrypted (Fernet) and deleted as soon as delivered or given up.
  For a persistent store (a file, PostgreSQL) the key is derived from the enrollment key
  (`body_key`), which every replica of that store holds, so any of them can send what another
  queued; it is never in the store, so a copy of the database alone still reveals no queued code.
  A temporary store's queue (deleted on close) keeps a fresh key in memory (and has no heartbeat, adopts
  nothing and is adopted by nobody: no other queue could open its bodies). The demo's dev outbox is
  a sender like any other: a message reaches it (and the demo inbox) only when delivered.
- **Owners**: each queue (one per backend process) sends only the rows it owns, and its worker
  writes a heartbeat (`delivery_owners`) every `HEARTBEAT` seconds; a clean close removes it. A
  live worker adopts, in one transaction, the rows of an owner not seen for `DEAD_AFTER` (rows it
  was sending too) and sends them like its own; so a code queued by a backend killed before its
  worker sent it still arrives, some seconds late. A message the dead backend was in the middle of
  sending may arrive twice: never lost, at most a duplicate of a single-use code. On PostgreSQL the
  adoption is a serializable transaction (retried when it loses), so exactly one live worker takes
  a row. A dead owner's row already past its deadline is given up (`lost`).
- **Retries**: after a failed attempt the next comes `RETRY_DELAYS` later (2, 5, 15, 30, 60 s), at
  most `MAX_ATTEMPTS` in all, and never at or after the message's deadline (a code's expiry; a
  notice's `NOTICE_WINDOW`). Failures that a retry cannot fix (`PERMANENT`: no channel, no
  credential, a refused login, which retrying could lock) end at once. A newer code for the same
  account replaces one still waiting for its retry.
- **Audit**: a delivered code `code_sent` with its method (a decoy `decoy:<method>`); a code given up
  `code_sent` with `delivery_failed:<reason>`; a notice given up `notice_failed` with the reason.
  The reason is the sender's (`unreachable`, `timeout`, `tls`, `auth`, `refused`, `error`,
  `unsupported_channel`, `no_credential`) or `lost`. Never the code, the body or a secret.
- **Lost**: only rows sealed with the same key (`key_id`) are adopted; any other row (a key of its own,
  a server from before shared keys) is left to its owner, and once its deadline is `LOST_GRACE` past
  (its owner is dead or stuck) any backend drops it and audits it as `lost`; it is never sent late.

Times in the table are the backend clock's (UNIX seconds), so tests move a `ManualClock` instead of
sleeping; `deliver_pending` delivers what is due now and waits for it (tests, the demo inbox).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hmac
import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from kiosk.i18n import language
from kiosk.policy.schema import Method
from kiosk.services.backend.audit.log import AuditEvent, AuditLog, correlation_id
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.delivery.sender import DeliveryError, DeliveryFailure, Sender
from kiosk.services.backend.storage.db import Db, Row
from kiosk.services.backend.storage.store import Store

log = logging.getLogger(__name__)

RETRY_DELAYS = (2.0, 5.0, 15.0, 30.0, 60.0)
"""Seconds from a failed attempt to the next: the first, second, … (the last repeats)."""
MAX_ATTEMPTS = 6
"""Attempts per message in all (at 0, 2, 7, 22, 52 and 112 s), fewer when the deadline comes first."""
PERMANENT = frozenset({DeliveryFailure.UNSUPPORTED_CHANNEL, DeliveryFailure.NO_CREDENTIAL, DeliveryFailure.AUTH})
"""Failures a retry cannot fix: given up at once (retrying a refused login could lock the mail account)."""
NOTICE_WINDOW = timedelta(hours=1)
"""How long a notice (password changed, administrator reset) is retried; a code: until it expires."""
LOST_GRACE = timedelta(minutes=10)
"""How long past its deadline a row queued by another backend is left to it before it counts as lost."""
MAX_IN_FLIGHT = 16
"""Messages sent at the same time (one slow or hanging server does not hold up the others)."""
DECOY_HOLD_MAX = 10.0
"""The longest a decoy row is held before it is dropped (see `_typical`)."""
IDLE_WAIT = 30.0
"""Seconds a worker with a key of its own sleeps at most when nothing is due (a new message wakes it at once)."""
HEARTBEAT = 2.0
"""Seconds between heartbeats of a worker with the shared key (one small write); it sleeps at most this long,
so it also looks for dead owners' rows as often."""
DEAD_AFTER = 4 * HEARTBEAT
"""Seconds without a heartbeat after which an owner counts as dead and its rows are adopted. Four beats:
three missed ones (a slow or retried store transaction, a busy loop, a second or two of clock skew
between servers) do not make a live owner look dead, and a code still arrives at most about
`DEAD_AFTER + HEARTBEAT` (10 s) after its backend died, well within a code's lifetime (minutes). A live
owner mistaken for dead costs at most a duplicate message, never a lost one."""
BODY_KEY_LABEL = b"account-recovery-kiosk delivery-queue bodies v1"
"""HKDF `info` of the queue's key: its own label, so the queue and the enrollment store never share a key."""


def body_key(enrollment_key: bytes) -> bytes:
    """The Fernet key of a persistent store's queued bodies, derived (HKDF-SHA256) from the enrollment key."""
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=BODY_KEY_LABEL).derive(enrollment_key)
    return base64.urlsafe_b64encode(derived)


class Kind(StrEnum):
    """What a queued row is."""

    CODE = "code"
    NOTICE = "notice"
    DECOY = "decoy"
    """A decoy gate's "code": queued like a real one so the request does the same work; never sent."""


@dataclass(frozen=True, slots=True)
class Origin:
    """The session a message belongs to, for the worker's audit rows (nothing of the message itself)."""

    kiosk_id: str
    reference: str
    user_id: str
    """The canonical login ('' for an ID that matched no account)."""
    account: str
    """Whose codes replace each other: the login, or the keyed hash of an ID that matched nothing."""
    locale: str
    """The session's language: the gateway states it (TwiML `language`, the webhook's `language`)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One message to send; `body` may hold a code and is never logged."""

    channel: Method
    to: str
    subject: str
    body: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class _Row:
    id: int
    kind: Kind
    channel: Method
    recipient: str
    subject: str
    token: str = field(repr=False)
    locale: str
    attempts: int
    last_error: str
    superseded: bool
    deadline: float
    origin_cid: str
    kiosk_id: str
    reference: str
    user_id: str

    @classmethod
    def of(cls, row: Row) -> _Row:
        return cls(
            id=row["id"],
            kind=Kind(row["kind"]),
            channel=Method(row["channel"]),
            recipient=row["recipient"],
            subject=row["subject"],
            token=row["body"],
            locale=row["locale"],
            attempts=row["attempts"],
            last_error=row["last_error"],
            superseded=bool(row["superseded"]),
            deadline=row["deadline"],
            origin_cid=row["correlation_id"],
            kiosk_id=row["kiosk_id"],
            reference=row["reference"],
            user_id=row["user_id"],
        )


class DeliveryQueue:
    """The outbox of one backend process and its worker (`start` … `close`)."""

    CLOSE_GRACE = 3.0
    """Seconds `close` gives messages being sent (and those due) before it stops the worker."""

    def __init__(self, store: Store, clock: Clock, sender: Sender, audit: AuditLog, key: bytes | None = None) -> None:
        """`key`: the replicas' shared body key (`body_key`); None (a temporary store): a fresh one in memory."""
        self._store = store
        self._clock = clock
        self._sender = sender
        self._audit = audit
        self._fernet = Fernet(key or Fernet.generate_key())  # never stored: the database alone opens no body
        self._owner = secrets.token_hex(8)
        self._shared = key is not None
        """Whether other queues can open this one's bodies: only then are there heartbeats and adoptions."""
        self._key_id = hmac.new(key, b"key id", "sha256").hexdigest()[:16] if key is not None else ""
        """Which shared key seals this queue's rows (one-way: tells nothing of the key); only queues with the
        same adopt them, so a row no adopter could open (an older server's, a key of its own) is never taken."""
        self._beaten_at: float | None = None
        self._wake = asyncio.Event()
        self._claiming = asyncio.Lock()
        self._inflight: set[asyncio.Task[None]] = set()
        self._worker: asyncio.Task[None] | None = None
        self._closed = False
        self._typical: dict[Method, float] = {}
        """Seconds a send attempt takes lately, per channel (moving average): a decoy row is held as long
        before it is dropped, so the worker's store writes after it (delete, audit) come when they would
        after a real send, and do not fall on the kiosk's next request sooner for a decoy than for a real code."""

    def __repr__(self) -> str:
        return f"DeliveryQueue(owner={self._owner})"  # never the key

    # ------------------------------------------------------------------------------------ queueing

    async def enqueue_code(self, origin: Origin, message: Message, *, expires_at: datetime, decoy: bool) -> None:
        """Queue a code (a decoy's is queued the same way and dropped by the worker): one store round trip.

        It replaces this account's codes still waiting for a retry (their codes no longer work).
        """
        row = self._row(origin, message, Kind.DECOY if decoy else Kind.CODE, expires_at)

        def write(db: Db) -> None:
            db.execute(
                "UPDATE delivery_queue SET superseded = 1 WHERE account = ? AND kind IN ('code', 'decoy')",
                (origin.account,),
            )
            db.execute(_INSERT, row)

        await self._store.call(write)
        self._wake.set()

    async def enqueue_notices(self, origin: Origin, messages: Sequence[Message]) -> None:
        """Queue notices (no code in them; retried for `NOTICE_WINDOW`)."""
        if not messages:
            return
        deadline = self._clock.now() + NOTICE_WINDOW
        rows = [self._row(origin, message, Kind.NOTICE, deadline) for message in messages]
        await self._store.call(lambda db: db.executemany(_INSERT, rows))
        self._wake.set()

    def _row(self, origin: Origin, message: Message, kind: Kind, deadline: datetime) -> tuple[object, ...]:
        now = self._clock.now().timestamp()
        token = self._fernet.encrypt(message.body.encode("utf-8")).decode("ascii")
        return (
            kind.value, message.channel.value, message.to, message.subject, token, origin.locale, origin.account,
            origin.kiosk_id, origin.reference, origin.user_id, correlation_id.get(), self._owner,
            now, now, deadline.timestamp(), self._key_id,
        )  # fmt: skip

    async def depth(self) -> int:
        """Messages in the queue now (waiting, being sent or waiting for a retry), of every backend."""
        return int(await self._store.call(lambda db: db.execute("SELECT COUNT(*) FROM delivery_queue").fetchone()[0]))

    # ------------------------------------------------------------------------------------ the worker

    def start(self) -> None:
        """Start the worker on the running loop (`Backend.open`; under uvicorn, the lifespan's)."""
        if self._worker is None and not self._closed:
            self._worker = asyncio.get_running_loop().create_task(self._run(), name="kiosk-delivery")

    async def close(self) -> None:
        """Deliver what is due and being sent (for at most `CLOSE_GRACE` seconds), then stop the worker."""
        if self._closed:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.deliver_pending(), self.CLOSE_GRACE)
        self._closed = True
        tasks = [*self._inflight, *([self._worker] if self._worker is not None else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        owner = self._owner

        def release(db: Db) -> None:
            # Sends cut short go back to the queue and the heartbeat goes: another backend adopts what is
            # left once it is `DEAD_AFTER` old (the rows, not the owner, are aged: there is no heartbeat).
            db.execute("UPDATE delivery_queue SET state = 'queued' WHERE owner = ? AND state = 'sending'", (owner,))
            db.execute("DELETE FROM delivery_owners WHERE owner = ?", (owner,))

        try:
            await self._store.call(release)
        except Exception as error:  # noqa: BLE001 - the store is gone: the rows are adopted as a dead owner's
            log.error("delivery queue: could not hand over at close: %s", type(error).__name__)

    async def deliver_pending(self) -> None:
        """Deliver every message due now (and wait for those already being sent): tests, the demo inbox."""
        while not self._closed:
            async with self._claiming:
                await self._claim_and_start()
                running = list(self._inflight)
            if not running:
                return
            await asyncio.gather(*running, return_exceptions=True)

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            try:
                async with self._claiming:
                    wait = await self._claim_and_start()
            except Exception as error:  # noqa: BLE001 - a store failure: say so, try again later
                log.error("delivery queue: could not read the queue: %s", type(error).__name__)
                wait = self._longest_wait
            # asyncio.timeout, not wait_for: wait_for wraps the wait in a task of its own, which a loop
            # closed before that task starts (the kiosk's Qt loop at exit) leaves never awaited.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(wait):
                    await self._wake.wait()

    async def _beat(self, now: float) -> None:
        """Say this owner is alive: its own small transaction, so claims (which read every owner's
        heartbeat) and beats of different backends do not make each other's transactions retry."""
        await self._store.call(
            lambda db: db.execute(
                "INSERT INTO delivery_owners (owner, seen_at) VALUES (?, ?) "
                "ON CONFLICT (owner) DO UPDATE SET seen_at = excluded.seen_at",
                (self._owner, now),
            )
        )
        self._beaten_at = now

    async def _claim_and_start(self) -> float:
        """Beat; adopt dead owners' rows; take the due rows (marked `sending`), start their deliveries;
        drop rows lost by other backends.

        Returns the seconds until something may be due next (at most `HEARTBEAT`: the next beat).
        """
        now = self._clock.now().timestamp()
        beat_due = self._beaten_at is None or not self._beaten_at <= now < self._beaten_at + HEARTBEAT
        if self._shared and beat_due:
            await self._beat(now)
        room = MAX_IN_FLIGHT - len(self._inflight)
        lost_before = now - LOST_GRACE.total_seconds()
        dead_before = now - DEAD_AFTER

        def claim(db: Db) -> tuple[list[Row], list[Row], float | None, int]:
            # Rows sealed with our key whose owner was not seen since `dead_before` (or never: one closed
            # cleanly; then the row itself must be that old, so a new owner's first rows are never taken
            # before its first beat). Conditional on the old owner, in this one (serializable) transaction.
            orphans = []
            if self._shared:
                orphans = db.execute(
                    "SELECT * FROM delivery_queue q WHERE owner != ? AND key_id = ? AND queued_at <= ? AND NOT EXISTS "
                    "(SELECT 1 FROM delivery_owners o WHERE o.owner = q.owner AND o.seen_at >= ?)",
                    (self._owner, self._key_id, dead_before, dead_before),
                ).fetchall()
            expired = [row for row in orphans if row["deadline"] <= now]
            db.executemany(
                "DELETE FROM delivery_queue WHERE id = ? AND owner = ?", [(row["id"], row["owner"]) for row in expired]
            )
            db.executemany(
                "UPDATE delivery_queue SET owner = ?, state = 'queued' WHERE id = ? AND owner = ?",
                [(self._owner, row["id"], row["owner"]) for row in orphans if row["deadline"] > now],
            )
            if self._shared:  # dead owners with nothing left: their heartbeat tells nothing anymore
                db.execute(
                    "DELETE FROM delivery_owners WHERE seen_at < ? AND owner NOT IN (SELECT owner FROM delivery_queue)",
                    (dead_before,),
                )
            lost = db.execute(
                "SELECT * FROM delivery_queue WHERE owner != ? AND deadline < ?", (self._owner, lost_before)
            ).fetchall()
            db.executemany("DELETE FROM delivery_queue WHERE id = ?", [(row["id"],) for row in lost])
            lost += expired
            due = db.execute(
                "SELECT * FROM delivery_queue WHERE owner = ? AND state = 'queued' AND next_attempt_at <= ? "
                "ORDER BY id LIMIT ?",
                (self._owner, now, max(room, 0)),
            ).fetchall()
            db.executemany("UPDATE delivery_queue SET state = 'sending' WHERE id = ?", [(row["id"],) for row in due])
            mine = db.execute(
                "SELECT MIN(next_attempt_at) FROM delivery_queue WHERE owner = ? AND state = 'queued'", (self._owner,)
            ).fetchone()[0]
            others = db.execute("SELECT MIN(deadline) FROM delivery_queue WHERE owner != ?", (self._owner,))
            oldest = others.fetchone()[0]
            nexts = [mine] if mine is not None else []
            nexts += [oldest + LOST_GRACE.total_seconds()] if oldest is not None else []
            return lost, due, min(nexts) if nexts else None, len(orphans) - len(expired)

        lost, due, next_at, adopted = await self._store.call(claim)
        if adopted:
            log.warning("delivery queue: adopted %d message(s) of backends not seen for %.0f s", adopted, DEAD_AFTER)
        for row in lost:
            await self._give_up(_Row.of(row), DeliveryFailure.LOST.value, delete=False)
        for row in due:
            task = asyncio.get_running_loop().create_task(self._deliver(_Row.of(row)), name="kiosk-delivery-send")
            self._inflight.add(task)
            task.add_done_callback(self._done)
        if next_at is None:
            return self._longest_wait
        return min(max(next_at - now, 0.01), self._longest_wait)

    @property
    def _longest_wait(self) -> float:
        """How long the worker sleeps at most: until its next heartbeat when it has them."""
        return HEARTBEAT if self._shared else IDLE_WAIT

    def _done(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:  # the store or the audit failed
            log.error("delivery: a message could not be finished: %s", type(error).__name__)
        self._wake.set()  # room for more

    async def _deliver(self, row: _Row) -> None:
        if row.kind is Kind.DECOY:
            await asyncio.sleep(min(self._typical.get(row.channel, 0.0), DECOY_HOLD_MAX))
            await self._delete(row.id)
            await self._record(row, AuditEvent.CODE_SENT, f"decoy:{row.channel.value}")
            return
        if row.superseded and row.attempts:
            # A newer code replaced this one while it waited for a retry: sending it now helps nobody.
            await self._give_up(row, row.last_error or DeliveryFailure.ERROR.value)
            return
        try:
            body = self._fernet.decrypt(row.token.encode("ascii")).decode("utf-8")
        except InvalidToken:  # not ours after all: another backend's key
            await self._give_up(row, DeliveryFailure.LOST.value)
            return
        started = time.perf_counter()
        reason: DeliveryFailure | None
        try:
            with language(row.locale) if row.locale else contextlib.nullcontext():
                await self._sender.send(row.channel, row.recipient, row.subject, body)
        except DeliveryError as failure:
            reason = failure.reason
        except Exception as error:  # noqa: BLE001 - any sender failure counts as one, stated by type only
            log.error("delivery: message %d: the sender raised %s", row.id, type(error).__name__)
            reason = DeliveryFailure.ERROR
        else:
            reason = None
        finally:
            took = time.perf_counter() - started
            self._typical[row.channel] = 0.8 * self._typical.get(row.channel, took) + 0.2 * took
        if reason is None:
            await self._delete(row.id)
            if row.kind is Kind.CODE:
                await self._record(row, AuditEvent.CODE_SENT, row.channel.value)
            return
        await self._failed(row, reason)

    async def _failed(self, row: _Row, reason: DeliveryFailure) -> None:
        attempts = row.attempts + 1
        retry_at = self._clock.now().timestamp() + RETRY_DELAYS[min(attempts, len(RETRY_DELAYS)) - 1]
        if reason in PERMANENT or attempts >= MAX_ATTEMPTS or retry_at >= row.deadline:
            await self._give_up(row, reason.value, attempts=attempts)
            return
        log.info(
            "delivery: %s %d by %s failed (%s), attempt %d; next in %.0f s",
            row.kind.value, row.id, row.channel.value, reason.value, attempts, retry_at - self._clock.now().timestamp(),
        )  # fmt: skip
        await self._store.call(
            lambda db: db.execute(
                "UPDATE delivery_queue SET state = 'queued', attempts = ?, next_attempt_at = ?, last_error = ? "
                "WHERE id = ?",
                (attempts, retry_at, reason.value, row.id),
            )
        )

    async def _give_up(self, row: _Row, reason: str, *, attempts: int | None = None, delete: bool = True) -> None:
        if delete:
            await self._delete(row.id)
        if row.kind is Kind.DECOY:
            await self._record(row, AuditEvent.CODE_SENT, f"decoy:{row.channel.value}")
            return
        log.warning(
            "delivery: gave up %s %d by %s after %d attempt(s): %s",
            row.kind.value, row.id, row.channel.value, row.attempts if attempts is None else attempts, reason,
        )  # fmt: skip
        if row.kind is Kind.CODE:
            await self._record(row, AuditEvent.CODE_SENT, f"delivery_failed:{reason}")
        else:
            await self._record(row, AuditEvent.NOTICE_FAILED, reason)

    async def _delete(self, row_id: int) -> None:
        await self._store.call(lambda db: db.execute("DELETE FROM delivery_queue WHERE id = ?", (row_id,)))

    async def _record(self, row: _Row, event: AuditEvent, outcome: str) -> None:
        context = correlation_id.set(row.origin_cid)  # the request that queued it
        try:
            await self._audit.record(
                event, kiosk_id=row.kiosk_id, reference=row.reference, user_id=row.user_id, outcome=outcome
            )
        finally:
            correlation_id.reset(context)


_INSERT = (
    "INSERT INTO delivery_queue (kind, channel, recipient, subject, body, locale, account, kiosk_id, reference, "
    "user_id, correlation_id, owner, queued_at, next_attempt_at, deadline, key_id) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
