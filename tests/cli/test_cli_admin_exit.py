"""`kiosk secrets set admin-exit` stores the administrator-exit secret that the kiosk reads (FAKE keyring)."""

from __future__ import annotations

import keyring
import pytest
from live_servers.fake_keyring import FakeMemoryKeyring

from kiosk.cli import directory_cmd
from kiosk.cli.main import main as cli_main
from kiosk.cli.main import read_admin_exit_secret
from kiosk.services.backend.credentials import SERVICE

SECRET = "Lobby-Exit-7731!"



def test_secrets_set_admin_exit_stores_what_the_kiosk_reads(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert read_admin_exit_secret() == ""  # nothing stored yet: the exit says it is not set up
    answers = iter([SECRET, SECRET])
    monkeypatch.setattr(directory_cmd.getpass, "getpass", lambda prompt: next(answers))
    assert cli_main(["secrets", "set", "admin-exit"]) == 0
    assert memory_keyring.entries[(SERVICE, "admin-exit")] == SECRET
    assert read_admin_exit_secret() == SECRET
    out = "".join(capsys.readouterr())
    assert SECRET not in out and "admin-exit secret" in out


def test_no_keyring_reads_as_no_secret() -> None:
    from keyring.backends.fail import Keyring as FailKeyring

    previous = keyring.get_keyring()
    keyring.set_keyring(FailKeyring())
    try:
        assert read_admin_exit_secret() == ""
    finally:
        keyring.set_keyring(previous)
