"""FAKE SMS/voice gateway: a recording HTTP(S) server on loopback, for the kiosk's gateway sender.

The one fake among the delivery tests' servers: no real SMS gateway (a webhook service, Twilio)
can run on this machine, so this stands in for one. It is a real HTTP server all the same (the
standard library's `ThreadingHTTPServer` in a thread, on 127.0.0.1 at a free port, optionally
with TLS from `live_servers.certificates`), so the sender's real httpx client, TLS checks, timeouts
and error handling are what the tests exercise. It records every request (path, headers, body)
and answers what the test tells it: a status code, or nothing at all (`hang`) until it stops.
"""

from __future__ import annotations

import json
import ssl
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from socket import socket
from typing import Any
from urllib.parse import parse_qs

from live_servers.certificates import TlsFiles

HANG = -1
"""`FakeGateway.status` value: read the request, then answer nothing until the server stops."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake gateway received."""

    method: str
    path: str
    headers: dict[str, str]
    """Header names in lower case."""
    body: bytes

    def json(self) -> Any:
        """The body parsed as JSON."""
        return json.loads(self.body)

    def form(self) -> dict[str, str]:
        """The body parsed as a form (`application/x-www-form-urlencoded`), one value per name."""
        parsed = parse_qs(self.body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        return {name: values[0] for name, values in parsed.items()}


@dataclass
class FakeGateway:
    """FAKE gateway state: what it answers, and what it received."""

    status: int = 200
    """The HTTP status of every answer, or `HANG`."""
    requests: list[RecordedRequest] = field(default_factory=list)
    url: str = ""
    """Base URL, e.g. `https://127.0.0.1:41234` (no trailing slash)."""
    handshake_failures: int = 0
    """TLS handshakes that failed (a client that did not trust the certificate)."""


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        gateway = self.server.gateway
        headers = {name.lower(): value for name, value in self.headers.items()}
        gateway.requests.append(RecordedRequest("POST", self.path, headers, body))
        if gateway.status == HANG:
            self.server.release.wait()
            return
        answer = json.dumps({"sid": f"SM{len(gateway.requests):032d}", "status": "queued"}).encode()
        self.send_response(gateway.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def do_HEAD(self) -> None:
        """`kiosk diagnose`'s harmless request to a webhook: recorded, answered with the status and no body."""
        self._answer_read("HEAD")

    def do_GET(self) -> None:
        """`kiosk diagnose`'s read of a Twilio account: recorded, answered with the status and a small JSON body."""
        self._answer_read("GET")

    def _answer_read(self, method: str) -> None:
        gateway = self.server.gateway
        headers = {name.lower(): value for name, value in self.headers.items()}
        gateway.requests.append(RecordedRequest(method, self.path, headers, b""))
        if gateway.status == HANG:
            self.server.release.wait()
            return
        answer = json.dumps({"status": "active"}).encode()
        self.send_response(gateway.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if method == "GET":
            self.wfile.write(answer)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the test reads `requests`, not stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, gateway: FakeGateway, context: ssl.SSLContext | None) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.gateway = gateway
        self.context = context
        self.release = threading.Event()

    def finish_request(self, request: Any, client_address: Any) -> None:
        """Handle one connection; with TLS, the handshake happens here, in the connection's thread."""
        if self.context is None:
            super().finish_request(request, client_address)
            return
        assert isinstance(request, socket)
        try:
            wrapped = self.context.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            self.gateway.handshake_failures += 1
            return
        try:
            super().finish_request(wrapped, client_address)
        finally:
            wrapped.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hung up mid-request is no test failure; say nothing on stderr."""


class RunningGateway:
    """A started FAKE gateway; `stop()` ends it (a hanging answer is released first)."""

    def __init__(self, tls: TlsFiles | None = None) -> None:
        context: ssl.SSLContext | None = None
        if tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(tls.cert_file, tls.key_file)
        self.state = FakeGateway()
        self._server = _Server(self.state, context)
        port = self._server.server_address[1]
        self.state.url = f"{'https' if tls else 'http'}://127.0.0.1:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, name="fake-gateway", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """Base URL of the server."""
        return self.state.url

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received so far, oldest first."""
        return self.state.requests

    def answer(self, status: int) -> None:
        """Answer every following request with `status` (or `HANG`)."""
        self.state.status = status

    def stop(self) -> None:
        """Release hanging answers, stop serving, close the socket."""
        self._server.release.set()
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
