"""Delivery through the durable outbox (issue 11, finding 2): the API answers a real send and a decoy
alike, at the same time, whatever SMTP does; the worker delivers with retries and audits a final failure.

Over a REAL aiosmtpd server on loopback (slow, failing, recovering) and, for what a server cannot
show (the queue's rows, the work behind one request), over the dev outbox or a scripted sender.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import statistics
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from kiosk.policy.schema import Method
from kiosk.services.api import KIOSK_CREDENTIAL_HEADER
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.delivery.queue import DEAD_AFTER, DeliveryQueue
from kiosk.services.backend.delivery.sender import DeliveryError, DeliveryFailure

from ..conftest import GOOD_PASSWORD, START, Kiosk, demo_policy
from ..test_enumeration import _comparable
from .conftest import SmtpServer
from .test_smtp import USERS, code_in, outcomes, smtp_kiosk, smtp_policy

UNKNOWN = "nobody.here@fabrikam.test"


async def choose_email(kiosk: Kiosk, user_id: str) -> httpx.Response:
    """Open a session, identify `user_id` and choose e-mail, without waiting for any delivery."""
    await kiosk.open()
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    identified = await kiosk.request("POST", "/session/identify", {"user_id": user_id, "captcha": captcha})
    assert identified.status_code == 200, identified.text
    return await kiosk.request("POST", "/session/method", {"method": "email"})


async def test_a_failing_smtp_server_answers_like_a_decoy_retries_and_audits_the_reason(
    smtp_server: SmtpServer,
) -> None:
    smtp_server.inbox.failures = -1  # 451 to every message
    async with smtp_kiosk(smtp_policy(smtp_server.port)) as kiosk:
        real = _comparable(await choose_email(kiosk, "ivy"))
        decoy = _comparable(await choose_email(kiosk, UNKNOWN))
        assert real == decoy and real[0] == 200  # no 503: the answer cannot tell the two apart
        assert real[2]["stage"] == "verify_code" and real[2]["code"]["can_resend"]
        await kiosk.run_queue(6 * 60)
        sent = await outcomes(kiosk, AuditEvent.CODE_SENT)
        assert Counter(sent) == Counter({"delivery_failed:error": 1, "decoy:email": 1})
    # Retried on the schedule (0, 2, 7, 22, 52, 112 s), all within the code's five minutes.
    assert smtp_server.inbox.attempts == 6 and smtp_server.inbox.messages == []


async def test_a_server_that_recovers_gets_the_code_on_a_retry(smtp_server: SmtpServer) -> None:
    smtp_server.inbox.failures = 2
    async with smtp_kiosk(smtp_policy(smtp_server.port)) as kiosk:
        assert (await choose_email(kiosk, "ivy")).status_code == 200
        await kiosk.run_queue(10)
        [arrived] = smtp_server.inbox.messages
        assert smtp_server.inbox.attempts == 3
        assert (await kiosk.code(code_in(arrived.message))).gates_passed == 1
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["email"]  # delivered: no failure audited


async def test_retries_stop_when_the_code_expires(smtp_server: SmtpServer) -> None:
    smtp_server.inbox.failures = -1
    policy = smtp_policy(smtp_server.port)
    policy = policy.model_copy(update={"methods": policy.methods.model_copy(update={"code_lifetime_minutes": 1})})
    async with smtp_kiosk(policy) as kiosk:
        await choose_email(kiosk, "ivy")
        await kiosk.run_queue(3 * 60)
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["delivery_failed:error"]
    assert smtp_server.inbox.attempts == 5  # 0, 2, 7, 22, 52 s; the next (112 s) would be past the minute


async def test_a_slow_smtp_server_makes_no_difference_in_time(smtp_server: SmtpServer) -> None:
    """Choosing e-mail takes as long for a real account as for an unknown ID, with a 150 ms relay.

    Medians over interleaved rounds; inline sending made the real account ~150 ms slower. The bound is
    half the relay's delay, loose enough for a busy machine (the measured figures: bench/enumeration.py).
    """
    smtp_server.inbox.delay = 0.15
    times: dict[str, list[float]] = {"ivy": [], UNKNOWN: []}
    async with smtp_kiosk(smtp_policy(smtp_server.port)) as kiosk:
        clock = kiosk.backend.clock
        assert isinstance(clock, ManualClock)
        for _ in range(12):
            clock.advance(24 * 3600)  # the e-mail limit starts afresh
            for user_id in times:
                started = time.perf_counter()
                response = await choose_email(kiosk, user_id)
                assert response.status_code == 200, response.text
                times[user_id].append(time.perf_counter() - started)
    real, decoy = statistics.median(times["ivy"]), statistics.median(times[UNKNOWN])
    assert abs(real - decoy) < 0.075, (real, decoy)


async def test_the_request_does_the_same_work_for_a_real_send_and_a_decoy(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Store round trips and sends made by the choose-method request itself: the same, and no send."""
    request_task = asyncio.current_task()
    work: Counter[str] = Counter()
    store = backend._rt.store
    call, send = store.call, backend._rt.sender.send

    async def counted_call(job: Callable[[sqlite3.Connection], Any]) -> Any:
        if asyncio.current_task() is request_task:
            work["store"] += 1
        return await call(job)

    async def counted_send(*args: Any) -> None:
        if asyncio.current_task() is request_task:
            work["send"] += 1
        await send(*args)

    monkeypatch.setattr(store, "call", counted_call)
    monkeypatch.setattr(backend._rt.sender, "send", counted_send)
    seen: dict[str, Counter[str]] = {}
    for user_id in ("emma", "nobody@contoso.com", "fay"):  # real, unknown, nothing registered
        await kiosk.start(user_id)
        work.clear()
        assert (await kiosk.request("POST", "/session/method", {"method": "email"})).status_code == 200
        seen[user_id] = Counter(work)
    assert seen["emma"] == seen["nobody@contoso.com"] == seen["fay"], seen
    assert seen["emma"]["send"] == 0 and seen["emma"]["store"] >= 1


