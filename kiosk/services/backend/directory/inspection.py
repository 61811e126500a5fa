"""The directory a policy names, opened for reading only: what `kiosk policy explain` and `diff` look at.

The users come from where the backend would take them, and nothing is written anywhere the backend,
the directory or the OS keyring would notice:

- embedded, `directory.embedded.database = ""`: a fresh temporary store, seeded with the demo users
  when `seed_demo_users` is true, exactly as `Backend.open` starts;
- embedded with a database file: a copy of that file (read through SQLite's backup API, the
  original opened read-only) in a temporary directory, seeded like the backend would if empty; its
  users' app secrets are opened with the enrollment key from the OS keyring (read, never created);
- Active Directory / OpenLDAP: the service password from the OS keyring, and the registered
  questions and app secrets (`enrollment`) from a copy of the backend's store when
  `directory.embedded.database` names one (none otherwise, as a backend on a temporary store sees).
  The enrollment key is read, never created. The directory must answer: unreachable is an error here.

Every temporary file is deleted when the block ends.
"""

from __future__ import annotations

import sqlite3
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from kiosk.policy.schema import DirectoryKind, Policy
from kiosk.services.backend.directory.demo_seed import seed_demo_users
from kiosk.services.backend.directory.embedded import Directory
from kiosk.services.backend.storage.store import Store


class InspectionError(Exception):
    """The policy's directory cannot be read (the message says why and what to do)."""


def _copy_database(source: Path, target: Path) -> None:
    """Copy the SQLite database `source` to `target`, opening `source` read-only (blocking)."""
    if not source.is_file():
        raise InspectionError(
            f"directory.embedded.database: {source} does not exist; run this where the backend runs, "
            "with the policy it runs with"
        )
    try:
        reader = sqlite3.connect(f"{source.resolve().as_uri()}?mode=ro", uri=True)
        try:
            writer = sqlite3.connect(target)
            try:
                reader.backup(writer)
            finally:
                writer.close()
        finally:
            reader.close()
    except sqlite3.Error as error:
        raise InspectionError(f"directory.embedded.database: {source} cannot be read: {error}") from None


@asynccontextmanager
async def open_for_reading(policy: Policy) -> AsyncIterator[Directory]:
    """The policy's directory for the block, read-only (see the module docstring)."""
    import asyncio

    with tempfile.TemporaryDirectory(prefix="kiosk-inspect-") as scratch:
        database = Path(scratch) / "store.sqlite3"
        configured = policy.directory.embedded.database
        if configured:
            await asyncio.to_thread(_copy_database, Path(configured), database)
        store = await Store.open(database)
        try:
            if policy.directory.kind is DirectoryKind.EMBEDDED:
                from kiosk.services.backend.directory.factory import open_embedded_directory

                embedded = await open_embedded_directory(store, persistent=bool(configured), read_only=True)
                if policy.directory.embedded.seed_demo_users and await embedded.is_empty():
                    await seed_demo_users(embedded)
                yield embedded
                return
            from kiosk.services.backend.directory.factory import open_ldap_directory

            ldap = await open_ldap_directory(policy, store, check=False, read_only=True)
            try:
                await ldap.connector.check()  # unreachable fails here, unlike a backend's start
                yield ldap
            finally:
                await ldap.close()
        finally:
            await store.close()
