"""A kiosk that opened too many sessions shows the "too many attempts" page, and gets going again
once the window has passed (issue 11, finding 12)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flow_driver import START, Kiosk, demo_policy

from kiosk.flows.steps import BeginAnswer, ErrorData, IdentifyData, StepKind
from kiosk.policy.schema import Policy

LIMIT = 2


@pytest.fixture
def policy() -> Policy:
    """The demo policy with a kiosk that may open only two sessions in 10 minutes."""
    return demo_policy(limits={"kiosk_sessions_per_10_minutes": LIMIT})


async def test_a_refused_open_shows_the_too_many_attempts_page_until_the_window_passes(kiosk: Kiosk) -> None:
    for _ in range(LIMIT):
        assert (await kiosk.flow.submit(BeginAnswer())).kind is StepKind.IDENTIFY
        assert (await kiosk.flow.cancel()).kind is StepKind.START
    step = await kiosk.flow.submit(BeginAnswer())
    assert step.kind is StepKind.ERROR and isinstance(step.data, ErrorData)
    assert step.data.code == "too_many_attempts"
    assert step.data.blocked_until == START + timedelta(minutes=10)
    assert step.data.retryable and not step.data.correlation_id.startswith("kiosk-")  # the backend's reference
    # Retry asks again, and is told the same until the window has passed.
    kiosk.clock.advance(9 * 60)
    step = await kiosk.flow.retry()
    assert isinstance(step.data, ErrorData) and step.data.code == "too_many_attempts"
    kiosk.clock.advance(60)
    step = await kiosk.flow.retry()
    assert step.kind is StepKind.IDENTIFY and isinstance(step.data, IdentifyData) and step.data.captcha_png
    assert kiosk.calls("POST", "/v1/sessions") == LIMIT + 3


async def test_start_over_from_the_error_page_goes_back_to_the_start(kiosk: Kiosk) -> None:
    for _ in range(LIMIT):
        await kiosk.flow.submit(BeginAnswer())
        await kiosk.flow.cancel()
    assert (await kiosk.flow.submit(BeginAnswer())).kind is StepKind.ERROR
    assert (await kiosk.flow.cancel()).kind is StepKind.START
