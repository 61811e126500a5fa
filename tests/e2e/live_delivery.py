"""The live end-to-end tests of issue 13 (change, registration): a kiosk on a LIVE directory whose codes and
notices really leave it, e-mail to a real SMTP server (aiosmtpd on loopback) and SMS to the FAKE gateway.

What a person reads on their phone or in their mailbox the tests read where it arrived: the SMTP sink's
inbox and the gateway's recorded requests. The SMTP sink and the gateway are started once per module
(`running_delivery`); each test starts from an empty inbox and request list (`Delivery.clear`).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage

from live_servers.common import LiveDirectory
from live_servers.fake_gateway import RunningGateway
from live_servers.fake_keyring import FakeMemoryKeyring, installed
from live_servers.kiosk_setup import live_policy
from live_servers.smtp import SmtpServer, smtp_servers

from kiosk.policy.schema import (
    DeliveryKind,
    DeliverySettings,
    GatewayKind,
    GatewaySettings,
    Method,
    MethodSettings,
    Policy,
    RegistrationSettings,
    SmtpSecurity,
    SmtpSettings,
)
from kiosk.services.backend import Backend
from kiosk.services.backend.credentials import DIRECTORY_PASSWORD
from kiosk.services.backend.delivery.gateway import GATEWAY_SECRET
from kiosk.services.backend.directory.embedded import DirectoryUser

GATEWAY_TOKEN = "E2E-Gateway-Token-5521"  # the FAKE gateway's bearer token, a test value
EVERY_METHOD = (Method.EMAIL, Method.MOBILE_SMS, Method.SECURITY_QUESTIONS, Method.APP_CODE)
WAIT_SECONDS = 10.0


@dataclass
class Delivery:
    """The SMTP sink and the FAKE SMS gateway a live kiosk delivers to."""

    smtp: SmtpServer
    gateway: RunningGateway
    read: dict[str, int] = field(default_factory=dict)
    """How many codes sent to each address or number were read already: a code is read once."""

    def clear(self) -> None:
        """Forget what earlier tests received."""
        self.smtp.inbox.messages.clear()
        self.gateway.requests.clear()
        self.read.clear()

    def mail_to(self, address: str) -> list[EmailMessage]:
        """The messages the SMTP sink accepted for `address`, oldest first."""
        return self.smtp.inbox.to(address)

    def subjects_to(self, address: str) -> list[str]:
        """The subjects of the messages to `address`, oldest first."""
        return [str(message["Subject"]) for message in self.mail_to(address)]

    async def emailed_code(self, backend: Backend, address: str) -> str:
        """The next code e-mailed to `address`, read in the SMTP sink (waiting for the delivery worker)."""
        return await self._next_code(backend, address, lambda: [
            match.group(1) for message in self.mail_to(address)
            if (match := re.search(r"code is (\d{6,10})\b", text_of(message)))
        ])

    async def texted_code(self, backend: Backend, number: str) -> str:
        """The next code texted to `number`, read in the FAKE gateway's requests."""
        return await self._next_code(backend, number, lambda: [
            match.group(1) for request in self.gateway.requests
            if request.json().get("to") == number and (match := re.search(r"\b(\d{6,10})\b", request.json()["text"]))
        ])

    async def _next_code(self, backend: Backend, to: str, codes: Callable[[], list[str]]) -> str:
        """The first code to `to` not read before (a person reads the message that just came)."""
        seen = self.read.get(to, 0)
        arrived = await self._wait(backend, lambda: codes()[seen:])
        self.read[to] = seen + 1
        return arrived[0]

    async def wait_for_mail(self, backend: Backend, address: str, subject: str) -> None:
        """Wait until a message with `subject` reached `address`."""
        await self._wait(backend, lambda: [s for s in self.subjects_to(address) if s == subject])

    @staticmethod
    async def _wait(backend: Backend, found: Callable[[], list[str]]) -> list[str]:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_SECONDS
        while not (result := found()):
            assert loop.time() < deadline, "nothing arrived"
            await backend.deliver_pending()
            await asyncio.sleep(0.02)
        return list(result)


def text_of(message: EmailMessage) -> str:
    """The plain-text part of a message, decoded."""
    body = message.get_body(("plain",))
    assert body is not None
    return str(body.get_content())


@contextmanager
def running_delivery() -> Iterator[Delivery]:
    """Start an SMTP sink and a FAKE SMS gateway on loopback; both stop on leaving."""
    gateway = RunningGateway()
    try:
        with smtp_servers() as start:
            yield Delivery(start(), gateway)
    finally:
        gateway.stop()


@contextmanager
def keyring_for(server: LiveDirectory) -> Iterator[FakeMemoryKeyring]:
    """The FAKE keyring holding the directory's service password and the gateway's token."""
    with installed(**{DIRECTORY_PASSWORD: server.service_password, GATEWAY_SECRET: GATEWAY_TOKEN}) as fake:
        yield fake


def delivering_policy(server: LiveDirectory, delivery: Delivery, *, reconfirm_days: int = 0) -> Policy:
    """The live policy with every method a user can register, e-mail through the SMTP sink and SMS through
    the FAKE gateway; `reconfirm_days` 0 (the default) never asks "still up to date?"."""
    policy = live_policy(server)
    settings = policy.model_dump(mode="json")
    settings["methods"] = MethodSettings(enabled=EVERY_METHOD, required=1).model_dump(mode="json")
    settings["registration"] = RegistrationSettings(reconfirm_days=reconfirm_days).model_dump(mode="json")
    settings["delivery"] = DeliverySettings(
        kind=DeliveryKind.SMTP,
        sender_address="kiosk@contoso.test",
        smtp=SmtpSettings(host="127.0.0.1", port=delivery.smtp.port, security=SmtpSecurity.NONE, timeout_seconds=5),
        gateway=GatewaySettings(kind=GatewayKind.WEBHOOK, url=f"{delivery.gateway.url}/sms", timeout_seconds=5),
    ).model_dump(mode="json")
    return Policy.model_validate(settings)  # validated whole, as the kiosk loads a policy file


async def enrolled(backend: Backend, login: str) -> DirectoryUser:
    """`login` as the backend's directory reads it now, with what the enrollment store holds for it."""
    user = await backend._rt.directory.user_by_login(login)  # the live directory, as a test reads it
    assert user is not None
    return user


def own_id(server: LiveDirectory, login: str) -> str:
    """The entry's immutable id as the directory itself gives it: entryUUID, or objectGUID as a UUID."""
    name = "entryUUID" if server.kind == "openldap" else "objectGUID"
    raw = server.read(server.users[login].dn, [name])[name][0]
    return str(uuid.UUID(bytes_le=raw) if isinstance(raw, bytes) else uuid.UUID(str(raw).strip("{}")))
