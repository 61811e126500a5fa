"""Invisible direction characters in IDs, kiosk ids and locales are a clean 422 `invalid_request`.

U+202A–U+202E, U+2066–U+2069, U+200E, U+200F and U+061C reorder or mark text direction without being
seen: in an audit row a user ID like `admin<U+202E>amme` reads differently from what it is. The API
refuses them in every identifier field, as it refuses control characters, naming the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from pydantic import ValidationError

from kiosk.services.api import (
    ErrorBody,
    ErrorCode,
    IdentifyRequest,
    OpenSessionRequest,
    QuestionAnswer,
    SessionLocaleRequest,
)

from .conftest import Kiosk

BIDI_CONTROLS = {
    "ALM": "\u061c",
    "LRM": "\u200e",
    "RLM": "\u200f",
    "LRE": "\u202a",
    "RLE": "\u202b",
    "PDF": "\u202c",
    "LRO": "\u202d",
    "RLO": "\u202e",
    "LRI": "\u2066",
    "RLI": "\u2067",
    "FSI": "\u2068",
    "PDI": "\u2069",
}

Body = Callable[[str], dict[str, Any]]
# (path, body with the value under test in one field, that field's name in the error)
FIELDS: list[tuple[str, Body, str]] = [
    ("/sessions", lambda v: {"kiosk_id": f"lobby{v}1", "locale": "en"}, "kiosk_id"),
    ("/sessions", lambda v: {"kiosk_id": "lobby-1", "locale": f"ar{v}"}, "locale"),
    ("/session/locale", lambda v: {"locale": f"{v}de"}, "locale"),
    ("/session/identify", lambda v: {"user_id": f"admin{v}amme", "captcha": "123456"}, "user_id"),
    ("/session/answers", lambda v: {"answers": [{"id": f"q{v}1", "answer": "Rex"}]}, "answers.0.id"),
]


def assert_refused(response: httpx.Response, field: str) -> None:
    assert response.status_code == 422, response.text[:500]
    body = ErrorBody.model_validate_json(response.content)
    assert body.code is ErrorCode.INVALID_REQUEST
    assert body.message_key == "error.invalid_request"
    assert body.field == field
    assert body.correlation_id == response.headers["X-Correlation-Id"]


@pytest.mark.parametrize(("path", "body", "field"), FIELDS, ids=[f"{path}:{field}" for path, _, field in FIELDS])
@pytest.mark.parametrize("control", BIDI_CONTROLS.values(), ids=BIDI_CONTROLS.keys())
async def test_a_bidi_control_in_an_identifier_names_its_field(
    kiosk: Kiosk, path: str, body: Body, field: str, control: str
) -> None:
    await kiosk.open()
    assert_refused(await kiosk.request("POST", path, body(control)), field)


async def test_nothing_invisible_reaches_the_audit(kiosk: Kiosk) -> None:
    for control in BIDI_CONTROLS.values():
        await kiosk.request("POST", "/sessions", {"kiosk_id": f"lobby{control}1", "locale": "en"})
        await kiosk.open()
        captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
        await kiosk.request("POST", "/session/identify", {"user_id": f"admin{control}amme", "captcha": captcha})
    records = await kiosk.backend.audit_records()
    assert records, "opening and identifying leave audit rows"
    texts = [f"{record.kiosk_id} {record.user_id} {record.reference} {record.outcome}" for record in records]
    assert not [text for text in texts if any(ch in text for ch in BIDI_CONTROLS.values())]


@pytest.mark.parametrize("user_id", ["محمد.علي", "דוד", "Çağrı-ß", "emma jansen"])
async def test_right_to_left_user_ids_without_controls_are_accepted(kiosk: Kiosk, user_id: str) -> None:
    view = await kiosk.start(user_id)  # an unknown ID looks like any other: on to the method page
    assert view.stage.value == "choose_method"


@pytest.mark.parametrize("control", BIDI_CONTROLS.values(), ids=BIDI_CONTROLS.keys())
def test_the_request_models_refuse_it(control: str) -> None:
    for build in (
        lambda: OpenSessionRequest(kiosk_id=f"lobby{control}", locale="en"),
        lambda: OpenSessionRequest(kiosk_id="lobby", locale=f"en{control}"),
        lambda: SessionLocaleRequest(locale=f"{control}ar"),
        lambda: IdentifyRequest(user_id=f"{control}emma", captcha="123456"),
        lambda: QuestionAnswer(id=f"q{control}", answer="Rex"),
    ):
        with pytest.raises(ValidationError):
            build()
