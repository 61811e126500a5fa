"""The embedded backend on a thread of its own: an asyncio loop there, and a transport that hops to it.

In embedded mode the backend answers in the kiosk's own process. On the window's loop, every request's
parsing, routing, storage calls and view building would run on the UI thread between two paints; on
this thread they run beside it, and the window's loop only waits for the answer.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

_Result = TypeVar("_Result")


class BackendThread:
    """An asyncio event loop running on its own (daemon) thread, for the embedded backend."""

    def __init__(self, name: str = "kiosk-backend") -> None:
        """Start the thread and its loop at once."""
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self._loop.shutdown_default_executor())
            self._loop.close()

    @property
    def thread(self) -> threading.Thread:
        """The thread the backend's loop runs on."""
        return self._thread

    async def run(self, work: Coroutine[Any, Any, _Result]) -> _Result:
        """Run `work` on the backend's loop and wait for its result on the caller's loop; cancelling the
        caller cancels the work there."""
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self._loop))

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the loop (after what runs now) and wait up to `timeout` seconds for the thread to end."""
        if self._loop.is_closed():
            return
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)


class ThreadHopTransport(httpx.AsyncBaseTransport):
    """Sends each request through `inner` on the backend thread's loop and hands back the whole answer."""

    def __init__(self, inner: httpx.AsyncBaseTransport, backend: BackendThread) -> None:
        """`inner` (an `httpx.ASGITransport` of the backend) is only ever used on `backend`'s loop."""
        self._inner = inner
        self._backend = backend

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Forward `request` to the backend's loop; the answer's bytes come back as they were sent."""
        content = await request.aread()
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=content, extensions=request.extensions
        )
        status, headers, body = await self._backend.run(self._send(forwarded))
        return httpx.Response(status, headers=headers, content=body, request=request)

    async def _send(self, request: httpx.Request) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        response = await self._inner.handle_async_request(request)
        try:
            # The raw bytes: the outer client decodes them once, by the answer's own headers.
            body = b"".join([chunk async for chunk in response.aiter_raw()])
        finally:
            await response.aclose()
        return response.status_code, response.headers.raw, body

    async def aclose(self) -> None:
        """Close the inner transport on its own loop."""
        await self._backend.run(self._inner.aclose())
