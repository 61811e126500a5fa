"""Whole sessions over the backend's HTTP API with e-mail on a REAL SMTP server and SMS/voice on the FAKE gateway.

A demo user with a phone (Tara, `resources/demo/directory.toml`) chooses SMS or a voice call; the code
is read from what arrived at the gateway and passes the gate. A German session gets German texts and
`de-DE` in the TwiML while the process-wide (window's) language stays English. A failure is retried
by the delivery worker and audited (the answer never tells); a policy with SMS but no gateway is
refused; a missing token stops the start with the command to run.
"""

from __future__ import annotations

import io
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import httpx
import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from live_servers.fake_gateway import RunningGateway
from live_servers.fake_keyring import FakeMemoryKeyring
from pydantic import ValidationError

import kiosk.i18n
from kiosk.cli import directory_cmd
from kiosk.cli.main import main as cli_main
from kiosk.i18n import _, current_language
from kiosk.policy.schema import (
    DeliveryKind,
    DeliverySettings,
    DirectorySettings,
    EmbeddedDirectorySettings,
    EnabledFor,
    GatewayKind,
    GatewaySettings,
    Method,
    MethodSettings,
    Policy,
    ResetSettings,
    SmtpSecurity,
    SmtpSettings,
)
from kiosk.services.api import SessionOpened, Stage
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.credentials import SERVICE, read_secret
from kiosk.services.backend.delivery.sender import DeliveryError, DeliveryFailure

from ...conftest import GOOD_PASSWORD, START, Kiosk
from ..conftest import SmtpServer, free_port

TOKEN = "Gateway-Sentinel-Token-8830"
ACCOUNT = "AC00000000000000000000000000000042"
FROM = "+15550009999"
TARA_PHONE = "+31623456778"  # "+31 6 2345 6778" in the demo directory, sent without spaces
TARA_EMAIL = "tara.visser@contoso.com"

DE_PO = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "{organisation} verification code: {code}."
msgstr "{organisation} Bestätigungscode: {code}."

msgid "It expires in {minutes} minute."
msgid_plural "It expires in {minutes} minutes."
msgstr[0] "Er läuft in {minutes} Minute ab."
msgstr[1] "Er läuft in {minutes} Minuten ab."

msgid "This is {organisation}. Your verification code is: {code}. Again: {code}."
msgstr "Hier ist {organisation}. Ihr Bestätigungscode lautet: {code}. Noch einmal: {code}."

msgid "Your {organisation} password was changed"
msgstr "Ihr {organisation}-Passwort wurde geändert"
"""


def gateway_policy(smtp_port: int, gateway: GatewaySettings) -> Policy:
    """E-mail through the SMTP server on loopback, SMS and calls through `gateway`; the demo users."""
    return Policy(
        reset=ResetSettings(enabled_for=EnabledFor.GROUP, groups=("SSPR-Users",)),
        methods=MethodSettings(
            enabled=(Method.EMAIL, Method.MOBILE_SMS, Method.MOBILE_CALL, Method.APP_CODE), required=1
        ),
        directory=DirectorySettings(embedded=EmbeddedDirectorySettings(seed_demo_users=True)),
        delivery=DeliverySettings(
            kind=DeliveryKind.SMTP,
            sender_address="kiosk@contoso.test",
            smtp=SmtpSettings(host="127.0.0.1", port=smtp_port, security=SmtpSecurity.NONE, timeout_seconds=5),
            gateway=gateway,
        ),
    )


def webhook_settings(gateway: RunningGateway) -> GatewaySettings:
    """The FAKE gateway as a webhook."""
    return GatewaySettings(kind=GatewayKind.WEBHOOK, url=f"{gateway.url}/sms", timeout_seconds=5)


def twilio_settings(gateway: RunningGateway) -> GatewaySettings:
    """The FAKE gateway as a Twilio-compatible API."""
    return GatewaySettings(
        kind=GatewayKind.TWILIO, url=gateway.url, account=ACCOUNT, from_number=FROM, timeout_seconds=5
    )


@pytest.fixture
def token(memory_keyring: FakeMemoryKeyring) -> str:
    """The gateway's token, stored in the FAKE keyring as `kiosk secrets set gateway` would."""
    memory_keyring.set_password(SERVICE, "gateway", TOKEN)
    return TOKEN


