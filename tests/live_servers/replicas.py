"""`kiosk serve` replicas as real subprocesses: their policy files, keyring, start, readiness, SIGKILL, reaping.

Every replica runs the real console script (`.venv/bin/kiosk serve --policy F --host 127.0.0.1 --port P`)
in its own process group, so a kill takes its workers with it. A replica's policy is the demo's (embedded
directory with the demo users, the dev outbox) with a store configuration merged in: today an SQLite file
(`sqlite_store`), later the PostgreSQL store's settings (the shared backend's part 4), which only change
that one dict. The file is checked with the real loader before a replica starts, so it says exactly what
the replica runs with.

The replicas' keyring is a FAKE: a tiny keyring backend module written into the work folder and named by
PYTHON_KEYRING_BACKEND (the machine runs no keyring daemon). Every replica of a set gets the same
entries, as replicas of one organisation share their secrets: the enrollment key that seals the
authenticator secrets, and whatever else the store needs (`keyring_entries`).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

from kiosk.policy.loader import load_policy
from kiosk.policy.schema import Policy
from live_servers.common import LiveServerError, free_port, wait_until

HOST = "127.0.0.1"
REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / ".venv" / "bin" / "kiosk"

STARTUP_COMPLETE = "Application startup complete."
"""What uvicorn logs once per worker when the backend in it has opened."""
SETTLE_SECONDS = 1.0
"""How long a replica of unknown worker count must stay ready before it counts as started."""

StoreConfiguration = Mapping[str, Any]
"""Policy settings (nested sections) that choose a replica's store; merged into the replica's policy."""

REPLICA_POLICY: dict[str, Any] = {
    "reset": {"enabled_for": "group", "groups": ["SSPR-Users"]},
    "methods": {
        "enabled": ["email", "mobile_sms", "security_questions", "app_code"],
        "required": 1,
        "two_gate_groups": ["Finance"],
    },
    "on_premises": {"writeback": False, "allow_unlock_without_reset": True},
    "directory": {"kind": "embedded", "embedded": {"seed_demo_users": True}},
    "delivery": {"kind": "dev_outbox"},
    # Every call of a test comes through HAProxy, from one address.
    "limits": {"kiosk_sessions_per_10_minutes": 1000, "kiosk_distinct_accounts": 1000},
}
"""The demo policy (resources/demo-policy.toml) as a served backend runs it, before the store is merged in."""

FIXED_KEYRING = '''\
"""FAKE keyring for the replica tests: fixed entries from keyring.json beside this file."""

import json
from pathlib import Path

from keyring.backend import KeyringBackend

ENTRIES = json.loads((Path(__file__).parent / "keyring.json").read_text(encoding="utf-8"))


class Keyring(KeyringBackend):
    """Fixed secrets, the same for every replica (writes are kept in memory only)."""

    priority = 1

    def get_password(self, service, username):
        return ENTRIES.get(username)

    def set_password(self, service, username, password):
        ENTRIES[username] = password

    def delete_password(self, service, username):
        ENTRIES.pop(username, None)
'''


def sqlite_store(database: Path) -> StoreConfiguration:
    """The store settings of an SQLite file (the embedded default, kept in a file so tests can read it)."""
    return {"directory": {"embedded": {"database": str(database)}}}


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` merged in, section by section (extra wins)."""
    result = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(result.get(key), Mapping):
            result[key] = merged(result[key], value)
        else:
            result[key] = value
    return result


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    return json.dumps(str(value))  # a TOML basic string: JSON's escapes are TOML's


def to_toml(data: Mapping[str, Any], table: str = "") -> str:
    """Nested settings as TOML: plain keys first, then one [table] per section."""
    lines = [f"[{table}]"] if table else []
    lines += [f"{key} = {_toml_value(value)}" for key, value in data.items() if not isinstance(value, Mapping)]
    text = "\n".join(lines) + "\n"
    for key, value in data.items():
        if isinstance(value, Mapping):
            text += "\n" + to_toml(value, f"{table}.{key}" if table else key)
    return text


