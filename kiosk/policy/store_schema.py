"""The `[store]` section of the policy: where the backend keeps its state (SQLite by default, PostgreSQL shared)."""

from __future__ import annotations

from enum import StrEnum
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, field_validator, model_validator

from kiosk.policy.loopback import is_loopback_host
from kiosk.policy.section import PolicySection

VERIFYING_SSL_MODES = frozenset({"verify-full", "verify-ca"})
"""libpq's sslmode values that check the server's certificate against `sslrootcert`."""


class StoreKind(StrEnum):
    """Which database holds sessions, codes, throttles, the delivery outbox and the audit chain."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class StoreSettings(PolicySection):
    """Where the backend keeps its state: one SQLite file (embedded, one process) or PostgreSQL (replicas)."""

    kind: StoreKind = Field(
        default=StoreKind.SQLITE,
        description=(
            "sqlite: the file directory.embedded.database (one backend process); postgresql: the server at "
            "url, shared by every `kiosk serve` replica."
        ),
    )
    url: str = Field(
        default="",
        max_length=2048,
        description=(
            "kind = 'postgresql': postgresql://USER@HOST:PORT/DATABASE, with ?sslmode=verify-full&sslrootcert=FILE "
            "unless HOST is loopback. Never the password: `kiosk secrets set database` or the environment "
            "variable KIOSK_DATABASE_PASSWORD."
        ),
    )
    pool_size: int = Field(
        default=10,
        ge=1,
        le=100,
        description=(
            "Requests one `kiosk serve` process works on in the database at once (1 to 100); it opens up to "
            "twice as many connections (half for requests holding a session's lock). Keep "
            "replicas × workers × 2 × pool_size below the server's max_connections."
        ),
    )

    @field_validator("url")
    @classmethod
    def _a_postgresql_url_without_password(cls, value: str) -> str:
        # A field validator, so the error names store.url and its line.
        if not value:
            return value
        try:
            parts = urlsplit(value.strip())
            host, password = parts.hostname or "", parts.password
        except ValueError:
            raise ValueError("not a URL: write postgresql://USER@HOST:PORT/DATABASE") from None
        if parts.scheme.lower() not in {"postgresql", "postgres"} or not host:
            raise ValueError("write postgresql://USER@HOST:PORT/DATABASE (a PostgreSQL URL with a host)")
        options = parse_qs(parts.query)
        if password is not None or "password" in options or "passfile" in options:
            raise ValueError(
                "the URL holds a password, which must never be in the policy file: remove it and store it with "
                "`kiosk secrets set database` (or the environment variable KIOSK_DATABASE_PASSWORD)"
            )
        if not parts.username:
            raise ValueError("name the database user: postgresql://USER@HOST:PORT/DATABASE")
        mode = options.get("sslmode", [""])[-1]
        if not is_loopback_host(host) and mode not in VERIFYING_SSL_MODES:
            raise ValueError(
                "a database on another machine must be reached over verified TLS: add "
                "?sslmode=verify-full&sslrootcert=FILE (the CA that signed the server's certificate)"
            )
        return value

    @model_validator(mode="after")
    def _url_for_postgresql(self) -> StoreSettings:
        if self.kind is StoreKind.POSTGRESQL and not self.url:
            raise ValueError("kind = 'postgresql' needs url = 'postgresql://USER@HOST:PORT/DATABASE'")
        return self
