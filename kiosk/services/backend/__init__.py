"""The bundled service backend: an ASGI app that alone decides eligibility, gates, resets and unlocks.

`Backend.open` does all the setup (httpx's ASGITransport runs no lifespan events): it opens the
SQLite store, creates the schema, seeds the demo users into an empty embedded directory and starts
the delivery worker (`delivery.queue`) on the running loop; `Backend.close` stops it.
"""

from __future__ import annotations

import logging
import os
import socket
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kiosk.policy.schema import DeliveryKind, DirectoryKind, GatewayKind, Policy
from kiosk.policy.store_schema import StoreKind
from kiosk.services.api import OutboxMessage
from kiosk.services.backend.audit.log import AuditLog, AuditRecord, AuditSink
from kiosk.services.backend.clock import Clock, ManualClock, SystemClock
from kiosk.services.backend.delivery.queue import DeliveryQueue, body_key
from kiosk.services.backend.delivery.sender import DevOutbox, Sender
from kiosk.services.backend.directory.demo_seed import seed_demo_users
from kiosk.services.backend.directory.embedded import Directory, EmbeddedDirectory
from kiosk.services.backend.hashing import Hashing
from kiosk.services.backend.kiosks import KioskRegistry
from kiosk.services.backend.recovery.authenticator import Authenticator
from kiosk.services.backend.recovery.codes import CodeBook
from kiosk.services.backend.recovery.questions import QuestionDraws
from kiosk.services.backend.recovery.sessions import SessionStore
from kiosk.services.backend.recovery.throttle import Limits, Throttle
from kiosk.services.backend.runtime import Runtime
from kiosk.services.backend.storage.store import Store
from kiosk.services.backend.storage.target import policy_store

if TYPE_CHECKING:
    from starlette.applications import Starlette

    from kiosk.services.backend.directory.ldap import LdapDirectory
    from kiosk.services.backend.metrics import Metrics

__all__ = ["Backend", "Clock", "ManualClock", "SystemClock", "serve", "served_app"]

log = logging.getLogger(__name__)


