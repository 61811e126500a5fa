"""A change whose answer was lost is never told as "nothing was changed" (issue 12, part 6).

The client tries a new password or an unlock again under the same request id while its answer is lost
(timeout, lost connection); after its last try the backend may still have applied it. The error page
then says the change may have gone through (`change_unconfirmed`, `unlock_unconfirmed`), and Try again
re-reads the session, whose stage tells the truth. Every other step keeps `service_timeout` and
`service_unavailable`, which say nothing was changed.

The real backend runs in-process; the wire loses the answers of one route on every try until healed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest
from flow_driver import NEW_PASSWORD, START, Kiosk, Wire, demo_policy

from kiosk.flows.engine import RecoveryFlow
from kiosk.flows.steps import (
    BeginAnswer,
    Choice,
    ChooseMethodAnswer,
    CodeAnswer,
    DoneData,
    DoneOutcome,
    ErrorData,
    NewPasswordAnswer,
    ResetOrUnlockAnswer,
    Step,
    StepKind,
)
from kiosk.policy.schema import Method
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.client import BackendClient, RetryPolicy, request_timeouts

EMMA = "emma.jansen@contoso.com"
LUKE = "luke.devries@contoso.com"
TRIES = 3


class LossyWire(Wire):
    """A wire that fails every request of the routes it was told to, until healed."""

    def __init__(self, inner: httpx.AsyncBaseTransport) -> None:
        super().__init__(inner)
        self._losing: dict[str, tuple[httpx.TransportError, bool]] = {}

    def lose(self, path: str, fault: httpx.TransportError, *, after_backend: bool) -> None:
        """Fail every request to `path`: before it reaches the backend, or after the backend handled it."""
        self._losing[path] = (fault, after_backend)

    def heal(self) -> None:
        """Carry every request again."""
        self._losing.clear()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Arm the fault of a lost route, then forward as `Wire` does."""
        rule = self._losing.get(request.url.path)
        if rule is not None:
            self.fail_next(rule[0], after_backend=rule[1])
        return await super().handle_async_request(request)


@asynccontextmanager
async def lossy_kiosk() -> AsyncIterator[tuple[Kiosk, LossyWire]]:
    """A flow on a real backend over a lossy wire; the client tries `TRIES` times without waiting."""
    clock = ManualClock(START)
    policy = demo_policy()
    backend = await Backend.open(policy, clock=clock, kiosk_id="test-kiosk")
    wire = LossyWire(httpx.ASGITransport(app=backend.asgi, raise_app_exceptions=False))
    http = httpx.AsyncClient(transport=wire, base_url="http://embedded", timeout=request_timeouts(10.0))

    async def no_wait(_seconds: float) -> None:
        return None

    client = BackendClient(http, retry=RetryPolicy(tries=TRIES), sleep=no_wait)
    flow = RecoveryFlow(client, policy, kiosk_id="test-kiosk", locale=lambda: "en")
    try:
        yield Kiosk(flow=flow, client=client, backend=backend, clock=clock, wire=wire), wire
    finally:
        await client.aclose()
        await backend.close()


async def through_the_gate(kiosk: Kiosk, login: str, address: str) -> Step:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify(login)
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    return await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(address)))


def error_code(step: Step) -> str:
    assert step.kind is StepKind.ERROR and isinstance(step.data, ErrorData)
    assert step.data.retryable
    return step.data.code


async def resets(kiosk: Kiosk) -> list[str]:
    return [r.outcome for r in await kiosk.backend.audit_records() if r.event is AuditEvent.RESET]


async def test_a_new_password_set_but_never_answered_is_not_told_as_nothing_changed() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        assert (await through_the_gate(kiosk, "emma", EMMA)).kind is StepKind.NEW_PASSWORD
        wire.lose("/v1/session/password", httpx.ReadTimeout("slow"), after_backend=True)
        step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        assert error_code(step) == "change_unconfirmed"
        assert kiosk.calls("POST", "/v1/session/password") == TRIES  # one request id, applied once
        assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)
        assert await resets(kiosk) == ["ok"]
        wire.heal()
        step = await kiosk.flow.retry()  # re-reads the session: the reset is done
        assert step.kind is StepKind.DONE
        assert isinstance(step.data, DoneData) and step.data.outcome is DoneOutcome.RESET
        assert kiosk.calls("POST", "/v1/session/password") == TRIES
        assert await resets(kiosk) == ["ok"]


