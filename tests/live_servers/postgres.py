"""A throwaway PostgreSQL cluster in a temporary folder, for the shared backend's store and replica tests.

Recipe: /work/shared/notes/real-servers.md section 5 (Debian 12 `postgresql`, version 15). `initdb`
refuses to run as root, so as root the server programs run as the `postgres` user (`runuser`) and the
folder belongs to it; as anyone else they run as that user. The superuser `kiosk` logs in with a random
password (scram-sha-256, also on the local socket), over TCP on 127.0.0.1 and a free port. fsync,
full-page writes and synchronous commit are off: this cluster is thrown away, never recovered.

The password is never part of a logged command line: initdb reads it from a file deleted right after,
and `psql` gets it from PGPASSWORD.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from live_servers.common import LiveServerError, free_port, wait_until

HOST = "127.0.0.1"
SUPERUSER = "kiosk"
SERVER_USER = "postgres"
"""Who runs initdb, pg_ctl and the server when the tests run as root (Debian's package creates it)."""

INSTALL_HINT = (
    "run `make test-deps` as root on Debian/Ubuntu (it apt-get installs postgresql and haproxy), or install "
    "PostgreSQL's server programs (initdb, pg_ctl, postgres, psql) yourself; the replica tests never skip"
)

SETTINGS = {
    "listen_addresses": f"'{HOST}'",
    "fsync": "off",
    "full_page_writes": "off",
    "synchronous_commit": "off",
    "max_connections": "200",
    "log_min_messages": "warning",
}
"""Appended to postgresql.conf (port and socket folder are added per cluster)."""


def server_programs() -> Path:
    """The folder of initdb, pg_ctl and psql: the newest /usr/lib/postgresql/N/bin (Debian), else PATH."""
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda path: int(path.parts[-3]), reverse=True
    )
    if versions:
        return versions[0].parent
    initdb = shutil.which("initdb")
    if initdb is None:
        raise LiveServerError(f"PostgreSQL is not installed (no initdb): {INSTALL_HINT}")
    return Path(initdb).parent


@dataclass
class PostgresCluster:
    """A running throwaway cluster: where it listens, who logs in, and a few helpers."""

    host: str
    port: int
    user: str
    password: str = field(repr=False)
    dbname: str
    """The database that always exists (`postgres`); tests make their own with `fresh_database()`."""
    bin_dir: Path
    workdir: Path
    log_file: Path
    _as_server_user: tuple[str, ...] = field(repr=False, default=())
    _made: list[str] = field(repr=False, default_factory=list)

    def dsn(self, dbname: str | None = None, *, with_password: bool = False) -> str:
        """A libpq URL for `dbname` (default: `dbname`); the password only when asked (never log that one)."""
        secret = f":{quote(self.password, safe='')}" if with_password else ""
        return f"postgresql://{quote(self.user, safe='')}{secret}@{self.host}:{self.port}/{dbname or self.dbname}"

    def client_environment(self) -> dict[str, str]:
        """libpq's variables for this cluster (PGPASSWORD included), over a copy of this process's environment."""
        return {
            **os.environ,
            "PGHOST": self.host,
            "PGPORT": str(self.port),
            "PGUSER": self.user,
            "PGPASSWORD": self.password,
            "PGDATABASE": self.dbname,
            "PGCONNECT_TIMEOUT": "5",
        }

    def psql(self, sql: str, dbname: str | None = None) -> str:
        """Run SQL with psql (stop at the first error); its unaligned, tuples-only output."""
        command = [str(self.bin_dir / "psql"), "-X", "-v", "ON_ERROR_STOP=1", "-At", "-d", dbname or self.dbname]
        done = subprocess.run(  # noqa: S603 - the cluster's own psql, SQL on standard input
            command, input=sql, capture_output=True, text=True, env=self.client_environment(), timeout=60, check=False
        )
        if done.returncode != 0:
            raise LiveServerError(f"psql failed (exit {done.returncode}) on {dbname or self.dbname}: {done.stderr}")
        return done.stdout

    def fresh_database(self, prefix: str = "kiosk") -> str:
        """CREATE DATABASE a new, empty database (a random name starting with `prefix`); returns its name."""
        name = f"{prefix}_{secrets.token_hex(4)}"
        self.psql(f'CREATE DATABASE "{name}"')
        self._made.append(name)
        return name

    def drop_database(self, name: str) -> None:
        """DROP DATABASE, closing whatever connections are still open to it."""
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        with contextlib.suppress(ValueError):
            self._made.remove(name)

    def databases(self) -> list[str]:
        """The databases made with `fresh_database()` that are not dropped yet."""
        return list(self._made)

    def stop(self) -> None:
        """Stop the server (fast shutdown: open connections are closed); a no-op when it is down."""
        pg_ctl = [*self._as_server_user, str(self.bin_dir / "pg_ctl"), "-D", str(self.workdir / "data")]
        status = subprocess.run([*pg_ctl, "status"], capture_output=True, timeout=30, check=False)  # noqa: S603
        if status.returncode != 0:
            return
        done = subprocess.run([*pg_ctl, "-m", "fast", "-w", "-t", "30", "stop"], capture_output=True, timeout=60)  # noqa: S603
        if done.returncode != 0:
            _kill_postmaster(self.workdir / "data")


