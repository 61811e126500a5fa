"""The client's retries (issue 12, part 6): `busy` answers are tried again after `Retry-After` (capped,
a limited number of times), a lost answer only for calls with a request id, always under the same id,
and the listener hears when a call waits; the per-step timeout is told to the backend.

The peer here is a FAKE (a scripted ASGI app), as in `fake_backend`: the real backend's side is in
`tests/services/backend/test_capacity.py`.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from typing import Any

import httpx
import pytest
from fake_backend import view

from kiosk.services.api import IDEMPOTENCY_HEADER, TIMEOUT_HEADER, Action, ErrorCode, Stage
from kiosk.services.client import ApiError, BackendClient, BackendTimeout, BackendUnavailable, RetryPolicy

Scope = MutableMapping[str, Any]
Answer = tuple[int, dict[str, str], bytes] | Exception


def busy(retry_after: str | None = "2") -> Answer:
    body = {"code": "busy", "message_key": "error.busy", "correlation_id": "c-busy"}
    headers = {"Retry-After": retry_after} if retry_after is not None else {}
    return 503, headers, json.dumps(body).encode()


def done() -> Answer:
    return 200, {}, view(Stage.DONE).model_dump_json().encode()


class ScriptedPeer:
    """Answers the scripted answers in order (the last one again once they run out); an exception is raised
    as a transport failure would be. Records each request's headers."""

    def __init__(self, *answers: Answer) -> None:
        self.answers = list(answers)
        self.headers: list[dict[str, str]] = []

    async def __call__(self, scope: Scope, receive: Callable[[], Awaitable[Any]], send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        self.headers.append({key.decode().lower(): value.decode() for key, value in scope["headers"]})
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        raw = [(b"content-type", b"application/json"), *((k.encode(), v.encode()) for k, v in headers.items())]
        await send({"type": "http.response.start", "status": status, "headers": raw})
        await send({"type": "http.response.body", "body": body})


class FailingTransport(httpx.AsyncBaseTransport):
    """Raises the scripted transport failures, then hands over to the peer."""

    def __init__(self, peer: ScriptedPeer, failures: list[Exception]) -> None:
        self._inner = httpx.ASGITransport(app=peer)
        self._failures = failures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self._failures:
            raise self._failures.pop(0)
        return await self._inner.handle_async_request(request)


@pytest.fixture
def waits() -> list[float]:
    return []


def make_client(
    transport: httpx.AsyncBaseTransport, waits: list[float], retry: RetryPolicy | None = None
) -> BackendClient:
    async def no_sleep(seconds: float) -> None:
        waits.append(seconds)

    http = httpx.AsyncClient(transport=transport, base_url="http://backend", timeout=10.0)
    client = BackendClient(http, retry=retry or RetryPolicy(), sleep=no_sleep)
    return client


@pytest.fixture
async def scripted(waits: list[float]) -> AsyncIterator[Callable[..., tuple[BackendClient, ScriptedPeer]]]:
    clients: list[BackendClient] = []

    def build(*answers: Answer, retry: RetryPolicy | None = None) -> tuple[BackendClient, ScriptedPeer]:
        peer = ScriptedPeer(*answers)
        client = make_client(httpx.ASGITransport(app=peer), waits, retry)
        clients.append(client)
        return client, peer

    yield build
    for client in clients:
        await client.aclose()


async def test_busy_is_tried_again_after_retry_after_under_the_same_request_id(
    scripted: Callable[..., tuple[BackendClient, ScriptedPeer]], waits: list[float]
) -> None:
    client, peer = scripted(busy("2"), busy("1"), done())
    heard: list[bool] = []
    client.on_retrying(heard.append)
    result = await client.set_password("Lantern-Orbit-Meadow-42")
    assert result.stage is Stage.DONE
    assert len(peer.headers) == 3
    ids = {headers[IDEMPOTENCY_HEADER.lower()] for headers in peer.headers}
    assert len(ids) == 1 and uuid.UUID(ids.pop()).version == 4
    assert 2.0 <= waits[0] <= 2.5 and 1.0 <= waits[1] <= 1.25  # the hint, plus at most 25 % jitter
    assert heard == [True, False]


async def test_a_new_call_has_a_new_request_id(scripted: Callable[..., tuple[BackendClient, ScriptedPeer]]) -> None:
    client, peer = scripted(done())
    await client.set_password("Lantern-Orbit-Meadow-42")
    await client.set_password("Lantern-Orbit-Meadow-42")
    await client.choose_action(Action.UNLOCK)
    ids = [headers[IDEMPOTENCY_HEADER.lower()] for headers in peer.headers]
    assert len(set(ids)) == 3


async def test_busy_waits_are_capped_and_limited(
    scripted: Callable[..., tuple[BackendClient, ScriptedPeer]], waits: list[float]
) -> None:
    client, peer = scripted(busy("600"), retry=RetryPolicy(tries=3, longest_wait=4.0))
    heard: list[bool] = []
    client.on_retrying(heard.append)
    with pytest.raises(ApiError) as raised:
        await client.verify_code("12345678")
    assert raised.value.code is ErrorCode.BUSY and raised.value.retry_after == 600
    assert len(peer.headers) == 3 and len(waits) == 2
    assert all(4.0 <= wait <= 5.0 for wait in waits)
    assert heard == [True, False]


async def test_busy_without_retry_after_waits_the_default(
    scripted: Callable[..., tuple[BackendClient, ScriptedPeer]], waits: list[float]
) -> None:
    client, _ = scripted(busy(None), done())
    await client.verify_code("12345678")
    assert 1.0 <= waits[0] <= 1.25


async def test_other_errors_are_not_retried(
    scripted: Callable[..., tuple[BackendClient, ScriptedPeer]], waits: list[float]
) -> None:
    body = {"code": "directory_unavailable", "message_key": "error.directory_unavailable", "correlation_id": "c"}
    client, peer = scripted((503, {"Retry-After": "1"}, json.dumps(body).encode()), done())
    with pytest.raises(ApiError) as raised:
        await client.set_password("Lantern-Orbit-Meadow-42")
    assert raised.value.code is ErrorCode.DIRECTORY_UNAVAILABLE
    assert len(peer.headers) == 1 and waits == []


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
        # What a load balancer does when the replica it sent the request to dies: closes without an answer.
        httpx.RemoteProtocolError("Server disconnected without sending a response."),
    ],
    ids=["timeout", "connection", "closed_without_answer"],
)
async def test_a_lost_answer_is_retried_only_with_a_request_id(failure: Exception, waits: list[float]) -> None:
    peer = ScriptedPeer(done())
    idempotent = make_client(FailingTransport(peer, [failure, failure]), waits)
    try:
        assert (await idempotent.set_password("Lantern-Orbit-Meadow-42")).stage is Stage.DONE
        assert len(waits) == 2
    finally:
        await idempotent.aclose()
    plain = make_client(FailingTransport(peer, [failure]), waits)
    try:
        with pytest.raises(BackendTimeout if isinstance(failure, httpx.TimeoutException) else BackendUnavailable):
            await plain.verify_code("12345678")
        assert len(waits) == 2  # not retried: a code check may have been spent
    finally:
        await plain.aclose()


async def test_a_lost_answer_after_the_last_try_is_raised(waits: list[float]) -> None:
    peer = ScriptedPeer(done())
    client = make_client(FailingTransport(peer, [httpx.ReadTimeout("slow")] * 5), waits, RetryPolicy(tries=2))
    try:
        with pytest.raises(BackendTimeout):
            await client.set_password("Lantern-Orbit-Meadow-42")
        assert len(waits) == 1
    finally:
        await client.aclose()


async def test_the_timeout_is_told_to_the_backend(scripted: Callable[..., tuple[BackendClient, ScriptedPeer]]) -> None:
    client, peer = scripted(done())
    await client.session()
    assert peer.headers[0][TIMEOUT_HEADER.lower()] == "10"
