"""Capacity without lies (issue 12, part 6): bounded hashing, 503 `busy` before any work, step
deadlines, and set_password / choose_action answered from their first result on a retry.

The hashing queue is made tiny (`Hashing(workers=1, queue=0)`: one ticket) and its one worker held
with an event, so a full queue is reached deterministically, without timing.
"""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest

from kiosk.policy.schema import Method, Policy
from kiosk.services.api import IDEMPOTENCY_HEADER, TIMEOUT_HEADER, SessionView, Stage, step_deadline
from kiosk.services.backend import Backend, ManualClock, deadline
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.hashing import Hashing

from .conftest import DEMO_PASSWORD, GOOD_PASSWORD, START, Kiosk, demo_policy


@asynccontextmanager
async def kiosk_with(hashing: Hashing, policy: Policy | None = None, *, metrics: bool = False) -> AsyncIterator[Kiosk]:
    """A kiosk driver on a backend that hashes on `hashing`."""
    backend = await Backend.open(
        policy or demo_policy(), clock=ManualClock(START), kiosk_id="test-kiosk", hashing=hashing, metrics=metrics
    )
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
            yield Kiosk(backend, http)
    finally:
        await backend.close()


class HeldWorker:
    """Keeps the hashing service's one worker busy until released (an event, not a sleep)."""

    def __init__(self, hashing: Hashing) -> None:
        self._release = threading.Event()
        self._job = asyncio.ensure_future(hashing.run(self._release.wait))

    async def release(self) -> None:
        """Let the worker go and wait until it has."""
        self._release.set()
        await self._job


async def until(condition: Callable[[], bool]) -> None:
    """Yield to the loop until `condition` holds (what is awaited is work on threads, not time)."""
    for _ in range(10_000):
        if condition():
            return
        await asyncio.sleep(0.001)
    raise AssertionError("the condition never held")


