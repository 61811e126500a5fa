"""`kiosk secrets set directory` and `kiosk directory test`: store the service password, try the directory.

`directory test` connects, binds, finds one user and prints what the kiosk would see for them
(methods, groups, locked, admin, whether the service account may reset them, eligibility); it never
writes anything to the directory.
"""

from __future__ import annotations

import asyncio
import base64
import getpass
import tempfile
from pathlib import Path
from typing import TextIO

from kiosk.policy.schema import DirectoryKind, Policy


def _is_fernet_key(value: str) -> bool:
    """Whether `value` is a Fernet key: 32 bytes in URL-safe base64."""
    try:
        return len(base64.urlsafe_b64decode(value.encode("ascii"))) == 32 and len(value) == 44
    except (ValueError, UnicodeError):
        return False


def secrets_set(name: str, out: TextIO, err: TextIO) -> int:
    """Prompt (no echo) for the secret `name` twice and store it in the OS keyring."""
    from kiosk.services.backend.credentials import BACKEND_CREDENTIAL, ENROLLMENT_KEY, CredentialError, store_secret

    kind = {"gateway": "token", "admin-exit": "secret", BACKEND_CREDENTIAL: "credential", ENROLLMENT_KEY: "key"}.get(
        name, "password"
    )
    value = getpass.getpass(f"{name} {kind} (not shown): ")
    if not value:
        print(f"kiosk: nothing stored: the {kind} is empty", file=err)
        return 1
    if name == BACKEND_CREDENTIAL:
        from kiosk.services.backend.kiosks import parse_credential

        value = value.strip()  # pasted from a terminal, often with a space around it
        if parse_credential(value) is None:
            print(
                "kiosk: nothing stored: that is not a kiosk credential (NAME:SECRET, the whole line "
                "`kiosk kiosks add` printed on the server)",
                file=err,
            )
            return 1
    if name == ENROLLMENT_KEY:
        value = value.strip()
        if not _is_fernet_key(value):
            print(
                "kiosk: nothing stored: an enrollment key is 32 random bytes in URL-safe base64 (44 characters "
                "ending in '='), e.g. the enrollment-key file every server of the store shares",
                file=err,
            )
            return 1
    again = getpass.getpass("again: ")
    if (again.strip() if name in (BACKEND_CREDENTIAL, ENROLLMENT_KEY) else again) != value:
        print("kiosk: nothing stored: the two entries differ", file=err)
        return 1
    try:
        store_secret(name, value)
    except CredentialError as error:
        print(f"kiosk: {error}", file=err)
        return 1
    print(f"stored the {name} {kind} in the OS keyring", file=out)
    return 0


async def _describe(policy: Policy, user_id: str, out: TextIO) -> int:
    from kiosk.cli.write_rights import rights_lines
    from kiosk.services.backend.directory.errors import AmbiguousUser
    from kiosk.services.backend.directory.factory import open_ldap_directory
    from kiosk.services.backend.recovery.eligibility import assess, registered_methods
    from kiosk.services.backend.storage.store import Store

    with tempfile.TemporaryDirectory(prefix="kiosk-directory-test-") as scratch:
        store = await Store.open(Path(scratch) / "probe.sqlite3")
        try:
            directory = await open_ldap_directory(policy, store, check=True)
            try:
                await directory.connector.check()
                print(f"connected and bound as {policy_bind_dn(policy)}", file=out)
                try:
                    user = await directory.find_user(user_id)
                except AmbiguousUser:
                    print("user: the user ID matches more than one entry (the kiosk refuses it)", file=out)
                    return 1
                if user is None:
                    print("user: not found", file=out)
                    return 1
                verdict = assess(user, policy)
                methods = sorted(method.value for method in registered_methods(user, policy))
                print(f"user: {user.login} ({user.display_name}), immutable id {user.directory_id}", file=out)
                print(f"enabled: {user.enabled}  locked: {user.locked}  admin: {user.is_admin}", file=out)
                print(f"groups: {', '.join(user.groups) or '(none)'}", file=out)
                print(f"methods with data: {', '.join(methods) or '(none)'}", file=out)
                if policy.directory.kind is DirectoryKind.ACTIVE_DIRECTORY and not user.missing_rights:
                    print("service account: may write lockoutTime and pwdLastSet on this account", file=out)
                for line in rights_lines(user):
                    print(f"service account: {line}", file=out)
                if verdict.refusal is not None:
                    print(f"eligibility: refused ({verdict.refusal.value})", file=out)
                else:
                    offered = ", ".join(method.value for method in verdict.methods)
                    print(f"eligibility: eligible, {verdict.gates_required} gate(s), offered: {offered}", file=out)
                return 0
            finally:
                await directory.close()
        finally:
            await store.close()


def policy_bind_dn(policy: Policy) -> str:
    """The service account the policy binds as."""
    settings = policy.directory.active_directory or policy.directory.openldap
    return settings.bind_dn if settings else ""


def directory_test(policy: Policy, user_id: str, out: TextIO, err: TextIO) -> int:
    """Connect, bind and describe one user as the kiosk would see them: 0 when found, 1 otherwise."""
    from kiosk.services.backend.directory.errors import DirectoryUnavailable

    if policy.directory.kind is DirectoryKind.EMBEDDED:
        print("kiosk: the policy's directory is embedded; nothing to test", file=err)
        return 1
    try:
        return asyncio.run(_describe(policy, user_id, out))
    except DirectoryUnavailable as error:
        print(f"kiosk: {error}", file=err)
        return 1
