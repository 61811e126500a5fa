"""The embedded backend's own thread: requests are answered there, byte for byte, and cancelling waits for nothing."""

from __future__ import annotations

import asyncio
import gzip
import threading
from collections.abc import AsyncIterator, MutableMapping
from typing import Any

import httpx
import pytest

from kiosk.services.client.backend_thread import BackendThread, ThreadHopTransport

Scope = MutableMapping[str, Any]


class RecordingApp:
    """A tiny ASGI app: echoes the request body gzipped, and says on which thread it ran."""

    def __init__(self) -> None:
        self.threads: list[str] = []
        self.cancelled = threading.Event()
        self.started = threading.Event()

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        self.threads.append(threading.current_thread().name)
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if scope["path"] == "/slow":
            self.started.set()
            try:
                await asyncio.sleep(30)
            except asyncio.CancelledError:
                self.cancelled.set()
                raise
        if scope["path"] == "/crash":
            raise RuntimeError("the backend fell over")
        payload = gzip.compress(body)
        headers = [(b"content-encoding", b"gzip"), (b"content-length", str(len(payload)).encode()), (b"x-echo", b"1")]
        await send({"type": "http.response.start", "status": 201, "headers": headers})
        await send({"type": "http.response.body", "body": payload})


@pytest.fixture
async def hop() -> AsyncIterator[tuple[httpx.AsyncClient, RecordingApp, BackendThread]]:
    app = RecordingApp()
    backend = BackendThread(name="test-backend")
    inner = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    client = httpx.AsyncClient(transport=ThreadHopTransport(inner, backend), base_url="http://embedded")
    yield client, app, backend
    await client.aclose()
    backend.stop()
    assert not backend.thread.is_alive()


async def test_requests_are_answered_on_the_backend_thread_byte_for_byte(
    hop: tuple[httpx.AsyncClient, RecordingApp, BackendThread],
) -> None:
    client, app, _backend = hop
    body = "naïve ✓ body".encode() * 1000
    answer = await client.post("/echo", content=body)
    assert answer.status_code == 201 and answer.headers["x-echo"] == "1"
    assert answer.content == body  # decoded once, by the outer client, from the raw gzip bytes
    assert app.threads == ["test-backend"] and threading.current_thread().name != "test-backend"


async def test_many_requests_at_once_each_get_their_own_answer(
    hop: tuple[httpx.AsyncClient, RecordingApp, BackendThread],
) -> None:
    client, app, _backend = hop
    answers = await asyncio.gather(*(client.post("/echo", content=str(n).encode()) for n in range(50)))
    assert [answer.content for answer in answers] == [str(n).encode() for n in range(50)]
    assert set(app.threads) == {"test-backend"}


async def test_a_crash_in_the_backend_is_a_500_answer(
    hop: tuple[httpx.AsyncClient, RecordingApp, BackendThread],
) -> None:
    client, _app, _backend = hop
    assert (await client.get("/crash")).status_code == 500


async def test_cancelling_the_caller_cancels_the_work_on_the_backend_thread(
    hop: tuple[httpx.AsyncClient, RecordingApp, BackendThread],
) -> None:
    client, app, _backend = hop
    call = asyncio.create_task(client.get("/slow"))
    assert await asyncio.to_thread(app.started.wait, 5)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert await asyncio.to_thread(app.cancelled.wait, 5)