def headers(kiosk: Kiosk, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {kiosk.token}", **extra}


async def post(kiosk: Kiosk, path: str, body: Any, **extra: str) -> httpx.Response:
    return await kiosk.http.post(f"/v1{path}", json=body, headers=headers(kiosk, **extra))


def key() -> str:
    return str(uuid.uuid4())


async def at_new_password(kiosk: Kiosk, login: str = "emma") -> None:
    await kiosk.start(login)
    view = await kiosk.pass_email()
    assert view.stage is Stage.NEW_PASSWORD


# ---------------------------------------------------------------------------------------------- busy


async def test_a_full_queue_answers_busy_with_retry_after_before_any_work() -> None:
    hashing = Hashing(workers=1, queue=0)
    async with kiosk_with(hashing, metrics=True) as kiosk:
        await kiosk.start("emma")
        await kiosk.choose(Method.EMAIL)
        before_view = SessionView.model_validate_json((await kiosk.request("GET", "/session")).content)
        before_audit = await kiosk.backend.audit_records()
        with hashing.admit():  # the one ticket is out: the queue is full
            response = await post(kiosk, "/session/code", {"code": "000000"})
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "busy"
            assert response.json()["message_key"] == "error.busy"
            assert int(response.headers["Retry-After"]) >= 1
            # A step that does not hash is still served.
            assert (await kiosk.request("GET", "/session")).status_code == 200
        # Nothing was done: no attempt spent, the session as it was, nothing audited.
        after_view = SessionView.model_validate_json((await kiosk.request("GET", "/session")).content)
        assert after_view == before_view
        assert after_view.code is not None and before_view.code is not None
        assert after_view.code.attempts_left == before_view.code.attempts_left
        assert await kiosk.backend.audit_records() == before_audit
        # With the ticket back, the same code is checked (and is wrong, which costs the attempt now).
        wrong = await post(kiosk, "/session/code", {"code": "000000"})
        assert wrong.status_code == 400 and wrong.json()["code"] == "code_wrong"
        metrics = (await kiosk.http.get("/metrics")).text
        assert "kiosk_busy_total 1.0" in metrics


async def test_every_hashing_step_is_admitted_and_only_those() -> None:
    hashing = Hashing(workers=1, queue=0)
    async with kiosk_with(hashing) as kiosk:
        await kiosk.open()
        with hashing.admit():
            # Refused before the state machine is even asked (it would say step_not_allowed here).
            for path, body in (
                ("/session/method", {"method": "email"}),
                ("/session/code", {"code": "123456"}),
                ("/session/code/resend", None),
                ("/session/answers", {"answers": []}),
                ("/session/password", {"password": GOOD_PASSWORD}),
            ):
                response = await post(kiosk, path, body)
                assert response.status_code == 503 and response.json()["code"] == "busy", path
            # The steps that do not hash are served as usual.
            assert (await post(kiosk, "/session/captcha", None)).status_code == 200
            assert (await kiosk.identify("emma")).stage is Stage.CHOOSE_METHOD
            action = await post(kiosk, "/session/action", {"action": "unlock"})
            assert action.status_code == 409 and action.json()["code"] == "step_not_allowed"
        assert hashing.load().refused == 5


async def test_a_request_waiting_for_a_held_worker_fills_the_queue_and_shows_in_the_metrics() -> None:
    hashing = Hashing(workers=1, queue=0)
    async with kiosk_with(hashing, metrics=True) as first:
        second = Kiosk(first.backend, first.http)
        await first.start("emma")
        await second.start("quinn")
        held = HeldWorker(hashing)
        await until(lambda: hashing.load().running == 1)
        choosing = asyncio.ensure_future(post(first, "/session/method", {"method": "email"}))  # hashes a code
        await until(lambda: hashing.load().waiting == 1)
        metrics = (await first.http.get("/metrics")).text
        assert "kiosk_hashing_queue_depth 1.0" in metrics
        assert "kiosk_hashing_queue_capacity 1.0" in metrics
        assert "kiosk_hashing_in_flight 1.0" in metrics
        assert "kiosk_hashing_waiting 1.0" in metrics
        refused = await post(second, "/session/method", {"method": "email"})
        assert refused.status_code == 503 and refused.json()["code"] == "busy"
        await held.release()
        assert (await choosing).status_code == 200
        assert hashing.load().admitted == 0
        assert (await post(second, "/session/method", {"method": "email"})).status_code == 200


async def test_heavy_steps_leave_a_reserve_for_the_light_ones() -> None:
    """Resets (seconds of strong hashing) can hold every ticket but the reserve; a code check still gets in."""
    hashing = Hashing(workers=1, queue=1)  # two tickets, one of them reserved for light steps
    assert hashing.reserve == 1
    async with kiosk_with(hashing) as kiosk:
        await kiosk.start("emma")
        with hashing.admit(heavy=True):  # a reset in progress: the heavy steps' share is used up
            heavy = (("/session/password", {"password": GOOD_PASSWORD}), ("/session/answers", {"answers": []}))
            for path, body in heavy:
                refused = await post(kiosk, path, body)
                assert refused.status_code == 503 and refused.json()["code"] == "busy", path
            chosen = await post(kiosk, "/session/method", {"method": "email"})  # hashes a code: served
            assert chosen.status_code == 200, chosen.text
            with hashing.admit():  # the reserve taken too: now everything that hashes waits
                wrong = await post(kiosk, "/session/code", {"code": "00000000"})
                assert wrong.status_code == 503 and wrong.json()["code"] == "busy"
        assert hashing.load().refused == 3


def test_the_default_service_has_a_worker_per_core_and_a_queue() -> None:
    import os

    hashing = Hashing()
    assert hashing.workers == (os.cpu_count() or 1)
    assert hashing.capacity > hashing.workers
    hashing.close()


# ----------------------------------------------------------------------------------------- deadlines


@pytest.mark.parametrize("timeout", [0.1, 1.0, 10.0, 120.0])
def test_the_backend_deadline_is_always_shorter_than_the_kiosk_timeout(timeout: float) -> None:
    assert 0 < step_deadline(timeout) < timeout


async def test_a_reset_that_reaches_its_effect_after_the_deadline_is_refused_and_not_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [1000.0]
    monkeypatch.setattr(deadline, "monotonic", lambda: now[0])
    hashing = Hashing(workers=1)
    async with kiosk_with(hashing) as kiosk:
        await at_new_password(kiosk)
        held = HeldWorker(hashing)
        await until(lambda: hashing.load().running == 1)
        request = key()
        # The kiosk waits 10 s, so the backend has 7 s to start the reset; its password checks are stuck.
        sending = asyncio.ensure_future(
            post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **{IDEMPOTENCY_HEADER: request})
        )
        await until(lambda: hashing.load().waiting == 1)
        now[0] += step_deadline(10.0) + 0.01
        await held.release()
        late = await sending
        assert late.status_code == 503 and late.json()["code"] == "busy"
        assert late.headers["Retry-After"] == "1"
        # Not applied: the old password works, nothing reset in the audit, the session still waits.
        assert await kiosk.backend.directory.verify_password("emma", DEMO_PASSWORD)
        assert AuditEvent.RESET not in {record.event for record in await kiosk.backend.audit_records()}
        # The kiosk's retry, with the same request id, in time: applied once (a refusal was not kept).
        retried = await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **{IDEMPOTENCY_HEADER: request})
        assert retried.status_code == 200, retried.text
        assert SessionView.model_validate_json(retried.content).stage is Stage.DONE


