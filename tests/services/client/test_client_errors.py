"""The client maps every failure to ApiError, BackendUnavailable, BackendTimeout or ProtocolError."""

from __future__ import annotations

import asyncio
import socket
import traceback
from collections.abc import AsyncIterator

import pytest
from fake_backend import FAKE_TOKEN, Canned, FakeBackendPeer, error_body

from kiosk.policy.password import PasswordRule
from kiosk.services.api import ErrorCode
from kiosk.services.client import ApiError, BackendClient, BackendTimeout, BackendUnavailable, ProtocolError

TYPED_CODE = "99887766"


async def test_error_body_becomes_api_error_with_its_fields(client: BackendClient, peer: FakeBackendPeer) -> None:
    await client.open_session(kiosk_id="k", locale="en")
    peer.answers[("POST", "/v1/session/code")] = error_body("code_wrong", attempts_left=2, field="code")
    with pytest.raises(ApiError) as caught:
        await client.verify_code(TYPED_CODE)
    error = caught.value
    assert error.code is ErrorCode.CODE_WRONG
    assert (error.status, error.attempts_left, error.field, error.correlation_id) == (400, 2, "code", "corr-1")
    rendered = str(error) + "".join(traceback.format_exception(error))
    assert TYPED_CODE not in rendered
    assert FAKE_TOKEN not in rendered


async def test_password_rejection_carries_the_reasons(client: BackendClient, peer: FakeBackendPeer) -> None:
    await client.open_session(kiosk_id="k", locale="en")
    peer.answers[("POST", "/v1/session/password")] = error_body(
        "password_rejected", status=422, reasons=["min_length", "not_recent"]
    )
    with pytest.raises(ApiError) as caught:
        await client.set_password("short-Secret")
    assert caught.value.reasons == (PasswordRule.MIN_LENGTH, PasswordRule.NOT_RECENT)
    assert "short-Secret" not in str(caught.value)


@pytest.mark.parametrize(
    "canned",
    [
        Canned(500, b"Internal Server Error", "text/plain"),
        Canned(400, b'{"code": "no_such_code", "message_key": "x", "correlation_id": "c"}'),
        Canned(502, b""),
    ],
    ids=["text-500", "unknown-code", "empty-502"],
)
async def test_an_error_status_without_an_error_body_is_a_protocol_error(
    client: BackendClient, peer: FakeBackendPeer, canned: Canned
) -> None:
    peer.answers[("GET", "/v1/health")] = canned
    with pytest.raises(ProtocolError):
        await client.health()


@pytest.mark.parametrize(
    "canned",
    [Canned(200, b"<html>hello</html>", "text/html"), Canned(200, b'{"status": "ok"}'), Canned(304)],
    ids=["not-json", "wrong-shape", "redirect-status"],
)
async def test_a_success_that_breaks_the_contract_is_a_protocol_error(
    client: BackendClient, peer: FakeBackendPeer, canned: Canned
) -> None:
    peer.answers[("GET", "/v1/health")] = canned
    with pytest.raises(ProtocolError):
        await client.health()


async def test_a_bad_session_answer_does_not_leak_the_token_in_the_error(
    client: BackendClient, peer: FakeBackendPeer
) -> None:
    peer.answers[("POST", "/v1/sessions")] = Canned(201, b'{"token": "%s", "view": 1}' % FAKE_TOKEN.encode())
    with pytest.raises(ProtocolError) as caught:
        await client.open_session(kiosk_id="k", locale="en")
    assert FAKE_TOKEN not in "".join(traceback.format_exception(caught.value))
    assert not client.has_session


async def test_a_body_the_contract_refuses_is_never_sent_and_never_quoted(
    client: BackendClient, peer: FakeBackendPeer
) -> None:
    sentinel_password = "Sentinel-Pa55word-" + "x" * 300  # longer than the contract allows
    with pytest.raises(ProtocolError) as caught:
        await client.set_password(sentinel_password)
    shown = "".join(traceback.format_exception(caught.value))
    assert "password" in str(caught.value) and "Sentinel" not in shown and "xxxx" not in shown
    assert not [r for r in peer.requests if r.path == "/v1/session/password"]  # nothing was sent


async def test_a_crash_inside_an_embedded_backend_is_an_answer_not_an_exception_leak(
    client: BackendClient, peer: FakeBackendPeer
) -> None:
    peer.crash = True
    with pytest.raises(ProtocolError):
        await client.health()


def free_loopback_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port  # closed again: nothing listens there


async def test_connection_refused_is_backend_unavailable() -> None:
    client = BackendClient.shared(f"http://127.0.0.1:{free_loopback_port()}", timeout=2.0)
    try:
        with pytest.raises(BackendUnavailable):
            await client.health()
    finally:
        await client.aclose()


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """A loopback TCP server that accepts and never answers."""
    held: list[asyncio.StreamWriter] = []

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)

    server = await asyncio.start_server(accept, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()
    await server.wait_closed()


async def test_no_answer_in_time_is_backend_timeout(silent_server: str) -> None:
    client = BackendClient.shared(silent_server, timeout=0.2)
    try:
        with pytest.raises(BackendTimeout):
            await client.health()
    finally:
        await client.aclose()


@pytest.fixture
async def garbage_server() -> AsyncIterator[str]:
    """A loopback TCP server that answers something that is not HTTP."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"SMTP ready, not HTTP at all\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    server.close()
    await server.wait_closed()


async def test_a_peer_that_does_not_speak_http_is_a_protocol_error(garbage_server: str) -> None:
    client = BackendClient.shared(garbage_server, timeout=2.0)
    try:
        with pytest.raises(ProtocolError):
            await client.health()
    finally:
        await client.aclose()


async def test_a_connection_closed_without_an_answer_is_a_lost_answer_retried_with_a_request_id() -> None:
    """What HAProxy does when the replica it sent a request to dies: closes the kiosk's connection, no answer."""
    from fake_backend import view

    from kiosk.services.api import Stage

    calls: list[bytes] = []

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
        )
        await reader.readexactly(length)
        calls.append(head.split(b"\r\n")[0])
        if len(calls) % 2 == 1:  # every other connection dies before answering
            writer.close()
            return
        body = view(Stage.DONE).model_dump_json().encode()
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = BackendClient.shared(f"http://127.0.0.1:{port}", timeout=5.0)
    try:
        assert (await client.set_password("Lantern-Orbit-Meadow-42")).stage is Stage.DONE  # tried again: answered
        assert [call.split(b" ")[0] for call in calls] == [b"POST", b"POST"]
        with pytest.raises(BackendUnavailable, match="closed without an answer"):
            await client.verify_code("12345678")  # no request id: never sent twice
        assert len(calls) == 3
    finally:
        await client.aclose()
        server.close()
        await server.wait_closed()