def write_replica_policy(path: Path, store: StoreConfiguration, **overrides: Any) -> Policy:
    """Write a replica's policy file: `REPLICA_POLICY`, then `store`, then `overrides` (sections) merged in.

    The file is read back with the real loader and must say what was written; returns that policy.
    """
    settings = merged(merged(REPLICA_POLICY, store), overrides)
    expected = Policy.model_validate(settings)
    path.write_text(to_toml(settings), encoding="utf-8")
    loaded = load_policy(path)
    if loaded != expected:
        raise LiveServerError(f"the policy file {path} does not load as written")
    return loaded


async def enroll_kiosk(store_target: Any, name: str) -> str:
    """Enrol a kiosk in the replicas' store, as `kiosk kiosks add NAME` does; its credential `NAME:SECRET`.

    `store_target` is what `Store.open` takes: the SQLite file of `sqlite_store`, or the PostgreSQL settings.
    Every call but the health checks needs a live kiosk credential (issue 12, part 1).
    """
    from kiosk.services.backend.clock import SystemClock
    from kiosk.services.backend.kiosks import KioskRegistry
    from kiosk.services.backend.storage.store import Store

    store = await Store.open(store_target)
    try:
        return str((await KioskRegistry(store, SystemClock()).add(name)).text)
    finally:
        await store.close()


def write_fixed_keyring(folder: Path, entries: Mapping[str, str]) -> dict[str, str]:
    """Write the FAKE keyring module and its entries into `folder`; the environment variables that select it."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fixed_keyring.py").write_text(FIXED_KEYRING, encoding="utf-8")
    secrets_file = folder / "keyring.json"
    secrets_file.touch(mode=0o600)
    secrets_file.write_text(json.dumps(dict(entries)), encoding="utf-8")
    return {"PYTHON_KEYRING_BACKEND": "fixed_keyring.Keyring", "PYTHONPATH": str(folder)}


class Replica:
    """One `kiosk serve` process: its name (HAProxy's server name), port, policy file, log."""

    def __init__(
        self,
        name: str,
        port: int,
        policy_file: Path,
        log_file: Path,
        environment: Mapping[str, str],
        workers: int | None = None,
    ) -> None:
        self.name = name
        self.workers = workers
        """`kiosk serve --workers N`; None leaves kiosk serve's own default (one per core on PostgreSQL)."""
        self.host = HOST
        self.port = port
        self.policy_file = policy_file
        self.log_file = log_file
        self._environment = dict(environment)
        self._process: subprocess.Popen[bytes] | None = None
        self.started_in = 0.0
        """Seconds from spawning the process until it was ready (see `start`)."""

    @property
    def environment(self) -> dict[str, str]:
        """The replica's environment (its keyring selection with it): for `kiosk audit` on its policy."""
        return dict(self._environment)

    @property
    def url(self) -> str:
        """The replica's own base URL (tests normally go through HAProxy)."""
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        """The process id while it runs."""
        return self._process.pid if self._process is not None else None

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Spawn `kiosk serve` and wait until it is ready: GET /v1/ready answers 200, and every worker started.

        One worker answering is not enough: when another fails its start-up, uvicorn stops them all a moment
        later. So with `workers` known, all of them must have logged their start-up; otherwise /v1/ready
        must keep answering, with the process alive, for `SETTLE_SECONDS`.
        """
        if not KIOSK.exists():
            raise LiveServerError(f"{KIOSK} is missing: run `make setup` (the venv with the kiosk installed)")
        began = time.monotonic()
        command = [
            str(KIOSK),
            "serve",
            "--policy",
            str(self.policy_file),
            "--host",
            self.host,
            "--port",
            str(self.port),
        ]
        if self.workers is not None:
            command += ["--workers", str(self.workers)]
        logged = self.log_file.stat().st_size if self.log_file.exists() else 0
        with self.log_file.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603 - our own console script with fixed arguments
                command,
                cwd=REPO,
                env=self._environment,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        process = self._process

        answering_since: list[float] = []

        def ready() -> bool:
            if process.poll() is not None:
                raise LiveServerError(f"{self.name} exited with {process.returncode} at start-up:\n{self.errors()}")
            try:
                answers = httpx.get(f"{self.url}/v1/ready", timeout=2).status_code == 200
            except httpx.TransportError:
                answers = False
            if not answers:
                answering_since.clear()
                return False
            if self.workers is not None:
                log = self.log_file.read_bytes()[logged:].decode(errors="replace")
                return log.count(STARTUP_COMPLETE) >= self.workers
            answering_since[:1] = answering_since[:1] or [time.monotonic()]
            return time.monotonic() - answering_since[0] >= SETTLE_SECONDS

        try:
            wait_until(ready, timeout, f"{self.name} (kiosk serve on port {self.port}) to be ready", self.log_file)
        except BaseException:
            self.kill()
            raise
        self.started_in = time.monotonic() - began

    def errors(self) -> str:
        """The log's ERROR lines (uvicorn's access lines bury them), else its tail."""
        log = self.log_file.read_text(errors="replace") if self.log_file.exists() else ""
        errors = [line for line in log.splitlines() if line.startswith("ERROR")]
        return "\n".join(errors) if errors else log[-3000:]

    def kill(self) -> None:
        """SIGKILL the replica's whole process group (no shutdown at all) and reap it."""
        self._signal_and_reap(signal.SIGKILL, 10)

    def stop(self) -> None:
        """SIGTERM (a graceful stop), SIGKILL after 15 s; always reaped."""
        self._signal_and_reap(signal.SIGTERM, 15)

    def _signal_and_reap(self, signum: signal.Signals, grace: float) -> None:
        process = self._process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        # Workers of a killed parent may outlive it in the group for a moment: kill what is left.
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)


