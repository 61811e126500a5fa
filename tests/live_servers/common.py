"""The fixture API shared by both live directories, and the plumbing under it.

`LiveDirectory` is what the `openldap_server` and `samba_ad_server` fixtures return. Its
`stop()`/`start()` act on the same server with the same data (for "the directory stopped
mid-flow"); `stopped()` does both around a block. `bind_ok()` is a real LDAPS bind with the
certificate verified against `ca_file` (note: a wrong password counts as a failed bind for the
server's lockout, as it would for any client).
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import ldap3
from ldap3.core.exceptions import LDAPException


class LiveServerError(RuntimeError):
    """A live server could not be installed, provisioned or started (the message says why)."""


INSTALL_HINT = (
    "run `make test-deps` as root on Debian/Ubuntu (it apt-get installs slapd ldap-utils samba samba-ad-dc "
    "samba-ad-provision winbind), or install those packages yourself; the live-server tests never skip"
)


def require_programs(*names: str) -> None:
    """Fail clearly when a server program is not installed."""
    missing = [name for name in names if shutil.which(name) is None and not Path("/usr/sbin", name).exists()]
    if missing:
        raise LiveServerError(f"not installed: {', '.join(missing)}: {INSTALL_HINT}")


def program(name: str) -> str:
    """Absolute path of a program (also in /usr/sbin when that is not on PATH)."""
    found = shutil.which(name) or (str(Path("/usr/sbin", name)) if Path("/usr/sbin", name).exists() else None)
    if found is None:
        raise LiveServerError(f"not installed: {name}: {INSTALL_HINT}")
    return found


def new_password() -> str:
    """A random password every policy here accepts (upper, lower, digit, symbol; 21 characters).

    Hex keeps it free of any user's name (Samba's complexity check refuses those).
    """
    return f"Kp!{secrets.token_hex(8)}Z9"


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def unreachable_ldaps_url() -> str:
    """An ldaps:// URL on a closed loopback port (connection refused): the unreachable server at start-up."""
    return f"ldaps://127.0.0.1:{free_port()}"


