"""SMS and voice calls through the HTTP gateway sender, over real HTTP(S) to the FAKE recording gateway.

Both protocols (JSON webhook, Twilio-compatible form API), what arrives (fields, auth headers, TwiML
read digit by digit), each failure reason, TLS with a private CA, routing, and no secret in any log
or exception.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import pytest
from live_servers.certificates import TlsFiles
from live_servers.fake_gateway import HANG, RunningGateway

from kiosk.policy.schema import GatewayKind, GatewaySettings, Method
from kiosk.services.backend.delivery.gateway import GatewaySender, dialable, spoken, twiml
from kiosk.services.backend.delivery.sender import ChannelRouter, DeliveryError, DeliveryFailure

from ..conftest import free_port
from .conftest import GatewayFactory

TOKEN = "Gateway-Sentinel-Token-5521"
ACCOUNT = "AC0123456789abcdef0123456789abcdef"
FROM = "+15550001111"
PHONE = "+31 6 2345 6778"
SMS_TEXT = "Contoso verification code: 48213957. It expires in 5 minutes."
VOICE_TEXT = "This is Contoso. Your verification code is: 4 8 2 1 3 9 5 7. Again: 4 8 2 1 3 9 5 7."
SPOKEN_CODE = "4, 8, 2, 1, 3, 9, 5, 7"


def webhook(url: str, **changes: Any) -> GatewaySender:
    """A webhook sender to `url`."""
    settings: dict[str, Any] = {"kind": GatewayKind.WEBHOOK, "url": url, "timeout_seconds": 5.0, **changes}
    return GatewaySender(GatewaySettings(**settings), TOKEN)


def twilio(url: str, **changes: Any) -> GatewaySender:
    """A Twilio-compatible sender with its API at `url`."""
    settings: dict[str, Any] = {
        "kind": GatewayKind.TWILIO,
        "url": url,
        "account": ACCOUNT,
        "from_number": FROM,
        "timeout_seconds": 5.0,
    }
    return GatewaySender(GatewaySettings(**{**settings, **changes}), TOKEN)


def basic_auth(header: str) -> tuple[str, str]:
    """User and password of an `Authorization: Basic …` header."""
    scheme, _, encoded = header.partition(" ")
    assert scheme == "Basic"
    user, _, password = base64.b64decode(encoded).decode().partition(":")
    return user, password


def say_of(form: dict[str, str]) -> ElementTree.Element:
    """The one <Say> of a Twilio call's TwiML, parsed."""
    root = ElementTree.fromstring(form["Twiml"])  # noqa: S314 - TwiML the sender under test built
    assert root.tag == "Response"
    [say] = list(root)
    assert say.tag == "Say"
    return say


# ------------------------------------------------------------------------------------------ webhook


async def test_webhook_sms_posts_json_with_the_bearer_token(gateway: RunningGateway) -> None:
    await webhook(f"{gateway.url}/hooks/sms").send(Method.MOBILE_SMS, PHONE, "Verification code (SMS)", SMS_TEXT)
    [request] = gateway.requests
    assert (request.method, request.path) == ("POST", "/hooks/sms")
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert request.json() == {"channel": "sms", "to": "+31623456778", "text": SMS_TEXT, "language": "en"}


async def test_webhook_voice_reads_the_code_digit_by_digit(gateway: RunningGateway) -> None:
    await webhook(gateway.url, from_number=FROM).send(Method.OFFICE_CALL, "+1 (555) 010-0200", "", VOICE_TEXT)
    [request] = gateway.requests
    payload = request.json()
    assert payload["channel"] == "voice" and payload["to"] == "+15550100200" and payload["from"] == FROM
    assert payload["text"] == f"This is Contoso. Your verification code is: {SPOKEN_CODE}. Again: {SPOKEN_CODE}."
    assert payload["language"] == "en"


# ------------------------------------------------------------------------------------------- twilio


async def test_twilio_sms_posts_the_message_form_with_basic_auth(gateway: RunningGateway) -> None:
    await twilio(gateway.url).send(Method.MOBILE_SMS, PHONE, "Verification code (SMS)", SMS_TEXT)
    [request] = gateway.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Messages.json"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert basic_auth(request.headers["authorization"]) == (ACCOUNT, TOKEN)
    assert request.form() == {"To": "+31623456778", "From": FROM, "Body": SMS_TEXT}


