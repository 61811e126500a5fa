"""The client's calls of the change and registration flows: routes, bodies, the token, and error fields."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from fake_backend import FAKE_TOKEN, Canned, FakeBackendPeer, error_body, view

from kiosk.services.api import (
    Flow,
    QuestionChoice,
    QuestionRule,
    ReconfirmChoice,
    RegistrationKind,
    RegistrationView,
    Stage,
)
from kiosk.services.client import ApiError, BackendClient, ProtocolError

SessionCall = Callable[[BackendClient], Awaitable[Any]]

CALLS: list[tuple[str, SessionCall, str, dict[str, Any] | None]] = [
    (
        "sign_in",
        lambda c: c.sign_in("emma", "Current-Pass-1", "AB12"),
        "/v1/session/sign-in",
        {"user_id": "emma", "password": "Current-Pass-1", "captcha": "AB12"},
    ),
    ("reconfirm", lambda c: c.reconfirm(ReconfirmChoice.KEEP), "/v1/session/reconfirm", {"choice": "keep"}),
    (
        "add_contact",
        lambda c: c.add_contact(RegistrationKind.PHONE, "+31 6 1234 5678"),
        "/v1/session/register/contact",
        {"kind": "phone", "value": "+31 6 1234 5678"},
    ),
    (
        "verify_contact",
        lambda c: c.verify_contact("12345678"),
        "/v1/session/register/contact/code",
        {"code": "12345678"},
    ),
    ("resend_contact_code", lambda c: c.resend_contact_code(), "/v1/session/register/contact/resend", None),
    (
        "register_questions",
        lambda c: c.register_questions(
            [(QuestionChoice(predefined_id="first_pet"), "Rex"), (QuestionChoice(custom_text="Best teacher?"), "Ada")]
        ),
        "/v1/session/register/questions",
        {
            "questions": [
                {"predefined_id": "first_pet", "answer": "Rex"},
                {"custom_text": "Best teacher?", "answer": "Ada"},
            ]
        },
    ),
    ("start_app_registration", lambda c: c.start_app_registration(), "/v1/session/register/app", None),
    (
        "confirm_app_registration",
        lambda c: c.confirm_app_registration("654321"),
        "/v1/session/register/app/code",
        {"code": "654321"},
    ),
    ("cancel_pending", lambda c: c.cancel_pending(), "/v1/session/register/cancel", None),
    ("finish_registration", lambda c: c.finish_registration(), "/v1/session/register/done", None),
]


@pytest.mark.parametrize(("name", "call", "path", "body"), CALLS, ids=[c[0] for c in CALLS])
async def test_registration_calls_hit_their_route_with_the_token(
    client: BackendClient, peer: FakeBackendPeer, name: str, call: SessionCall, path: str, body: Any
) -> None:
    peer.answers[("POST", path)] = peer.answers[("GET", "/v1/session")]
    await client.open_session(kiosk_id="lobby-1", locale="en")
    answer = await call(client)
    sent = peer.requests[-1]
    assert (sent.method, sent.path, sent.body) == ("POST", path, body)
    assert sent.authorization == f"Bearer {FAKE_TOKEN}"
    assert answer.stage is Stage.IDENTIFY


@pytest.mark.parametrize("flow", list(Flow))
async def test_open_session_names_the_flow_unless_it_is_recovery(
    client: BackendClient, peer: FakeBackendPeer, flow: Flow
) -> None:
    await client.open_session(kiosk_id="lobby-1", locale="en", flow=flow)
    expected = {"kiosk_id": "lobby-1", "locale": "en"} | ({} if flow is Flow.RECOVER else {"flow": flow.value})
    assert peer.requests[-1].body == expected


async def test_questions_invalid_carries_its_rules_and_field(client: BackendClient, peer: FakeBackendPeer) -> None:
    peer.answers[("POST", "/v1/session/register/questions")] = error_body(
        "questions_invalid", field="questions", question_reasons=["question_twice", "answer_length"]
    )
    await client.open_session(kiosk_id="lobby-1", locale="en")
    with pytest.raises(ApiError) as raised:
        await client.register_questions([(QuestionChoice(predefined_id="first_pet"), "Rex")])
    assert raised.value.question_reasons == (QuestionRule.QUESTION_TWICE, QuestionRule.ANSWER_LENGTH)
    assert raised.value.field == "questions"


@pytest.mark.parametrize(
    ("path", "code", "call"),
    [
        ("/v1/session/sign-in", "sign_in_failed", lambda c: c.sign_in("emma", "wrong-pass", "AB12")),
        ("/v1/session/register/contact", "contact_invalid", lambda c: c.add_contact(RegistrationKind.EMAIL, "x@")),
        ("/v1/session/register/app", "registration_not_allowed", lambda c: c.start_app_registration()),
    ],
)
async def test_new_error_codes_are_mapped(
    client: BackendClient, peer: FakeBackendPeer, path: str, code: str, call: SessionCall
) -> None:
    peer.answers[("POST", path)] = error_body(code, status=403 if code.startswith("registration") else 400)
    await client.open_session(kiosk_id="lobby-1", locale="en")
    with pytest.raises(ApiError) as raised:
        await call(client)
    assert raised.value.code.value == code


async def test_the_current_password_never_reaches_the_log_or_an_error(
    client: BackendClient, peer: FakeBackendPeer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    peer.answers[("POST", "/v1/session/sign-in")] = error_body("sign_in_failed")
    await client.open_session(kiosk_id="lobby-1", locale="en")
    with pytest.raises(ApiError) as raised:
        await client.sign_in("emma", "Current-Pass-1", "AB12")
    # A password the contract refuses (a control character) fails before sending, quoting nothing.
    with pytest.raises(ProtocolError) as refused:
        await client.sign_in("emma", "Current\x00Pass", "AB12")
    assert "/v1/session/sign-in" in caplog.text
    for text in (caplog.text, str(raised.value), str(refused.value)):
        assert "Current-Pass-1" not in text
        assert "Current\x00Pass" not in text


async def test_a_registration_view_parses_with_its_app_secret_hidden_from_repr(
    client: BackendClient, peer: FakeBackendPeer
) -> None:
    registered = view(Stage.REGISTER_APP).model_copy(
        update={
            "flow": Flow.REGISTER,
            "registration": RegistrationView(
                app_secret="JBSWY3DPEHPK3PXP", app_uri="otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", app_qr_svg="<svg/>"
            ),
        }
    )
    peer.answers[("POST", "/v1/session/register/app")] = Canned(200, registered.model_dump_json().encode())
    await client.open_session(kiosk_id="lobby-1", locale="en", flow=Flow.REGISTER)
    answer = await client.start_app_registration()
    assert answer.registration is not None
    assert answer.registration.app_secret == "JBSWY3DPEHPK3PXP"
    assert "JBSWY3DPEHPK3PXP" not in repr(answer)
