"""`kiosk secrets set directory`: prompted without echo, stored in the (FAKE, in-memory) keyring."""

from __future__ import annotations

import io

import keyring
import pytest
from live_servers.fake_keyring import FakeMemoryKeyring

from kiosk.cli import directory_cmd
from kiosk.services.backend.credentials import SERVICE, CredentialError, directory_password, enrollment_key


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
