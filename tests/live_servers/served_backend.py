"""The real backend served over HTTP(S) by uvicorn on a free loopback port, as `kiosk serve` runs it."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import uvicorn

from kiosk.policy.schema import Policy
from kiosk.services.backend import Backend


@contextlib.asynccontextmanager
async def served_backend(
    kiosk_id: str, *, cert_file: Path | None = None, key_file: Path | None = None
) -> AsyncIterator[str]:
    """Serve a fresh backend (default policy) until the block ends; yields its base URL (https with a certificate)."""
    backend = await Backend.open(Policy(), kiosk_id=kiosk_id)
    async with _serving(backend, cert_file, key_file) as url:
        yield url


@contextlib.asynccontextmanager
async def served_backend_for_kiosks(
    policy: Policy | None = None, *, cert_file: Path | None = None, key_file: Path | None = None
) -> AsyncIterator[tuple[str, Backend]]:
    """Serve a fresh backend that asks every call for a kiosk credential, as `kiosk serve` does; yields its
    base URL and the backend (enrol kiosks with `backend.kiosks.add`)."""
    backend = await Backend.open(policy or Policy(), require_kiosk_credential=True)
    async with _serving(backend, cert_file, key_file) as url:
        yield url, backend


@contextlib.asynccontextmanager
async def _serving(backend: Backend, cert_file: Path | None, key_file: Path | None) -> AsyncIterator[str]:
    tls = {} if cert_file is None else {"ssl_certfile": str(cert_file), "ssl_keyfile": str(key_file)}
    config = uvicorn.Config(backend.asgi, host="127.0.0.1", port=0, lifespan="off", log_level="critical", **tls)
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"{'http' if cert_file is None else 'https'}://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        await backend.close()
