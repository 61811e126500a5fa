"""Many kiosks resetting passwords at once against a shared backend (issue 12, part 8).

Simulated kiosks (default 100), each with its own enrolled credential and its own real `BackendClient`
(its retries of `busy` answers included), run whole e-mail resets concurrently: open a session, identify
(the CAPTCHA's answer read from the store, as the replica tests do: no product code path tells it), choose
e-mail, read the code from the dev outbox table, enter it, set a new password. Each kiosk runs `--flows`
flows (default 1 to 3, drawn per kiosk), each for another user of a generated directory (`--users`,
default 2000, seeded into the embedded directory beside the demo users, each with a password history of
five so a reset hashes as much as a real one: five checks and the new hash).

Two configurations in one run, one after the other:

  A  two `kiosk serve` replicas (`--workers`, default one per core) on a throwaway PostgreSQL cluster,
     behind a real HAProxy on loopback (the test harness's production-like configuration);
  B  one `kiosk serve` on an SQLite file, no HAProxy.

Per configuration it prints p50/p95 per step (the kiosk's wait, its `busy` retries included; "code
delivered" is the time from choosing e-mail until the code is in the outbox), resets per second, client
timeouts, errors by kind, 503 `busy` answers seen (each one a retry or, after the last try, an error),
and whether every reset completed within the kiosk's timeout. Resets the store applied are counted too,
so a reset the kiosk reported failed while it went through would show.

The servers are the test harness's (tests/live_servers: PostgreSQL, HAProxy, `kiosk serve` replicas
with a FAKE shared keyring): `tests/` is put on sys.path to import them. PostgreSQL and HAProxy come
from Debian (`make test-deps`). The kiosks run in this one process, on the same cores as the servers.

A kiosk that meets `busy` tries again as the real one does (5 tries in all, after `Retry-After`); after
the last it would show its error page, and the flow counts as an error `busy`. By default all kiosks start
at once and their users take no time between steps (the issue's "100 kiosks resetting at once"): `--ramp`
spreads the kiosks' starts, `--think` adds a user's pause before each step.

    python bench/shared_backend.py [--kiosks N] [--flows A-B] [--workers N] [--think S] [--ramp S]
                                   [--only postgresql|sqlite] [--keep DIR] [--quick]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import re
import shutil
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))  # live_servers: the harness's real PostgreSQL, HAProxy and replicas

from live_servers.haproxy import Upstream, start_haproxy  # noqa: E402
from live_servers.postgres import PostgresCluster, start_postgres  # noqa: E402
from live_servers.replicas import ReplicaSet, sqlite_store  # noqa: E402

from kiosk.policy.schema import Method  # noqa: E402
from kiosk.services.api import KIOSK_CREDENTIAL_HEADER, Outcome, Stage  # noqa: E402
from kiosk.services.backend.clock import SystemClock  # noqa: E402
from kiosk.services.backend.directory.demo_seed import load_demo_directory  # noqa: E402
from kiosk.services.backend.directory.embedded import DirectoryUser, EmbeddedDirectory  # noqa: E402
from kiosk.services.backend.directory.enrollment import SecretBox  # noqa: E402
from kiosk.services.backend.kiosks import KioskRegistry  # noqa: E402
from kiosk.services.backend.recovery.sessions import token_hash  # noqa: E402
from kiosk.services.backend.storage.store import Store  # noqa: E402
from kiosk.services.backend.storage.target import PostgresSettings, StoreTarget  # noqa: E402
from kiosk.services.client import BackendClient  # noqa: E402
from kiosk.services.client.backend_client import request_timeouts  # noqa: E402
from kiosk.services.client.errors import ApiError, BackendTimeout, BackendUnavailable, ProtocolError  # noqa: E402

STEPS = ("open session", "identify", "choose e-mail", "code delivered", "enter code", "set password")
HASHING_STEPS = frozenset({"choose e-mail", "enter code", "set password"})
"""Steps that take a hashing ticket (a code hashed or checked, the password history and new hash)."""
NOT_A_CALL = frozenset({"code delivered"})
"""Waited for in the outbox, not a call of the kiosk."""
HISTORY = 5
"""Old passwords each bench user has: the policy's default history, so a reset checks five."""
USER_PREFIX = "bench"
NEW_PASSWORD = "Lantern-Harbor-Meadow-Quartz!"
"""Every bench user's new password; the policy accepts it for each of the first 10,000 generated users (it
refuses a password holding a part of the user's names, also written in leet: "817" would ban "bit")."""
CODE = re.compile(r"\b(\d{6,10})\b")
CODE_WITHIN = 30.0
"""Seconds a kiosk waits for its code in the outbox before it counts the flow as failed."""
POLL = 0.2
"""Seconds between two looks into the outbox (a user does not refresh faster)."""


