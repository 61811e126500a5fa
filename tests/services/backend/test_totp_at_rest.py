"""Authenticator (TOTP) secrets of embedded users are encrypted at rest (issue 11, finding 13).

They are sealed with the enrollment store's cipher (Fernet, the OS keyring's enrollment key) when the
store is a file that outlives the backend; a temporary store gets a key that lives in memory only.
A database written before (plain secrets) is sealed when it is opened, once: opening it again
changes nothing. Checked on the raw bytes of the SQLite files, and by signing in with the app.
"""

from __future__ import annotations

import base64
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pyotp
import pytest
from live_servers.fake_keyring import FakeMemoryKeyring

from kiosk.policy.schema import DirectorySettings, EmbeddedDirectorySettings, Method, Policy
from kiosk.services.api import Stage
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.credentials import ENROLLMENT_KEY, SERVICE
from kiosk.services.backend.directory.errors import DirectoryUnavailable, Unavailability
from kiosk.services.backend.hashing import hash_secret

from .conftest import START, Kiosk, demo_policy, kiosk_for

pytestmark = pytest.mark.sqlite_file  # about what the SQLite file holds and its keyring

PLAIN_SECRET = "JBSWY3DPEHPK3PXPKIOSKTOTPSECRET2"
"""A base32 secret as a database from before the encryption kept it (a recognisable one)."""

OLD_USERS_TABLE = """
CREATE TABLE users (
    login TEXT PRIMARY KEY,
    display_name TEXT NOT NULL,
    auth_email TEXT NOT NULL DEFAULT '',
    alt_email TEXT NOT NULL DEFAULT '',
    auth_phone TEXT NOT NULL DEFAULT '',
    mobile_phone TEXT NOT NULL DEFAULT '',
    office_phone TEXT NOT NULL DEFAULT '',
    is_admin INTEGER NOT NULL DEFAULT 0,
    groups_json TEXT NOT NULL DEFAULT '[]',
    enabled INTEGER NOT NULL DEFAULT 1,
    locked INTEGER NOT NULL DEFAULT 0,
    on_premises INTEGER NOT NULL DEFAULT 0,
    password_hash TEXT NOT NULL,
    history_json TEXT NOT NULL DEFAULT '[]',
    totp_secret TEXT NOT NULL DEFAULT ''
);
CREATE TABLE user_aliases (
    alias TEXT PRIMARY KEY,
    login TEXT NOT NULL REFERENCES users(login) ON DELETE CASCADE
);
"""
"""The users tables exactly as the store created them before secrets were encrypted."""


def _file_policy(database: Path, *, seed: bool = False) -> Policy:
    embedded = EmbeddedDirectorySettings(database=str(database), seed_demo_users=seed)
    return demo_policy(directory=DirectorySettings(embedded=embedded))


def _raw(database: Path) -> bytes:
    """Every byte SQLite keeps for `database`: the file and, if present, its WAL and shared memory."""
    return b"".join(
        Path(f"{database}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{database}{suffix}").exists()
    )


def _stored_token(database: Path, login: str) -> str:
    with closing(sqlite3.connect(database)) as db:
        return str(db.execute("SELECT totp_secret FROM users WHERE login = ?", (login,)).fetchone()[0])


async def _old_database(database: Path) -> None:
    """A store as the previous version left it: `kai` with an app secret in plain text."""
    password_hash = await hash_secret("Old-Store-Password-2024!")
    with closing(sqlite3.connect(database)) as db:
        db.executescript(OLD_USERS_TABLE)
        db.execute(
            "INSERT INTO users (login, display_name, auth_email, groups_json, password_hash, history_json, "
            "totp_secret) VALUES ('kai', 'Kai Old', 'kai@contoso.com', '[\"SSPR-Users\"]', ?, ?, ?)",
            (password_hash, f'["{password_hash}"]', PLAIN_SECRET),
        )
        db.execute("INSERT INTO user_aliases (alias, login) VALUES ('kai@contoso.com', 'kai')")
        db.commit()
    assert PLAIN_SECRET.encode() in _raw(database)  # the starting point really is plain text


async def _sign_in_with_the_app(kiosk: Kiosk, login: str, secret: str) -> None:
    await kiosk.start(login)
    await kiosk.choose(Method.APP_CODE)
    code = pyotp.TOTP(secret).at(kiosk.backend.clock.now())
    view = await kiosk.code(code)
    assert view.stage is Stage.NEW_PASSWORD


async def test_a_store_file_never_holds_an_app_secret_in_plain_text(
    memory_keyring: FakeMemoryKeyring, tmp_path: Path
) -> None:
    database = tmp_path / "kiosk.sqlite3"
    async with kiosk_for(_file_policy(database, seed=True)) as kiosk:
        alex = await kiosk.backend.directory.find_user("alex")
        assert alex is not None and alex.totp_secret  # read back decrypted
        await _sign_in_with_the_app(kiosk, "alex", alex.totp_secret)
        assert alex.totp_secret.encode() not in _raw(database)
    assert alex.totp_secret.encode() not in _raw(database)
    assert memory_keyring.get_password(SERVICE, ENROLLMENT_KEY)  # the enrollment store's key, from the keyring


