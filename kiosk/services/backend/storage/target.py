"""Which store a policy names, for the backend and for the administrator's commands that read it.

Kept apart from `storage.postgres` so that naming a PostgreSQL store does not import psycopg.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.policy.schema import Policy
from kiosk.policy.store_schema import StoreKind


@dataclass(frozen=True)
class PostgresSettings:
    """Where the shared store is: a libpq connection string or URL (without the password) and the password."""

    conninfo: str
    password: str = field(default="", repr=False)
    pool_size: int = 10

    def __repr__(self) -> str:
        return f"PostgresSettings(conninfo={self.conninfo!r}, pool_size={self.pool_size})"  # never the password


def store_location(url: str) -> str:
    """HOST:PORT/DATABASE of a PostgreSQL URL, for messages (the URL holds no password: the policy refuses one)."""
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port or 5432}{parts.path}"


def first_line(error: BaseException) -> str:
    """An error's first line (libpq's reason, never a password), or its type when it has no text."""
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


StoreTarget = Path | PostgresSettings
"""What `Store.open` takes: an SQLite file or a PostgreSQL server."""


def policy_store(policy: Policy) -> StoreTarget | None:
    """The store `policy` names: PostgreSQL (password from KIOSK_DATABASE_PASSWORD, a systemd credential or
    the keyring: a `CredentialError` says which command stores it), its SQLite file, or None when the
    backend works on a temporary file that is deleted when it stops."""
    if policy.store.kind is StoreKind.POSTGRESQL:
        from kiosk.services.backend import credentials

        return PostgresSettings(policy.store.url, credentials.database_password(), pool_size=policy.store.pool_size)
    configured = policy.directory.embedded.database
    return Path(configured) if configured else None
