"""Fixtures for the engine tests: the real backend in-process, a client over a recordable wire, the flow."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from flow_driver import Kiosk, demo_policy, open_kiosk

from kiosk.policy.schema import Policy


@pytest.fixture
def policy() -> Policy:
    """The demo policy (override per test module by redefining this fixture)."""
    return demo_policy()


@pytest.fixture
async def kiosk(policy: Policy) -> AsyncIterator[Kiosk]:
    """A recovery flow talking to a freshly seeded real backend with a manual clock."""
    async with open_kiosk(policy) as opened:
        yield opened