async def test_a_temporary_store_is_encrypted_with_a_key_kept_in_memory() -> None:
    backend = await Backend.open(demo_policy(), clock=ManualClock(START))
    try:
        users = [user for user in await backend.directory.all_users() if user.totp_secret]
        assert users
        raw = _raw(backend.database)
        assert all(user.totp_secret.encode() not in raw for user in users)
    finally:
        await backend.close()


async def test_plain_secrets_of_an_old_database_are_sealed_on_open_once(
    memory_keyring: FakeMemoryKeyring, tmp_path: Path
) -> None:
    database = tmp_path / "old.sqlite3"
    await _old_database(database)
    policy = _file_policy(database)
    async with kiosk_for(policy) as kiosk:
        kai = await kiosk.backend.directory.find_user("kai")
        assert kai is not None and kai.totp_secret == PLAIN_SECRET
        assert PLAIN_SECRET.encode() not in _raw(database)
        await _sign_in_with_the_app(kiosk, "kai@contoso.com", PLAIN_SECRET)
    sealed = _stored_token(database, "kai")
    assert sealed != PLAIN_SECRET and PLAIN_SECRET.encode() not in _raw(database)

    async with kiosk_for(policy, ManualClock(START.replace(minute=5))) as kiosk:  # opened again: idempotent
        assert _stored_token(database, "kai") == sealed
        kai = await kiosk.backend.directory.find_user("kai")
        assert kai is not None and kai.totp_secret == PLAIN_SECRET
        await _sign_in_with_the_app(kiosk, "kai", PLAIN_SECRET)


async def test_a_store_file_without_a_keyring_does_not_start(tmp_path: Path) -> None:
    from live_servers.fake_keyring import installed

    from kiosk.services.backend import credentials

    with installed() as fake, pytest.MonkeyPatch.context() as patch:
        # A keyring that cannot be used at all, as on a machine without a Secret Service.
        def refuse() -> None:
            raise credentials.CredentialError("no OS keyring is available on this machine")

        patch.setattr(credentials, "_keyring", refuse)
        with pytest.raises(DirectoryUnavailable) as raised:
            await Backend.open(_file_policy(tmp_path / "kiosk.sqlite3", seed=True))
        assert raised.value.reason is Unavailability.NO_CREDENTIAL
        assert "keyring" in str(raised.value)
        assert fake.entries == {}


async def test_a_server_with_another_enrollment_key_than_the_stores_does_not_start(tmp_path: Path) -> None:
    from live_servers.fake_keyring import installed

    from kiosk.services.backend.credentials import ENROLLMENT_KEY, SERVICE

    database = tmp_path / "kiosk.sqlite3"
    with installed() as fake:
        first = await Backend.open(_file_policy(database, seed=True))  # records the key it sealed with
        await first.close()
        sealed_with = fake.get_password(SERVICE, ENROLLMENT_KEY)
        fake.set_password(SERVICE, ENROLLMENT_KEY, base64.urlsafe_b64encode(os.urandom(32)).decode())
        with pytest.raises(DirectoryUnavailable) as raised:
            await Backend.open(_file_policy(database))  # a replica (or a re-installed server) with a new key
        assert raised.value.reason is Unavailability.NO_CREDENTIAL
        assert "enrollment key" in str(raised.value) and "same key" in str(raised.value)
        fake.set_password(SERVICE, ENROLLMENT_KEY, sealed_with)
        again = await Backend.open(_file_policy(database))  # the store's own key: starts
        await again.close()


async def test_diagnose_says_a_store_file_needs_the_keyring(tmp_path: Path) -> None:
    from kiosk.services.backend import credentials
    from kiosk.services.backend.diagnostics.checks import run_diagnostics
    from kiosk.services.diagnosis import CheckStatus

    policy = _file_policy(tmp_path / "kiosk.sqlite3")
    with pytest.MonkeyPatch.context() as patch:

        def refuse() -> None:
            raise credentials.CredentialError("no OS keyring is available on this machine")

        patch.setattr(credentials, "_keyring", refuse)
        report = await run_diagnostics(policy)
    [keyring] = [check for check in report.checks if check.name == "keyring"]
    assert keyring.status is CheckStatus.FAIL  # the backend would not start

    from live_servers.fake_keyring import installed

    with installed():
        report = await run_diagnostics(policy)
    found = {check.name: check for check in report.checks}
    assert found["keyring enrollment-key"].status is CheckStatus.OK
    assert "the backend creates it at start" in found["keyring enrollment-key"].detail