# ---------------------------------------------------------------------- what the store shows the bench


class StoreReader(Protocol):
    """What the bench reads from the store behind the servers (never through the product's API)."""

    async def captcha(self, token: str) -> str: ...

    async def newest_message(self, address: str) -> str | None: ...

    async def changed_passwords(self, seed_hash: str) -> int: ...

    async def close(self) -> None: ...


SESSION_STATE = "SELECT state_json FROM sessions WHERE token_hash = {p}"
NEWEST_MESSAGE = "SELECT body FROM outbox WHERE recipient = {p} ORDER BY id DESC LIMIT 1"
CHANGED = "SELECT count(*) FROM users WHERE login LIKE {p} AND password_hash <> {p}"


class SqliteReader:
    """Reads the SQLite file read-only, in a thread (never takes the server's write lock)."""

    def __init__(self, database: Path) -> None:
        self._database = database

    def _one(self, sql: str, *values: str) -> Any:
        with closing(sqlite3.connect(f"file:{self._database}?mode=ro", uri=True, timeout=10)) as db:
            row = db.execute(sql.format(p="?"), values).fetchone()
        return row[0] if row is not None else None

    async def captcha(self, token: str) -> str:
        state = await asyncio.to_thread(self._one, SESSION_STATE, token_hash(token))
        return str(json.loads(state)["captcha"])

    async def newest_message(self, address: str) -> str | None:
        body = await asyncio.to_thread(self._one, NEWEST_MESSAGE, address)
        return str(body) if body is not None else None

    async def changed_passwords(self, seed_hash: str) -> int:
        return int(await asyncio.to_thread(self._one, CHANGED, f"{USER_PREFIX}%", seed_hash))

    async def close(self) -> None:
        return None


class PostgresReader:
    """Reads PostgreSQL through a small pool of autocommit connections (plain reads, no serializable
    transactions that could make the servers' writes retry)."""

    def __init__(self, settings: PostgresSettings) -> None:
        from psycopg_pool import AsyncConnectionPool

        self._pool = AsyncConnectionPool(
            settings.conninfo,
            kwargs={"password": settings.password, "autocommit": True},
            min_size=2,
            max_size=4,
            open=False,
        )

    async def open(self) -> None:
        await self._pool.open(wait=True)

    async def _one(self, sql: str, *values: str) -> Any:
        async with self._pool.connection() as connection:
            row = await (await connection.execute(sql.format(p="%s"), values)).fetchone()
        return row[0] if row is not None else None

    async def captcha(self, token: str) -> str:
        return str(json.loads(await self._one(SESSION_STATE, token_hash(token)))["captcha"])

    async def newest_message(self, address: str) -> str | None:
        body = await self._one(NEWEST_MESSAGE, address)
        return str(body) if body is not None else None

    async def changed_passwords(self, seed_hash: str) -> int:
        return int(await self._one(CHANGED, f"{USER_PREFIX}%", seed_hash))

    async def close(self) -> None:
        await self._pool.close()


# ---------------------------------------------------------------------- directory and kiosks


def bench_user(number: int) -> DirectoryUser:
    """The generated user `number`: may reset (SSPR-Users), e-mail registered."""
    login = f"{USER_PREFIX}{number:05d}"
    return DirectoryUser(
        login=login,
        display_name=f"Bench User {number}",
        aliases=(f"{login}@contoso.com",),
        auth_email=f"{login}@contoso.com",
        groups=("SSPR-Users",),
    )