async def test_a_step_whose_time_went_waiting_is_refused_before_it_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    async with kiosk_with(Hashing()) as kiosk:
        await kiosk.start("emma")
        before = await kiosk.backend.audit_records()
        times = iter([0.0, 100.0])  # set at arrival; checked once the session's lock is held
        monkeypatch.setattr(deadline, "monotonic", lambda: next(times))
        response = await post(kiosk, "/session/method", {"method": "email"})
        assert response.status_code == 503 and response.json()["code"] == "busy"
        assert await kiosk.backend.audit_records() == before


async def test_the_kiosk_timeout_shortens_the_deadline_but_never_lengthens_it(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[float] = []
    real_start = deadline.start

    def record(seconds: float) -> Any:
        seen.append(seconds)
        return real_start(seconds)

    monkeypatch.setattr(deadline, "start", record)
    async with kiosk_with(Hashing()) as kiosk:  # the policy's backend.timeout_seconds: 10
        await kiosk.open()
        for told in ("4", "60", "nonsense", "-1", "nan"):
            await kiosk.http.get("/v1/session", headers=headers(kiosk, **{TIMEOUT_HEADER: told}))
    assert seen[-5:] == [step_deadline(4), step_deadline(10), step_deadline(10), step_deadline(10), step_deadline(10)]


# ------------------------------------------------------------------------------------- idempotency


def _count_resets(backend: Backend, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    writes: list[str] = []
    reset = backend.directory.reset_password

    async def counted(login: str, password: str) -> None:
        writes.append(login)
        await reset(login, password)

    monkeypatch.setattr(backend.directory, "reset_password", counted)
    return writes


async def test_a_retried_password_is_answered_from_its_first_result_and_written_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with kiosk_with(Hashing()) as kiosk:
        await at_new_password(kiosk)
        writes = _count_resets(kiosk.backend, monkeypatch)
        request = {IDEMPOTENCY_HEADER: key()}
        first = await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **request)
        again = await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **request)
        assert first.status_code == again.status_code == 200, again.text
        assert first.content == again.content
        assert SessionView.model_validate_json(again.content).stage is Stage.DONE
        assert GOOD_PASSWORD not in again.text
        assert writes == ["emma"]
        resets = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.RESET]
        assert [r.outcome for r in resets] == ["ok"]
        # Another request id after the reset is a new step: the state machine's answer.
        other = await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **{IDEMPOTENCY_HEADER: key()})
        assert other.status_code == 409 and other.json()["code"] == "step_not_allowed"
        assert writes == ["emma"]


class _Killed(BaseException):
    """Stands for the process dying (nothing after it runs: no handler of `Exception` catches it)."""


@pytest.mark.parametrize("same_request_id", [True, False])
async def test_a_retry_after_the_process_died_mid_write_is_told_done_not_rejected(
    monkeypatch: pytest.MonkeyPatch, same_request_id: bool
) -> None:
    """The reset reached the directory, then the replica died before it finished the session, kept its answer
    or audited it. The kiosk retries (same request id; or the user submits again): the backend must tell the
    truth, done, not "you used this password before", and audit exactly one reset, without a second write."""
    async with kiosk_with(Hashing()) as kiosk:
        await at_new_password(kiosk)
        reset = kiosk.backend.directory.reset_password
        writes: list[str] = []

        async def write_then_die(login: str, password: str) -> None:
            writes.append(login)
            await reset(login, password)
            raise _Killed

        monkeypatch.setattr(kiosk.backend.directory, "reset_password", write_then_die)
        first_id = key()
        with pytest.raises(_Killed):  # the kiosk got no answer at all
            await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **{IDEMPOTENCY_HEADER: first_id})
        assert await kiosk.backend.directory.verify_password("emma", GOOD_PASSWORD)  # but the write went through
        monkeypatch.setattr(kiosk.backend.directory, "reset_password", reset)
        retry = {IDEMPOTENCY_HEADER: first_id if same_request_id else key()}
        again = await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **retry)
        assert again.status_code == 200, again.text
        assert SessionView.model_validate_json(again.content).stage is Stage.DONE
        assert writes == ["emma"]  # never written twice
        resets = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.RESET]
        assert [r.outcome for r in resets] == ["ok"]


async def test_a_retry_after_a_death_before_the_write_writes_normally(monkeypatch: pytest.MonkeyPatch) -> None:
    """Died before the directory changed: the retry finds the old password there and writes it, once."""
    async with kiosk_with(Hashing()) as kiosk:
        await at_new_password(kiosk)
        reset = kiosk.backend.directory.reset_password

        async def die_first(login: str, password: str) -> None:
            raise _Killed

        monkeypatch.setattr(kiosk.backend.directory, "reset_password", die_first)
        request = {IDEMPOTENCY_HEADER: key()}
        with pytest.raises(_Killed):
            await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **request)
        assert not await kiosk.backend.directory.verify_password("emma", GOOD_PASSWORD)
        monkeypatch.setattr(kiosk.backend.directory, "reset_password", reset)
        writes = _count_resets(kiosk.backend, monkeypatch)
        again = await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **request)
        assert again.status_code == 200, again.text
        assert writes == ["emma"] and await kiosk.backend.directory.verify_password("emma", GOOD_PASSWORD)


