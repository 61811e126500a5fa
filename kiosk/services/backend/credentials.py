"""Secrets the backend needs that never go into the policy file: read from and written to the OS keyring.

Named `credentials` so it does not shadow the standard library's `secrets`. When no keyring backend
is usable (a headless machine without a Secret Service daemon) the caller gets a `CredentialError`
that says so, instead of keyring's own fail backend silently raising deep inside a request.

The backend is chosen here, by name, for the platform (Windows Credential Manager, the macOS
Keychain, the Secret Service on Linux), not by keyring's discovery: keyring finds its backends
through package entry points, which a frozen (PyInstaller) app does not reliably have, and the
choice should not depend on which keyring plugins happen to be installed. keyring's own
PYTHON_KEYRING_BACKEND environment variable overrides it (e.g. a kwallet or third-party backend).
"""

from __future__ import annotations

import base64
import os
import sys
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from keyring.backend import KeyringBackend

SERVICE = "account-recovery-kiosk"
"""The keyring service name every kiosk secret is stored under."""

DIRECTORY_PASSWORD = "directory"  # noqa: S105 - the name of a keyring entry, not a password
SMTP_PASSWORD = "smtp"  # noqa: S105 - the name of a keyring entry, not a password
DATABASE_PASSWORD = "database"  # noqa: S105 - the name of a keyring entry, not a password
DATABASE_PASSWORD_VARIABLE = "KIOSK_DATABASE_PASSWORD"  # noqa: S105 - an environment variable's name
"""Where a service manager (systemd `LoadCredential`/`Environment`, a container) may hand over the
PostgreSQL password instead of the keyring; it wins over the keyring when set."""
BACKEND_CREDENTIAL = "backend"
"""Keyring entry of a kiosk's credential for the shared backend (`NAME:SECRET`, from `kiosk kiosks add`)."""
ENROLLMENT_KEY = "enrollment-key"
"""Keyring entry of the Fernet key that encrypts registered authenticator app secrets."""


OVERRIDE_VARIABLE = "PYTHON_KEYRING_BACKEND"
"""keyring's own environment variable naming a backend class; when set, the kiosk uses that one."""

PLATFORM_BACKENDS: dict[str, tuple[str, ...]] = {
    "win32": ("keyring.backends.Windows.WinVaultKeyring",),
    "darwin": ("keyring.backends.macOS.Keyring",),
    # Linux and the BSDs: GNOME Keyring / KeePassXC over D-Bus (pure Python: secretstorage + jeepney),
    # else the libsecret C library through GObject introspection, else KDE's KWallet.
    "other": (
        "keyring.backends.SecretService.Keyring",
        "keyring.backends.libsecret.Keyring",
        "keyring.backends.kwallet.DBusKeyring",
    ),
}
"""The keyring backend classes the kiosk tries on each platform (`sys.platform`), best first."""


class CredentialError(Exception):
    """A secret is missing or the OS keyring cannot be used; the message says what to do."""


def backend_candidates(platform: str, environ: Mapping[str, str]) -> tuple[str, ...]:
    """The keyring backend classes to try, in order: the one the environment names, else the platform's."""
    override = environ.get(OVERRIDE_VARIABLE, "").strip()
    if override:
        return (override,)
    return PLATFORM_BACKENDS.get(platform, PLATFORM_BACKENDS["other"])


def choose_backend(
    platform: str = sys.platform,
    environ: Mapping[str, str] = os.environ,
    load: Callable[[str], KeyringBackend] | None = None,
) -> KeyringBackend:
    """The first usable backend of `backend_candidates`, or a `CredentialError` naming each one tried and why.

    `load` builds a backend from its class name and raises when it cannot be used (keyring's
    `load_keyring`: an import error, or the RuntimeError a backend's priority raises when, say,
    no Secret Service answers on D-Bus); tests pass their own.
    """
    if load is None:
        from keyring.core import load_keyring

        load = load_keyring
    candidates = backend_candidates(platform, environ)
    reasons: list[str] = []
    for name in candidates:
        try:
            return load(name)
        except Exception as error:  # noqa: BLE001 - any failure means "not usable", reported below
            reasons.append(f"{name}: {type(error).__name__}: {error}"[:300])
    if environ.get(OVERRIDE_VARIABLE, "").strip():
        raise CredentialError(
            f"no OS keyring is available: {OVERRIDE_VARIABLE} names a keyring backend that cannot be used "
            f"({reasons[0]}); fix or unset {OVERRIDE_VARIABLE}"
        )
    raise CredentialError(
        "no OS keyring is available on this machine (install and unlock a Secret Service / "
        f"Windows Credential Manager, or name a backend in {OVERRIDE_VARIABLE}); tried: " + "; ".join(reasons)
    )