async def seed_users(target: StoreTarget, enrollment_key: str, count: int, seed_hash: str) -> None:
    """Add `count` bench users to the embedded directory of the store, each with a history of `HISTORY`."""
    store = await Store.open(target)
    try:
        directory = EmbeddedDirectory(store, SecretBox(enrollment_key.encode()))
        for start in range(0, count, 500):
            batch = range(start, min(count, start + 500))
            await directory.add_users([(bench_user(number), seed_hash) for number in batch])
        history = json.dumps([seed_hash] * HISTORY)
        await store.call(
            lambda db: db.execute("UPDATE users SET history_json = ? WHERE login LIKE ?", (history, f"{USER_PREFIX}%"))
        )
    finally:
        await store.close()


async def enroll_kiosks(target: StoreTarget, count: int) -> list[str]:
    """Enrol `count` kiosks (`kiosk kiosks add`); their credentials NAME:SECRET."""
    store = await Store.open(target)
    try:
        registry = KioskRegistry(store, SystemClock())
        return [str((await registry.add(f"bench-{number:03d}")).text) for number in range(count)]
    finally:
        await store.close()


# ---------------------------------------------------------------------- measuring


@dataclass
class Figures:
    """What one configuration's kiosks saw."""

    steps: dict[str, list[float]] = field(default_factory=lambda: {step: [] for step in STEPS})
    errors: Counter[str] = field(default_factory=Counter)
    busy: Counter[str] = field(default_factory=Counter)
    """503 answers by route."""
    timeouts: Counter[str] = field(default_factory=Counter)
    """Calls the client gave up waiting for (httpx timeout), by route, whatever happened after."""
    calls: int = 0
    resets: int = 0
    flows: int = 0
    started: float = 0.0
    finished: float = 0.0
    applied: int = 0
    """Users whose password the store shows changed."""
    wall: float = 0.0
    """Seconds from the first kiosk's start until the last one was done."""
    kiosks_cpu: float = 0.0
    """CPU seconds this process (the simulated kiosks) used while they ran."""
    machine_cpu: float = 0.0
    """CPU seconds the whole machine used meanwhile (servers, database, proxy, kiosks)."""


class CountingTransport(httpx.AsyncBaseTransport):
    """The kiosk's transport, counting every call, 503 answer and timeout on its way."""

    def __init__(self, figures: Figures) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._figures = figures

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self._figures.calls += 1
        try:
            response = await self._inner.handle_async_request(request)
        except httpx.TimeoutException:
            self._figures.timeouts[request.url.path] += 1
            raise
        if response.status_code == 503:
            self._figures.busy[request.url.path] += 1
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def error_kind(error: BaseException) -> str:
    """A short name for what ended a flow (never a message: it may quote nothing secret, but stays short)."""
    if isinstance(error, ApiError):
        return f"{error.code.value} (HTTP {error.status})"
    if isinstance(error, BackendTimeout):
        return "client timeout"
    if isinstance(error, BackendUnavailable):
        return "backend unreachable"
    if isinstance(error, ProtocolError):
        return "protocol error"
    return type(error).__name__


class UnexpectedStage(Exception):
    """The backend answered with a stage the flow did not expect."""


FLOW_ENDING = (ApiError, BackendTimeout, BackendUnavailable, ProtocolError, UnexpectedStage, TimeoutError)
"""What ends a flow as an error the kiosk would show (a TimeoutError: no code came)."""


@dataclass
class Run:
    """One configuration's run: where the kiosks go, what they read, what they count."""

    url: str
    reader: StoreReader
    figures: Figures
    timeout: float
    think: float
    users: Iterator[int]


async def timed(figures: Figures, step: str, work: Callable[[], Any]) -> Any:
    """Run one step, recording how long the kiosk waited for it (its retries included)."""
    began = time.perf_counter()
    result = await work()
    figures.steps[step].append(time.perf_counter() - began)
    return result


def expect(view: Any, stage: Stage) -> None:
    """Raise `UnexpectedStage` unless the session is at `stage`."""
    if view.stage is not stage:
        raise UnexpectedStage(f"{view.stage.value} instead of {stage.value}")


