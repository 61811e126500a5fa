"""Delivery of codes and notifications: the `Sender` protocol and the demo's dev outbox."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Protocol

from kiosk.policy.schema import Method
from kiosk.services.api import OutboxMessage
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.storage.db import Db, Row
from kiosk.services.backend.storage.store import Store


class DeliveryFailure(StrEnum):
    """Why a message could not be delivered (stable: it goes into the audit log)."""

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TLS = "tls"
    AUTH = "auth"
    REFUSED = "refused"
    UNSUPPORTED_CHANNEL = "unsupported_channel"
    NO_CREDENTIAL = "no_credential"
    ERROR = "error"
    LOST = "lost"
    """Queued by a backend that stopped before delivering it (see `delivery.queue`)."""


class DeliveryError(Exception):
    """A message was not delivered; `reason` says why (no secret, no message text)."""

    def __init__(self, reason: DeliveryFailure, detail: str = "") -> None:
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)
        self.reason = reason


class Sender(Protocol):
    """Sends a message over a channel (e-mail, SMS, voice call)."""

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        """Deliver one message; `channel` is the verification method it serves (email, mobile_sms …).

        A message that cannot be delivered raises `DeliveryError`: never dropped silently.
        """
        ...


class ChannelRouter:
    """A `Sender` that hands e-mail to one sender and SMS / voice calls to another (the gateway).

    Without a phone sender (no `[delivery.gateway]`), an SMS or a call is refused as
    `UNSUPPORTED_CHANNEL`, never dropped.
    """

    def __init__(self, email: Sender, phone: Sender | None = None) -> None:
        self._email = email
        self._phone = phone

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        """Deliver through the sender for `channel`."""
        if channel is Method.EMAIL:
            await self._email.send(channel, to, subject, body)
        elif self._phone is not None:
            await self._phone.send(channel, to, subject, body)
        else:
            raise DeliveryError(
                DeliveryFailure.UNSUPPORTED_CHANNEL, f"no SMS/voice gateway is configured for {channel.value}"
            )


class DevOutbox:
    """A sender that keeps every message in the store for the demo inbox instead of sending it.

    Only for demo policies (`delivery.kind = dev_outbox`): anyone at the kiosk can read the outbox.
    SMS and voice calls land here too, with the text a caller would hear.
    """

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        """Keep the message in the outbox."""
        sent_at = self._clock.now().isoformat()
        await self._store.call(
            lambda db: db.execute(
                "INSERT INTO outbox (channel, recipient, subject, body, sent_at) VALUES (?, ?, ?, ?, ?)",
                (channel.value, to, subject, body, sent_at),
            )
        )

    async def messages(self, limit: int = 50) -> list[OutboxMessage]:
        """The newest `limit` messages, oldest first."""

        def read(db: Db) -> list[Row]:
            return db.execute("SELECT * FROM outbox ORDER BY id DESC LIMIT ?", (limit,)).fetchall()

        rows = await self._store.call(read)
        return [
            OutboxMessage(
                id=row["id"],
                channel=Method(row["channel"]),
                to=row["recipient"],
                subject=row["subject"],
                body=row["body"],
                sent_at=datetime.fromisoformat(row["sent_at"]),
            )
            for row in reversed(rows)
        ]
