"""Connections to an LDAP directory: TLS always, a small pool, timeouts, and blocking ldap3 off the event loop.

ldap3 is blocking, so every operation runs on the connector's own worker threads (one per pooled
connection), never on the event loop, which in embedded mode is the Qt UI thread. A pooled
connection that died (the server restarted) is replaced once before the directory is declared
unavailable.
"""

from __future__ import annotations

import asyncio
import logging
import math
import queue
import ssl
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar
from urllib.parse import urlsplit

from kiosk.policy.directory_schema import ActiveDirectorySettings, OpenLdapSettings
from kiosk.services.backend.directory.errors import DirectoryUnavailable, Unavailability, tls_failure, unavailability_of

T = TypeVar("T")
log = logging.getLogger(__name__)

LdapSettings = ActiveDirectorySettings | OpenLdapSettings

INSECURE_WARNING = (
    "INSECURE: insecure_skip_tls_verify is on, the directory's certificate is NOT verified; "
    "anyone on the network can impersonate the directory. Use this for tests only."
)


def _server(url: str, settings: LdapSettings) -> Any:
    import ldap3

    parts = urlsplit(url)
    secure = parts.scheme.lower() == "ldaps"
    if not secure and not settings.start_tls:
        # The schema already refuses this; checked again because a write without TLS would send
        # the new password in clear.
        raise DirectoryUnavailable(Unavailability.TLS_REQUIRED)
    if settings.insecure_skip_tls_verify:
        tls = ldap3.Tls(validate=ssl.CERT_NONE, version=ssl.PROTOCOL_TLS_CLIENT)
    else:
        import ldap3.core.exceptions as ldap_errors

        try:
            tls = ldap3.Tls(
                validate=ssl.CERT_REQUIRED,
                version=ssl.PROTOCOL_TLS_CLIENT,
                ca_certs_file=settings.ca_file or None,
            )
        except (ldap_errors.LDAPSSLConfigurationError, OSError):
            # A missing or unreadable CA file: say which, and what to do (start-up, `kiosk directory test`).
            raise DirectoryUnavailable(
                Unavailability.TLS,
                f"ca_file {settings.ca_file} cannot be read: point the directory's ca_file at a readable PEM file "
                "of the CA that signed the directory server's certificate",
            ) from None
    return ldap3.Server(
        parts.hostname or "",
        port=parts.port or (636 if secure else 389),
        use_ssl=secure,
        tls=tls,
        connect_timeout=settings.connect_timeout_seconds,
        get_info=ldap3.NONE,
    )


class LdapConnector:
    """Opens TLS-protected, service-bound connections and runs blocking work on them off the event loop."""

    def __init__(self, settings: LdapSettings, password: str) -> None:
        self.settings = settings
        self._password = password
        self._idle: queue.LifoQueue[Any] = queue.LifoQueue()
        self._executor = ThreadPoolExecutor(max_workers=settings.pool_size, thread_name_prefix="kiosk-ldap")
        if settings.insecure_skip_tls_verify:
            log.warning(INSECURE_WARNING)

    def __repr__(self) -> str:
        return f"LdapConnector({self.settings.urls!r})"  # never the password

    def connect(self, url: str, user: str | None = None, password: str | None = None) -> Any:
        """An open, TLS-protected connection to one server, not bound yet (blocking).

        The bind (as the service account, or as `user`) is the caller's next step; `kiosk diagnose`
        looks at the TLS session in between.
        """
        import ldap3
        import ldap3.core.exceptions as ldap_errors

        connection = ldap3.Connection(
            _server(url, self.settings),
            user=user if user is not None else self.settings.bind_dn,
            password=password if password is not None else self._password,
            raise_exceptions=True,
            # ldap3 packs this into SO_RCVTIMEO as whole seconds on POSIX: round up, never down.
            receive_timeout=math.ceil(self.settings.operation_timeout_seconds),
            auto_referrals=False,
            return_empty_attributes=False,
        )
        try:
            connection.open()
            if not connection.server.ssl:
                connection.start_tls()
        except (ldap_errors.LDAPException, OSError) as error:
            _quietly_close(connection)
            reason = unavailability_of(error)
            raise DirectoryUnavailable(reason, tls_failure(error) if reason is Unavailability.TLS else "") from None
        return connection

    def open_connection(self, user: str | None = None, password: str | None = None) -> Any:
        """A new connection bound as the service account (or as `user`), over LDAPS or StartTLS (blocking)."""
        import ldap3.core.exceptions as ldap_errors

        last: DirectoryUnavailable | None = None
        for url in self.settings.urls:
            try:
                connection = self.connect(url, user, password)
            except DirectoryUnavailable as error:
                if error.reason is Unavailability.TLS_REQUIRED:
                    raise
                last = error
                continue
            try:
                connection.bind()
                return connection
            except ldap_errors.LDAPInvalidCredentialsResult:
                connection.unbind()
                if user is not None:
                    raise  # a user's own bind: the caller tells a wrong password from an outage
                last = DirectoryUnavailable(Unavailability.SERVICE_BIND_REFUSED)
                break  # the same account on the next server would be refused too
            except (ldap_errors.LDAPException, OSError) as error:
                last = DirectoryUnavailable(unavailability_of(error))
                _quietly_close(connection)
        assert last is not None
        raise last from None

    def _run_pooled(self, work: Callable[[Any], T]) -> T:
        import ldap3.core.exceptions as ldap_errors

        for attempt in (1, 2):
            try:
                connection = self._idle.get_nowait()
                fresh = False
            except queue.Empty:
                connection, fresh = self.open_connection(), True
            try:
                result = work(connection)
            except (ldap_errors.LDAPCommunicationError, ldap_errors.LDAPSessionTerminatedByServerError, OSError) as e:
                _quietly_close(connection)
                if fresh or attempt == 2:
                    raise DirectoryUnavailable(unavailability_of(e)) from None
                continue  # a pooled connection went stale: one more try on a fresh one
            except BaseException:
                _quietly_close(connection)  # state after a failed operation is unknown: never reuse it
                raise
            self._idle.put(connection)
            return result
        raise DirectoryUnavailable(Unavailability.UNREACHABLE)

    async def run(self, work: Callable[[Any], T]) -> T:
        """Run `work(connection)` on a pooled service connection, on a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._run_pooled, work)

    async def run_blocking(self, work: Callable[[], T]) -> T:
        """Run other blocking directory work (a user's own bind) on a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, work)

    async def check(self) -> None:
        """Connect and bind once (start-up check): a clear `DirectoryUnavailable` when that fails."""
        await self.run(lambda connection: None)

    async def reachable(self) -> None:
        """Open and bind a fresh connection, then unbind it (readiness): `DirectoryUnavailable` when that fails.

        Unlike `check`, never an idle pooled connection, which may have gone stale without anyone noticing.
        """
        await self.run_blocking(lambda: _quietly_close(self.open_connection()))

    async def close(self) -> None:
        """Unbind every idle connection and stop the worker threads."""

        def drain() -> None:
            while True:
                try:
                    _quietly_close(self._idle.get_nowait())
                except queue.Empty:
                    return

        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._executor, drain)
        self._executor.shutdown(wait=True)


def _quietly_close(connection: Any) -> None:
    """Unbind, ignoring a connection that is already gone."""
    try:
        connection.unbind()
    except Exception:  # noqa: BLE001, S110 - closing a dead connection may fail in many ways; nothing to do
        pass
