"""E-mail over SMTP against a REAL aiosmtpd server on loopback: codes, reset notices, TLS, AUTH, failures."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from email.message import EmailMessage
from typing import Any

import httpx
import pytest
from live_servers.certificates import TlsFiles
from live_servers.fake_keyring import FakeMemoryKeyring
from pydantic import ValidationError

from kiosk.cli import directory_cmd
from kiosk.cli.main import main as cli_main
from kiosk.policy.schema import (
    BrandingSettings,
    DeliveryKind,
    DeliverySettings,
    DirectorySettings,
    EmbeddedDirectorySettings,
    EnabledFor,
    KioskSettings,
    Method,
    MethodSettings,
    Policy,
    ResetSettings,
    SmtpSecurity,
    SmtpSettings,
)
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.credentials import SERVICE, smtp_password
from kiosk.services.backend.delivery.sender import DeliveryError, DeliveryFailure
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.hashing import hash_secret
from kiosk.services.backend.recovery.authenticator import new_secret

from ..conftest import GOOD_PASSWORD, START, Kiosk
from .conftest import SMTP_PASSWORD, SMTP_USER, ServerFactory, SmtpServer, free_port

# The plain-text AUTH servers of some tests are on loopback on purpose; aiosmtpd warns about that.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

ORGANISATION = "Fabrikam & <Sons>"
OLD_PASSWORD = "Old-Password-Value-17"

USERS = (
    DirectoryUser(
        login="ivy",
        display_name="Ivy <Ito>",
        auth_email="ivy@fabrikam.test",
        alt_email="ivy.home@private.test",
        mobile_phone="+31 6 1234 5678",
        groups=("Staff",),
    ),
    DirectoryUser(
        login="root1",
        display_name="Root One",
        auth_email="root1@fabrikam.test",
        is_admin=True,
        groups=("Staff",),
        totp_secret=new_secret(),
    ),
    DirectoryUser(
        login="root2", display_name="Root Two", auth_email="root2@fabrikam.test", alt_email="root2@alt.test",
        is_admin=True,
    ),
    DirectoryUser(login="root3", display_name="Root Three", auth_email="root3@fabrikam.test", is_admin=True),
    DirectoryUser(login="bob", display_name="Bob", auth_email="bob@fabrikam.test", groups=("Staff",)),
)


def smtp_policy(port: int, **smtp: Any) -> Policy:
    """A non-demo policy sending e-mail through the SMTP server on 127.0.0.1:`port`."""
    settings: dict[str, Any] = {"host": "127.0.0.1", "port": port, "security": SmtpSecurity.NONE}
    settings.update(smtp)
    return Policy(
        reset=ResetSettings(enabled_for=EnabledFor.GROUP, groups=("Staff",)),
        methods=MethodSettings(enabled=(Method.EMAIL, Method.APP_CODE), required=1),
        kiosk=KioskSettings(branding=BrandingSettings(organisation=ORGANISATION)),
        directory=DirectorySettings(embedded=EmbeddedDirectorySettings(seed_demo_users=False)),
        delivery=DeliverySettings(
            kind=DeliveryKind.SMTP,
            sender_address="kiosk@fabrikam.test",
            smtp=SmtpSettings(timeout_seconds=5, **settings),
        ),
    )


@asynccontextmanager
async def smtp_kiosk(policy: Policy) -> AsyncIterator[Kiosk]:
    """A kiosk driver on a backend that e-mails through SMTP, with the users of this module."""
    backend = await Backend.open(policy, clock=ManualClock(START), kiosk_id="smtp-kiosk")
    try:
        hashed = await hash_secret(OLD_PASSWORD)
        await backend.directory.add_users([(user, hashed) for user in USERS])
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
            yield Kiosk(backend, http)
    finally:
        await backend.close()


def parts(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of a multipart/alternative message."""
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def code_in(message: EmailMessage) -> str:
    """The verification code in an e-mail's text part."""
    text, _ = parts(message)
    match = re.search(r"\b(\d{6,10})\b", text)
    assert match, text
    return match.group(1)


async def outcomes(kiosk: Kiosk, event: AuditEvent) -> list[str]:
    """The outcomes of the audit rows of `event`."""
    return [record.outcome for record in await kiosk.backend.audit_records() if record.event is event]


async def test_a_code_arrives_as_text_and_html_with_the_organisation(smtp_server: SmtpServer) -> None:
    async with smtp_kiosk(smtp_policy(smtp_server.port)) as kiosk:
        await kiosk.start("ivy")
        await kiosk.choose(Method.EMAIL)
        [arrived] = smtp_server.inbox.messages
        assert arrived.rcpt_tos == ["ivy@fabrikam.test"]
        assert arrived.mail_from == "kiosk@fabrikam.test"
        message = arrived.message
        assert message["Subject"] == "Your verification code"
        assert message["From"] == "kiosk@fabrikam.test"
        text, html = parts(message)
        code = code_in(message)
        assert ORGANISATION in text and code in text
        assert "Fabrikam &amp; &lt;Sons&gt;" in html and code in html
        assert "<Sons>" not in html  # every value is escaped
        view = await kiosk.code(code)  # the code that arrived is the code that works
        assert view.stage.value == "new_password"
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["email"]
        assert await kiosk.backend.outbox() == []  # nothing lands in the dev outbox


