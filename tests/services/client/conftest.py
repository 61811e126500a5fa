"""Fixtures for the client tests: a fake HTTP peer and a client wired to it in-process."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from fake_backend import FakeBackendPeer

from kiosk.services.client import BackendClient


@pytest.fixture
def peer() -> FakeBackendPeer:
    """The fake HTTP peer (not the real backend)."""
    return FakeBackendPeer()


@pytest.fixture
async def client(peer: FakeBackendPeer) -> AsyncIterator[BackendClient]:
    """A client talking to the fake peer through ASGITransport."""
    backend_client = BackendClient.embedded(peer)
    yield backend_client
    await backend_client.aclose()
