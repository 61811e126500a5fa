"""The keyring backend is chosen by name per platform (a frozen app has no entry points to discover it)."""

from __future__ import annotations

import keyring
import keyring.core
import pytest
from keyring.backend import KeyringBackend
from keyring.backends.null import Keyring as NullKeyring
from live_servers.fake_keyring import FakeMemoryKeyring

from kiosk.services.backend import credentials
from kiosk.services.backend.credentials import (
    OVERRIDE_VARIABLE,
    CredentialError,
    backend_candidates,
    choose_backend,
    keyring_backend,
    read_secret,
)


class Loader:
    """Stands in for keyring's `load_keyring`: builds the backends named in `usable`, refuses the rest."""

    def __init__(self, *usable: str) -> None:
        self.usable = usable
        self.tried: list[str] = []

    def __call__(self, name: str) -> KeyringBackend:
        self.tried.append(name)
        if name not in self.usable:
            raise RuntimeError(f"{name.rpartition('.')[2]} is not usable here")
        return FakeMemoryKeyring()


@pytest.mark.parametrize(
    ("platform", "first"),
    [
        ("win32", "keyring.backends.Windows.WinVaultKeyring"),
        ("darwin", "keyring.backends.macOS.Keyring"),
        ("linux", "keyring.backends.SecretService.Keyring"),
        ("freebsd14", "keyring.backends.SecretService.Keyring"),
    ],
)
def test_each_platform_gets_its_own_keyring_first(platform: str, first: str) -> None:
    assert backend_candidates(platform, {})[0] == first


def test_windows_and_macos_never_fall_back_to_another_store() -> None:
    assert backend_candidates("win32", {}) == ("keyring.backends.Windows.WinVaultKeyring",)
    assert backend_candidates("darwin", {}) == ("keyring.backends.macOS.Keyring",)


def test_linux_falls_back_from_secret_service_to_libsecret_then_kwallet() -> None:
    load = Loader("keyring.backends.kwallet.DBusKeyring")
    chosen = choose_backend("linux", {}, load)
    assert isinstance(chosen, FakeMemoryKeyring)
    assert load.tried == list(credentials.PLATFORM_BACKENDS["other"])


def test_the_first_usable_backend_wins() -> None:
    load = Loader("keyring.backends.SecretService.Keyring", "keyring.backends.libsecret.Keyring")
    choose_backend("linux", {}, load)
    assert load.tried == ["keyring.backends.SecretService.Keyring"]


def test_the_environment_overrides_the_platform_choice() -> None:
    environ = {OVERRIDE_VARIABLE: " keyring.backends.kwallet.DBusKeyring "}
    assert backend_candidates("win32", environ) == ("keyring.backends.kwallet.DBusKeyring",)
    load = Loader("keyring.backends.kwallet.DBusKeyring", "keyring.backends.Windows.WinVaultKeyring")
    choose_backend("win32", environ, load)
    assert load.tried == ["keyring.backends.kwallet.DBusKeyring"]


def test_an_empty_override_is_no_override() -> None:
    assert backend_candidates("darwin", {OVERRIDE_VARIABLE: "  "}) == ("keyring.backends.macOS.Keyring",)


def test_no_usable_backend_is_a_clear_error_naming_each_one_tried() -> None:
    with pytest.raises(CredentialError, match="no OS keyring") as caught:
        choose_backend("linux", {}, Loader())
    message = str(caught.value)
    assert all(name in message for name in credentials.PLATFORM_BACKENDS["other"])
    assert "SecretService.Keyring: RuntimeError: Keyring is not usable here" in message


def test_a_broken_override_says_which_variable_to_fix() -> None:
    with pytest.raises(CredentialError, match=f"{OVERRIDE_VARIABLE} names a keyring backend that cannot be used"):
        choose_backend("win32", {OVERRIDE_VARIABLE: "no.such.Backend"})  # keyring's real loader


def test_the_real_loader_builds_the_named_backend() -> None:
    assert isinstance(choose_backend("linux", {OVERRIDE_VARIABLE: "keyring.backends.null.Keyring"}), NullKeyring)


def test_on_first_use_the_kiosk_chooses_and_hands_the_choice_to_keyring(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)  # nobody chose yet (as in a fresh process)
    monkeypatch.setenv(OVERRIDE_VARIABLE, "keyring.backends.null.Keyring")
    chosen = keyring_backend()
    assert isinstance(chosen, NullKeyring)
    assert keyring.get_keyring() is chosen  # code calling keyring directly agrees with the kiosk
    with pytest.raises(CredentialError, match="kiosk secrets set directory"):
        read_secret("directory")  # the null keyring stores nothing


def test_a_backend_set_in_code_is_kept(memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(OVERRIDE_VARIABLE, "keyring.backends.null.Keyring")
    memory_keyring.set_password(credentials.SERVICE, "directory", "Kept-Secret-1")
    assert keyring_backend() is memory_keyring
    assert read_secret("directory") == "Kept-Secret-1"


def test_no_usable_keyring_on_first_use_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keyring.core, "_keyring_backend", None)
    monkeypatch.setenv(OVERRIDE_VARIABLE, "keyring.backends.missing.Keyring")
    with pytest.raises(CredentialError, match="fix or unset PYTHON_KEYRING_BACKEND"):
        read_secret("directory")
    assert keyring.core._keyring_backend is None  # not chosen: the next call tries again
