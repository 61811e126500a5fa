"""Fixtures over the REAL SMTP server of `live_servers.smtp` (aiosmtpd on 127.0.0.1 at a free port).

STARTTLS uses a throwaway CA made by `live_servers.certificates`; AUTH checks the password the test
puts in the FAKE in-memory keyring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from live_servers.certificates import TlsFiles, make_tls_files
from live_servers.smtp import SmtpServer, free_port, smtp_servers

__all__ = ["SMTP_PASSWORD", "SMTP_USER", "ServerFactory", "SmtpServer", "free_port"]

SMTP_USER = "kiosk-mailer"
SMTP_PASSWORD = "Mailer-Secret-9731!"

ServerFactory = Callable[..., SmtpServer]
"""`start(tls=None, auth=False, implicit_tls=False)`: a new server; `auth` requires SMTP_USER/SMTP_PASSWORD."""


@pytest.fixture
def tls_files(tmp_path: Path) -> TlsFiles:
    """A throwaway CA and a server certificate for 127.0.0.1 and localhost."""
    return make_tls_files(tmp_path, ("localhost", "127.0.0.1"), "smtp")


@pytest.fixture
def smtp_server_factory() -> Iterator[ServerFactory]:
    """Start SMTP servers on 127.0.0.1 (free ports); all are stopped after the test."""
    with smtp_servers() as start_server:

        def start(*, tls: TlsFiles | None = None, auth: bool = False, implicit_tls: bool = False) -> SmtpServer:
            login = (SMTP_USER, SMTP_PASSWORD) if auth else None
            return start_server(tls=tls, login=login, implicit_tls=implicit_tls)

        yield start


@pytest.fixture
def smtp_server(smtp_server_factory: ServerFactory) -> SmtpServer:
    """A plain SMTP server on loopback, no TLS, no AUTH."""
    return smtp_server_factory()

