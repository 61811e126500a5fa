"""Forward each audit row to a syslog server (RFC 5424 over UDP, TCP or TLS) without ever holding up a request.

A row is formatted and queued when it is written (`submit` returns at once); one background task
sends the queue in order. A server that is down, slow or refusing TLS costs a reset nothing: the
message counts as not forwarded (`stats`), the first failure is logged (host, port and the kind of
error, never a message's contents) and, while the server stays unreachable, messages are dropped
without a new attempt for `RETRY_SECONDS`. The rows stay in the backend's database either way.

Framing: UDP carries one message per datagram (RFC 5426); TCP (RFC 6587) and TLS (RFC 5425) use
octet counting, `LENGTH SP MESSAGE`. The structured data carries every hashed field plus the row's
`prev_hash` and `hash`, so the copy on the syslog server can itself be checked against the chain.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import ssl
from dataclasses import dataclass

from kiosk.policy.audit_schema import SyslogFacility, SyslogProtocol, SyslogSettings
from kiosk.services.backend.audit.log import AuditEvent, AuditRecord

log = logging.getLogger(__name__)

FACILITY_CODES = {
    SyslogFacility.USER: 1,
    SyslogFacility.DAEMON: 3,
    SyslogFacility.AUTH: 4,
    SyslogFacility.AUTHPRIV: 10,
    **{SyslogFacility(f"local{n}"): 16 + n for n in range(8)},
}
"""RFC 5424 table 1."""

INFORMATIONAL, NOTICE, WARNING = 6, 5, 4
QUEUE_SIZE = 10_000
"""Messages waiting to be sent; past this (a long outage), new ones are dropped and counted."""
RETRY_SECONDS = 5.0
"""After a failed send (and one immediate retry), how long messages are dropped before trying again."""
BOM = "\ufeff"


def _severity(record: AuditRecord) -> int:
    if record.event in (AuditEvent.BLOCKED, AuditEvent.STEP_REFUSED):
        return WARNING
    return INFORMATIONAL if record.outcome == "ok" else NOTICE


def _param(value: str) -> str:
    # RFC 5424 §6.3.3: inside PARAM-VALUE, '"', '\' and ']' are escaped with a backslash.
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("]", "\\]")


def _header_token(value: str, limit: int) -> str:
    """A header field: printable US-ASCII without spaces, at most `limit` characters, '-' if nothing is left."""
    cleaned = "".join(char for char in value if "!" <= char <= "~")[:limit]
    return cleaned or "-"


def _readable(value: str) -> str:
    # The free-text MSG part: no control characters, so a line-based receiver shows one line.
    return "".join(char if char.isprintable() else " " for char in value)


def format_message(record: AuditRecord, settings: SyslogSettings, *, hostname: str, procid: str) -> bytes:
    """One RFC 5424 message for an audit row: header, `[audit@PEN ...]` structured data, a short text."""
    priority = FACILITY_CODES[settings.facility] * 8 + _severity(record)
    params = {
        "id": str(record.id),
        "at": record.at,
        "event": record.event.value,
        "outcome": record.outcome,
        "user": record.user_id,
        "kiosk": record.kiosk_id,
        "reference": record.reference,
        "correlation": record.correlation_id,
        "prev": record.prev_hash,
        "hash": record.hash,
    }
    data = " ".join(f'{name}="{_param(value)}"' for name, value in params.items())
    user = record.user_id or "-"
    text = f"{record.event.value} {record.outcome} user={user} kiosk={record.kiosk_id} ref={record.reference}"
    header = " ".join(
        (
            f"<{priority}>1",
            record.at,
            _header_token(hostname, 255),
            _header_token(settings.app_name, 48),
            _header_token(procid, 128),
            _header_token(record.event.value, 32),
        )
    )
    return f"{header} [audit@{settings.enterprise_number} {data}] {BOM}{_readable(text)}".encode()


def octet_counted(message: bytes) -> bytes:
    """TCP/TLS framing (RFC 6587 §3.4.1, RFC 5425 §4.3): the length in decimal, a space, the message."""
    return b"%d %s" % (len(message), message)


@dataclass(slots=True)
class ForwardingStats:
    """How many messages went out and how many did not (counted, never logged one by one)."""

    sent: int = 0
    not_forwarded: int = 0


class SyslogSetupError(Exception):
    """The syslog settings cannot work (an unreadable CA file): the backend does not start."""


def _tls_context(settings: SyslogSettings) -> ssl.SSLContext:
    """Verify the server's certificate and name against `ca_file` (or the system's CAs); TLS 1.2 or newer."""
    try:
        context = ssl.create_default_context(cafile=settings.ca_file or None)
    except (OSError, ssl.SSLError) as error:
        raise SyslogSetupError(
            f"audit.syslog.ca_file: cannot use {settings.ca_file!r} as the CA of the syslog server "
            f"({type(error).__name__}: {error.strerror or error})"
        ) from None
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    return context


class _Udp(asyncio.DatagramProtocol):
    """A connected UDP socket; send errors reported by the OS (ICMP unreachable) arrive later and are noted."""

    def __init__(self) -> None:
        self.error: OSError | None = None

    def error_received(self, exc: Exception) -> None:
        self.error = exc if isinstance(exc, OSError) else OSError(str(type(exc).__name__))


class SyslogForwarder:
    """The `AuditSink` that sends every audit row to the policy's syslog server in the background."""

    def __init__(self, settings: SyslogSettings, *, hostname: str | None = None) -> None:
        self._settings = settings
        # Built once, at start-up: loading CA files is slow file work that must not run per message on
        # the event loop (the UI thread in embedded mode), and a bad ca_file should stop the start.
        self._tls = _tls_context(settings) if settings.protocol is SyslogProtocol.TLS else None
        self._hostname = hostname if hostname is not None else socket.gethostname()
        self._procid = str(os.getpid())
        self._queue: asyncio.Queue[bytes] | None = None
        self._worker: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._reader: asyncio.StreamReader | None = None
        self._udp: tuple[asyncio.DatagramTransport, _Udp] | None = None
        self._down_until = 0.0
        self._failing = False
        self._closed = False
        self.stats = ForwardingStats()

    @property
    def target(self) -> str:
        """host:port and protocol, for logs and diagnostics."""
        return f"{self._settings.protocol.value}://{self._settings.host}:{self._settings.effective_port}"

    def submit(self, record: AuditRecord) -> None:
        """Queue one row for sending; returns at once (called on the event loop, after the row is committed)."""
        if self._closed:
            return
        message = format_message(record, self._settings, hostname=self._hostname, procid=self._procid)
        if self._queue is None:
            self._queue = asyncio.Queue(QUEUE_SIZE)
            self._worker = asyncio.get_running_loop().create_task(self._run(self._queue), name="kiosk-audit-syslog")
        try:
            self._queue.put_nowait(message)
        except asyncio.QueueFull:
            self._lost(f"queue full ({QUEUE_SIZE} messages waiting)")

    async def flush(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds until every queued message was handled (sent or counted); True if so."""
        if self._queue is None:
            return True
        try:
            await asyncio.wait_for(self._queue.join(), timeout)
        except TimeoutError:
            return False
        return True

    async def close(self) -> None:
        """Send what is queued (for at most the policy's timeout), then stop the task and close the connection."""
        if self._closed:
            return
        await self.flush(self._settings.timeout_seconds)
        self._closed = True
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        await self._disconnect()
        if self.stats.not_forwarded:
            log.warning("audit syslog %s: %d event(s) were not forwarded", self.target, self.stats.not_forwarded)

    async def _run(self, queue: asyncio.Queue[bytes]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            message = await queue.get()
            try:
                if loop.time() < self._down_until:
                    self.stats.not_forwarded += 1
                    continue
                await self._deliver(message)
            finally:
                queue.task_done()

    async def _deliver(self, message: bytes) -> None:
        # One immediate retry on a fresh connection: a TCP server that restarted leaves a stale one.
        error: BaseException | None = None
        for _attempt in range(2):
            try:
                await asyncio.wait_for(self._send(message), self._settings.timeout_seconds)
            except Exception as failure:  # noqa: BLE001 - any failure (also a host name IDNA refuses) is a lost message
                error = failure
                await self._disconnect()
                continue
            self.stats.sent += 1
            if self._failing:
                self._failing = False
                log.warning(
                    "audit syslog %s: reachable again (%d event(s) not forwarded so far)",
                    self.target,
                    self.stats.not_forwarded,
                )
            return
        self._down_until = asyncio.get_running_loop().time() + RETRY_SECONDS
        self._lost(type(error).__name__)

    def _lost(self, reason: str) -> None:
        self.stats.not_forwarded += 1
        if not self._failing:
            self._failing = True
            # Logged once per outage; the messages themselves are never logged.
            log.warning(
                "audit syslog %s: cannot forward (%s); events are kept in the database and further failures "
                "are counted, not logged",
                self.target,
                reason,
            )

    async def _send(self, message: bytes) -> None:
        if self._settings.protocol is SyslogProtocol.UDP:
            transport, protocol = await self._udp_socket()
            if protocol.error is not None:
                error, protocol.error = protocol.error, None
                raise error
            transport.sendto(message)
            return
        if self._writer is None or self._reader is None or self._reader.at_eof() or self._writer.is_closing():
            await self._disconnect()
            await self._connect()
        assert self._writer is not None
        self._writer.write(octet_counted(message))
        await self._writer.drain()

    async def _udp_socket(self) -> tuple[asyncio.DatagramTransport, _Udp]:
        if self._udp is None or self._udp[0].is_closing():
            loop = asyncio.get_running_loop()
            transport, protocol = await loop.create_datagram_endpoint(
                _Udp, remote_addr=(self._settings.host, self._settings.effective_port)
            )
            self._udp = (transport, protocol)
        return self._udp

    async def _connect(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(
            self._settings.host, self._settings.effective_port, ssl=self._tls
        )

    async def _disconnect(self) -> None:
        writer, self._writer, self._reader = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError, TimeoutError):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
        if self._udp is not None:
            self._udp[0].close()
            self._udp = None