async def test_the_reset_notice_goes_to_the_auth_and_the_alternate_address(smtp_server: SmtpServer) -> None:
    async with smtp_kiosk(smtp_policy(smtp_server.port)) as kiosk:
        await kiosk.start("ivy")
        await kiosk.choose(Method.EMAIL)
        await kiosk.code(code_in(smtp_server.inbox.messages[-1].message))
        assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
        notices = smtp_server.inbox.messages[1:]
        assert sorted(address for arrived in notices for address in arrived.rcpt_tos) == [
            "ivy.home@private.test",
            "ivy@fabrikam.test",
        ]
        for arrived in notices:
            assert arrived.message["Subject"] == f"Your {ORGANISATION} password was changed"
            text, html = parts(arrived.message)
            assert "Hello Ivy <Ito>," in text and "ivy" in text
            assert "Hello Ivy &lt;Ito&gt;," in html
            assert GOOD_PASSWORD not in text + html


async def test_an_admin_reset_is_told_to_every_other_administrator_only(smtp_server: SmtpServer) -> None:
    async with smtp_kiosk(smtp_policy(smtp_server.port)) as kiosk:
        await kiosk.start("root1")
        await kiosk.choose(Method.EMAIL)
        await kiosk.code(code_in(smtp_server.inbox.messages[-1].message))
        await kiosk.choose(Method.APP_CODE)
        await kiosk.code(await kiosk.app_code("root1"))
        assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
        inbox = smtp_server.inbox
        own = [m for m in inbox.to("root1@fabrikam.test") if "password was changed" in str(m["Subject"])]
        assert len(own) == 1
        for address in ("root2@fabrikam.test", "root2@alt.test", "root3@fabrikam.test"):
            [notice] = inbox.to(address)
            assert notice["Subject"] == "Administrator password reset: Root One"
            text, _ = parts(notice)
            assert "root1" in text
        assert inbox.to("bob@fabrikam.test") == [] and inbox.to("ivy@fabrikam.test") == []
        admin_notices = [m for m in inbox.to("root1@fabrikam.test") if "Administrator" in str(m["Subject"])]
        assert admin_notices == []


async def test_starttls_with_a_private_ca_and_auth_from_the_keyring(
    smtp_server_factory: ServerFactory, tls_files: TlsFiles, memory_keyring: FakeMemoryKeyring
) -> None:
    server = smtp_server_factory(tls=tls_files, auth=True)
    memory_keyring.set_password(SERVICE, "smtp", SMTP_PASSWORD)
    policy = smtp_policy(
        server.port, security=SmtpSecurity.STARTTLS, ca_file=str(tls_files.ca_file), username=SMTP_USER
    )
    async with smtp_kiosk(policy) as kiosk:
        await kiosk.start("ivy")
        await kiosk.choose(Method.EMAIL)
    assert server.inbox.logins == [(SMTP_USER, SMTP_PASSWORD)]
    [arrived] = server.inbox.messages
    assert code_in(arrived.message)


async def test_implicit_tls_with_a_private_ca(smtp_server_factory: ServerFactory, tls_files: TlsFiles) -> None:
    server = smtp_server_factory(tls=tls_files, implicit_tls=True)
    policy = smtp_policy(server.port, security=SmtpSecurity.TLS, ca_file=str(tls_files.ca_file))
    async with smtp_kiosk(policy) as kiosk:
        await kiosk.start("ivy")
        await kiosk.choose(Method.EMAIL)
    [arrived] = server.inbox.messages
    assert code_in(arrived.message)


async def test_a_server_certificate_from_another_ca_is_a_tls_failure(
    smtp_server_factory: ServerFactory, tls_files: TlsFiles
) -> None:
    server = smtp_server_factory(tls=tls_files)
    policy = smtp_policy(server.port, security=SmtpSecurity.STARTTLS, ca_file=str(tls_files.wrong_ca_file))
    async with smtp_kiosk(policy) as kiosk:
        await kiosk.start("ivy")
        await kiosk.choose(Method.EMAIL)  # 200: the answer never tells (see test_outbox)
        await kiosk.run_queue(3 * 60)  # retried: a certificate may be replaced meanwhile
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["delivery_failed:tls"]
    assert server.inbox.messages == []