class Backend:
    """One running backend: its ASGI app, its clock, and the test hooks."""

    def __init__(
        self, runtime: Runtime, asgi: Starlette, temporary: Path | None, ldap: LdapDirectory | None = None
    ) -> None:
        self._rt = runtime
        self.asgi = asgi
        self.clock = runtime.clock
        self.database = runtime.store.path
        """The SQLite file in use (a temporary one is deleted on close)."""
        self._temporary = temporary
        self._ldap = ldap

    @classmethod
    async def open(
        cls,
        policy: Policy,
        *,
        clock: Clock | None = None,
        database: Path | None = None,
        kiosk_id: str = "",
        sender: Sender | None = None,
        metrics: bool = False,
        require_kiosk_credential: bool = False,
        hashing: Hashing | None = None,
    ) -> Backend:
        """Open the store (a fresh temporary file if none is configured), the directory, build the app.

        An LDAP directory that is misconfigured (TLS, service account, keyring) fails here with
        `DirectoryUnavailable`; one that is only unreachable opens (see `directory_factory`).
        `sender` (tests, bench) delivers instead of the policy's SMTP, gateway or dev outbox.
        `metrics` (`kiosk serve`, tests) counts requests and audited events and serves `GET /metrics`;
        off, `prometheus_client` is never imported (the kiosk's embedded backend does not pay for it).
        `require_kiosk_credential` (`kiosk serve`) answers only calls that carry a live kiosk credential
        (`http.kiosk_identity`); the embedded backend, reached in-process only, asks for none.
        `hashing` (tests, bench): the hashing service to use, e.g. a tiny queue; by default one worker
        per CPU and `hashing.QUEUE_PER_WORKER` queued requests per worker. The backend closes it.
        """
        from kiosk.services.backend.http.app import build_app  # Starlette only once a backend is wanted

        clock = clock or SystemClock()
        sink = _audit_sink(policy)  # first: a bad syslog CA file stops the start before anything is opened
        temporary: Path | None = None
        if policy.store.kind is StoreKind.POSTGRESQL and database is None:
            target = policy_store(policy)
            assert target is not None
            store = await Store.open(target)
        else:
            if database is None:
                configured = policy.directory.embedded.database
                if configured:
                    database = Path(configured)
                else:
                    handle, name = tempfile.mkstemp(prefix="kiosk-backend-", suffix=".sqlite3")
                    os.close(handle)
                    database = temporary = Path(name)
            store = await Store.open(database)
        from kiosk.services.backend import credentials
        from kiosk.services.backend.directory.factory import open_embedded_directory

        hashing = hashing or Hashing()
        try:
            # App secrets sealed with the keyring's key, or one in memory for a temporary store.
            embedded = await open_embedded_directory(store, persistent=temporary is None, hashing=hashing)
            # The queued bodies of a persistent store are sealed with a key derived from the enrollment key
            # every replica shares, so a live one sends what a dead one queued; the database alone opens
            # none. A temporary store's queue keeps a key in memory (None).
            queue_key = None if temporary is not None else body_key(credentials.enrollment_key())
            # What a session keeps sealed (flow change: the current password until the change is written)
            # is opened by whichever replica serves its next step: the same key as the embedded directory's.
            sealer = embedded.box
        except BaseException:
            hashing.close()
            await store.close()
            raise
        directory: Directory = embedded
        ldap: LdapDirectory | None = None
        if policy.directory.kind is not DirectoryKind.EMBEDDED:
            from kiosk.services.backend.directory.factory import open_ldap_directory  # ldap3 only when used

            try:
                directory = ldap = await open_ldap_directory(policy, store)
            except BaseException:
                hashing.close()
                await store.close()
                raise
        elif policy.directory.embedded.seed_demo_users:
            await seed_demo_users(embedded, confirmed_at=clock.now())  # only into an empty directory
        outbox = DevOutbox(store, clock)
        if sender is None:
            sender = outbox
        if policy.delivery.kind is DeliveryKind.SMTP and sender is outbox:
            try:
                sender = _smtp_sender(policy)
            except BaseException:
                if ldap is not None:
                    await ldap.close()
                hashing.close()
                await store.close()
                raise
        counters: Metrics | None = None
        if metrics:
            from kiosk.services.backend.metrics import Metrics  # prometheus_client only when served

            counters = Metrics()
        audit = AuditLog(store, clock, sink, counters.audited if counters is not None else None)
        kiosks: KioskRegistry | None = None
        if require_kiosk_credential:
            kiosks = KioskRegistry(store, clock)
            if temporary is not None:
                log.warning(
                    "no kiosk can call this backend: its store is a temporary file (directory.embedded.database "
                    "is empty), so `kiosk kiosks add` cannot enrol one; set directory.embedded.database"
                )
        runtime = Runtime(
            policy=policy,
            clock=clock,
            store=store,
            directory=directory,
            sender=sender,
            outbox=outbox if policy.demo else None,
            delivery=DeliveryQueue(store, clock, sender, audit, queue_key),
            audit=audit,
            sessions=SessionStore(store, clock, timedelta(minutes=policy.backend.session_minutes)),
            codes=CodeBook(
                store,
                clock,
                length=policy.methods.code_length,
                lifetime=timedelta(minutes=policy.methods.code_lifetime_minutes),
                attempts=policy.methods.code_attempts,
                hashing=hashing,
            ),
            authenticator=Authenticator(store, clock),
            throttle=Throttle(store, clock, Limits.from_settings(policy.limits)),
            question_draws=QuestionDraws(store, clock),
            hashing=hashing,
            kiosk_id=kiosk_id or policy.backend.kiosk_id or socket.gethostname(),
            sealer=sealer,
            demo_users=embedded if policy.demo and ldap is None else None,
            metrics=counters,
            kiosks=kiosks,
        )
        runtime.delivery.start()
        return cls(runtime, build_app(runtime), temporary, ldap)

    async def close(self) -> None:
        """Stop the delivery worker, close the directory's connections and the store; a temporary
        database is deleted."""
        await self._rt.delivery.close()
        await self._rt.audit.close()
        if self._ldap is not None:
            await self._ldap.close()
        self._rt.hashing.close()
        await self._rt.store.close()
        if self._temporary is not None:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{self._temporary}{suffix}").unlink(missing_ok=True)

    @property
    def directory(self) -> EmbeddedDirectory:
        """Test hook: the embedded directory (to inspect or prepare users)."""
        assert isinstance(self._rt.directory, EmbeddedDirectory)
        return self._rt.directory

    async def deliver_pending(self) -> None:
        """Test hook: deliver every queued message that is due now, and wait until it is sent or failed.

        The worker does the same on its own within milliseconds; this makes a test not depend on when.
        """
        await self._rt.delivery.deliver_pending()

    async def outbox(self) -> list[OutboxMessage]:
        """Test hook: the messages the dev outbox kept, oldest first (after delivering what is due)."""
        await self.deliver_pending()
        return await DevOutbox(self._rt.store, self.clock).messages(limit=1000)

    async def audit_records(self) -> list[AuditRecord]:
        """Test hook: every audit row, oldest first (after delivering what is due: deliveries are audited)."""
        await self.deliver_pending()
        return await self._rt.audit.records()

    @property
    def kiosks(self) -> KioskRegistry:
        """The enrolled kiosks of a backend that asks for a kiosk credential (tests enrol kiosks here)."""
        assert self._rt.kiosks is not None, "this backend asks for no kiosk credential"
        return self._rt.kiosks

    async def captcha_text_for_test(self, token: str) -> str:
        """Test hook ONLY: the answer to the session's current CAPTCHA (never exposed over HTTP)."""
        return (await self._rt.sessions.load(token)).captcha


