"""`kiosk diagnose` and the kiosk's diagnostics page: check everything the policy relies on, change nothing.

Checks, in report order: the policy; the backend (the embedded store's file, or a shared backend's
`GET /v1/health`); the directory (per server: TLS, the service account's bind, the base DNs); SMTP
(connection, TLS, login); the SMS/voice gateway (DNS, TLS, a harmless request); the OS keyring (its
backend, and whether each secret the policy needs is stored); the clock (ours against a server's).
Each check is one `CheckResult`; what the policy does not use is SKIP.

Every check runs under a time limit (the policy's own timeouts plus a margin): a server that hangs
gives FAIL "no answer within N s", never a hung command or a frozen kiosk. The checks run at the
same time; blocking work (ldap3, the keyring, SQLite) runs on worker threads of its own.

The clock is compared with, in this order of preference: Active Directory's root DSE `currentTime`
(the clock Kerberos cares about), the shared backend's HTTP `Date` header, the gateway's `Date`
header, a date in the SMTP server's greeting. OpenLDAP publishes no time in its root DSE, so with an
embedded backend, OpenLDAP and no gateway there may be nothing to compare with (SKIP). Over 60 s
apart is a warning (authenticator codes start to fail), over 5 minutes a failure (Kerberos' limit).
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import kiosk
from kiosk.policy.schema import BackendMode, DeliveryKind, DirectoryKind, GatewayKind, Policy
from kiosk.policy.store_schema import StoreKind
from kiosk.services.backend import credentials
from kiosk.services.backend.diagnostics.probes import (
    Clock,
    Probe,
    TimeSample,
    probe_directory_url,
    probe_gateway,
    probe_shared_backend,
    probe_smtp,
    skew_of,
)
from kiosk.services.diagnosis import CheckResult, CheckStatus, DiagnosticReport

T = TypeVar("T")

CLOCK_WARN_SECONDS = 60
CLOCK_FAIL_SECONDS = 300
"""Kerberos refuses clocks more than 5 minutes apart (its default maximum skew)."""
KEYRING_TIMEOUT_SECONDS = 10.0
"""A locked keyring may wait for someone to unlock it: the check gives up after this."""
STORE_TIMEOUT_SECONDS = 10.0
ADMIN_EXIT_SECRET = "admin-exit"  # noqa: S105 - the name of a keyring entry, not a secret
PROBE_SECRETS = frozenset(
    {credentials.DIRECTORY_PASSWORD, credentials.SMTP_PASSWORD, "gateway", credentials.BACKEND_CREDENTIAL}
)
"""The secrets a probe uses (to bind, log in, read the Twilio account, call the shared backend); the others are
only looked for."""


def utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


def _no_answer(name: str, seconds: float, hint: str = "") -> CheckResult:
    return CheckResult(
        name, CheckStatus.FAIL, f"no answer within {seconds:g} s", hint or "the server hangs or is too slow"
    )


async def _bounded(name: str, seconds: float, work: Awaitable[Probe]) -> Probe:
    """The probe's results, or one FAIL "no answer within N s" when it takes longer than `seconds`."""
    try:
        return await asyncio.wait_for(work, seconds)
    except TimeoutError:
        return Probe(results=[_no_answer(name, seconds)])


