"""What `kiosk serve` prints when the backend cannot start: the cause and the fix, never a traceback.

The backend's own start-up errors already say both, without secrets (`kiosk directory test` prints the
same text for the directory's): a missing keyring secret names the `kiosk secrets set …` command, a
TLS failure the CA file, a refused service account the bind DN to check. Anything else is told by its
type only, as before: a foreign exception's message may quote what it was given.
"""

from __future__ import annotations

import sqlite3

from kiosk.policy.schema import Policy
from kiosk.policy.store_schema import StoreKind


def startup_failure(error: BaseException, policy: Policy) -> str:
    """One line for the operator: why the backend did not start, and what to do about it."""
    from kiosk.services.backend.audit.syslog import SyslogSetupError
    from kiosk.services.backend.credentials import CredentialError
    from kiosk.services.backend.delivery.sender import DeliveryError
    from kiosk.services.backend.directory.errors import DirectoryError

    lead = "the backend cannot start: "
    if isinstance(error, DirectoryError | CredentialError | SyslogSetupError):
        return lead + str(error)
    if isinstance(error, DeliveryError):
        return f"{lead}delivery: {error}"
    from kiosk.services.backend.storage.migrations import SchemaTooNew
    from kiosk.services.backend.storage.target import first_line, store_location

    if isinstance(error, SchemaTooNew):
        return f"{lead}the store: {error}"
    if policy.store.kind is StoreKind.POSTGRESQL and _is_postgres_error(error):
        return (
            f"{lead}the PostgreSQL store {store_location(policy.store.url)} cannot be used ({first_line(error)}); "
            "check store.url, that the server is up and reachable, and the password (`kiosk secrets set database` or "
            "KIOSK_DATABASE_PASSWORD)"
        )
    if isinstance(error, sqlite3.Error | OSError):
        database = policy.directory.embedded.database or "(a temporary file)"
        return (
            f"{lead}the store {database} cannot be opened ({type(error).__name__}: {error}); check that "
            "directory.embedded.database names a file in an existing folder the service account may write"
        )
    return f"{lead}{type(error).__name__}"


def _is_postgres_error(error: BaseException) -> bool:
    """psycopg's errors and the pool's timeout, without importing psycopg for an SQLite backend."""
    return type(error).__module__.split(".")[0] in {"psycopg", "psycopg_pool"}