def _audit_sink(policy: Policy) -> AuditSink | None:
    """The syslog forwarder when the policy names a server; None otherwise."""
    if not policy.audit.syslog.enabled:
        return None
    from kiosk.services.backend.audit.syslog import SyslogForwarder  # ssl and sockets only when used

    return SyslogForwarder(policy.audit.syslog)


def _smtp_sender(policy: Policy) -> Sender:
    """E-mail over SMTP, SMS and voice calls through the HTTP gateway when one is configured.

    The SMTP user's password (when a username is set) and the gateway's token come from the OS
    keyring. A missing one (or no usable keyring) stops the start-up with a `DeliveryError` that says
    which command stores it, instead of failing every code later.
    """
    from kiosk.services.backend import credentials
    from kiosk.services.backend.delivery.sender import ChannelRouter, DeliveryError, DeliveryFailure
    from kiosk.services.backend.delivery.smtp import SmtpSender  # aiosmtplib only when used

    try:
        password = credentials.smtp_password() if policy.delivery.smtp.username else ""
        phone: Sender | None = None
        if policy.delivery.gateway.kind is not GatewayKind.NONE:
            from kiosk.services.backend.delivery.gateway import GATEWAY_SECRET, GatewaySender

            phone = GatewaySender(policy.delivery.gateway, credentials.read_secret(GATEWAY_SECRET))
    except credentials.CredentialError as error:
        raise DeliveryError(DeliveryFailure.NO_CREDENTIAL, str(error)) from None
    return ChannelRouter(email=SmtpSender(policy, password), phone=phone)


class _ServedApp:
    """The backend as a self-contained ASGI app for uvicorn: opened on startup, closed on shutdown; it
    answers only enrolled kiosks (`kiosk kiosks add`)."""

    def __init__(self, policy: Policy, *, metrics: bool = True) -> None:
        self._policy = policy
        self._metrics = metrics
        self._backend: Backend | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    try:
                        self._backend = await Backend.open(
                            self._policy,
                            metrics=self._metrics,
                            require_kiosk_credential=True,
                            hashing=Hashing(workers=_hashing_threads()),
                        )
                    except Exception as error:  # noqa: BLE001 - reported to uvicorn, which logs it and stops
                        from kiosk.services.backend.startup import startup_failure  # the cause and the fix

                        await send({"type": "lifespan.startup.failed", "message": startup_failure(error, self._policy)})
                        return
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self._backend is not None:
                        await self._backend.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert self._backend is not None, "the server must run lifespan events"
        await self._backend.asgi(scope, receive, send)