@pytest.fixture
def german(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A German catalog of the message texts, compiled into a temporary translations directory in use."""
    catalog = read_po(io.StringIO(DE_PO), locale="de")
    target = tmp_path / "translations" / "de" / "LC_MESSAGES"
    target.mkdir(parents=True)
    with (target / "messages.mo").open("wb") as file:
        write_mo(file, catalog)
    monkeypatch.setattr(kiosk.i18n, "TRANSLATIONS_DIR", tmp_path / "translations")
    return tmp_path / "translations"


@asynccontextmanager
async def gateway_kiosk(policy: Policy) -> AsyncIterator[Kiosk]:
    """A kiosk driver on a backend with `policy`, over HTTP in-process."""
    backend = await Backend.open(policy, clock=ManualClock(START), kiosk_id="gateway-kiosk")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
            yield Kiosk(backend, http)
    finally:
        await backend.close()


async def start_in(kiosk: Kiosk, locale: str, user_id: str) -> None:
    """Open a session in `locale` (as the kiosk's language picker would) and identify `user_id`."""
    response = await kiosk.request("POST", "/sessions", {"kiosk_id": "lobby-1", "locale": locale})
    assert response.status_code == 201, response.text
    kiosk.token = SessionOpened.model_validate_json(response.content).token
    await kiosk.identify(user_id)


def code_in(text: str) -> str:
    """The code in a text, whether written "48213957" or read out as "4, 8, 2, 1, 3, 9, 5, 7"."""
    match = re.search(r"\d(?:, \d)+", text)
    if match:
        return match.group(0).replace(", ", "")
    match = re.search(r"\b\d{6,10}\b", text)
    assert match, "no code in the text"
    return match.group(0)


async def outcomes(kiosk: Kiosk, event: AuditEvent) -> list[str]:
    """The outcomes of the audit rows of `event`."""
    return [record.outcome for record in await kiosk.backend.audit_records() if record.event is event]


async def test_an_sms_code_from_the_webhook_passes_the_gate_and_the_notice_is_emailed(
    smtp_server: SmtpServer, gateway: RunningGateway, token: str
) -> None:
    async with gateway_kiosk(gateway_policy(smtp_server.port, webhook_settings(gateway))) as kiosk:
        await kiosk.start("tara")
        view = await kiosk.choose(Method.MOBILE_SMS)
        assert view.stage is Stage.VERIFY_CODE
        [request] = gateway.requests
        assert request.headers["authorization"] == f"Bearer {token}"
        payload = request.json()
        assert (payload["channel"], payload["to"], payload["language"]) == ("sms", TARA_PHONE, "en")
        assert payload["text"].startswith("Contoso verification code: ")
        view = await kiosk.code(code_in(payload["text"]))
        assert view.gates_passed == 1 and view.stage is Stage.NEW_PASSWORD
        assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["mobile_sms"]
        assert await kiosk.backend.outbox() == []  # nothing in the dev outbox
    # E-mail still goes through SMTP: the "password changed" notice reached Tara's address.
    assert [arrived.rcpt_tos for arrived in smtp_server.inbox.messages] == [[TARA_EMAIL]]
    assert len(gateway.requests) == 1


async def test_a_german_session_gets_a_german_sms_while_the_window_stays_english(
    smtp_server: SmtpServer, gateway: RunningGateway, token: str, german: Path
) -> None:
    async with gateway_kiosk(gateway_policy(smtp_server.port, webhook_settings(gateway))) as kiosk:
        await start_in(kiosk, "de-DE", "tara")
        await kiosk.choose(Method.MOBILE_SMS)
        assert current_language() == "en"  # the process-wide language was never changed
        payload = gateway.requests[-1].json()
        assert payload["language"] == "de-DE"
        assert payload["text"].startswith("Contoso Bestätigungscode: ") and "Minuten" in payload["text"]
        await kiosk.code(code_in(payload["text"]))
        assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    [notice] = smtp_server.inbox.messages
    assert notice.message["Subject"] == "Ihr Contoso-Passwort wurde geändert"  # notices follow the session too
    assert current_language() == "en"
    assert _("Your {organisation} password was changed") == "Your {organisation} password was changed"


async def test_a_german_voice_call_over_twilio_says_de_de_digit_by_digit(
    smtp_server: SmtpServer, gateway: RunningGateway, token: str, german: Path
) -> None:
    async with gateway_kiosk(gateway_policy(smtp_server.port, twilio_settings(gateway))) as kiosk:
        await start_in(kiosk, "de", "tara")
        await kiosk.choose(Method.MOBILE_CALL)
        [request] = gateway.requests
        assert request.path == f"/2010-04-01/Accounts/{ACCOUNT}/Calls.json"
        form = request.form()
        assert (form["To"], form["From"]) == (TARA_PHONE, FROM)
        say = ElementTree.fromstring(form["Twiml"]).find("Say")  # noqa: S314 - built by the code under test
        assert say is not None and say.get("language") == "de-DE"
        assert say.text is not None and say.text.startswith("Hier ist Contoso. Ihr Bestätigungscode lautet: ")
        spoken = say.text.split("lautet: ")[1].split(".")[0]
        assert re.fullmatch(r"\d(, \d){7}", spoken)  # eight digits, each on its own
        assert (await kiosk.code(code_in(say.text))).gates_passed == 1
        assert current_language() == "en"


async def test_an_english_twilio_sms(smtp_server: SmtpServer, gateway: RunningGateway, token: str) -> None:
    async with gateway_kiosk(gateway_policy(smtp_server.port, twilio_settings(gateway))) as kiosk:
        await kiosk.start("tara")
        await kiosk.choose(Method.MOBILE_SMS)
        form = gateway.requests[-1].form()
        assert gateway.requests[-1].path.endswith("/Messages.json")
        assert (form["To"], form["From"]) == (TARA_PHONE, FROM)
        assert (await kiosk.code(code_in(form["Body"]))).gates_passed == 1


@pytest.mark.parametrize(("status", "reason", "attempts"), [(401, "auth", 1), (400, "refused", 6), (500, "error", 6)])
async def test_a_failing_gateway_is_retried_audited_and_email_still_works(
    smtp_server: SmtpServer, gateway: RunningGateway, token: str, status: int, reason: str, attempts: int
) -> None:
    gateway.answer(status)
    async with gateway_kiosk(gateway_policy(smtp_server.port, webhook_settings(gateway))) as kiosk:
        await kiosk.start("tara")
        view = await kiosk.choose(Method.MOBILE_SMS)  # answered like any send: the code page
        assert view.stage is Stage.VERIFY_CODE and token not in view.model_dump_json()
        await kiosk.run_queue(3 * 60)  # retried (a refused token only once), then given up
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == [f"delivery_failed:{reason}"]
        assert len(gateway.requests) == attempts
        await kiosk.choose(Method.EMAIL)  # another method still works in the same session
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == [f"delivery_failed:{reason}", "email"]
    assert len(smtp_server.inbox.messages) == 1


def test_without_a_gateway_the_policy_refuses_sms_and_calls(smtp_server: SmtpServer) -> None:
    with pytest.raises(ValidationError, match="mobile_sms, mobile_call cannot be delivered"):
        gateway_policy(smtp_server.port, GatewaySettings())


async def test_a_missing_gateway_token_stops_the_start_with_the_command_to_run(
    smtp_server: SmtpServer, memory_keyring: FakeMemoryKeyring
) -> None:
    settings = GatewaySettings(kind=GatewayKind.WEBHOOK, url=f"http://127.0.0.1:{free_port()}/sms")
    with pytest.raises(DeliveryError, match=r"kiosk secrets set gateway") as raised:
        await Backend.open(gateway_policy(smtp_server.port, settings))
    assert raised.value.reason is DeliveryFailure.NO_CREDENTIAL


def test_kiosk_secrets_set_gateway_stores_the_token_the_backend_reads(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    prompts: list[str] = []

    def answer(prompt: str) -> str:
        prompts.append(prompt)
        return TOKEN

    monkeypatch.setattr(directory_cmd.getpass, "getpass", answer)
    assert cli_main(["secrets", "set", "gateway"]) == 0
    assert read_secret("gateway") == TOKEN
    assert prompts[0] == "gateway token (not shown): "
    output: Any = "".join(capsys.readouterr())
    assert TOKEN not in output and "stored the gateway token" in output
