"""Bad input is a clean 422 `invalid_request` naming the field, before any hashing; never a 5xx.

Character rule (api.PRINTABLE): no NUL and no C0/C1 control characters in any request string.
A lone surrogate can only arrive as a JSON escape (`"\\ud800"`), which the JSON parser refuses, as it
refuses invalid UTF-8, non-JSON and bodies over 64 KiB: those are `field: "body"`. Wrong types and
missing fields name the field. Size refusals are 422 too (not 413), so every client handles one code.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest

from kiosk.services.api import ErrorBody, ErrorCode
from kiosk.services.backend.hashing import Hashing

from .conftest import Kiosk

Body = Callable[[Any], dict[str, Any]]

# (path, body with the value under test in one field, that field's name in the error)
FIELDS: list[tuple[str, Body, str]] = [
    ("/sessions", lambda v: {"kiosk_id": v, "locale": "en"}, "kiosk_id"),
    ("/sessions", lambda v: {"kiosk_id": "lobby-1", "locale": v}, "locale"),
    ("/session/identify", lambda v: {"user_id": v, "captcha": "123456"}, "user_id"),
    ("/session/identify", lambda v: {"user_id": "emma", "captcha": v}, "captcha"),
    ("/session/code", lambda v: {"code": v}, "code"),
    ("/session/answers", lambda v: {"answers": [{"id": "q1", "answer": v}]}, "answers.0.answer"),
    ("/session/answers", lambda v: {"answers": [{"id": v, "answer": "Rex"}]}, "answers.0.id"),
    ("/session/password", lambda v: {"password": v}, "password"),
]
FIELD_IDS = [field for _, _, field in FIELDS]

# values the JSON parser accepts but the model refuses, naming the field
BAD_VALUES: dict[str, Any] = {
    "nul": "ab\x00cd",
    "escape": "ab\x1b[2Jcd",
    "newline": "ab\r\nFAKE LOG LINE",
    "tab": "ab\tcd",
    "delete": "ab\x7f",
    "c1-control": "ab\x85cd",
    "integer": 123,
    "null": None,
    "list": ["ab"],
    "object": {"a": "b"},
    "bool": True,
}

PLACEHOLDER = "@@VALUE@@"
# raw bytes in place of a JSON string: the body itself is broken, so the field is "body"
RAW_VALUES: dict[str, bytes] = {
    "lone-surrogate-escape": b'"ab\\ud800cd"',
    "low-surrogate-escape": b'"\\udc00"',
    "invalid-utf8": b'"ab\xff\xfecd"',
    "overlong-utf8": b'"\xc0\xaf"',
    "utf8-encoded-surrogate": b'"\xed\xa0\x80"',
    "one-megabyte-value": b'"' + b"x" * (1024 * 1024) + b'"',
    "unterminated": b'"ab',
}

WHOLE_BODIES: dict[str, bytes] = {
    "empty": b"",
    "not-json": b"user_id=emma&captcha=1",
    "json-null": b"null",
    "json-list": b"[]",
    "json-string": b'"hello"',
    "nul-byte": b"\x00",
    "one-megabyte-object": b'{"pad": "' + b" " * (1024 * 1024) + b'"}',
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
}


@pytest.fixture(autouse=True)
def no_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Any hashing or hash check in these tests is a failure: bad input is refused before it."""

    async def forbidden(*args: object) -> Any:
        raise AssertionError("hashed or verified a refused input")

    monkeypatch.setattr(Hashing, "run", forbidden)  # every hash, hash check and strength estimate runs here


@pytest.fixture
async def session(kiosk: Kiosk) -> AsyncIterator[Kiosk]:
    await kiosk.open()
    yield kiosk


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text[:500]
    assert response.headers["content-type"] == "application/json"
    body = ErrorBody.model_validate_json(response.content)
    assert body.code is ErrorCode.INVALID_REQUEST
    assert body.message_key == "error.invalid_request"
    assert body.field == field
    assert body.correlation_id == response.headers["X-Correlation-Id"]
    assert "Traceback" not in response.text


async def post_raw(kiosk: Kiosk, path: str, content: Any, **headers: str) -> httpx.Response:
    auth = {"Authorization": f"Bearer {kiosk.token}"}
    return await kiosk.http.post(
        f"/v1{path}", content=content, headers={"Content-Type": "application/json", **auth, **headers}
    )