async def test_a_refused_login_is_an_auth_failure(
    smtp_server_factory: ServerFactory, memory_keyring: FakeMemoryKeyring
) -> None:
    server = smtp_server_factory(auth=True)
    memory_keyring.set_password(SERVICE, "smtp", "not-the-password")
    async with smtp_kiosk(smtp_policy(server.port, username=SMTP_USER)) as kiosk:
        await kiosk.start("ivy")
        await kiosk.choose(Method.EMAIL)
        # Given up at once: retrying a refused login could lock the mail account.
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["delivery_failed:auth"]
        tried = len(server.inbox.logins)
        await kiosk.run_queue(3 * 60)
    assert server.inbox.messages == [] and len(server.inbox.logins) == tried  # no second try


async def test_a_server_that_is_down_is_a_clear_error_audited_and_no_secret_is_logged(
    memory_keyring: FakeMemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    memory_keyring.set_password(SERVICE, "smtp", SMTP_PASSWORD)
    async with smtp_kiosk(smtp_policy(free_port(), username=SMTP_USER)) as kiosk:
        await kiosk.start("ivy")
        view = await kiosk.choose(Method.EMAIL)
        assert SMTP_PASSWORD not in view.model_dump_json()
        await kiosk.run_queue(3 * 60)
        assert await outcomes(kiosk, AuditEvent.CODE_SENT) == ["delivery_failed:unreachable"]
    assert SMTP_PASSWORD not in caplog.text
    assert "e-mail to 127.0.0.1" in caplog.text and "unreachable" in caplog.text


async def test_no_password_or_code_in_the_logs_of_a_successful_send(
    smtp_server_factory: ServerFactory, memory_keyring: FakeMemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server = smtp_server_factory(auth=True)
    memory_keyring.set_password(SERVICE, "smtp", SMTP_PASSWORD)
    async with smtp_kiosk(smtp_policy(server.port, username=SMTP_USER)) as kiosk:
        await kiosk.start("ivy")
        await kiosk.choose(Method.EMAIL)
    code = code_in(server.inbox.messages[-1].message)
    # The test server's own logger (mail.log) echoes the wire, AUTH and DATA included: not the kiosk's.
    ours = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("mail.log"))
    assert SMTP_PASSWORD not in ours and code not in ours


def test_sms_without_a_gateway_is_refused_by_the_policy_when_delivery_is_smtp() -> None:
    policy = smtp_policy(25)
    with pytest.raises(ValidationError, match=r"mobile_sms cannot be delivered.*\[delivery\.gateway\]"):
        Policy(methods=MethodSettings(enabled=(Method.EMAIL, Method.MOBILE_SMS)), delivery=policy.delivery)


async def test_a_refused_notice_is_audited_and_the_reset_still_stands(smtp_server: SmtpServer) -> None:
    smtp_server.inbox.refused.add("ivy.home@private.test")
    async with smtp_kiosk(smtp_policy(smtp_server.port)) as kiosk:
        await kiosk.start("ivy")
        await kiosk.choose(Method.EMAIL)
        await kiosk.code(code_in(smtp_server.inbox.messages[-1].message))
        assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
        await kiosk.run_queue(3 * 60)  # retried, then given up
        assert await outcomes(kiosk, AuditEvent.NOTICE_FAILED) == ["refused"]
        assert await kiosk.backend.directory.verify_password("ivy", GOOD_PASSWORD)
    assert len(smtp_server.inbox.to("ivy@fabrikam.test")) == 2  # the code, then the notice


async def test_a_missing_smtp_password_stops_the_start_with_the_command_to_run(
    memory_keyring: FakeMemoryKeyring,
) -> None:
    with pytest.raises(DeliveryError, match=r"kiosk secrets set smtp") as raised:
        await Backend.open(smtp_policy(free_port(), username=SMTP_USER))
    assert raised.value.reason is DeliveryFailure.NO_CREDENTIAL


def test_plain_smtp_is_refused_unless_the_server_is_on_loopback() -> None:
    with pytest.raises(ValidationError, match="only allowed to a loopback host"):
        SmtpSettings(host="mail.fabrikam.test", security=SmtpSecurity.NONE)
    for host in ("127.0.0.1", "localhost", "::1"):
        assert SmtpSettings(host=host, security=SmtpSecurity.NONE).security is SmtpSecurity.NONE
    assert SmtpSettings(host="mail.fabrikam.test").security is SmtpSecurity.STARTTLS


def test_smtp_delivery_needs_a_host_and_the_demo_default_is_unchanged() -> None:
    with pytest.raises(ValidationError, match=r"needs delivery\.smtp\.host"):
        DeliverySettings(kind=DeliveryKind.SMTP)
    assert Policy().delivery.kind is DeliveryKind.DEV_OUTBOX and Policy().demo
    assert not smtp_policy(25).demo


def test_kiosk_secrets_set_smtp_stores_the_password_the_sender_reads(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    answers = iter([SMTP_PASSWORD, SMTP_PASSWORD])
    monkeypatch.setattr(directory_cmd.getpass, "getpass", lambda prompt: next(answers))
    assert cli_main(["secrets", "set", "smtp"]) == 0
    assert smtp_password() == SMTP_PASSWORD
    assert SMTP_PASSWORD not in "".join(capsys.readouterr())