class _Run:
    """One diagnostics run: the policy, the clock, the worker threads, the secrets read from the keyring."""

    def __init__(self, policy: Policy, clock: Clock) -> None:
        self.policy = policy
        self.clock = clock
        # Own threads: a hung ldap3 call must not hold up the event loop's default executor, and
        # they are abandoned (not waited for) at the end; each ends at its own socket timeout.
        self.executor = ThreadPoolExecutor(max_workers=8, thread_name_prefix="kiosk-diagnose")
        self.secrets: dict[str, str | None] = {}

    async def blocking(self, work: Callable[[], T]) -> T:
        """Run blocking work on the run's own threads."""
        return await asyncio.get_running_loop().run_in_executor(self.executor, work)

    @property
    def local_only(self) -> bool:
        """A shared backend does the directory and delivery work: the kiosk itself does not."""
        return self.policy.backend.mode is BackendMode.SHARED

    # ------------------------------------------------------------------------------- keyring

    def needed_secrets(self) -> list[tuple[str, str, CheckStatus]]:
        """(entry, what it is, the status when it is missing) for every secret this policy needs."""
        policy = self.policy
        needed: list[tuple[str, str, CheckStatus]] = []
        if not self.local_only:
            if policy.directory.kind is not DirectoryKind.EMBEDDED:
                needed.append(
                    (credentials.DIRECTORY_PASSWORD, "the directory service account's password", CheckStatus.FAIL)
                )
            if policy.directory.kind is not DirectoryKind.EMBEDDED or policy.directory.embedded.database:
                # A store file seals its users' app secrets with it too; without a keyring it cannot be made.
                needed.append(
                    (credentials.ENROLLMENT_KEY, "the key of registered authenticator secrets", CheckStatus.OK)
                )
            if policy.delivery.kind is DeliveryKind.SMTP and policy.delivery.smtp.username:
                needed.append(
                    (
                        credentials.SMTP_PASSWORD,
                        f"the password of SMTP user {policy.delivery.smtp.username}",
                        CheckStatus.FAIL,
                    )
                )
            if policy.delivery.kind is DeliveryKind.SMTP and policy.delivery.gateway.kind is not GatewayKind.NONE:
                needed.append(("gateway", "the SMS/voice gateway's token", CheckStatus.FAIL))
        else:
            needed.append(
                (credentials.BACKEND_CREDENTIAL, "this kiosk's credential for the shared backend", CheckStatus.FAIL)
            )
        needed.append((ADMIN_EXIT_SECRET, "the administrator secret", CheckStatus.WARN))
        return needed

    def read_keyring(self) -> Probe:
        """The keyring's backend, and which needed secrets are stored (blocking). Values stay in `secrets`."""
        probe = Probe()
        needed = self.needed_secrets()
        try:
            name = credentials.keyring_name()
        except credentials.CredentialError as error:
            required = any(
                missing is CheckStatus.FAIL or entry == credentials.ENROLLMENT_KEY for entry, _, missing in needed
            )
            probe.add(
                "keyring",
                CheckStatus.FAIL if required else CheckStatus.WARN,
                str(error),
                "the kiosk reads its secrets from the keyring of the account it runs as",
            )
            return probe
        probe.add("keyring", CheckStatus.OK, f"backend: {name}")
        for entry, what, when_missing in needed:
            stored = False
            try:
                if entry in PROBE_SECRETS:
                    self.secrets[entry] = credentials.read_secret(entry)  # for the probes, never shown
                    stored = True
                else:
                    stored = credentials.has_secret(entry)  # the value itself is not needed
            except credentials.CredentialError:
                stored = False
            if stored:
                probe.add(f"keyring {entry}", CheckStatus.OK, f"stored: {what}")
            elif entry == credentials.ENROLLMENT_KEY:
                probe.add(
                    f"keyring {entry}", CheckStatus.OK, f"not stored yet: {what}; the backend creates it at start"
                )
            elif entry == ADMIN_EXIT_SECRET:
                probe.add(
                    f"keyring {entry}",
                    when_missing,
                    f"not stored: {what}; the administrator chord (exit, diagnostics) cannot be used",
                    "store it with `kiosk secrets set admin-exit`, as the account the kiosk runs as",
                )
            else:
                probe.add(
                    f"keyring {entry}",
                    when_missing,
                    f"not stored: {what}",
                    f"store it with `kiosk secrets set {entry}`, as the account the kiosk (or backend) runs as",
                )
        return probe

    # ------------------------------------------------------------------------------- backend

    def check_store(self) -> Probe:
        """The embedded backend's SQLite file: it opens and takes a write lock, or its folder is writable (blocking).

        Read-only on purpose: opening it through the backend's Store would create or migrate its
        schema, and a diagnosis changes nothing.
        """
        probe = Probe()
        if self.policy.store.kind is StoreKind.POSTGRESQL:
            return self.check_postgres_store(probe)
        configured = self.policy.directory.embedded.database
        if not configured:
            folder = Path(tempfile.gettempdir())
            try:
                handle, name = tempfile.mkstemp(prefix="kiosk-diagnose-", suffix=".sqlite3")
                os.close(handle)
                os.unlink(name)
            except OSError as error:
                probe.add(
                    "backend",
                    CheckStatus.FAIL,
                    f"embedded: cannot create its temporary store in {folder} ({type(error).__name__})",
                    "make the temporary folder writable, or set directory.embedded.database",
                )
                return probe
            probe.add(
                "backend",
                CheckStatus.OK,
                f"embedded: a new temporary store in {folder} at each start "
                "(writable); nothing is kept across restarts",
            )
            return probe
        path = Path(configured)
        if not path.exists():
            if path.parent.is_dir() and os.access(path.parent, os.W_OK):
                probe.add(
                    "backend",
                    CheckStatus.OK,
                    f"embedded: store {path} does not exist yet; the backend "
                    "creates it at start (its folder is writable)",
                )
            else:
                probe.add(
                    "backend",
                    CheckStatus.FAIL,
                    f"embedded: store {path}: the folder {path.parent} is missing or not writable",
                    "create the folder and let the kiosk's account write to it",
                )
            return probe
        try:
            connection = sqlite3.connect(f"file:{path}?mode=rw", uri=True, timeout=5)
            try:
                (answer,) = connection.execute("PRAGMA quick_check").fetchone()
                connection.execute("BEGIN IMMEDIATE")  # the write lock the backend needs; nothing is written
                connection.execute("ROLLBACK")
            finally:
                connection.close()
        except sqlite3.Error as error:
            probe.add(
                "backend",
                CheckStatus.FAIL,
                f"embedded: store {path} cannot be opened for writing ({type(error).__name__}: {error})",
                "check the file's owner and rights, and the disk",
            )
            return probe
        if answer != "ok":
            probe.add(
                "backend",
                CheckStatus.FAIL,
                f"embedded: store {path} is damaged (SQLite quick_check)",
                "restore the file from a backup",
            )
        else:
            probe.add(
                "backend",
                CheckStatus.OK,
                f"embedded: store {path} opens, is intact and writable ({path.stat().st_size // 1024} KiB)",
            )
        return probe

    def check_postgres_store(self, probe: Probe) -> Probe:
        """The shared store: the password is at hand, the server answers, at which schema version (blocking).

        One read-only transaction; nothing is created or migrated.
        """
        import psycopg

        from kiosk.services.backend.storage.migrations import LATEST
        from kiosk.services.backend.storage.target import first_line, store_location

        where = store_location(self.policy.store.url)
        try:
            password = credentials.database_password()
        except credentials.CredentialError as error:
            probe.add(
                "backend",
                CheckStatus.FAIL,
                f"postgresql {where}: no password ({error})",
                "as the account the backend runs as: `kiosk secrets set database`, the systemd credential "
                "database, or the environment variable KIOSK_DATABASE_PASSWORD",
            )
            return probe
        try:
            with psycopg.connect(
                self.policy.store.url, password=password, connect_timeout=int(STORE_TIMEOUT_SECONDS)
            ) as connection:
                connection.read_only = True
                with connection.transaction():
                    found = connection.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
                    version = 0
                    if found and found[0]:
                        row = connection.execute("SELECT MAX(version) FROM schema_migrations").fetchone()
                        version = int(row[0] or 0) if row else 0
        except psycopg.Error as error:
            probe.add(
                "backend",
                CheckStatus.FAIL,
                f"postgresql {where}: cannot connect ({first_line(error)})",
                "check store.url, that the server is up and reachable from here, and the password",
            )
            return probe
        if version > LATEST:
            probe.add(
                "backend",
                CheckStatus.FAIL,
                f"postgresql {where}: schema version {version}, newer than this kiosk knows ({LATEST})",
                "upgrade this server's kiosk to the version the other servers run",
            )
        elif version < LATEST:
            probe.add(
                "backend",
                CheckStatus.OK,
                f"postgresql {where}: reachable; schema version {version}, "
                f"migrated to {LATEST} when the backend starts",
            )
        else:
            probe.add("backend", CheckStatus.OK, f"postgresql {where}: reachable; schema version {version} (current)")
        return probe

    async def backend(self) -> Probe:
        """The embedded store, or the shared backend's health."""
        settings = self.policy.backend
        if settings.mode is BackendMode.SHARED:
            seconds = settings.timeout_seconds + 1
            work = probe_shared_backend(
                settings.url,
                settings.timeout_seconds,
                kiosk.__version__,
                self.clock,
                ca_file=settings.ca_file,
                credential=self.secrets.get(credentials.BACKEND_CREDENTIAL),
            )
            return await _bounded("backend", seconds, work)
        return await _bounded("backend", STORE_TIMEOUT_SECONDS, self.blocking(self.check_store))

    # ------------------------------------------------------------------------------- the rest

    async def directory(self) -> Probe:
        """Every directory server of the policy, one after the other's results."""
        kind = self.policy.directory.kind
        if self.local_only:
            return _skipped("directory", "checked on the shared backend's server: run `kiosk diagnose` there")
        if kind is DirectoryKind.EMBEDDED:
            return _skipped("directory", "embedded: users live in the backend's own store, no server to reach")
        settings = (
            self.policy.directory.active_directory
            if kind is DirectoryKind.ACTIVE_DIRECTORY
            else self.policy.directory.openldap
        )
        assert settings is not None  # the schema requires the section of the kind
        password = self.secrets.get(credentials.DIRECTORY_PASSWORD)
        if password is None:
            return Probe(
                results=[
                    CheckResult(
                        "directory",
                        CheckStatus.FAIL,
                        "not checked: no service account password in the OS keyring",
                        "store it with `kiosk secrets set directory`",
                    )
                ]
            )
        seconds = settings.connect_timeout_seconds + 2 * settings.operation_timeout_seconds + 1
        is_ad = kind is DirectoryKind.ACTIVE_DIRECTORY
        probes = await asyncio.gather(
            *(
                _bounded(
                    f"directory {url}",
                    seconds,
                    self.blocking(
                        functools.partial(probe_directory_url, settings, url, password, is_ad=is_ad, clock=self.clock)
                    ),
                )
                for url in settings.urls
            )
        )
        return _merged(probes)

    async def smtp(self) -> Probe:
        """The SMTP server, when the policy delivers by SMTP."""
        if self.local_only:
            return _skipped("SMTP", "checked on the shared backend's server: run `kiosk diagnose` there")
        if self.policy.delivery.kind is not DeliveryKind.SMTP:
            return _skipped("SMTP", "delivery is the demo's dev outbox: nothing is sent")
        settings = self.policy.delivery.smtp
        password = self.secrets.get(credentials.SMTP_PASSWORD)
        return await _bounded(
            f"SMTP {settings.host}:{settings.port}",
            3 * settings.timeout_seconds + 1,
            probe_smtp(settings, password, self.clock),
        )

    async def gateway(self) -> Probe:
        """The SMS/voice gateway, when the policy has one."""
        if self.local_only:
            return _skipped("gateway", "checked on the shared backend's server: run `kiosk diagnose` there")
        settings = self.policy.delivery.gateway
        if self.policy.delivery.kind is not DeliveryKind.SMTP or settings.kind is GatewayKind.NONE:
            return _skipped("gateway", 'not configured (delivery.gateway.kind = "none"): no SMS or voice calls')
        token = self.secrets.get("gateway")
        return await _bounded("gateway", 2 * settings.timeout_seconds + 1, probe_gateway(settings, token, self.clock))

    def clock_check(self, samples: Sequence[TimeSample]) -> CheckResult:
        """Our clock against the best server clock seen (see the module docstring for the order)."""
        if not samples and not self.local_only and self.policy.directory.kind is DirectoryKind.EMBEDDED:
            return CheckResult(
                "clock",
                CheckStatus.SKIP,
                "nothing to compare with: the embedded backend and directory run on this machine's clock",
            )
        if not samples:
            return CheckResult(
                "clock",
                CheckStatus.SKIP,
                "nothing to compare with: no server here tells its time (Active "
                "Directory's currentTime, a shared backend's or gateway's Date header, an SMTP greeting date)",
            )
        sample = samples[0]
        skew = skew_of(sample).total_seconds()
        direction = "ahead of" if skew > 0 else "behind"
        detail = (
            f"{abs(skew):.0f} s {direction} this machine, by {sample.source}"
            if abs(skew) >= 1
            else (f"within a second of {sample.source}")
        )
        hint = "synchronise this machine's clock (NTP, or the domain's time service on Windows)"
        if abs(skew) > CLOCK_FAIL_SECONDS:
            return CheckResult(
                "clock",
                CheckStatus.FAIL,
                f"{detail}: over {CLOCK_FAIL_SECONDS // 60} minutes (Kerberos refuses it; authenticator codes fail)",
                hint,
            )
        if abs(skew) > CLOCK_WARN_SECONDS:
            return CheckResult(
                "clock", CheckStatus.WARN, f"{detail}: over {CLOCK_WARN_SECONDS} s (authenticator codes may fail)", hint
            )
        return CheckResult("clock", CheckStatus.OK, detail)


