"""A real HAProxy (Debian's `haproxy`, 2.6) in front of `kiosk serve` replicas, as an organisation would run it.

Recipe: /work/shared/notes/real-servers.md section 6: the program in the foreground (`haproxy -f cfg -db`)
with the test's own configuration, never the system service. Round robin; every replica is health-checked
with `GET /v1/health` every 200 ms, out after 2 failures and back after 2 successes, so a replica killed
with SIGKILL is out within about half a second. Until then a request to it fails to connect, and HAProxy
sends it to another replica (`option redispatch`, `retries`): a request that never reached a server is
always safe to send again. A request that did reach the killed replica (it closed the connection without
an answer) is sent again only when that is safe too: a GET, or a step that carries its request id in
`Idempotency-Key` (the backend answers a repeated id from its first result and never applies it twice).
Any other POST may have taken effect before the kill: HAProxy never sends it twice, and the kiosk sees
its connection closed without an answer (or a 502), as if it had talked to the replica directly.

Every answer says which replica served it in `X-Served-By` (the server's name in the configuration), so
tests can see the calls alternate. The admin socket in the work folder answers `show stat`.
"""

from __future__ import annotations

import csv
import io
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from live_servers.common import LiveServerError, ServerProcess, free_port, port_open, program, run, wait_until

HOST = "127.0.0.1"
SERVED_BY = "X-Served-By"
REQUEST_ID_HEADER = "Idempotency-Key"
"""The header of a step's request id, spelled out as an HAProxy configuration must (the API's
IDEMPOTENCY_HEADER; tests/shared_backend/test_haproxy_retries.py checks they agree)."""

INSTALL_HINT = (
    "run `make test-deps` as root on Debian/Ubuntu (it apt-get installs postgresql and haproxy), or install "
    "haproxy yourself; the replica tests never skip"
)


@dataclass(frozen=True)
class Upstream:
    """One server behind HAProxy: its name (in `X-Served-By`) and where it listens."""

    name: str
    host: str
    port: int


def haproxy_config(port: int, upstreams: Sequence[Upstream], admin_socket: Path) -> str:
    """The configuration: one HTTP frontend on `port`, round robin over `upstreams` with health checks."""
    servers = "\n".join(f"    server {up.name} {up.host}:{up.port} check" for up in upstreams)
    return f"""\
global
    log stdout format raw daemon
    stats socket {admin_socket} mode 600 level admin
    maxconn 2000

defaults
    mode http
    log global
    option httplog
    option dontlognull
    timeout connect 1s
    timeout client 60s
    # Longer than any step's own deadline in the backend: HAProxy must never cut an answer short.
    timeout server 60s
    timeout queue 5s
    timeout http-request 10s
    timeout check 1s
    retries 3
    option redispatch 1
    retry-on conn-failure empty-response
    # L7 retries resend a request from HAProxy's buffer: without this, a POST's body is not kept, and
    # HAProxy drops the kiosk's connection instead of sending the request to another replica.
    option http-buffer-request
    option forwardfor
    # A new server connection for every request: an idle one kept to a replica that has since died would
    # take the next request and lose it (an "empty response" HAProxy may not resend for a POST without a
    # request id), where a new connection to a dead replica fails at once and is safely sent to another.
    http-reuse never

frontend kiosks
    bind {HOST}:{port}
    default_backend replicas

backend replicas
    balance roundrobin
    option httpchk GET /v1/health
    http-check expect status 200
    default-server inter 200ms fastinter 100ms downinter 200ms fall 2 rise 2
    # Sent again after reaching a server that answered nothing: only a GET or a step with its request id.
    http-request disable-l7-retry unless METH_GET || {{ req.hdr({REQUEST_ID_HEADER}) -m found }}
    http-response set-header {SERVED_BY} %s
{servers}
"""


class HAProxy:
    """A running HAProxy: its URL, its servers' states, stop."""

    def __init__(self, process: ServerProcess, url: str, admin_socket: Path, workdir: Path, log_file: Path) -> None:
        self._process = process
        self.url = url
        self.admin_socket = admin_socket
        self.workdir = workdir
        self.log_file = log_file

    def admin(self, command: str) -> str:
        """One command on the admin socket (e.g. `show stat`); its answer."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(5)
            sock.connect(str(self.admin_socket))
            sock.sendall(command.encode() + b"\n")
            chunks = []
            while chunk := sock.recv(65536):
                chunks.append(chunk)
        return b"".join(chunks).decode(errors="replace")

    def server_states(self) -> dict[str, str]:
        """Each server's state by name: "UP", "DOWN", "UP 1/2" (going down) … as `show stat` says."""
        text = self.admin("show stat").lstrip("# ")
        return {
            row["svname"]: row["status"]
            for row in csv.DictReader(io.StringIO(text))
            if row.get("pxname") == "replicas" and row.get("svname") not in ("FRONTEND", "BACKEND")
        }

    def wait_for_states(self, wanted: dict[str, str], timeout: float = 10) -> None:
        """Wait until the named servers are in the given states ("UP" or "DOWN")."""
        wait_until(
            lambda: all(self.server_states().get(name) == state for name, state in wanted.items()),
            timeout,
            f"HAProxy to see {wanted} (now {self.server_states()})",
            self.log_file,
        )

    def stop(self) -> None:
        """Stop HAProxy."""
        self._process.stop()


def start_haproxy(upstreams: Sequence[Upstream], workdir: Path) -> HAProxy:
    """Write the configuration into `workdir`, check it, run HAProxy on a free port; returns once it listens."""
    try:
        haproxy = program("haproxy")
    except LiveServerError:
        raise LiveServerError(f"HAProxy is not installed: {INSTALL_HINT}") from None
    port = free_port(HOST)
    admin_socket = workdir / "haproxy.sock"
    config = workdir / "haproxy.cfg"
    config.write_text(haproxy_config(port, upstreams, admin_socket), encoding="utf-8")
    log_file = workdir / "haproxy.log"
    run([haproxy, "-c", "-q", "-f", str(config)], "haproxy -c (the configuration check)")
    process = ServerProcess(
        [haproxy, "-f", str(config), "-db"],
        log_file,
        lambda: port_open(HOST, port) and admin_socket.exists(),
        "haproxy",
    )
    process.start(timeout=15)
    return HAProxy(process, f"http://{HOST}:{port}", admin_socket, workdir, log_file)
