"""`GET /v1/ready` (issue 12, part 7): 200 when the store and the directory can be used, 503 otherwise.

`/v1/health` only says the process is alive; a load balancer asks `/v1/ready` before sending work.
"""

from __future__ import annotations

import sqlite3
from typing import Any

import httpx
import pytest
from live_servers.common import free_port
from live_servers.fake_keyring import installed

from kiosk.policy.schema import Policy
from kiosk.services.backend import Backend

from .conftest import Kiosk


async def get(backend: Backend, path: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
        return await http.get(path)


def not_ready(response: httpx.Response, code: str) -> None:
    assert response.status_code == 503, response.text
    body = response.json()
    assert (body["code"], body["message_key"]) == (code, f"error.{code}")
    assert body["correlation_id"] == response.headers["X-Correlation-Id"]


async def test_the_embedded_directory_is_ready(kiosk: Kiosk) -> None:
    response = await kiosk.request("GET", "/ready")
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "ready"
    assert (await kiosk.request("GET", "/health")).json()["status"] == "ok"


async def test_a_store_that_cannot_be_used_is_not_ready(kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch) -> None:
    async def broken(work: Any) -> Any:
        raise sqlite3.OperationalError("disk I/O error")

    with monkeypatch.context() as patch:  # broken for this one request only (SQLite or PostgreSQL)
        patch.setattr(kiosk.backend._rt.store, "call", broken)
        response = await kiosk.request("GET", "/ready")
    not_ready(response, "store_unavailable")
    assert (await kiosk.request("GET", "/health")).status_code == 200  # still alive


def closed_port_policy() -> Policy:
    """An OpenLDAP policy whose only server is a loopback port nothing listens on."""
    connection = {
        "urls": [f"ldaps://127.0.0.1:{free_port()}"],
        "base_dn": "dc=example,dc=org",
        "bind_dn": "cn=kiosk,dc=example,dc=org",
        "connect_timeout_seconds": 2,
    }
    return Policy.model_validate({"directory": {"kind": "openldap", "openldap": connection}})


async def test_an_unreachable_directory_is_not_ready() -> None:
    with installed(directory="Service-Password-1!"):
        backend = await Backend.open(closed_port_policy())  # unreachable at start-up: opens, requests retry
        try:
            not_ready(await get(backend, "/v1/ready"), "directory_unavailable")
            assert (await get(backend, "/v1/health")).json()["status"] == "ok"
        finally:
            await backend.close()
