"""A REAL SMTP server (aiosmtpd) on 127.0.0.1 at a free port, and what arrived there.

The server runs in its own thread (aiosmtpd's `Controller`); the kiosk's SMTP sender talks to it
over loopback exactly as it would to a mail relay. STARTTLS uses a throwaway CA made by
`live_servers.certificates`, AUTH checks a password the test puts in the FAKE in-memory keyring.
"""

from __future__ import annotations

import email
import email.policy
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import keyring
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from live_servers.certificates import TlsFiles, make_tls_files
from live_servers.fake_keyring import FakeMemoryKeyring

SMTP_USER = "kiosk-mailer"
SMTP_PASSWORD = "Mailer-Secret-9731!"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Arrived:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


@dataclass
class Inbox:
    """Everything the SMTP server accepted, and the logins it saw."""

    messages: list[Arrived] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)
    refused: set[str] = field(default_factory=set)
    """Recipients the server answers 550 to."""

    def to(self, address: str) -> list[EmailMessage]:
        """The messages addressed to `address`."""
        return [arrived.message for arrived in self.messages if address in arrived.rcpt_tos]


class _Handler:
    def __init__(self, inbox: Inbox) -> None:
        self.inbox = inbox

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str, options: Any) -> str:
        if address in self.inbox.refused:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.inbox.messages.append(Arrived(envelope.mail_from, list(envelope.rcpt_tos), parsed))
        return "250 Message accepted"


@dataclass
class SmtpServer:
    """A running aiosmtpd server."""

    host: str
    port: int
    inbox: Inbox


ServerFactory = Callable[..., SmtpServer]


@pytest.fixture
def tls_files(tmp_path: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost."""
    return make_tls_files(tmp_path, ("localhost", "127.0.0.1"), "smtp")


@pytest.fixture
def smtp_server_factory() -> Iterator[ServerFactory]:
    """Start SMTP servers on 127.0.0.1 (free ports); all are stopped after the test."""
    controllers: list[Controller] = []

    def start(*, tls: TlsFiles | None = None, auth: bool = False, implicit_tls: bool = False) -> SmtpServer:
        inbox = Inbox()
        options: dict[str, Any] = {}
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert_file, tls.key_file)
            if implicit_tls:
                options.update(ssl_context=context)
            else:
                options.update(tls_context=context, require_starttls=True)
        if auth:

            def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                assert isinstance(data, LoginPassword)
                login, password = data.login.decode(), data.password.decode()
                inbox.logins.append((login, password))
                return AuthResult(success=login == SMTP_USER and password == SMTP_PASSWORD, handled=False)

            options.update(authenticator=authenticator, auth_required=True, auth_require_tls=tls is not None)
        port = free_port()
        controller = Controller(_Handler(inbox), hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return SmtpServer("127.0.0.1", port, inbox)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_server_factory: ServerFactory) -> SmtpServer:
    """A plain SMTP server on loopback, no TLS, no AUTH."""
    return smtp_server_factory()


@pytest.fixture
def memory_keyring() -> Iterator[FakeMemoryKeyring]:
    """The FAKE in-memory keyring, installed for one test."""
    previous = keyring.get_keyring()
    fake = FakeMemoryKeyring()
    keyring.set_keyring(fake)
    yield fake
    keyring.set_keyring(previous)
