"""Secrets the backend needs that never go into the policy file: read from and written to the OS keyring.

Named `credentials` so it does not shadow the standard library's `secrets`. When no keyring backend
is usable (a headless machine without a Secret Service daemon) the caller gets a `CredentialError`
that says so, instead of keyring's own fail backend silently raising deep inside a request.
"""

from __future__ import annotations

import base64
import os

SERVICE = "account-recovery-kiosk"
"""The keyring service name every kiosk secret is stored under."""

DIRECTORY_PASSWORD = "directory"  # noqa: S105 - the name of a keyring entry, not a password
SMTP_PASSWORD = "smtp"  # noqa: S105 - the name of a keyring entry, not a password
ENROLLMENT_KEY = "enrollment-key"
"""Keyring entry of the Fernet key that encrypts registered authenticator app secrets."""


class CredentialError(Exception):
    """A secret is missing or the OS keyring cannot be used; the message says what to do."""


def _keyring() -> object:
    import keyring
    from keyring.backends.fail import Keyring as FailKeyring

    backend = keyring.get_keyring()
    if isinstance(backend, FailKeyring):
        raise CredentialError(
            "no OS keyring is available on this machine (install and unlock a Secret Service / "
            "Windows Credential Manager, or configure a keyring backend)"
        )
    return backend


def _stored(name: str) -> str:
    """The secret stored as `name`, '' when there is none."""
    import keyring.errors

    backend = _keyring()
    try:
        value = backend.get_password(SERVICE, name)  # type: ignore[attr-defined]
    except keyring.errors.KeyringError as error:
        raise CredentialError(f"the OS keyring refused to read {name!r}: {type(error).__name__}") from None
    return str(value or "")


def read_secret(name: str) -> str:
    """The secret stored as `name`, or a `CredentialError` naming the command that stores it."""
    value = _stored(name)
    if not value:
        raise CredentialError(f"no {name!r} secret in the OS keyring: run `kiosk secrets set {name}`")
    return value


def store_secret(name: str, value: str) -> None:
    """Store `value` as the secret `name` in the OS keyring (replacing an older one)."""
    import keyring.errors

    backend = _keyring()
    try:
        backend.set_password(SERVICE, name, value)  # type: ignore[attr-defined]
    except keyring.errors.KeyringError as error:
        raise CredentialError(f"the OS keyring refused to store {name!r}: {type(error).__name__}") from None


def directory_password() -> str:
    """The directory service account's password."""
    return read_secret(DIRECTORY_PASSWORD)


def smtp_password() -> str:
    """The password of the SMTP user (`delivery.smtp.username`)."""
    return read_secret(SMTP_PASSWORD)


def enrollment_key() -> bytes:
    """The Fernet key for registered app secrets, created and stored on first use."""
    stored = _stored(ENROLLMENT_KEY)
    if stored:
        return stored.encode("ascii")
    key = base64.urlsafe_b64encode(os.urandom(32))
    store_secret(ENROLLMENT_KEY, key.decode("ascii"))
    return key