async def one_flow(run: Run, client: BackendClient, kiosk_name: str, rng: random.Random) -> None:
    """One user's whole e-mail reset at this kiosk."""
    figures = run.figures
    number = next(run.users)
    user = bench_user(number)

    async def pause() -> None:
        if run.think > 0:
            await asyncio.sleep(rng.uniform(0.5, 1.5) * run.think)

    opened = await timed(figures, "open session", lambda: client.open_session(kiosk_id=kiosk_name, locale="en"))
    answer = await run.reader.captcha(opened.token)  # from the store, as the replica tests read it
    await pause()
    view = await timed(figures, "identify", lambda: client.identify(user.login, answer))
    expect(view, Stage.CHOOSE_METHOD)
    await pause()
    view = await timed(figures, "choose e-mail", lambda: client.choose_method(Method.EMAIL))
    expect(view, Stage.VERIFY_CODE)

    async def code_delivered() -> str:
        deadline = time.monotonic() + CODE_WITHIN
        while time.monotonic() < deadline:
            body = await run.reader.newest_message(user.auth_email)
            if body is not None and (match := CODE.search(body)):
                return match.group(1)
            await asyncio.sleep(POLL)
        raise TimeoutError("no code in the outbox")

    code = await timed(figures, "code delivered", code_delivered)
    await pause()
    view = await timed(figures, "enter code", lambda: client.verify_code(code))
    expect(view, Stage.NEW_PASSWORD)
    await pause()
    view = await timed(figures, "set password", lambda: client.set_password(NEW_PASSWORD))
    expect(view, Stage.DONE)
    if view.outcome is not Outcome.RESET:
        raise UnexpectedStage(f"outcome {view.outcome}")
    figures.resets += 1
    figures.finished = time.perf_counter()


async def simulated_kiosk(run: Run, credential: str, flows: int, seed: int, delay: float) -> None:
    """One kiosk: its own client (credential, timeout, retries), `flows` resets one after the other, the
    first after `delay` seconds."""
    await asyncio.sleep(delay)
    rng = random.Random(seed)  # pacing, not security
    http = httpx.AsyncClient(
        base_url=run.url,
        timeout=request_timeouts(run.timeout),
        headers={KIOSK_CREDENTIAL_HEADER: credential},
        transport=CountingTransport(run.figures),
    )
    client = BackendClient(http)
    name = credential.partition(":")[0]
    try:
        for _ in range(flows):
            run.figures.flows += 1
            try:
                await one_flow(run, client, name, rng)
            except FLOW_ENDING as error:
                run.figures.errors[error_kind(error)] += 1
                with contextlib.suppress(ApiError, BackendTimeout, BackendUnavailable, ProtocolError):
                    await client.close_session()
    finally:
        await client.aclose()


async def drive(
    url: str, reader: StoreReader, credentials: list[str], args: argparse.Namespace, seed_hash: str
) -> Figures:
    """All kiosks at once against `url`; the figures they saw."""
    figures = Figures()
    rng = random.Random(args.seed)  # pacing, not security
    low, high = args.flows
    run = Run(url, reader, figures, args.timeout, args.think, iter(range(args.users)))
    machine_before, own_before = machine_cpu_seconds(), time.process_time()
    figures.started = time.perf_counter()
    await asyncio.gather(
        *(
            simulated_kiosk(run, credential, rng.randint(low, high), rng.randrange(1 << 30), rng.uniform(0, args.ramp))
            for credential in credentials
        )
    )
    figures.wall = time.perf_counter() - figures.started
    figures.kiosks_cpu = time.process_time() - own_before
    figures.machine_cpu = machine_cpu_seconds() - machine_before
    figures.applied = await reader.changed_passwords(seed_hash)
    return figures


# ---------------------------------------------------------------------- the two configurations