@pytest.mark.parametrize(("path", "body", "field"), FIELDS, ids=FIELD_IDS)
@pytest.mark.parametrize("value", BAD_VALUES.values(), ids=BAD_VALUES.keys())
async def test_a_bad_value_names_its_field(session: Kiosk, path: str, body: Body, field: str, value: Any) -> None:
    assert_refused(await session.request("POST", path, body(value)), field)


@pytest.mark.parametrize(("path", "body", "field"), FIELDS, ids=FIELD_IDS)
async def test_an_over_long_value_names_its_field(session: Kiosk, path: str, body: Body, field: str) -> None:
    assert_refused(await session.request("POST", path, body("x" * 1000)), field)


@pytest.mark.parametrize(("path", "body", "field"), FIELDS, ids=FIELD_IDS)
@pytest.mark.parametrize("raw", RAW_VALUES.values(), ids=RAW_VALUES.keys())
async def test_a_broken_value_is_a_broken_body(session: Kiosk, path: str, body: Body, field: str, raw: bytes) -> None:
    content = json.dumps(body(PLACEHOLDER)).encode().replace(f'"{PLACEHOLDER}"'.encode(), raw)
    assert_refused(await post_raw(session, path, content), "body")


@pytest.mark.parametrize("path", sorted({path for path, _, _ in FIELDS}))
@pytest.mark.parametrize("content", WHOLE_BODIES.values(), ids=WHOLE_BODIES.keys())
async def test_a_broken_body_is_refused(session: Kiosk, path: str, content: bytes) -> None:
    assert_refused(await post_raw(session, path, content), "body")


async def test_a_missing_field_and_an_unknown_field_are_named(session: Kiosk) -> None:
    assert_refused(await session.request("POST", "/session/identify", {"user_id": "emma"}), "captcha")
    extra = {"user_id": "emma", "captcha": "1", "admin": True}
    assert_refused(await session.request("POST", "/session/identify", extra), "admin")


async def test_a_large_declared_body_is_refused_unread(session: Kiosk) -> None:
    read = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal read
        for _ in range(16):
            read += 1
            yield b" " * 65536

    response = await post_raw(session, "/session/code", stream(), **{"Content-Length": str(16 * 65536)})
    assert_refused(response, "body")
    assert read <= 1  # httpx's in-process transport may pull the first chunk; the app reads none


async def test_a_chunked_body_without_length_is_cut_off(session: Kiosk) -> None:
    sent = 0

    async def stream() -> AsyncIterator[bytes]:
        nonlocal sent
        for _ in range(16):  # 1 MiB in all
            sent += 1
            yield b" " * 65536

    assert_refused(await post_raw(session, "/session/code", stream()), "body")


@pytest.mark.parametrize("length", ["abc", "-1", "99999999999999999999"])
async def test_a_nonsense_content_length_is_refused(session: Kiosk, length: str) -> None:
    response = await session.http.post(
        "/v1/session/code",
        content=b'{"code": "1"}',
        headers={"Authorization": f"Bearer {session.token}", "Content-Length": length},
    )
    assert_refused(response, "body")


async def test_a_refused_value_costs_no_attempt(kiosk: Kiosk) -> None:
    captcha_before = None
    await kiosk.open()
    captcha_before = await kiosk.backend.captcha_text_for_test(kiosk.token)
    assert_refused(await kiosk.request("POST", "/session/identify", {"user_id": "emma\x00", "captcha": "1"}), "user_id")
    # a wrong CAPTCHA replaces the picture; a refused body is not a try, so it stays
    assert await kiosk.backend.captcha_text_for_test(kiosk.token) == captcha_before


async def test_user_input_never_reaches_a_log_line(kiosk: Kiosk, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    await kiosk.open()
    for value in BAD_VALUES.values():
        await kiosk.request("POST", "/session/identify", {"user_id": value, "captcha": "1"})
        await kiosk.request("POST", "/session/password", {"password": value})
    await kiosk.request("POST", "/session/identify", {"user_id": "FAKE-LOG-ENTRY", "captcha": "FAKECAP"})
    for record in caplog.records:
        line = record.getMessage()
        assert "\n" not in line and "\r" not in line and "\x1b" not in line, line
        assert "FAKE" not in line, line
