"""Syslog forwarding of the audit trail to REAL listener sockets on loopback: UDP, TCP and TLS (a test CA).

Each test runs a whole reset (emma, e-mail code) through the backend's HTTP API with `[audit.syslog]`
pointing at a socket the test opened, then parses what arrived as RFC 5424 (octet-counted on TCP and
TLS) and compares it with the rows in the database. A server that is down, refuses the certificate,
or never answers must cost the reset nothing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import socket
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from live_servers.certificates import TlsFiles, make_tls_files

from kiosk.policy.audit_schema import AuditSettings, SyslogSettings
from kiosk.policy.schema import Method
from kiosk.services.backend import Backend
from kiosk.services.backend.audit import syslog as audit_syslog
from kiosk.services.backend.audit.chain import chain_hash
from kiosk.services.backend.audit.log import AuditRecord
from kiosk.services.backend.audit.syslog import SyslogForwarder, SyslogSetupError

from .conftest import GOOD_PASSWORD, Kiosk, demo_policy, kiosk_for

RFC5424 = re.compile(
    r"<(?P<pri>\d{1,3})>1 (?P<timestamp>\S+) (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128}) "
    r"(?P<msgid>[!-~]{1,32}) \[(?P<sdid>[^ =\]\"]+)(?P<params>(?: [^ =\]\"]+=\"(?:[^\"\\\]]|\\.)*\")*)\] "
    r"\ufeff(?P<msg>.*)",
    re.DOTALL,
)
PARAM = re.compile(r' ([^ =\]"]+)="((?:[^"\\\]]|\\.)*)"')
AUTHPRIV = 10


@dataclass
class Received:
    """Messages a listener got, in arrival order."""

    messages: list[bytes] = field(default_factory=list)
    arrived: asyncio.Event = field(default_factory=asyncio.Event)

    def add(self, message: bytes) -> None:
        self.messages.append(message)
        self.arrived.set()

    async def at_least(self, count: int) -> list[bytes]:
        """Wait until `count` messages arrived (bounded by pytest's timeout, never by a sleep)."""
        while len(self.messages) < count:
            self.arrived.clear()
            await self.arrived.wait()
        return self.messages


class UdpListener(asyncio.DatagramProtocol):
    """A syslog receiver over UDP: one message per datagram (RFC 5426)."""

    def __init__(self, received: Received) -> None:
        self.received = received

    def datagram_received(self, data: bytes, addr: Any) -> None:
        self.received.add(data)


async def read_octet_counted(reader: asyncio.StreamReader, received: Received) -> None:
    """A syslog receiver over TCP/TLS: `LENGTH SP MESSAGE` frames (RFC 6587 octet counting, RFC 5425)."""
    try:
        while True:
            length = await reader.readuntil(b" ")
            assert length[:-1].isdigit(), length
            received.add(await reader.readexactly(int(length[:-1])))
    except (asyncio.IncompleteReadError, ConnectionError, ssl.SSLError):
        return


@asynccontextmanager
async def stream_listener(tls: ssl.SSLContext | None = None) -> AsyncIterator[tuple[int, Received]]:
    """A TCP (or, with `tls`, TLS) syslog server on a free loopback port."""
    received = Received()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_octet_counted(reader, received)
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1], received
    finally:
        server.close()
        await server.wait_closed()


def syslog_policy(port: int, protocol: str, **settings: Any) -> Any:
    """The demo policy with audit.syslog pointing at 127.0.0.1:port."""
    syslog = SyslogSettings.model_validate({"host": "127.0.0.1", "port": port, "protocol": protocol, **settings})
    return demo_policy(audit=AuditSettings(syslog=syslog))


def forwarder(kiosk: Kiosk) -> SyslogForwarder:
    sink = kiosk.backend._rt.audit.sink
    assert isinstance(sink, SyslogForwarder)
    return sink


async def reset_emma(kiosk: Kiosk) -> str:
    """A whole reset; returns the e-mailed code (which must never be forwarded)."""
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    code = await kiosk.sent_code()
    await kiosk.code(code)
    response = await kiosk.password(GOOD_PASSWORD)
    assert response.status_code == 200, response.text
    return code


def parse(message: bytes) -> tuple[re.Match[str], dict[str, str]]:
    """One RFC 5424 message: the header match and the structured-data parameters (unescaped)."""
    text = message.decode("utf-8")
    match = RFC5424.fullmatch(text)
    assert match, text
    params = {name: re.sub(r"\\(.)", r"\1", value) for name, value in PARAM.findall(match["params"])}
    return match, params