def machine_cpu_seconds() -> float:
    """CPU seconds all cores of the machine have been busy (Linux /proc/stat; 0 elsewhere)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return 0.0
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def bench_limits(args: argparse.Namespace) -> dict[str, Any]:
    """Policy overrides: every kiosk's calls arrive from one loopback address, so the per-address limits
    (which are also the per-kiosk ones) are raised as in the replica harness; per-user limits stay."""
    return {
        "limits": {"kiosk_sessions_per_10_minutes": 10_000, "kiosk_distinct_accounts": 10_000},
        "backend": {"timeout_seconds": args.timeout},
    }


async def run_postgresql(args: argparse.Namespace, workdir: Path, seed_hash: str) -> tuple[str, Figures]:
    """Configuration A: two replicas on PostgreSQL behind HAProxy."""
    cluster: PostgresCluster = start_postgres()
    replicas = ReplicaSet(workdir / "replicas")
    balancer = None
    try:
        dbname = cluster.fresh_database("bench")
        settings = PostgresSettings(cluster.dsn(dbname), cluster.password)
        replicas.start(
            2,
            {"store": {"kind": "postgresql", "url": cluster.dsn(dbname)}},
            environment={"KIOSK_DATABASE_PASSWORD": cluster.password},
            workers=args.workers or os.cpu_count() or 1,
            **bench_limits(args),
        )
        (workdir / "haproxy").mkdir(parents=True, exist_ok=True)
        balancer = start_haproxy([Upstream(r.name, r.host, r.port) for r in replicas], workdir / "haproxy")
        balancer.wait_for_states({replica.name: "UP" for replica in replicas})
        await seed_users(settings, replicas.keyring_entries["enrollment-key"], args.users, seed_hash)
        credentials = await enroll_kiosks(settings, args.kiosks)
        reader = PostgresReader(settings)
        await reader.open()
        try:
            figures = await drive(balancer.url, reader, credentials, args, seed_hash)
        finally:
            await reader.close()
        workers = args.workers or os.cpu_count() or 1
        return f"A: 2 replicas x {workers} worker(s), PostgreSQL, HAProxy", figures
    finally:
        if balancer is not None:
            balancer.stop()
        replicas.close()
        cluster.stop()
        shutil.rmtree(cluster.workdir, ignore_errors=True)


async def run_sqlite(args: argparse.Namespace, workdir: Path, seed_hash: str) -> tuple[str, Figures]:
    """Configuration B: one `kiosk serve` on an SQLite file, no proxy."""
    database = workdir / "kiosk.db"
    replicas = ReplicaSet(workdir / "sqlite")
    try:
        (server,) = replicas.start(1, sqlite_store(database), workers=None, **bench_limits(args))
        await seed_users(database, replicas.keyring_entries["enrollment-key"], args.users, seed_hash)
        credentials = await enroll_kiosks(database, args.kiosks)
        figures = await drive(server.url, SqliteReader(database), credentials, args, seed_hash)
        return "B: 1 kiosk serve, SQLite, no proxy", figures
    finally:
        replicas.close()


# ---------------------------------------------------------------------- the report


def percentile(values: list[float], share: float) -> float:
    """The `share` quantile (nearest rank) of `values`."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def report(title: str, figures: Figures, timeout: float) -> None:
    """Print one configuration's table and verdicts."""
    elapsed = (figures.finished or time.perf_counter()) - figures.started
    print(f"\n{title}")
    print(f"  {'step':<16}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}{'max ms':>10}")
    for step in STEPS:
        values = figures.steps[step]
        if not values:
            print(f"  {step:<16}{0:>6}")
            continue
        mark = " (hashing)" if step in HASHING_STEPS else " (not a call)" if step in NOT_A_CALL else ""
        print(
            f"  {step:<16}{len(values):>6}{percentile(values, 0.5) * 1000:>10.0f}"
            f"{percentile(values, 0.95) * 1000:>10.0f}{max(values) * 1000:>10.0f}{mark}"
        )
    over = [value for value in figures.steps["set password"] if value > timeout]
    rate = figures.resets / elapsed
    print(f"  flows {figures.flows}, resets {figures.resets} in {elapsed:.1f} s: {rate:.2f} resets/s")
    print(f"  store: {figures.applied} passwords changed (a difference from the resets above was reported failed)")
    busy = sum(figures.busy.values())
    timeouts = sum(figures.timeouts.values())
    print(f"  HTTP calls {figures.calls}, client timeouts {timeouts}, 503 busy answers {busy}")
    for path, count in figures.timeouts.most_common():
        print(f"    timeout {path}: {count}")
    if figures.machine_cpu:
        cores = os.cpu_count() or 1
        print(
            f"  machine busy {figures.machine_cpu / figures.wall / cores:.0%} of {cores} cores; the simulated kiosks "
            f"(this process) used {figures.kiosks_cpu:.1f} of {figures.machine_cpu:.1f} CPU-s"
        )
    for path, count in figures.busy.most_common():
        print(f"    busy {path}: {count}")
    print(f"  errors {sum(figures.errors.values())}" + ("" if figures.errors else " (none)"))
    for kind, count in figures.errors.most_common():
        print(f"    {kind}: {count}")
    quick = [
        percentile(figures.steps[step], 0.95)
        for step in STEPS
        if step not in HASHING_STEPS | NOT_A_CALL and figures.steps[step]
    ]
    print("  targets:")
    honest = "met" if figures.applied == figures.resets else "MISSED"
    print(f"    no reset applied while the kiosk was told it failed: {honest}")
    print(f"    0 errors: {'met' if not figures.errors else 'MISSED'}")
    print(f"    0 client timeouts: {'met' if not timeouts else 'MISSED'}")
    worst = max(quick, default=0.0) * 1000
    print(f"    non-hashing steps p95 <= 100 ms: {'met' if worst <= 100 else 'MISSED'} (worst {worst:.0f} ms)")
    print(
        f"    every reset within the kiosk's {timeout:g} s (retries included): "
        f"{'met' if not over and figures.resets == figures.flows else 'MISSED'} "
        f"({len(over)} over, {figures.flows - figures.resets} not completed)"
    )