def _kill_postmaster(data: Path) -> None:
    """SIGKILL the postmaster named in postmaster.pid (when a fast stop failed)."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        pid = int((data / "postmaster.pid").read_text().split()[0])
        os.kill(pid, 9)


def start_postgres() -> PostgresCluster:
    """initdb a new cluster in a temporary folder and start it on a free port; returns once it answers.

    On any failure the half-made cluster is stopped and its folder deleted before the error is raised.
    """
    bin_dir = server_programs()
    for name in ("initdb", "pg_ctl", "postgres", "psql"):
        if not (bin_dir / name).exists():
            raise LiveServerError(f"PostgreSQL's {name} is not installed in {bin_dir}: {INSTALL_HINT}")
    as_server_user: tuple[str, ...] = ()
    workdir = Path(tempfile.mkdtemp(prefix="kiosk-pg-"))
    if os.geteuid() == 0:
        runuser = shutil.which("runuser")
        if runuser is None:
            raise LiveServerError("running as root, and runuser is missing: initdb refuses to run as root")
        as_server_user = (runuser, "-u", SERVER_USER, "--")
        try:
            shutil.chown(workdir, user=SERVER_USER, group=SERVER_USER)
        except LookupError:
            shutil.rmtree(workdir, ignore_errors=True)
            raise LiveServerError(f"running as root, and there is no {SERVER_USER} user: {INSTALL_HINT}") from None
    cluster = PostgresCluster(
        host=HOST,
        port=free_port(HOST),
        user=SUPERUSER,
        password=secrets.token_urlsafe(18),
        dbname="postgres",
        bin_dir=bin_dir,
        workdir=workdir,
        log_file=workdir / "server.log",
        _as_server_user=as_server_user,
    )
    try:
        _initdb(cluster)
        _start(cluster)
    except BaseException:
        cluster.stop()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return cluster


def _run_as_server(cluster: PostgresCluster, command: Sequence[str], what: str, timeout: float = 120) -> None:
    done = subprocess.run(  # noqa: S603 - PostgreSQL's own programs with fixed arguments
        [*cluster._as_server_user, *command], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        tail = cluster.log_file.read_text(errors="replace")[-3000:] if cluster.log_file.exists() else ""
        raise LiveServerError(f"{what} failed (exit {done.returncode}): {done.stdout}\n{done.stderr}\n{tail}")


def _initdb(cluster: PostgresCluster) -> None:
    password_file = cluster.workdir / "pw"
    password_file.write_text(cluster.password + "\n", encoding="utf-8")
    password_file.chmod(0o600)
    if cluster._as_server_user:
        shutil.chown(password_file, user=SERVER_USER, group=SERVER_USER)
    try:
        _run_as_server(
            cluster,
            [
                str(cluster.bin_dir / "initdb"),
                "-D",
                str(cluster.workdir / "data"),
                "-U",
                cluster.user,
                "-A",
                "scram-sha-256",
                f"--pwfile={password_file}",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            "initdb",
        )
    finally:
        password_file.unlink(missing_ok=True)
    settings: Mapping[str, str] = {
        **SETTINGS,
        "port": str(cluster.port),
        "unix_socket_directories": f"'{cluster.workdir}'",
    }
    with (cluster.workdir / "data" / "postgresql.conf").open("a", encoding="utf-8") as conf:
        conf.write("\n# the kiosk tests' throwaway cluster\n")
        conf.writelines(f"{name} = {value}\n" for name, value in settings.items())


def _start(cluster: PostgresCluster) -> None:
    started = time.monotonic()
    _run_as_server(
        cluster,
        [
            str(cluster.bin_dir / "pg_ctl"),
            "-D",
            str(cluster.workdir / "data"),
            "-l",
            str(cluster.log_file),
            "-w",
            "-t",
            "60",
            "start",
        ],
        "pg_ctl start",
    )

    def answers() -> bool:
        try:
            return cluster.psql("SELECT 1").strip() == "1"
        except LiveServerError:
            return False

    wait_until(answers, max(5.0, 60 - (time.monotonic() - started)), "PostgreSQL to answer", cluster.log_file)
