"""`kiosk secrets set directory`: prompted without echo, stored in the (FAKE, in-memory) keyring."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import keyring
import pytest
from live_servers.fake_keyring import FakeMemoryKeyring

from kiosk.cli import directory_cmd
from kiosk.services.backend.credentials import (
    SERVICE,
    CredentialError,
    database_password,
    directory_password,
    enrollment_key,
)


def test_secrets_set_stores_the_prompted_password(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["S3rvice-Pass!", "S3rvice-Pass!"])
    monkeypatch.setattr(directory_cmd.getpass, "getpass", lambda prompt: next(answers))
    out, err = io.StringIO(), io.StringIO()
    assert directory_cmd.secrets_set("directory", out, err) == 0
    assert memory_keyring.entries[(SERVICE, "directory")] == "S3rvice-Pass!"
    assert directory_password() == "S3rvice-Pass!"
    assert "S3rvice" not in out.getvalue() + err.getvalue()


def test_secrets_set_refuses_two_different_entries(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter(["one-password", "another"])
    monkeypatch.setattr(directory_cmd.getpass, "getpass", lambda prompt: next(answers))
    err = io.StringIO()
    assert directory_cmd.secrets_set("directory", io.StringIO(), err) == 1
    assert "differ" in err.getvalue() and memory_keyring.entries == {}


def test_a_missing_secret_names_the_command(memory_keyring: FakeMemoryKeyring) -> None:
    with pytest.raises(CredentialError, match="kiosk secrets set directory"):
        directory_password()


def test_the_enrollment_key_is_created_once(memory_keyring: FakeMemoryKeyring) -> None:
    assert enrollment_key() == enrollment_key()


def test_no_keyring_at_all_is_a_clear_error() -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        with pytest.raises(CredentialError, match="no OS keyring"):
            directory_password()
    finally:
        keyring.set_keyring(previous)


def test_secrets_set_enrollment_key_takes_only_a_key_and_the_backend_reads_it(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    key = base64.urlsafe_b64encode(bytes(range(32))).decode()
    for bad in ("not-a-key", key[:-4], base64.urlsafe_b64encode(b"x" * 31).decode()):
        answers = iter([bad, bad])
        monkeypatch.setattr(directory_cmd.getpass, "getpass", lambda prompt, a=answers: next(a))
        err = io.StringIO()
        assert directory_cmd.secrets_set("enrollment-key", io.StringIO(), err) == 1
        assert "32 random bytes" in err.getvalue() and bad not in err.getvalue()
    assert memory_keyring.entries == {}
    answers = iter([f" {key} ", key])  # pasted with spaces around it
    monkeypatch.setattr(directory_cmd.getpass, "getpass", lambda prompt: next(answers))
    assert directory_cmd.secrets_set("enrollment-key", io.StringIO(), io.StringIO()) == 0
    assert enrollment_key() == key.encode()


def test_the_database_password_comes_from_the_environment_then_systemd_then_the_keyring(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KIOSK_DATABASE_PASSWORD", raising=False)
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    with pytest.raises(CredentialError, match=r"kiosk secrets set database.*KIOSK_DATABASE_PASSWORD"):
        database_password()
    answers = iter(["from-keyring", "from-keyring"])
    monkeypatch.setattr(directory_cmd.getpass, "getpass", lambda prompt: next(answers))
    assert directory_cmd.secrets_set("database", io.StringIO(), io.StringIO()) == 0
    assert database_password() == "from-keyring"
    (tmp_path / "database").write_text("from-systemd\n", encoding="utf-8")  # LoadCredential=database:FILE
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(tmp_path))
    assert database_password() == "from-systemd"
    monkeypatch.setenv("KIOSK_DATABASE_PASSWORD", "from-environment")
    assert database_password() == "from-environment"
    (tmp_path / "database").unlink()
    (tmp_path / "database").mkdir()  # unreadable as a file: a clear error, not the keyring's value
    monkeypatch.delenv("KIOSK_DATABASE_PASSWORD")
    with pytest.raises(CredentialError, match="systemd credential 'database'"):
        database_password()
