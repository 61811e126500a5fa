"""The shared-mode client over real HTTP: the real backend served by uvicorn on loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from live_servers.served_backend import served_backend as serve

from kiosk.services.api import ErrorCode, Stage
from kiosk.services.client import ApiError, BackendClient


@pytest.fixture
async def served_backend() -> AsyncIterator[str]:
    """The real backend behind uvicorn on a free loopback port; yields its base URL."""
    async with serve("shared-test") as url:
        yield url


async def test_a_session_round_trip_over_http(served_backend: str) -> None:
    client = BackendClient.shared(served_backend, timeout=5.0)
    try:
        assert (await client.health()).status == "ok"
        opened = await client.open_session(kiosk_id="lobby-2", locale="nl")
        assert opened.view.stage is Stage.IDENTIFY
        assert (await client.session()).stage is Stage.IDENTIFY
        assert (await client.refresh_captcha()).png_base64
        await client.close_session()
        await client.close_session()  # nothing left to close: no error
        with pytest.raises(ApiError) as caught:
            await client.session()
        assert caught.value.code is ErrorCode.SESSION_REQUIRED
        assert caught.value.correlation_id
    finally:
        await client.aclose()