class ReplicaSet:
    """Starts `kiosk serve` replicas in a work folder and always reaps them (`close`)."""

    def __init__(self, workdir: Path, keyring_entries: Mapping[str, str] | None = None) -> None:
        self.workdir = workdir
        self.replicas: list[Replica] = []
        self.keyring_entries: dict[str, str] = {"enrollment-key": Fernet.generate_key().decode()}
        self.keyring_entries.update(keyring_entries or {})
        self._keyring_environment = write_fixed_keyring(workdir / "keyring", self.keyring_entries)

    def start(
        self,
        count: int,
        store: StoreConfiguration | Callable[[int], StoreConfiguration],
        *,
        environment: Mapping[str, str] | None = None,
        workers: int | None = 1,
        **overrides: Any,
    ) -> list[Replica]:
        """Start `count` replicas one after the other (the first seeds the demo users into an empty store).

        `store`: the store settings of every replica, or a function of the replica's number (1, 2 …) for
        replicas that do not share a store. `environment` is added to each replica's (e.g. a database
        password); `workers` is each one's `--workers` (None: kiosk serve's default, one per core on
        PostgreSQL); `overrides` are policy sections merged in last.
        """
        started = []
        for _ in range(count):
            number = len(self.replicas) + 1
            name = f"replica{number}"
            folder = self.workdir / name
            folder.mkdir(parents=True, exist_ok=True)
            settings = store(number) if callable(store) else store
            policy_file = folder / "policy.toml"
            write_replica_policy(policy_file, settings, **overrides)
            pythonpath = os.pathsep.join(
                filter(None, [self._keyring_environment["PYTHONPATH"], os.environ.get("PYTHONPATH", "")])
            )
            replica_environment = {
                **os.environ,
                **self._keyring_environment,
                "PYTHONPATH": pythonpath,
                **(environment or {}),
            }
            replica = Replica(name, free_port(HOST), policy_file, folder / "serve.log", replica_environment, workers)
            self.replicas.append(replica)
            replica.start()
            started.append(replica)
        return started

    def by_name(self, name: str) -> Replica:
        """The replica HAProxy calls `name`."""
        for replica in self.replicas:
            if replica.name == name:
                return replica
        raise KeyError(name)

    def __iter__(self) -> Iterator[Replica]:
        return iter(self.replicas)

    def close(self) -> None:
        """Stop every replica that still runs (SIGTERM, then SIGKILL); reaps all of them."""
        for replica in self.replicas:
            replica.stop()