class HeldSender:
    """A sender that waits until released, then fails or keeps the message; counts its calls."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.sent: list[tuple[Method, str, str, str]] = []
        self.calls = 0
        self.failure: DeliveryFailure | None = None

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        self.calls += 1
        await self.release.wait()
        if self.failure is not None:
            raise DeliveryError(self.failure)
        self.sent.append((channel, to, subject, body))


@contextlib.asynccontextmanager
async def held_kiosk(sender: Any, database: Path | None = None) -> AsyncIterator[Kiosk]:
    """A demo backend whose messages go to `sender` (the dev outbox stays empty)."""
    backend = await Backend.open(demo_policy(), clock=ManualClock(START), database=database, sender=sender)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
            yield Kiosk(backend, http)
    finally:
        await backend.close()


def queued_rows(database: Path) -> list[sqlite3.Row]:
    with contextlib.closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM delivery_queue ORDER BY id").fetchall()


async def test_a_queued_body_is_encrypted_and_deleted_once_delivered(tmp_path: Path, memory_keyring: object) -> None:
    sender = HeldSender()
    database = tmp_path / "backend.sqlite3"
    async with held_kiosk(sender, database) as kiosk:
        await kiosk.start("emma")
        await kiosk.request("POST", "/session/method", {"method": "email"})
        delivering = asyncio.create_task(kiosk.backend.deliver_pending())
        while sender.calls == 0:
            await asyncio.sleep(0.001)
        [row] = queued_rows(database)  # being sent: the row is there, its body unreadable
        assert row["recipient"] == "emma.jansen@contoso.com" and row["state"] == "sending"
        assert "verification code" not in row["body"] and not any(ch.isspace() for ch in row["body"])
        sender.release.set()
        await delivering
        [(channel, to, _, body)] = sender.sent
        assert (channel, to) == (Method.EMAIL, "emma.jansen@contoso.com")
        code = body.split("code is ")[1][:8]
        assert code.isdigit() and code not in row["body"]
        assert queued_rows(database) == []  # delivered: gone from the queue
        assert (await kiosk.code(code)).gates_passed == 1


async def test_the_demo_inbox_shows_a_code_only_once_it_is_delivered(kiosk: Kiosk, backend: Backend) -> None:
    """The dev outbox is itself a sender: a queued message is not in it, a delivered one is."""
    await kiosk.start("emma")
    await kiosk.request("POST", "/session/method", {"method": "email"})
    rows = await backend._rt.store.call(lambda db: db.execute("SELECT body FROM delivery_queue").fetchall())
    for row in rows:  # still queued (or being delivered just now): encrypted
        assert "verification code" not in row["body"]
    response = await kiosk.http.get("/v1/dev/outbox")  # the demo inbox asks: what is due is delivered first
    [message] = response.json()["messages"]
    assert "verification code" in message["body"]
    assert await backend._rt.store.call(lambda db: db.execute("SELECT * FROM delivery_queue").fetchall()) == []


async def test_the_embedded_worker_delivers_promptly_without_any_hook(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("emma")
    await kiosk.request("POST", "/session/method", {"method": "email"})
    for _ in range(500):
        rows = await backend._rt.store.call(lambda db: db.execute("SELECT body FROM outbox").fetchall())
        if rows:
            break
        await asyncio.sleep(0.002)
    assert rows and "verification code" in rows[0]["body"]


async def test_a_message_left_by_a_stopped_backend_is_sent_by_the_next_one(
    tmp_path: Path, memory_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Issue 12, part 5: the body's key is derived from the enrollment key, which the next backend on the
    store holds too, so the message is sent (once, audited once) when the row is `DEAD_AFTER` old; never
    in its plain form in the store, and never sent after the code expired."""
    database = tmp_path / "backend.sqlite3"
    sender = HeldSender()
    monkeypatch.setattr(DeliveryQueue, "CLOSE_GRACE", 0.05)  # the held send never ends: stop soon
    async with held_kiosk(sender, database) as kiosk:
        await kiosk.start("emma")
        await kiosk.request("POST", "/session/method", {"method": "email"})
        # closed with the message still queued: the sender never answered
    [row] = queued_rows(database)
    assert row["state"] == "queued" and "verification code" not in row["body"]
    after = HeldSender()
    after.release.set()
    async with held_kiosk(after, database) as kiosk:
        await kiosk.backend.deliver_pending()
        assert len(queued_rows(database)) == 1 and after.sent == []  # not yet: its owner may be alive
        await kiosk.run_queue(int(DEAD_AFTER))
        [(channel, to, _, body)] = after.sent
        assert (channel, to) == (Method.EMAIL, "emma.jansen@contoso.com") and "verification code" in body
        assert queued_rows(database) == []
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["email"]


