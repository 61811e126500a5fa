"""Open the directory the policy names: the embedded store, Active Directory or OpenLDAP.

The embedded store's users' authenticator secrets are sealed like the enrollment store's, with the
same key (`open_embedded_directory`).

Start-up decision: a misconfiguration that never heals by itself (no credential in the keyring, a
certificate that does not verify, a refused service account) makes `Backend.open` fail with a
clear `DirectoryUnavailable`; a directory that is merely unreachable or slow at start-up is logged
and the backend opens anyway, answering `directory_unavailable` until the directory is back.
"""

from __future__ import annotations

import logging

from kiosk.policy.schema import DirectoryKind, Policy
from kiosk.services.backend import credentials
from kiosk.services.backend.directory.active_directory import ActiveDirectoryDirectory
from kiosk.services.backend.directory.embedded import EmbeddedDirectory
from kiosk.services.backend.directory.enrollment import Enrollment, SecretBox, key_matches_store
from kiosk.services.backend.directory.errors import DirectoryUnavailable, Unavailability
from kiosk.services.backend.directory.ldap import LdapDirectory
from kiosk.services.backend.directory.ldap_connection import LdapConnector
from kiosk.services.backend.directory.openldap import OpenLdapDirectory
from kiosk.services.backend.hashing import Hashing
from kiosk.services.backend.storage.store import Store

log = logging.getLogger(__name__)

TRANSIENT = frozenset({Unavailability.UNREACHABLE, Unavailability.TIMEOUT})
"""Start-up failures the backend rides out (the directory may come back); the others stop it."""


async def open_embedded_directory(
    store: Store, *, persistent: bool, read_only: bool = False, hashing: Hashing | None = None
) -> EmbeddedDirectory:
    """The embedded directory of `store`, its users' authenticator secrets sealed at rest.

    A store kept in a file (`persistent`) seals them with the enrollment key from the OS keyring,
    created on first use: without a usable keyring the backend does not start
    (`DirectoryUnavailable(NO_CREDENTIAL)`), because a key kept beside the secrets would protect
    nothing. A temporary store, deleted on close, gets a fresh key that lives in memory only.
    `read_only` (the policy simulator, on a copy of the file): the key is read, never created; without
    one, sealed secrets read as not registered. `hashing`: the backend's bounded hashing service
    (None: the process's, for tools).
    """
    from cryptography.fernet import Fernet

    key = Fernet.generate_key()
    if persistent:
        try:
            key = (credentials.existing_enrollment_key() or key) if read_only else credentials.enrollment_key()
        except credentials.CredentialError as error:
            if not read_only:
                raise DirectoryUnavailable(Unavailability.NO_CREDENTIAL, str(error)) from None
    box = SecretBox(key)
    if persistent and not read_only:  # a temporary store's key lives and dies with it
        await _require_the_stores_key(store, box)
    return await EmbeddedDirectory.open(store, box, hashing)


async def _require_the_stores_key(store: Store, box: SecretBox) -> None:
    """Refuse to start with an enrollment key other than the one that sealed this store's secrets."""
    if not await key_matches_store(store, box):
        raise DirectoryUnavailable(
            Unavailability.NO_CREDENTIAL,
            "this server's enrollment key is not the one that sealed the authenticator app secrets in its "
            "store (a new key, or another server's): every kiosk serve of one store needs the same key; "
            "store it with `kiosk secrets set enrollment-key` or the systemd credential enrollment-key",
        )


async def open_ldap_directory(
    policy: Policy, store: Store, *, check: bool = True, read_only: bool = False
) -> LdapDirectory:
    """The LDAP adapter the policy configures, its service password from the OS keyring.

    `read_only` (the policy simulator): the enrollment key is read but never created; without one,
    registered app secrets read as not registered, as they would for a backend with a new key.
    """
    kind = policy.directory.kind
    settings = (
        policy.directory.active_directory if kind is DirectoryKind.ACTIVE_DIRECTORY else policy.directory.openldap
    )
    if settings is None or kind is DirectoryKind.EMBEDDED:
        raise ValueError("the policy's directory is not an LDAP directory")
    try:
        password = credentials.directory_password()
        if read_only:
            from cryptography.fernet import Fernet

            key = credentials.existing_enrollment_key() or Fernet.generate_key()
        else:
            key = credentials.enrollment_key()
    except credentials.CredentialError as error:
        raise DirectoryUnavailable(Unavailability.NO_CREDENTIAL, str(error)) from None
    if not read_only:
        await _require_the_stores_key(store, SecretBox(key))
    connector = LdapConnector(settings, password)
    enrollment = await Enrollment.open(store, key)
    directory: LdapDirectory
    if kind is DirectoryKind.ACTIVE_DIRECTORY:
        directory = ActiveDirectoryDirectory(connector, enrollment)
    else:
        directory = OpenLdapDirectory(connector, enrollment)
    if check:
        try:
            await connector.check()
        except DirectoryUnavailable as error:
            if error.reason not in TRANSIENT:
                await connector.close()
                raise
            log.warning("the directory is not reachable at start-up (%s); requests will retry", error.reason.value)
    return directory