def port_open(host: str, port: int) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_until(check: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    """Poll `check` every 50 ms until true, else raise with the tail of `log`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    tail = log.read_text(errors="replace")[-3000:] if log and log.exists() else ""
    raise LiveServerError(f"timed out after {timeout:.0f} s waiting for {what}\n{tail}")


def run(command: Sequence[str], what: str, timeout: float = 120) -> str:
    """Run a setup command; raise with its output when it fails."""
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)  # noqa: S603
    if done.returncode != 0:
        shown = " ".join(re.sub(r"^(--\w*pass\w*=).*", r"\1***", part) for part in command)
        raise LiveServerError(f"{what} failed (exit {done.returncode}): {shown}\n{done.stdout}\n{done.stderr}")
    return done.stdout


class ServerProcess:
    """One foreground server process that can be stopped and started again with the same command.

    `ready` tells when it answers; `stop()` sends SIGTERM (SIGKILL after 15 s) to its process group.
    """

    def __init__(self, command: Sequence[str], log: Path, ready: Callable[[], bool], name: str) -> None:
        self._command = list(command)
        self._log = log
        self._ready = ready
        self._name = name
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def running(self) -> bool:
        """Whether the process is alive."""
        return self._process is not None and self._process.poll() is None

    def start(self, timeout: float = 60) -> None:
        """Start the process and wait until `ready`; no-op when it runs."""
        if self.running:
            return
        with self._log.open("ab") as log:
            self._process = subprocess.Popen(  # noqa: S603
                self._command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        process = self._process

        def ready() -> bool:
            if process.poll() is not None:
                tail = self._log.read_text(errors="replace")[-3000:]
                raise LiveServerError(f"{self._name} exited with {process.returncode} at start-up:\n{tail}")
            return self._ready()

        wait_until(ready, timeout, f"{self._name} to answer", self._log)

    def stop(self) -> None:
        """Stop the process (and its children) and wait until it is gone."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@dataclass(frozen=True)
class LiveUser:
    """A provisioned user: how to find it, its password, and which branch it covers."""

    login: str
    dn: str
    password: str
    display_name: str
    mail: str
    mobile: str
    telephone: str
    groups: tuple[str, ...]
    """Names of the groups it is a DIRECT member of."""
    locked: bool
    disabled: bool
    is_admin: bool
    enabled_member: bool
    """Member of the enabled group, directly or through the nested group."""
    covers: str


@dataclass(frozen=True)
class LiveGroups:
    """The three groups: names and DNs."""

    enabled: str
    enabled_dn: str
    nested: str
    nested_dn: str
    """Member of the enabled group; bob is in it."""
    admin: str
    admin_dn: str


@dataclass(frozen=True)
class LiveDirectory:
    """A running throwaway directory (one per session, provisioned, with known users)."""

    kind: str
    """"openldap" or "samba_ad"."""
    host: str
    port: int
    """Plain LDAP (OpenLDAP: simple binds allowed; Samba: StartTLS needed before a simple bind)."""
    ldaps_port: int
    ldaps_url: str
    ldap_url: str
    ca_file: str
    """The CA that signed the server certificate (SAN: `host`, plus `localhost` for OpenLDAP)."""
    wrong_ca_file: str
    """A CA that did NOT sign the server certificate: trusting only it fails the handshake."""
    base_dn: str
    people_dn: str
    groups_dn: str
    service_bind_dn: str
    service_password: str
    admin_bind_dn: str
    admin_password: str
    users: Mapping[str, LiveUser]
    groups: LiveGroups
    workdir: str
    log_file: str
    policy: Mapping[str, Any]
    """The password/lockout policy as set at provisioning."""
    _process: ServerProcess = field(repr=False, compare=False)

    def stop(self) -> None:
        """Stop the server (its data stays); a connection attempt is then refused."""
        self._process.stop()

    def start(self) -> None:
        """Start the stopped server again with the same data; returns once LDAPS answers."""
        self._process.start()

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process.running

    @contextlib.contextmanager
    def stopped(self) -> Iterator[None]:
        """Stop the server for the block, and start it again afterwards even when the block fails."""
        self.stop()
        try:
            yield
        finally:
            self.start()

    def tls(self, ca_file: str | None = None) -> ldap3.Tls:
        """ldap3 TLS settings that verify the certificate (against `ca_file`, default ours)."""
        return ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=ca_file or self.ca_file)

    def server(self, ca_file: str | None = None) -> ldap3.Server:
        """An ldap3 LDAPS server object with certificate verification."""
        return ldap3.Server(
            self.host, port=self.ldaps_port, use_ssl=True, tls=self.tls(ca_file), get_info=ldap3.NONE, connect_timeout=5
        )

    def connect(self, dn: str | None = None, password: str | None = None) -> ldap3.Connection:
        """A bound LDAPS connection (default: as the admin); raises when the bind fails."""
        return ldap3.Connection(
            self.server(),
            user=dn or self.admin_bind_dn,
            password=password if password is not None else self.admin_password,
            auto_bind=True,
            receive_timeout=10,
            raise_exceptions=False,
        )

    def bind_ok(self, dn: str, password: str) -> bool:
        """Whether a real LDAPS simple bind as `dn` succeeds (certificate verified with `ca_file`)."""
        connection = ldap3.Connection(self.server(), user=dn, password=password, receive_timeout=10)
        try:
            return bool(connection.bind())
        except LDAPException:
            return False
        finally:
            with contextlib.suppress(LDAPException):
                connection.unbind()

    def read(self, dn: str, attributes: Sequence[str]) -> dict[str, list[Any]]:
        """The attributes of one entry as read by the admin (operational ones included when named).

        Values are lists of strings as the server sends them (no schema is read, so no conversion:
        Samba's lockoutTime is the FILETIME integer as text, "0" after an unlock); an attribute the
        entry lacks is absent from the dict.
        """
        connection = self.connect()
        try:
            ok = connection.search(dn, "(objectClass=*)", search_scope=ldap3.BASE, attributes=list(attributes))
            if not ok or not connection.entries:
                raise LiveServerError(f"cannot read {dn}: {connection.result}")
            values = connection.entries[0].entry_attributes_as_dict
            return {name: list(value) for name, value in values.items() if value not in (None, [], "")}
        finally:
            connection.unbind()