async def test_a_message_left_by_a_stopped_backend_is_not_sent_after_its_code_expired(
    tmp_path: Path, memory_keyring: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = tmp_path / "backend.sqlite3"
    monkeypatch.setattr(DeliveryQueue, "CLOSE_GRACE", 0.05)
    async with held_kiosk(HeldSender(), database) as kiosk:
        await kiosk.start("emma")
        await kiosk.request("POST", "/session/method", {"method": "email"})
    after = HeldSender()
    after.release.set()
    async with held_kiosk(after, database) as kiosk:
        assert isinstance(kiosk.backend.clock, ManualClock)
        kiosk.backend.clock.advance(15 * 60)  # the next backend starts after the code expired
        await kiosk.backend.deliver_pending()
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["delivery_failed:lost"]
    assert queued_rows(database) == [] and after.sent == []


async def test_a_notice_that_cannot_be_sent_is_retried_then_audited_and_the_reset_stands() -> None:
    sender = HeldSender()
    sender.release.set()
    async with held_kiosk(sender) as kiosk:
        await kiosk.start("emma")
        await kiosk.choose(Method.EMAIL)
        await kiosk.backend.deliver_pending()
        code = sender.sent[-1][3].split("code is ")[1][:8]
        await kiosk.code(code)
        sender.failure = DeliveryFailure.TIMEOUT
        assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
        await kiosk.run_queue(5 * 60)
        assert await outcomes(kiosk, AuditEvent.NOTICE_FAILED) == ["timeout"]
        assert sender.calls == 1 + 6  # the code, then the notice six times
        assert await kiosk.backend.directory.verify_password("emma", GOOD_PASSWORD)


async def test_an_unsupported_channel_is_given_up_at_once() -> None:
    sender = HeldSender()
    sender.release.set()
    sender.failure = DeliveryFailure.UNSUPPORTED_CHANNEL
    async with held_kiosk(sender) as kiosk:
        await kiosk.start("tara")
        assert (await kiosk.request("POST", "/session/method", {"method": "mobile_sms"})).status_code == 200
        await kiosk.backend.deliver_pending()
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["delivery_failed:unsupported_channel"]
        assert sender.calls == 1


async def test_the_served_app_starts_the_worker_on_startup_and_stops_it_on_shutdown(smtp_server: SmtpServer) -> None:
    """Under uvicorn (the ASGI lifespan): a code reaches the SMTP server with nobody calling a hook."""
    from kiosk.services.backend import _ServedApp

    app = _ServedApp(smtp_policy(smtp_server.port))
    startup: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    await startup.put({"type": "lifespan.startup"})
    lifespan = asyncio.create_task(app({"type": "lifespan"}, startup.get, send))
    while not sent:
        await asyncio.sleep(0.001)
    assert sent[-1]["type"] == "lifespan.startup.complete"
    backend = app._backend
    assert backend is not None
    await backend.directory.add_users([(user, "x") for user in USERS[:1]])
    headers = {KIOSK_CREDENTIAL_HEADER: (await backend.kiosks.add("lobby-1")).text}  # served: kiosks enrolled
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://kiosk", headers=headers) as http:
        kiosk = Kiosk(backend, http)
        assert (await choose_email(kiosk, "ivy")).status_code == 200
        for _ in range(1000):
            if smtp_server.inbox.messages:
                break
            await asyncio.sleep(0.005)
    assert smtp_server.inbox.messages  # the background worker sent it
    await startup.put({"type": "lifespan.shutdown"})
    await lifespan
    assert sent[-1]["type"] == "lifespan.shutdown.complete"
