"""A busy backend through the engine (issue 12, part 6): the kiosk waits calmly and tries again under the
same request id; only after the client's limit is it an error page; a new password whose answer was
lost is answered from its first result, not written twice, and not reported as a failure.

The real backend runs in-process with a hashing service of one ticket, taken by the test to make the
backend busy; the client's waits go to a recorder instead of the clock.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
from flow_driver import NEW_PASSWORD, START, Kiosk, Wire, demo_policy

from kiosk.flows.engine import RecoveryFlow
from kiosk.flows.steps import BeginAnswer, ChooseMethodAnswer, CodeAnswer, ErrorData, NewPasswordAnswer, StepKind
from kiosk.policy.schema import Method
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.hashing import Hashing
from kiosk.services.client import BackendClient, RetryPolicy, request_timeouts

EMMA = "emma.jansen@contoso.com"


@asynccontextmanager
async def busy_kiosk(on_wait: Callable[[float], None]) -> AsyncIterator[tuple[Kiosk, Hashing]]:
    """A flow on a real backend whose hashing queue admits one request; the client's waits call `on_wait`."""
    hashing = Hashing(workers=1, queue=0)
    clock = ManualClock(START)
    policy = demo_policy()
    backend = await Backend.open(policy, clock=clock, kiosk_id="test-kiosk", hashing=hashing)
    wire = Wire(httpx.ASGITransport(app=backend.asgi, raise_app_exceptions=False))
    http = httpx.AsyncClient(transport=wire, base_url="http://embedded", timeout=request_timeouts(10.0))

    async def wait(seconds: float) -> None:
        on_wait(seconds)

    client = BackendClient(http, retry=RetryPolicy(tries=4), sleep=wait)
    flow = RecoveryFlow(client, policy, kiosk_id="test-kiosk", locale=lambda: "en")
    try:
        yield Kiosk(flow=flow, client=client, backend=backend, clock=clock, wire=wire), hashing
    finally:
        await client.aclose()
        await backend.close()


async def to_new_password(kiosk: Kiosk) -> None:
    await kiosk.flow.submit(BeginAnswer())
    await kiosk.identify("emma")
    await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
    step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(EMMA)))
    assert step.kind is StepKind.NEW_PASSWORD


class Ticket:
    """The hashing service's one ticket, held by the test while it is out."""

    def __init__(self, hashing: Hashing) -> None:
        self._stack = contextlib.ExitStack()
        self._hashing = hashing

    def take(self) -> None:
        self._stack.enter_context(self._hashing.admit())

    def give_back(self) -> None:
        self._stack.close()


async def test_a_busy_backend_is_waited_out_and_the_password_is_set_once() -> None:
    waits: list[float] = []
    ticket: list[Ticket] = []

    def on_wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) == 2:
            ticket[0].give_back()  # the queue drains while the kiosk waits

    async with busy_kiosk(on_wait) as (kiosk, hashing):
        heard: list[bool] = []
        kiosk.flow.on_retrying(heard.append)
        await to_new_password(kiosk)
        ticket.append(Ticket(hashing))
        ticket[0].take()
        step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        assert step.kind is StepKind.DONE
        assert len(waits) == 2 and heard == [True, False]
        assert kiosk.calls("POST", "/v1/session/password") == 3
        assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)
        resets = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.RESET]
        assert len(resets) == 1


async def test_a_backend_busy_past_the_limit_is_an_error_page_and_nothing_changed() -> None:
    waits: list[float] = []
    async with busy_kiosk(waits.append) as (kiosk, hashing):
        await to_new_password(kiosk)
        ticket = Ticket(hashing)
        ticket.take()
        step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        assert isinstance(step.data, ErrorData)
        assert step.data.code == "busy" and step.data.retryable
        assert len(waits) == 3 and kiosk.calls("POST", "/v1/session/password") == 4
        assert not await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)
        ticket.give_back()
        assert (await kiosk.flow.retry()).kind is StepKind.NEW_PASSWORD  # where the backend still is


async def test_a_lost_answer_to_a_new_password_is_answered_from_its_first_result() -> None:
    waits: list[float] = []
    async with busy_kiosk(waits.append) as (kiosk, _hashing):
        await to_new_password(kiosk)
        # The backend sets the password, then the answer is lost on the way back (a timeout).
        kiosk.wire.fail_next(httpx.ReadTimeout("slow"), after_backend=True)
        step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        assert step.kind is StepKind.DONE  # not an error page: the kiosk tried again and heard it went through
        assert len(waits) == 1 and kiosk.calls("POST", "/v1/session/password") == 2
        resets = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.RESET]
        assert [r.outcome for r in resets] == ["ok"]