async def test_twilio_voice_posts_twiml_that_reads_each_digit(gateway: RunningGateway) -> None:
    await twilio(gateway.url + "/").send(Method.MOBILE_CALL, PHONE, "Verification code (voice call)", VOICE_TEXT)
    [request] = gateway.requests
    assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
    assert basic_auth(request.headers["authorization"]) == (ACCOUNT, TOKEN)
    form = request.form()
    assert (form["To"], form["From"]) == ("+31623456778", FROM)
    assert "Body" not in form
    say = say_of(form)
    assert say.get("language") == "en-US"
    assert say.text is not None and f"code is: {SPOKEN_CODE}." in say.text
    digits = say.text.split("code is: ")[1].split(".")[0].split(", ")
    assert digits == list("48213957")  # one digit at a time, never "forty-eight million …"


def test_twiml_escapes_the_text() -> None:
    document = twiml('Fabrikam & <Sons> "Ltd"', "nl-NL")
    assert "&amp; &lt;Sons&gt;" in document
    say = ElementTree.fromstring(document)[0]  # noqa: S314 - built by the code under test
    assert (say.get("language"), say.text) == ("nl-NL", 'Fabrikam & <Sons> "Ltd"')


def test_spoken_text_and_dialable_numbers() -> None:
    assert spoken("Code: 1 2 3. Room 12, floor 3.") == "Code: 1, 2, 3. Room 12, floor 3."
    assert dialable("+31 (0)6 2345-6778") == "+31623456778"
    assert dialable("0612.34.56/78") == "0612345678"


# ------------------------------------------------------------------------------------------ failures


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        (401, DeliveryFailure.AUTH),
        (403, DeliveryFailure.AUTH),
        (400, DeliveryFailure.REFUSED),
        (404, DeliveryFailure.REFUSED),
        (429, DeliveryFailure.REFUSED),
        (500, DeliveryFailure.ERROR),
        (503, DeliveryFailure.ERROR),
        (302, DeliveryFailure.ERROR),  # redirects are not followed: the token stays with the configured host
    ],
)
async def test_each_answer_status_is_a_stable_reason(
    gateway: RunningGateway, status: int, reason: DeliveryFailure
) -> None:
    gateway.answer(status)
    for sender in (webhook(gateway.url), twilio(gateway.url)):
        with pytest.raises(DeliveryError) as raised:
            await sender.send(Method.MOBILE_SMS, PHONE, "", SMS_TEXT)
        assert raised.value.reason is reason
    assert len(gateway.requests) == 2


async def test_a_gateway_that_never_answers_is_a_timeout(gateway: RunningGateway) -> None:
    gateway.answer(HANG)
    sender = webhook(gateway.url, timeout_seconds=0.2)
    with pytest.raises(DeliveryError) as raised:
        await sender.send(Method.MOBILE_SMS, PHONE, "", SMS_TEXT)
    assert raised.value.reason is DeliveryFailure.TIMEOUT
    assert len(gateway.requests) == 1


async def test_a_gateway_that_is_down_is_unreachable() -> None:
    with pytest.raises(DeliveryError) as raised:
        await twilio(f"http://127.0.0.1:{free_port()}").send(Method.MOBILE_CALL, PHONE, "", VOICE_TEXT)
    assert raised.value.reason is DeliveryFailure.UNREACHABLE


async def test_https_with_a_private_ca(gateway_factory: GatewayFactory, tmp_path: Path) -> None:
    from live_servers.certificates import make_tls_files

    tls = make_tls_files(tmp_path, ("127.0.0.1", "localhost"), "gateway")
    server = gateway_factory(tls=tls)
    assert server.url.startswith("https://")
    await twilio(server.url, ca_file=str(tls.ca_file)).send(Method.MOBILE_SMS, PHONE, "", SMS_TEXT)
    await webhook(server.url.replace("127.0.0.1", "localhost"), ca_file=str(tls.ca_file)).send(
        Method.MOBILE_SMS, PHONE, "", SMS_TEXT
    )
    assert len(server.requests) == 2


