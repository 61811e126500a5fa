"""The client speaks the `/v1` wire contract: paths, methods, bodies, the bearer token."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fake_backend import FAKE_TOKEN, FakeBackendPeer, error_body

from kiosk.policy.schema import Method
from kiosk.services.api import Action, Stage
from kiosk.services.client import BackendClient, request_timeouts


async def open_session(client: BackendClient) -> None:
    await client.open_session(kiosk_id="lobby-1", locale="nl-NL")


async def test_health_needs_no_session(client: BackendClient, peer: FakeBackendPeer) -> None:
    health = await client.health()
    assert health.status == "ok"
    assert peer.requests[0].authorization is None


async def test_open_session_sends_kiosk_and_locale_and_keeps_the_token(
    client: BackendClient, peer: FakeBackendPeer
) -> None:
    opened = await client.open_session(kiosk_id="lobby-1", locale="nl-NL")
    assert opened.view.stage is Stage.IDENTIFY
    assert peer.requests[0].method == "POST"
    assert peer.requests[0].path == "/v1/sessions"
    assert peer.requests[0].body == {"kiosk_id": "lobby-1", "locale": "nl-NL"}
    assert peer.requests[0].authorization is None
    assert client.has_session
    await client.session()
    assert peer.requests[1].authorization == f"Bearer {FAKE_TOKEN}"


SessionCall = Callable[[BackendClient], Awaitable[Any]]

CALLS: list[tuple[str, SessionCall, str, str, Any]] = [
    ("session", lambda c: c.session(), "GET", "/v1/session", None),
    ("refresh_captcha", lambda c: c.refresh_captcha(), "POST", "/v1/session/captcha", None),
    ("captcha_audio", lambda c: c.captcha_audio(), "GET", "/v1/session/captcha/audio", None),
    (
        "identify",
        lambda c: c.identify("emma@contoso.com", "AB12"),
        "POST",
        "/v1/session/identify",
        {"user_id": "emma@contoso.com", "captcha": "AB12"},
    ),
    ("choose_method", lambda c: c.choose_method(Method.EMAIL), "POST", "/v1/session/method", {"method": "email"}),
    ("verify_code", lambda c: c.verify_code("12345678"), "POST", "/v1/session/code", {"code": "12345678"}),
    ("resend_code", lambda c: c.resend_code(), "POST", "/v1/session/code/resend", None),
    (
        "answer_questions",
        lambda c: c.answer_questions([("q1", "Paris"), ("q2", "Rex")]),
        "POST",
        "/v1/session/answers",
        {"answers": [{"id": "q1", "answer": "Paris"}, {"id": "q2", "answer": "Rex"}]},
    ),
    ("choose_action", lambda c: c.choose_action(Action.UNLOCK), "POST", "/v1/session/action", {"action": "unlock"}),
    (
        "set_password",
        lambda c: c.set_password("N3w-Secret!"),
        "POST",
        "/v1/session/password",
        {"password": "N3w-Secret!"},
    ),
]


@pytest.mark.parametrize(("name", "call", "method", "path", "body"), CALLS, ids=[c[0] for c in CALLS])
async def test_session_calls_hit_their_route_with_the_token(
    client: BackendClient,
    peer: FakeBackendPeer,
    name: str,
    call: SessionCall,
    method: str,
    path: str,
    body: Any,
) -> None:
    await open_session(client)
    await call(client)
    sent = peer.requests[-1]
    assert (sent.method, sent.path, sent.body) == (method, path, body)
    assert sent.authorization == f"Bearer {FAKE_TOKEN}"


async def test_dev_endpoints_parse(client: BackendClient, peer: FakeBackendPeer) -> None:
    outbox = await client.dev_outbox()
    authenticator = await client.dev_authenticator()
    assert outbox.messages == ()
    assert authenticator.codes[0].user_id == "alex"
    assert [r.path for r in peer.requests] == ["/v1/dev/outbox", "/v1/dev/authenticator"]


async def test_close_session_deletes_and_forgets_the_token(client: BackendClient, peer: FakeBackendPeer) -> None:
    await open_session(client)
    await client.close_session()
    assert (peer.requests[-1].method, peer.requests[-1].path) == ("DELETE", "/v1/session")
    assert peer.requests[-1].authorization == f"Bearer {FAKE_TOKEN}"
    assert not client.has_session
    await client.health()
    await client.close_session()  # nothing to close: no request
    assert [r.method for r in peer.requests] == ["POST", "DELETE", "GET"]


@pytest.mark.parametrize("code", ["session_expired", "session_required"])
async def test_close_session_never_raises_for_a_session_already_gone(
    client: BackendClient, peer: FakeBackendPeer, code: str
) -> None:
    await open_session(client)
    peer.answers[("DELETE", "/v1/session")] = error_body(code, status=401)
    await client.close_session()
    assert not client.has_session


async def test_close_session_forgets_the_token_even_when_it_fails(client: BackendClient, peer: FakeBackendPeer) -> None:
    await open_session(client)
    peer.answers[("DELETE", "/v1/session")] = error_body("internal", status=500)
    with pytest.raises(Exception, match="internal"):
        await client.close_session()
    assert not client.has_session


def test_timeouts_are_explicit_for_every_phase() -> None:
    timeout = request_timeouts(3.5)
    assert (timeout.connect, timeout.read, timeout.write, timeout.pool) == (3.5, 3.5, 3.5, 3.5)


async def test_bodies_never_reach_the_log(
    client: BackendClient, peer: FakeBackendPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    await open_session(client)
    await client.set_password("N3w-Secret!")
    peer.answers[("POST", "/v1/session/code")] = error_body("code_wrong", attempts_left=2)
    with pytest.raises(Exception, match="code_wrong"):
        await client.verify_code("87654321")
    assert "/v1/session/password" in caplog.text  # the calls are logged …
    for secret in ("N3w-Secret!", "87654321", FAKE_TOKEN):  # … their content is not
        assert secret not in caplog.text