SERVER_PROCESSES_VARIABLE = "KIOSK_SERVER_PROCESSES"
"""How many worker processes `serve` started (they share the machine's cores)."""


def _hashing_threads() -> int:
    """Hashing threads for one worker process: its share of the cores. Each process admits requests for its
    own threads only, so N processes with a thread per core each would admit N times what the machine can
    hash in time, and every admitted reset would miss its deadline together (measured: bench/shared_backend)."""
    processes = max(1, int(os.environ.get(SERVER_PROCESSES_VARIABLE, "1") or 1))
    return max(1, (os.cpu_count() or 1) // processes)


SERVED_POLICY_VARIABLE = "KIOSK_SERVED_POLICY"
"""How `serve` hands the policy (JSON; a policy holds no secrets) to the worker processes it starts."""

DRAIN_SECONDS = 30
"""On SIGTERM the server stops accepting and lets requests in flight finish, for at most this long."""


class WorkersNeedPostgres(ValueError):
    """More than one worker process was asked for on an SQLite store (it belongs to one process)."""


def served_app() -> _ServedApp:
    """uvicorn's app factory in each worker process of `serve(workers > 1)`."""
    return _ServedApp(Policy.model_validate_json(os.environ[SERVED_POLICY_VARIABLE]))


def default_workers(policy: Policy) -> int:
    """Every core on a PostgreSQL store; one process on SQLite (its locks live in that process)."""
    return (os.cpu_count() or 1) if policy.store.kind is StoreKind.POSTGRESQL else 1


def serve(
    policy: Policy,
    host: str,
    port: int,
    *,
    certificate: Path | None = None,
    key: Path | None = None,
    workers: int | None = None,
) -> None:
    """Run the backend as an HTTP server under uvicorn until interrupted (blocking).

    With `certificate` and `key` (PEM files) it serves HTTPS; they are checked first, and a file that
    cannot be used raises `ServerTlsError` (its message names the file and the fix) before anything opens.
    `workers` processes share the port (default: `default_workers`); more than one needs PostgreSQL.
    SIGTERM (systemd stop, a rolling upgrade) drains: requests in flight finish (`DRAIN_SECONDS`).
    """
    import uvicorn

    workers = default_workers(policy) if workers is None else workers
    if workers > 1 and policy.store.kind is not StoreKind.POSTGRESQL:
        raise WorkersNeedPostgres(
            f"--workers {workers} needs store.kind = 'postgresql': an SQLite store, and the session locks "
            "that guard it, belong to one process (leave --workers out, or set up PostgreSQL)"
        )
    tls: dict[str, Any] = {}
    if certificate is not None and key is not None:
        from kiosk.services.backend.server_tls import check_server_tls

        check_server_tls(certificate, key)
        tls = {"ssl_certfile": str(certificate), "ssl_keyfile": str(key)}
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "lifespan": "on",
        "server_header": False,
        "proxy_headers": False,
        "timeout_graceful_shutdown": DRAIN_SECONDS,
        **tls,
    }
    os.environ[SERVER_PROCESSES_VARIABLE] = str(workers)
    if workers > 1:
        import shutil

        from kiosk.services.backend.metrics import MULTIPROCESS_VARIABLE

        os.environ[SERVED_POLICY_VARIABLE] = policy.model_dump_json()
        # Every worker's metrics in files of one private folder, so a scrape of any worker sees them all.
        os.environ[MULTIPROCESS_VARIABLE] = tempfile.mkdtemp(prefix="kiosk-metrics-")
        try:
            uvicorn.run("kiosk.services.backend:served_app", factory=True, workers=workers, **options)
        finally:
            shutil.rmtree(os.environ.pop(MULTIPROCESS_VARIABLE), ignore_errors=True)
    else:
        uvicorn.run(_ServedApp(policy), **options)
