"""The delivery queue across replicas (issue 12, part 5) on both databases: a backend killed with messages
queued loses none. Two `Store` objects on one database are two replicas; a queue that is never called
again (no close, no heartbeat) is a replica killed with SIGKILL. The workers are driven by
`deliver_pending` on a shared `ManualClock`, so no test waits for a real heartbeat.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from cryptography.fernet import Fernet, InvalidToken

from kiosk.policy.schema import Method
from kiosk.services.backend.audit.log import AuditEvent, AuditLog
from kiosk.services.backend.clock import ManualClock
from kiosk.services.backend.delivery.queue import DEAD_AFTER, HEARTBEAT, DeliveryQueue, Message, Origin, body_key
from kiosk.services.backend.delivery.sender import DeliveryError, DeliveryFailure
from kiosk.services.backend.storage.store import Store

from .places import Place

START = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
ENROLLMENT_KEY = Fernet.generate_key()
"""The enrollment key the replicas of one store share (FAKE, made for this run)."""


@dataclass
class Sender:
    """Keeps what it is given; fails every send while `failing`, or hangs while `hang` is set."""

    sent: list[tuple[str, str]] = field(default_factory=list)
    failing: bool = False
    hang: bool = False

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        """Keep (recipient, body), fail, or never answer (a server killed while sending)."""
        if self.hang:
            await asyncio.Event().wait()
        if self.failing:
            raise DeliveryError(DeliveryFailure.UNREACHABLE)
        self.sent.append((to, body))


@dataclass
class Replica:
    """One backend's queue on its own store connection(s)."""

    store: Store
    queue: DeliveryQueue
    sender: Sender
    audit: AuditLog


@contextlib.asynccontextmanager
async def replica(place: Place, clock: ManualClock, key: bytes | None = ENROLLMENT_KEY) -> AsyncIterator[Replica]:
    """A replica whose queue seals with `body_key(key)` (None: a key of its own); the store closed afterwards,
    the queue NOT (a test closes it, or leaves it as a killed process leaves it)."""
    async with place.store() as store:
        sender = Sender()
        audit = AuditLog(store, clock)
        yield Replica(store, DeliveryQueue(store, clock, sender, audit, body_key(key) if key else None), sender, audit)


def origin(account: str) -> Origin:
    """The session a message belongs to (each account its own, so no code replaces another)."""
    return Origin(kiosk_id="lobby-1", reference=f"ref-{account}", user_id=account, account=account, locale="en")


async def queue_codes(replica: Replica, clock: ManualClock, count: int) -> list[str]:
    """Queue `count` codes (one per account), returns their bodies."""
    bodies = [f"Your verification code is {10_000_000 + index}" for index in range(count)]
    for index, body in enumerate(bodies):
        message = Message(Method.EMAIL, f"user{index}@contoso.test", "Your code", body)
        await replica.queue.enqueue_code(
            origin(f"user{index}"), message, expires_at=clock.now() + timedelta(minutes=5), decoy=False
        )
    return bodies


async def kill_while_sending(replica: Replica) -> None:
    """Claim the replica's due rows (marked `sending`), then stop it as SIGKILL would: nothing handed over."""
    replica.sender.hang = True
    delivering = asyncio.create_task(replica.queue.deliver_pending())
    while not await rows(replica.store, "state = 'queued'") == []:
        await asyncio.sleep(0.005)
    for task in list(replica.queue._inflight):  # the process is gone: no close, no release
        task.cancel()
    delivering.cancel()
    await asyncio.gather(delivering, return_exceptions=True)


async def rows(store: Store, where: str = "1 = 1") -> list[tuple[str, str]]:
    """(owner, state) of the queue's rows matching `where`, in id order."""
    return await store.call(
        lambda db: [
            (row["owner"], row["state"])
            for row in db.execute(f"SELECT owner, state FROM delivery_queue WHERE {where} ORDER BY id").fetchall()  # noqa: S608 - the tests' own literals
        ]
    )


async def code_outcomes(replica: Replica) -> Counter[str]:
    """The outcomes of the audited `code_sent` rows."""
    return Counter(record.outcome for record in await replica.audit.records() if record.event is AuditEvent.CODE_SENT)


async def test_a_killed_owners_rows_are_adopted_by_exactly_one_of_two_live_queues_and_sent_once(
    place: Place,
) -> None:
    clock = ManualClock(START)
    async with replica(place, clock) as dead, replica(place, clock) as one, replica(place, clock) as two:
        bodies = await queue_codes(dead, clock, 6)
        await kill_while_sending(dead)  # it had claimed them all: rows `sending`, its last heartbeat now
        assert await rows(dead.store) == [(dead.queue._owner, "sending")] * 6
        clock.advance(DEAD_AFTER - 1)
        await asyncio.gather(one.queue.deliver_pending(), two.queue.deliver_pending())
        assert one.sender.sent == two.sender.sent == [], "not seen for less than DEAD_AFTER: not dead yet"
        assert len(await rows(one.store, f"owner = '{dead.queue._owner}'")) == 6
        clock.advance(2)
        for _ in range(3):  # both replicas claim at once, again and again: each row goes to one of them
            await asyncio.gather(one.queue.deliver_pending(), two.queue.deliver_pending())
        sent = one.sender.sent + two.sender.sent
        assert sorted(body for _, body in sent) == sorted(bodies), "every code sent, none twice"
        assert dead.sender.sent == [] and await rows(one.store) == []
        assert await code_outcomes(one) == Counter({"email": 6})  # audited once each, by the adopter
        owners = await one.store.call(lambda db: [row[0] for row in db.execute("SELECT owner FROM delivery_owners")])
        assert dead.queue._owner not in owners, "a dead owner with nothing left is forgotten"
        await one.queue.close()
        await two.queue.close()