async def test_a_write_whose_answer_was_lost_is_told_done_when_the_directory_holds_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The directory took the password, then the connection dropped before its answer: told done, not failed."""
    async with kiosk_with(Hashing()) as kiosk:
        await at_new_password(kiosk)
        reset = kiosk.backend.directory.reset_password

        async def answer_lost(login: str, password: str) -> None:
            await reset(login, password)
            raise ConnectionResetError("the directory's answer never arrived")

        monkeypatch.setattr(kiosk.backend.directory, "reset_password", answer_lost)
        done = await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **{IDEMPOTENCY_HEADER: key()})
        assert done.status_code == 200, done.text
        assert SessionView.model_validate_json(done.content).stage is Stage.DONE
        events = [(r.event, r.outcome) for r in await kiosk.backend.audit_records() if r.event is AuditEvent.RESET]
        assert events == [(AuditEvent.RESET, "writeback_failed"), (AuditEvent.RESET, "ok")]


async def test_concurrent_duplicates_write_once(monkeypatch: pytest.MonkeyPatch) -> None:
    async with kiosk_with(Hashing()) as kiosk:
        await at_new_password(kiosk)
        writes = _count_resets(kiosk.backend, monkeypatch)
        request = {IDEMPOTENCY_HEADER: key()}
        answers = await asyncio.gather(
            *(post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **request) for _ in range(3))
        )
        assert [answer.status_code for answer in answers] == [200, 200, 200]
        assert len({answer.content for answer in answers}) == 1
        assert writes == ["emma"]


async def test_a_refused_password_is_not_kept_so_its_retry_checks_again() -> None:
    async with kiosk_with(Hashing()) as kiosk:
        await at_new_password(kiosk)
        request = {IDEMPOTENCY_HEADER: key()}
        refused = await post(kiosk, "/session/password", {"password": "short"}, **request)
        assert refused.status_code == 422 and refused.json()["code"] == "password_rejected"
        again = await post(kiosk, "/session/password", {"password": "short"}, **request)
        assert again.status_code == 422
        rejected = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.PASSWORD_REJECTED]
        assert len(rejected) == 2


async def test_a_retried_unlock_is_applied_once(monkeypatch: pytest.MonkeyPatch) -> None:
    async with kiosk_with(Hashing()) as kiosk:
        await kiosk.backend.directory.set_locked("emma", True)
        await kiosk.start("emma")
        assert (await kiosk.pass_email()).stage is Stage.CHOOSE_ACTION
        unlocks: list[str] = []
        unlock = kiosk.backend.directory.unlock

        async def counted(login: str) -> None:
            unlocks.append(login)
            await unlock(login)

        monkeypatch.setattr(kiosk.backend.directory, "unlock", counted)
        request = {IDEMPOTENCY_HEADER: key()}
        first = await post(kiosk, "/session/action", {"action": "unlock"}, **request)
        again = await post(kiosk, "/session/action", {"action": "unlock"}, **request)
        assert first.status_code == again.status_code == 200
        assert first.content == again.content
        assert unlocks == ["emma"]


async def test_the_same_request_id_in_another_session_is_another_request() -> None:
    async with kiosk_with(Hashing()) as kiosk:
        other = Kiosk(kiosk.backend, kiosk.http)
        await at_new_password(kiosk, "emma")
        await other.start("luke")  # locked: may unlock or reset
        assert (await other.pass_email()).stage is Stage.CHOOSE_ACTION
        request = {IDEMPOTENCY_HEADER: key()}
        assert (await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **request)).status_code == 200
        second = await post(other, "/session/action", {"action": "reset"}, **request)
        assert second.status_code == 200
        assert SessionView.model_validate_json(second.content).stage is Stage.NEW_PASSWORD


@pytest.mark.parametrize("value", ["", "not-a-uuid", "1" * 37, "{" + str(uuid.UUID(int=1)) + "}"])
async def test_a_malformed_request_id_is_refused_before_any_work(value: str) -> None:
    async with kiosk_with(Hashing()) as kiosk:
        await at_new_password(kiosk)
        response = await post(kiosk, "/session/password", {"password": GOOD_PASSWORD}, **{IDEMPOTENCY_HEADER: value})
        assert response.status_code == 422
        assert response.json()["field"] == IDEMPOTENCY_HEADER
        assert await kiosk.backend.directory.verify_password("emma", DEMO_PASSWORD)