def assert_copies_of(messages: list[bytes], records: list[AuditRecord]) -> None:
    """Each message is the matching row: header, every hashed field, the chain, a readable text."""
    assert len(messages) == len(records)
    for message, record in zip(messages, records, strict=True):
        match, params = parse(message)
        severity = 6 if record.outcome == "ok" else 5
        assert int(match["pri"]) == AUTHPRIV * 8 + severity
        assert match["timestamp"] == record.at and match["msgid"] == record.event.value
        assert (match["app"], match["sdid"]) == ("AccountRecoveryKiosk", "audit@32473")
        assert params == {
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
        # The copy alone is enough to check the row's hash.
        fields = [params[name] for name in ("at", "kiosk", "reference", "user", "event", "outcome", "correlation")]
        assert chain_hash(fields, params["prev"]) == params["hash"]
        assert match["msg"].startswith(f"{record.event.value} {record.outcome} ")


def assert_no_secrets(blobs: list[bytes], *secrets: str) -> None:
    joined = b"\n".join(blobs)
    assert joined, "nothing captured: the search below would prove nothing"
    for secret in secrets:
        assert secret.encode() not in joined


async def test_udp_carries_every_event_as_rfc5424() -> None:
    received = Received()
    loop = asyncio.get_running_loop()
    transport, _ = await loop.create_datagram_endpoint(lambda: UdpListener(received), local_addr=("127.0.0.1", 0))
    try:
        port = transport.get_extra_info("sockname")[1]
        async with kiosk_for(syslog_policy(port, "udp")) as kiosk:
            code = await reset_emma(kiosk)
            records = await kiosk.backend.audit_records()
            messages = await received.at_least(len(records))
            assert forwarder(kiosk).stats.sent == len(records)
        assert_copies_of(messages, records)
        assert_no_secrets(messages, code, GOOD_PASSWORD)
    finally:
        transport.close()


async def test_tcp_frames_by_octet_counting_in_order() -> None:
    async with stream_listener() as (port, received):
        async with kiosk_for(syslog_policy(port, "tcp", facility="local4", app_name="kiosk-lobby")) as kiosk:
            await reset_emma(kiosk)
            records = await kiosk.backend.audit_records()
            messages = await received.at_least(len(records))
    match, _ = parse(messages[0])
    assert int(match["pri"]) == 20 * 8 + 6 and match["app"] == "kiosk-lobby"  # local4, informational
    assert [parse(message)[1]["id"] for message in messages] == [str(record.id) for record in records]
    assert [parse(message)[1]["prev"] for message in messages[1:]] == [record.hash for record in records[:-1]]


def tls_server_context(files: TlsFiles) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(files.cert_file, files.key_file)
    return context


async def test_tls_verifies_the_server_and_delivers(tmp_path: Path) -> None:
    files = make_tls_files(tmp_path, ("127.0.0.1",), "syslog")
    async with stream_listener(tls_server_context(files)) as (port, received):
        async with kiosk_for(syslog_policy(port, "tls", ca_file=str(files.ca_file))) as kiosk:
            code = await reset_emma(kiosk)
            records = await kiosk.backend.audit_records()
            messages = await received.at_least(len(records))
    assert_copies_of(messages, records)
    assert_no_secrets(messages, code, GOOD_PASSWORD)


async def test_a_server_with_an_untrusted_certificate_gets_nothing_and_the_reset_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    files = make_tls_files(tmp_path, ("127.0.0.1",), "syslog")
    caplog.set_level(logging.DEBUG)
    async with stream_listener(tls_server_context(files)) as (port, received):
        async with kiosk_for(syslog_policy(port, "tls", ca_file=str(files.wrong_ca_file))) as kiosk:
            code = await reset_emma(kiosk)
            records = await kiosk.backend.audit_records()
            sink = forwarder(kiosk)
            assert await sink.flush(30)
            assert (sink.stats.sent, sink.stats.not_forwarded) == (0, len(records))
    assert received.messages == []
    warnings = [r.getMessage() for r in caplog.records if r.name == audit_syslog.__name__]
    assert warnings[0] == (
        f"audit syslog tls://127.0.0.1:{port}: cannot forward (SSLCertVerificationError); events are kept in the "
        "database and further failures are counted, not logged"
    )
    assert warnings[1:] == [f"audit syslog tls://127.0.0.1:{port}: {len(records)} event(s) were not forwarded"]
    assert_no_secrets([caplog.text.encode()], code, GOOD_PASSWORD)


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_server_that_is_down_costs_the_reset_nothing(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    async with kiosk_for(syslog_policy(closed_port(), "tcp")) as kiosk:
        await reset_emma(kiosk)
        records = await kiosk.backend.audit_records()
        sink = forwarder(kiosk)
        assert await sink.flush(30)
        assert sink.stats.sent == 0 and sink.stats.not_forwarded == len(records)
    failures = [r for r in caplog.records if "cannot forward" in r.getMessage()]
    assert len(failures) == 1 and "ConnectionRefusedError" in failures[0].getMessage()  # logged once, not per event


async def test_a_server_that_never_answers_does_not_hold_up_the_request() -> None:
    """TLS to a server that accepts the connection and then says nothing: the handshake hangs (for up to 60 s)."""
    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with kiosk_for(syslog_policy(port, "tls", timeout_seconds=60)) as kiosk:
        await reset_emma(kiosk)
        sink = forwarder(kiosk)
        # The reset is done while the first event's handshake still waits on the server.
        assert accepted and (sink.stats.sent, sink.stats.not_forwarded) == (0, 0)
        # Now the server goes away: the handshake fails, the queue drains as not forwarded.
        for writer in accepted:
            writer.close()
        server.close()
        await server.wait_closed()
        assert await sink.flush(60)
        assert sink.stats.sent == 0 and sink.stats.not_forwarded == len(await kiosk.backend.audit_records())


class RestartingListener:
    """A TCP syslog server that can be restarted on the same port, dropping its connections as a daemon would."""

    def __init__(self) -> None:
        self.received = Received()
        self.connections = 0
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None
        self.port = 0

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.append(writer)
        await read_octet_counted(reader, self.received)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        for writer in self._writers:
            writer.close()
        self._writers.clear()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()


async def test_a_tcp_server_that_restarts_gets_the_next_events() -> None:
    """The forwarder notices the closed connection and reconnects for the events after the restart."""
    listener = RestartingListener()
    await listener.start()
    try:
        async with kiosk_for(syslog_policy(listener.port, "tcp")) as kiosk:
            await kiosk.open()
            await listener.received.at_least(1)
            await listener.stop()
            await listener.start()
            await kiosk.request("DELETE", "/session")
            await kiosk.open()
            records = await kiosk.backend.audit_records()
            messages = await listener.received.at_least(len(records))
            assert forwarder(kiosk).stats.not_forwarded == 0
    finally:
        await listener.stop()
    assert [parse(message)[1]["id"] for message in messages] == [str(record.id) for record in records]
    assert listener.connections == 2


async def test_an_unreadable_ca_file_stops_the_backend_at_start(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-ca.pem"
    with pytest.raises(SyslogSetupError) as raised:
        await Backend.open(syslog_policy(6514, "tls", ca_file=str(missing)))
    assert str(raised.value).startswith(f"audit.syslog.ca_file: cannot use '{missing}' as the CA of the syslog server")


async def test_forwarding_resumes_when_the_server_comes_up(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(audit_syslog, "RETRY_SECONDS", 0.0)  # try again at the next event, not 5 s later
    caplog.set_level(logging.WARNING)
    listener = RestartingListener()
    listener.port = closed_port()
    async with kiosk_for(syslog_policy(listener.port, "tcp")) as kiosk:
        await kiosk.open()  # session_opened: nobody listens yet
        sink = forwarder(kiosk)
        assert await sink.flush(30) and sink.stats.not_forwarded == 1
        await listener.start()
        try:
            await kiosk.request("DELETE", "/session")  # session_closed: delivered
            [message] = await listener.received.at_least(1)
        finally:
            await listener.stop()
        assert parse(message)[1]["event"] == "session_closed" and sink.stats.sent == 1
    logged = [r.getMessage() for r in caplog.records if r.name == audit_syslog.__name__]
    assert "ConnectionRefusedError" in logged[0]
    assert (
        logged[1] == f"audit syslog tcp://127.0.0.1:{listener.port}: reachable again (1 event(s) not forwarded so far)"
    )