@pytest.mark.parametrize(
    "fault", [httpx.ConnectError("refused"), httpx.ConnectTimeout("no route")], ids=["unreachable", "timeout"]
)
async def test_a_new_password_that_never_arrived_is_unconfirmed_and_retry_shows_the_page_again(
    fault: httpx.TransportError,
) -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await through_the_gate(kiosk, "emma", EMMA)
        wire.lose("/v1/session/password", fault, after_backend=False)
        step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        assert error_code(step) == "change_unconfirmed"  # the kiosk cannot tell it never arrived
        assert not await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)
        wire.heal()
        assert (await kiosk.flow.retry()).kind is StepKind.NEW_PASSWORD  # nothing changed: the page again
        assert (await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))).kind is StepKind.DONE
        assert await resets(kiosk) == ["ok"]


async def test_the_page_stays_unconfirmed_while_the_check_cannot_reach_the_backend() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await through_the_gate(kiosk, "emma", EMMA)
        wire.lose("/v1/session/password", httpx.ReadTimeout("slow"), after_backend=True)
        await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        wire.lose("/v1/session", httpx.ConnectError("refused"), after_backend=False)
        assert error_code(await kiosk.flow.retry()) == "change_unconfirmed"  # not "service_unavailable"
        assert error_code(await kiosk.flow.retry()) == "change_unconfirmed"
        wire.heal()
        assert (await kiosk.flow.retry()).kind is StepKind.DONE


async def test_an_unconfirmed_change_whose_session_expired_says_so_and_starts_again() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await through_the_gate(kiosk, "emma", EMMA)
        wire.lose("/v1/session/password", httpx.ReadTimeout("slow"), after_backend=True)
        await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        wire.heal()
        kiosk.clock.advance(16 * 60)
        assert error_code(await kiosk.flow.retry()) == "session_expired"
        assert (await kiosk.flow.retry()).kind is StepKind.IDENTIFY


async def test_an_unlock_done_but_never_answered_is_unlock_unconfirmed() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        assert (await through_the_gate(kiosk, "luke", LUKE)).kind is StepKind.RESET_OR_UNLOCK
        wire.lose("/v1/session/action", httpx.ReadTimeout("slow"), after_backend=True)
        step = await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.UNLOCK))
        assert error_code(step) == "unlock_unconfirmed"
        assert kiosk.calls("POST", "/v1/session/action") == TRIES
        wire.heal()
        step = await kiosk.flow.retry()
        assert step.kind is StepKind.DONE
        assert isinstance(step.data, DoneData) and step.data.outcome is DoneOutcome.UNLOCKED


async def test_choosing_reset_changes_nothing_so_its_lost_answer_keeps_the_plain_codes() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await through_the_gate(kiosk, "luke", LUKE)
        wire.lose("/v1/session/action", httpx.ReadTimeout("slow"), after_backend=False)
        assert error_code(await kiosk.flow.submit(ResetOrUnlockAnswer(Choice.RESET))) == "service_timeout"
        wire.heal()
        assert (await kiosk.flow.retry()).kind is StepKind.RESET_OR_UNLOCK


@pytest.mark.parametrize(
    ("fault", "code"),
    [(httpx.ReadTimeout("slow"), "service_timeout"), (httpx.ConnectError("refused"), "service_unavailable")],
)
async def test_other_steps_keep_the_plain_codes(fault: httpx.TransportError, code: str) -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await kiosk.flow.submit(BeginAnswer())
        await kiosk.identify("emma")
        wire.lose("/v1/session/method", fault, after_backend=False)
        assert error_code(await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))) == code
        wire.heal()
        assert (await kiosk.flow.retry()).kind is StepKind.CHOOSE_METHOD
        assert (await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))).kind is StepKind.ENTER_CODE
        wire.lose("/v1/session/code", fault, after_backend=False)
        assert error_code(await kiosk.flow.submit(CodeAnswer("00000000"))) == code


async def test_after_an_unconfirmed_change_is_resolved_later_failures_are_plain_again() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await through_the_gate(kiosk, "emma", EMMA)
        wire.lose("/v1/session/password", httpx.ConnectError("refused"), after_backend=False)
        await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        wire.heal()
        assert (await kiosk.flow.retry()).kind is StepKind.NEW_PASSWORD
        await kiosk.flow.cancel()
        wire.lose("/v1/sessions", httpx.ConnectError("refused"), after_backend=False)
        assert error_code(await kiosk.flow.submit(BeginAnswer())) == "service_unavailable"