def flow_range(text: str) -> tuple[int, int]:
    """`N` or `A-B` as a (low, high) pair of flows per kiosk."""
    low, _, high = text.partition("-")
    pair = (int(low), int(high or low))
    if not 1 <= pair[0] <= pair[1]:
        raise argparse.ArgumentTypeError("flows: N or A-B with 1 <= A <= B")
    return pair


async def main() -> int:
    """Run the configurations and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kiosks", type=int, default=100, help="simulated kiosks (default 100)")
    parser.add_argument("--flows", type=flow_range, default=(1, 3), help="resets per kiosk, N or A-B (default 1-3)")
    parser.add_argument("--users", type=int, default=2000, help="generated directory users (default 2000)")
    parser.add_argument("--workers", type=int, default=None, help="--workers of each replica (default: one per core)")
    parser.add_argument("--timeout", type=float, default=10.0, help="the kiosk's per-call timeout (default 10 s)")
    parser.add_argument("--think", type=float, default=0.0, help="mean seconds a user takes between steps (default 0)")
    parser.add_argument("--ramp", type=float, default=0.0, help="kiosks start within this many seconds (default 0)")
    parser.add_argument("--only", choices=("postgresql", "sqlite"), help="run one configuration only")
    parser.add_argument("--seed", type=int, default=12, help="random seed of the kiosks' flow counts and pacing")
    parser.add_argument("--keep", metavar="DIR", type=Path, help="work in DIR and keep it (servers' logs, configs)")
    parser.add_argument("--quick", action="store_true", help="10 kiosks, 1 flow each (a fast check)")
    args = parser.parse_args()
    if args.quick:
        args.kiosks, args.flows = 10, (1, 1)
    if args.users < args.kiosks * args.flows[1]:
        parser.error(f"--users must be at least kiosks x flows ({args.kiosks * args.flows[1]}): one user per flow")
    seed_hash = load_demo_directory().password_hash
    print(
        f"{os.cpu_count()} CPU core(s); {args.kiosks} kiosks, {args.flows[0]}-{args.flows[1]} flows each, "
        f"{args.users} generated users (history {HISTORY}), kiosk timeout {args.timeout:g} s, "
        f"think {args.think:g} s, ramp {args.ramp:g} s"
    )
    results = []
    with contextlib.ExitStack() as stack:
        workdir = args.keep or Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="kiosk-bench-")))
        if args.only in (None, "postgresql"):
            results.append(await run_postgresql(args, workdir / "a", seed_hash))
            report(*results[-1], args.timeout)
        if args.only in (None, "sqlite"):
            results.append(await run_sqlite(args, workdir / "b", seed_hash))
            report(*results[-1], args.timeout)
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