async def test_a_certificate_from_another_ca_is_a_tls_failure_and_nothing_is_sent(
    gateway_factory: GatewayFactory, tls_files: TlsFiles
) -> None:
    server = gateway_factory(tls=tls_files)
    for ca_file in (str(tls_files.wrong_ca_file), ""):  # the wrong CA, and the system CAs
        with pytest.raises(DeliveryError) as raised:
            await webhook(server.url, ca_file=ca_file).send(Method.MOBILE_SMS, PHONE, "", SMS_TEXT)
        assert raised.value.reason is DeliveryFailure.TLS
    assert server.requests == []


async def test_an_unreadable_ca_file_is_a_tls_failure(gateway: RunningGateway, tmp_path: Path) -> None:
    with pytest.raises(DeliveryError) as raised:
        await webhook(gateway.url, ca_file=str(tmp_path / "missing.pem")).send(Method.MOBILE_SMS, PHONE, "", SMS_TEXT)
    assert raised.value.reason is DeliveryFailure.TLS
    assert gateway.requests == []


async def test_email_is_not_for_the_gateway(gateway: RunningGateway) -> None:
    with pytest.raises(DeliveryError) as raised:
        await webhook(gateway.url).send(Method.EMAIL, "ivy@fabrikam.test", "Subject", "Body")
    assert raised.value.reason is DeliveryFailure.UNSUPPORTED_CHANNEL
    assert gateway.requests == []


async def test_no_token_code_text_or_number_in_logs_or_exceptions(
    gateway_factory: GatewayFactory, tls_files: TlsFiles, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    plain = gateway_factory()
    secure = gateway_factory(tls=tls_files)
    errors: list[DeliveryError] = []

    async def fail(sender: GatewaySender, channel: Method, text: str) -> None:
        with pytest.raises(DeliveryError) as raised:
            await sender.send(channel, PHONE, "subject", text)
        errors.append(raised.value)

    for status in (401, 400, 500):
        plain.answer(status)
        await fail(webhook(plain.url), Method.MOBILE_SMS, SMS_TEXT)
        await fail(twilio(plain.url), Method.MOBILE_CALL, VOICE_TEXT)
    await fail(twilio(secure.url, ca_file=str(tls_files.wrong_ca_file)), Method.MOBILE_SMS, SMS_TEXT)
    await fail(webhook(f"http://127.0.0.1:{free_port()}"), Method.MOBILE_SMS, SMS_TEXT)
    plain.answer(HANG)
    await fail(webhook(plain.url, timeout_seconds=0.2), Method.MOBILE_SMS, SMS_TEXT)
    assert {error.reason for error in errors} == {
        DeliveryFailure.AUTH,
        DeliveryFailure.REFUSED,
        DeliveryFailure.ERROR,
        DeliveryFailure.TLS,
        DeliveryFailure.UNREACHABLE,
        DeliveryFailure.TIMEOUT,
    }
    told = caplog.text + "\n".join(f"{error!s} {error!r} {error.__cause__!r}" for error in errors)
    for secret in (TOKEN, "48213957", "4 8 2 1", SPOKEN_CODE, SMS_TEXT, PHONE, "+31623456778"):
        assert secret not in told
    assert "gateway at 127.0.0.1 failed: auth (HTTP 401)" in caplog.text
    assert TOKEN not in repr(webhook(plain.url))


# ------------------------------------------------------------------------------------------- routing


class Recorder:
    """A sender that keeps what it was given (a unit-test double, not a server)."""

    def __init__(self) -> None:
        self.sent: list[tuple[Method, str]] = []

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        """Keep the channel and recipient."""
        self.sent.append((channel, to))


async def test_the_router_sends_email_one_way_and_phone_messages_the_other() -> None:
    email, phone = Recorder(), Recorder()
    router = ChannelRouter(email=email, phone=phone)
    await router.send(Method.EMAIL, "a@b.test", "s", "b")
    await router.send(Method.MOBILE_SMS, PHONE, "s", "b")
    await router.send(Method.OFFICE_CALL, PHONE, "s", "b")
    assert email.sent == [(Method.EMAIL, "a@b.test")]
    assert phone.sent == [(Method.MOBILE_SMS, PHONE), (Method.OFFICE_CALL, PHONE)]
    with pytest.raises(DeliveryError) as raised:
        await ChannelRouter(email=email).send(Method.MOBILE_SMS, PHONE, "s", "b")
    assert raised.value.reason is DeliveryFailure.UNSUPPORTED_CHANNEL
