"""FAKE: an in-memory keyring for tests (this headless machine runs no OS keyring daemon)."""

from __future__ import annotations

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
