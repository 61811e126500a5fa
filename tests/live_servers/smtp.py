"""A REAL SMTP server (aiosmtpd) on 127.0.0.1 at a free port, and what arrived there (shared by the SMTP tests).

The server runs in its own thread (aiosmtpd's `Controller`); the kiosk's SMTP sender talks to it
over loopback exactly as it would to a mail relay. `smtp_servers()` starts as many as a test asks
for and stops them all at its end; AUTH accepts exactly one (user, password) pair.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import socket
import ssl
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from live_servers.certificates import TlsFiles


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
    delay: float = 0.0
    """Seconds the server takes to answer each message (a slow relay)."""
    failures: int = 0
    """The next this many messages are answered 451 (try again later); -1: every message."""
    attempts: int = 0
    """Messages offered to the server (DATA commands), accepted or not."""

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
        self.inbox.attempts += 1
        if self.inbox.delay:
            await asyncio.sleep(self.inbox.delay)
        if self.inbox.failures:
            self.inbox.failures -= 1 if self.inbox.failures > 0 else 0
            return "451 4.3.0 temporary failure, try again later"
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


@contextmanager
def smtp_servers() -> Iterator[Callable[..., SmtpServer]]:
    """`start(tls=, login=(user, password), implicit_tls=)` starts a server; all stop on leaving."""
    controllers: list[Controller] = []

    def start(
        *, tls: TlsFiles | None = None, login: tuple[str, str] | None = None, implicit_tls: bool = False
    ) -> SmtpServer:
        inbox = Inbox()
        options: dict[str, Any] = {}
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert_file, tls.key_file)
            if implicit_tls:
                options.update(ssl_context=context)
            else:
                options.update(tls_context=context, require_starttls=True)
        if login is not None:

            def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
                assert isinstance(data, LoginPassword)
                seen = (data.login.decode(), data.password.decode())
                inbox.logins.append(seen)
                return AuthResult(success=seen == login, handled=False)

            options.update(authenticator=authenticator, auth_required=True, auth_require_tls=tls is not None)
        port = free_port()
        controller = Controller(_Handler(inbox), hostname="127.0.0.1", port=port, **options)
        controller.start()
        controllers.append(controller)
        return SmtpServer("127.0.0.1", port, inbox)

    try:
        yield start
    finally:
        for controller in controllers:
            controller.stop()