def _skipped(name: str, detail: str) -> Probe:
    return Probe(results=[CheckResult(name, CheckStatus.SKIP, detail)])


def _merged(probes: Sequence[Probe]) -> Probe:
    merged = Probe()
    for probe in probes:
        merged.results.extend(probe.results)
        merged.times.extend(probe.times)
    return merged


def policy_result(source: str) -> CheckResult:
    """The policy check of a policy that loaded: it is valid."""
    return CheckResult("policy", CheckStatus.OK, f"{source}: valid" if source else "valid")


async def run_diagnostics(policy: Policy, *, source: str = "", clock: Clock = utc_now) -> DiagnosticReport:
    """Run every check for `policy` (loaded from `source`) and return the report; nothing is changed or sent."""
    started_at, started = clock(), time.perf_counter()
    run = _Run(policy, clock)
    try:
        keyring = await _bounded("keyring", KEYRING_TIMEOUT_SECONDS, run.blocking(run.read_keyring))
        backend, directory, smtp, gateway = await asyncio.gather(
            run.backend(), run.directory(), run.smtp(), run.gateway()
        )
    finally:
        run.executor.shutdown(wait=False, cancel_futures=True)
    # The preferred time source first: the directory (Kerberos), the shared backend, the gateway, SMTP.
    samples = [*directory.times, *backend.times, *gateway.times, *smtp.times]
    checks = (
        policy_result(source),
        *backend.results,
        *directory.results,
        *smtp.results,
        *gateway.results,
        *keyring.results,
        run.clock_check(samples),
    )
    return DiagnosticReport(checks=checks, started_at=started_at, seconds=time.perf_counter() - started)


def invalid_policy_report(source: str, problems: Sequence[str], clock: Clock = utc_now) -> DiagnosticReport:
    """The report for a policy that does not load: the problems, and nothing else checked."""
    detail = "\n".join(problems) or "the policy cannot be loaded"
    checks = (
        CheckResult("policy", CheckStatus.FAIL, detail, f"fix the file, then run `kiosk policy check {source}`"),
        CheckResult("other checks", CheckStatus.SKIP, "not run: they need a valid policy"),
    )
    return DiagnosticReport(checks=checks, started_at=clock(), seconds=0.0)
