"""Fixtures for the engine tests: the real backend in-process, a client over a recordable wire, the flow."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from flow_driver import START, Kiosk, Wire, demo_policy

from kiosk.flows.engine import RecoveryFlow
from kiosk.policy.schema import Policy
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.client import BackendClient, request_timeouts


@pytest.fixture
def policy() -> Policy:
    """The demo policy (override per test module by redefining this fixture)."""
    return demo_policy()


@pytest.fixture
async def kiosk(policy: Policy) -> AsyncIterator[Kiosk]:
    """A recovery flow talking to a freshly seeded real backend with a manual clock."""
    clock = ManualClock(START)
    backend = await Backend.open(policy, clock=clock, kiosk_id="test-kiosk")
    wire = Wire(httpx.ASGITransport(app=backend.asgi, raise_app_exceptions=False))
    http = httpx.AsyncClient(transport=wire, base_url="http://embedded", timeout=request_timeouts(10.0))
    client = BackendClient(http)
    flow = RecoveryFlow(client, policy, kiosk_id="test-kiosk", locale=lambda: "en")
    yield Kiosk(flow=flow, client=client, backend=backend, clock=clock, wire=wire)
    await client.aclose()
    await backend.close()
