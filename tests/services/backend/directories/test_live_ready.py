"""`GET /v1/ready` on both live directories: ready while the server answers, 503 while it is stopped."""

from __future__ import annotations

from typing import Any

from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import live_policy

from ..conftest import kiosk_for


async def test_ready_follows_the_directory(live: Any, fake_keyring: FakeMemoryKeyring) -> None:
    async with kiosk_for(live_policy(live)) as kiosk:
        ready = await kiosk.request("GET", "/ready")
        assert ready.status_code == 200, ready.text
        assert ready.json()["status"] == "ready"
        live.stop()
        try:
            down = await kiosk.request("GET", "/ready")
            assert down.status_code == 503 and down.json()["code"] == "directory_unavailable"
            assert (await kiosk.request("GET", "/health")).status_code == 200  # alive all the same
        finally:
            live.start()
        assert (await kiosk.request("GET", "/ready")).status_code == 200
