"""FAKE: an in-memory keyring for tests (this headless machine runs no OS keyring daemon)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import keyring
from keyring.backend import KeyringBackend


class FakeMemoryKeyring(KeyringBackend):
    """FAKE keyring backend that keeps secrets in a dict, for tests only."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        """The stored secret, or None."""
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        """Store a secret."""
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        """Forget a secret."""
        self.entries.pop((service, username), None)


@contextmanager
def installed(**entries: str) -> Iterator[FakeMemoryKeyring]:
    """A FAKE keyring holding `entries` (name → secret, under the kiosk's service), installed while inside."""
    from kiosk.services.backend.credentials import SERVICE

    previous = keyring.get_keyring()
    fake = FakeMemoryKeyring()
    for name, secret in entries.items():
        fake.set_password(SERVICE, name, secret)
    keyring.set_keyring(fake)
    try:
        yield fake
    finally:
        keyring.set_keyring(previous)