async def test_a_live_owners_rows_are_never_taken_and_once_it_dies_they_are(place: Place) -> None:
    """The owner keeps failing to send (SMTP down) and retrying while it keeps beating: the other replica, on
    the same store and clock, never takes its row; once it stops beating the other sends it."""
    clock = ManualClock(START)
    async with replica(place, clock) as owner, replica(place, clock) as other:
        owner.sender.failing = True
        [body] = await queue_codes(owner, clock, 1)
        for _ in range(12):  # 18 s, twice DEAD_AFTER, the owner beating every HEARTBEAT or so; attempts at 0, 2, 7 s
            await owner.queue.deliver_pending()
            await other.queue.deliver_pending()
            assert await rows(other.store) == [(owner.queue._owner, "queued")]
            clock.advance(HEARTBEAT * 0.75)
        assert other.sender.sent == [] and owner.sender.sent == []
        # killed now (no close): the other adopts it after DEAD_AFTER, and sends it on its schedule (22 s)
        clock.advance(DEAD_AFTER + HEARTBEAT)
        await other.queue.deliver_pending()
        assert other.sender.sent == [("user0@contoso.test", body)]
        assert await rows(other.store) == [] and await code_outcomes(other) == Counter({"email": 1})
        await other.queue.close()


async def test_a_body_sealed_by_one_queue_opens_with_the_same_enrollment_key_only(place: Place) -> None:
    clock = ManualClock(START)
    other_key = Fernet.generate_key()
    async with replica(place, clock) as dead:
        [body] = await queue_codes(dead, clock, 1)
        [token] = await dead.store.call(lambda db: [row[0] for row in db.execute("SELECT body FROM delivery_queue")])
    assert body not in token and "10000000" not in token
    for wrong in (ENROLLMENT_KEY, body_key(other_key)):  # not the enrollment key itself, nor another's
        with pytest.raises(InvalidToken):
            Fernet(wrong).decrypt(token)
    clock.advance(DEAD_AFTER + 1)
    async with replica(place, clock, other_key) as stranger:  # another key: it leaves the row alone
        await stranger.queue.deliver_pending()
        assert stranger.sender.sent == [] and await rows(stranger.store) == [(dead.queue._owner, "queued")]
        await stranger.queue.close()
    async with replica(place, clock) as heir:  # the same enrollment key: it opens and sends it
        await heir.queue.deliver_pending()
        assert heir.sender.sent == [("user0@contoso.test", body)] and await rows(heir.store) == []
        await heir.queue.close()


async def test_a_queue_with_a_key_of_its_own_adopts_nothing_and_is_adopted_by_nobody(place: Place) -> None:
    """A temporary store's queue (its key in memory only): no heartbeat, and its rows are left to it."""
    clock = ManualClock(START)
    async with replica(place, clock, None) as alone, replica(place, clock) as shared:
        await queue_codes(alone, clock, 1)
        clock.advance(DEAD_AFTER + 1)
        await alone.queue.deliver_pending()  # claims, so its row would be `sending` if it had not sent it
        assert alone.sender.sent and await rows(alone.store) == []
        alone.sender.hang = True
        await queue_codes(alone, clock, 1)
        clock.advance(DEAD_AFTER + 1)
        await shared.queue.deliver_pending()
        assert shared.sender.sent == [] and len(await rows(shared.store)) == 1
        owners = await shared.store.call(lambda db: [row[0] for row in db.execute("SELECT owner FROM delivery_owners")])
        assert owners == [shared.queue._owner]
        await shared.queue.close()


async def test_a_dead_owners_row_past_its_deadline_is_given_up_not_sent(place: Place) -> None:
    clock = ManualClock(START)
    async with replica(place, clock) as dead:
        await queue_codes(dead, clock, 1)
    clock.advance(5 * 60 + 1)  # the code expired before any live replica looked
    async with replica(place, clock) as heir:
        await heir.queue.deliver_pending()
        assert heir.sender.sent == [] and await rows(heir.store) == []
        assert await code_outcomes(heir) == Counter({"delivery_failed:lost": 1})
        await heir.queue.close()


async def test_a_clean_close_hands_over_what_it_could_not_send(
    place: Place, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed while a send hangs: its row goes back to `queued`, its heartbeat goes, and another replica
    sends it once the row is `DEAD_AFTER` old."""
    monkeypatch.setattr(DeliveryQueue, "CLOSE_GRACE", 0.05)
    clock = ManualClock(START)
    async with replica(place, clock) as leaving, replica(place, clock) as staying:
        leaving.sender.hang = True
        [body] = await queue_codes(leaving, clock, 1)
        await leaving.queue.close()
        assert await rows(staying.store) == [(leaving.queue._owner, "queued")]
        owners = await staying.store.call(
            lambda db: [row[0] for row in db.execute("SELECT owner FROM delivery_owners")]
        )
        assert leaving.queue._owner not in owners
        await staying.queue.deliver_pending()
        assert staying.sender.sent == [], "a row younger than DEAD_AFTER of an owner never seen is left alone"
        clock.advance(DEAD_AFTER)
        await staying.queue.deliver_pending()
        assert staying.sender.sent == [("user0@contoso.test", body)]
        await staying.queue.close()