def keyring_backend() -> KeyringBackend:
    """The keyring backend in use: one set with `keyring.set_keyring` (tests' FAKE), else `choose_backend()`.

    The choice is made once per process and handed to keyring (`set_keyring`), so code calling
    keyring directly afterwards agrees with the kiosk.
    """
    import keyring
    import keyring.core

    # keyring keeps the backend it was given (or detected) here; None means nobody chose yet, and
    # then the kiosk chooses, rather than letting keyring.get_keyring() run entry-point discovery.
    current = keyring.core._keyring_backend
    if current is not None:
        return current
    chosen = choose_backend()
    keyring.set_keyring(chosen)
    return chosen


def _keyring() -> KeyringBackend:
    from keyring.backends.fail import Keyring as FailKeyring

    backend = keyring_backend()
    if isinstance(backend, FailKeyring):
        raise CredentialError(
            "no OS keyring is available on this machine (install and unlock a Secret Service / "
            "Windows Credential Manager, or configure a keyring backend)"
        )
    return backend


CREDENTIALS_DIRECTORY_VARIABLE = "CREDENTIALS_DIRECTORY"
"""systemd's variable naming the folder of a service's credentials (`LoadCredential=NAME:FILE`)."""


def _from_service_manager(name: str) -> str:
    """The secret `name` handed over by systemd (`$CREDENTIALS_DIRECTORY/NAME`), '' when there is none.

    A server running `kiosk serve` as a systemd service often has no unlocked keyring to read; systemd
    credentials are the platform's way to give a service its secrets without putting them in a unit
    file or the environment of every process.
    """
    folder = os.environ.get(CREDENTIALS_DIRECTORY_VARIABLE, "")
    if not folder:
        return ""
    try:
        with open(os.path.join(folder, name), encoding="utf-8") as file:
            return file.read().rstrip("\r\n")
    except FileNotFoundError:
        return ""
    except (OSError, UnicodeDecodeError) as error:
        raise CredentialError(
            f"the systemd credential {name!r} in ${CREDENTIALS_DIRECTORY_VARIABLE} cannot be read: "
            f"{type(error).__name__}"
        ) from None


def _stored(name: str) -> str:
    """The secret stored as `name` (a systemd credential first, then the OS keyring), '' when there is none."""
    import keyring.errors

    handed_over = _from_service_manager(name)
    if handed_over:
        return handed_over
    backend = _keyring()
    try:
        value = backend.get_password(SERVICE, name)
    except keyring.errors.KeyringError as error:
        raise CredentialError(f"the OS keyring refused to read {name!r}: {type(error).__name__}") from None
    return str(value or "")


def read_secret(name: str) -> str:
    """The secret stored as `name`, or a `CredentialError` naming the command that stores it."""
    value = _stored(name)
    if not value:
        raise CredentialError(f"no {name!r} secret in the OS keyring: run `kiosk secrets set {name}`")
    return value


def has_secret(name: str) -> bool:
    """Whether a secret is stored as `name` (`kiosk diagnose`: the value itself never leaves this function)."""
    return bool(_stored(name))


def keyring_name() -> str:
    """The name of the keyring backend in use (e.g. `SecretService Keyring`), for `kiosk diagnose`."""
    backend = _keyring()
    return str(getattr(backend, "name", "") or type(backend).__name__)


def store_secret(name: str, value: str) -> None:
    """Store `value` as the secret `name` in the OS keyring (replacing an older one)."""
    import keyring.errors

    backend = _keyring()
    try:
        backend.set_password(SERVICE, name, value)
    except keyring.errors.KeyringError as error:
        raise CredentialError(f"the OS keyring refused to store {name!r}: {type(error).__name__}") from None


def directory_password() -> str:
    """The directory service account's password."""
    return read_secret(DIRECTORY_PASSWORD)


def database_password() -> str:
    """The PostgreSQL password of `store.url`'s user: the environment variable, else the keyring."""
    from_environment = os.environ.get(DATABASE_PASSWORD_VARIABLE, "")
    if from_environment:
        return from_environment
    try:
        return read_secret(DATABASE_PASSWORD)
    except CredentialError as error:
        raise CredentialError(f"{error} (or set the environment variable {DATABASE_PASSWORD_VARIABLE})") from None


def smtp_password() -> str:
    """The password of the SMTP user (`delivery.smtp.username`)."""
    return read_secret(SMTP_PASSWORD)


def existing_enrollment_key() -> bytes | None:
    """The Fernet key for registered app secrets if one is stored; never creates one (read-only tools)."""
    stored = _stored(ENROLLMENT_KEY)
    return stored.encode("ascii") if stored else None


def enrollment_key() -> bytes:
    """The Fernet key for registered app secrets, created and stored on first use."""
    stored = _stored(ENROLLMENT_KEY)
    if stored:
        return stored.encode("ascii")
    key = base64.urlsafe_b64encode(os.urandom(32))
    store_secret(ENROLLMENT_KEY, key.decode("ascii"))
    return key
