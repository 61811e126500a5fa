"""`kiosk diagnose` on delivery: a REAL SMTP server (aiosmtpd, STARTTLS/TLS, AUTH) and the FAKE SMS gateway.

The SMTP server must see a login and no message; the gateway must see a HEAD (webhook) or a GET of
the account (Twilio) and never a POST, which is what would send an SMS.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from live_servers.certificates import TlsFiles
from live_servers.fake_gateway import HANG, RunningGateway
from live_servers.fake_keyring import FakeMemoryKeyring

from kiosk.cli.diagnose_cmd import format_report
from kiosk.policy.schema import Policy
from kiosk.services.backend.credentials import SERVICE
from kiosk.services.backend.diagnostics.checks import run_diagnostics
from kiosk.services.diagnosis import CheckStatus, DiagnosticReport

from .conftest import SMTP_PASSWORD, SMTP_USER, ServerFactory, free_port

GATEWAY_TOKEN = "Gateway-Token-5582-SENTINEL"


def statuses(report: DiagnosticReport) -> dict[str, CheckStatus]:
    """Check name → status."""
    return {check.name: check.status for check in report.checks}


def detail(report: DiagnosticReport, name: str) -> str:
    """The detail of the check called `name`."""
    (found,) = [check for check in report.checks if check.name == name]
    return found.detail


def shown(report: DiagnosticReport) -> str:
    """Everything the report can show: its text and its JSON."""
    return format_report(report, "policy.toml") + json.dumps(report.as_dict())


def delivery_policy(smtp: dict[str, Any], gateway: dict[str, Any] | None = None) -> Policy:
    """A policy that e-mails through `smtp` (and texts through `gateway`), the directory embedded."""
    delivery: dict[str, Any] = {"kind": "smtp", "smtp": {"timeout_seconds": 3, **smtp}}
    if gateway is not None:
        delivery["gateway"] = {"timeout_seconds": 3, **gateway}
    return Policy.model_validate({"delivery": delivery})


@pytest.fixture
def gateways() -> Iterator[list[RunningGateway]]:
    """FAKE gateways started by a test; all stopped after it."""
    started: list[RunningGateway] = []
    yield started
    for gateway in started:
        gateway.stop()


def start_gateway(started: list[RunningGateway], tls: TlsFiles | None = None) -> RunningGateway:
    """A FAKE gateway (https with `tls`), stopped after the test."""
    gateway = RunningGateway(tls)
    started.append(gateway)
    return gateway


# ----------------------------------------------------------------------------------------------- SMTP


async def test_starttls_and_login_pass_and_no_mail_is_sent(
    smtp_server_factory: ServerFactory, tls_files: TlsFiles, memory_keyring: FakeMemoryKeyring
) -> None:
    server = smtp_server_factory(tls=tls_files, auth=True)
    memory_keyring.set_password(SERVICE, "smtp", SMTP_PASSWORD)
    policy = delivery_policy(
        {"host": server.host, "port": server.port, "ca_file": str(tls_files.ca_file), "username": SMTP_USER}
    )
    report = await run_diagnostics(policy)
    where = f"{server.host}:{server.port}"
    found = statuses(report)
    assert found[f"SMTP connection {where}"] is CheckStatus.OK
    assert "STARTTLS, TLSv1." in detail(report, f"SMTP TLS {where}")
    assert "certificate verified" in detail(report, f"SMTP TLS {where}")
    assert found[f"SMTP login {where}"] is CheckStatus.OK
    assert found["keyring smtp"] is CheckStatus.OK
    assert server.inbox.logins == [(SMTP_USER, SMTP_PASSWORD)]
    assert server.inbox.messages == []
    assert SMTP_PASSWORD not in shown(report)


async def test_implicit_tls_is_checked(
    smtp_server_factory: ServerFactory, tls_files: TlsFiles, memory_keyring: FakeMemoryKeyring
) -> None:
    server = smtp_server_factory(tls=tls_files, implicit_tls=True)
    policy = delivery_policy(
        {"host": server.host, "port": server.port, "security": "tls", "ca_file": str(tls_files.ca_file)}
    )
    report = await run_diagnostics(policy)
    where = f"{server.host}:{server.port}"
    assert "implicit TLS, TLSv1." in detail(report, f"SMTP TLS {where}")
    assert statuses(report)[f"SMTP login {where}"] is CheckStatus.SKIP


async def test_a_wrong_smtp_password_fails_the_login_and_is_never_shown(
    smtp_server_factory: ServerFactory, tls_files: TlsFiles, memory_keyring: FakeMemoryKeyring
) -> None:
    server = smtp_server_factory(tls=tls_files, auth=True)
    wrong = "Wrong-Mailer-Secret-1!"
    memory_keyring.set_password(SERVICE, "smtp", wrong)
    policy = delivery_policy(
        {"host": server.host, "port": server.port, "ca_file": str(tls_files.ca_file), "username": SMTP_USER}
    )
    report = await run_diagnostics(policy)
    name = f"SMTP login {server.host}:{server.port}"
    assert statuses(report)[name] is CheckStatus.FAIL
    assert detail(report, name) == "the login was refused"
    assert not report.ok and wrong not in shown(report)


async def test_a_missing_smtp_password_is_named_with_its_command(
    smtp_server_factory: ServerFactory, tls_files: TlsFiles, memory_keyring: FakeMemoryKeyring
) -> None:
    server = smtp_server_factory(tls=tls_files, auth=True)
    policy = delivery_policy(
        {"host": server.host, "port": server.port, "ca_file": str(tls_files.ca_file), "username": SMTP_USER}
    )
    report = await run_diagnostics(policy)
    assert statuses(report)["keyring smtp"] is CheckStatus.FAIL
    assert statuses(report)[f"SMTP login {server.host}:{server.port}"] is CheckStatus.FAIL
    assert server.inbox.logins == []


async def test_the_wrong_ca_fails_smtp_tls(
    smtp_server_factory: ServerFactory, tls_files: TlsFiles, memory_keyring: FakeMemoryKeyring
) -> None:
    server = smtp_server_factory(tls=tls_files)
    policy = delivery_policy({"host": server.host, "port": server.port, "ca_file": str(tls_files.wrong_ca_file)})
    report = await run_diagnostics(policy)
    name = f"SMTP TLS {server.host}:{server.port}"
    assert statuses(report)[name] is CheckStatus.FAIL
    assert "certificate verify failed" in detail(report, name)


async def test_a_server_without_starttls_fails_when_the_policy_wants_it(
    smtp_server: Any, memory_keyring: FakeMemoryKeyring
) -> None:
    report = await run_diagnostics(delivery_policy({"host": smtp_server.host, "port": smtp_server.port}))
    name = f"SMTP TLS {smtp_server.host}:{smtp_server.port}"
    assert statuses(report)[name] is CheckStatus.FAIL
    assert detail(report, name) == "the server does not offer STARTTLS"


async def test_a_closed_smtp_port_fails(memory_keyring: FakeMemoryKeyring) -> None:
    port = free_port()
    report = await run_diagnostics(delivery_policy({"host": "127.0.0.1", "port": port, "security": "none"}))
    name = f"SMTP connection 127.0.0.1:{port}"
    assert statuses(report)[name] is CheckStatus.FAIL
    assert detail(report, name) == "cannot connect"
    assert not report.ok


async def test_a_hung_smtp_server_fails_with_no_answer(memory_keyring: FakeMemoryKeyring) -> None:
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts (the backlog), never greets
        port = silent.getsockname()[1]
        policy = delivery_policy({"host": "127.0.0.1", "port": port, "security": "none", "timeout_seconds": 0.5})
        report = await run_diagnostics(policy)
    assert detail(report, f"SMTP connection 127.0.0.1:{port}") == "no answer within 0.5 s"


# -------------------------------------------------------------------------------------------- gateway


async def test_a_webhook_gets_one_head_and_no_message(
    smtp_server: Any, tls_files: TlsFiles, gateways: list[RunningGateway], memory_keyring: FakeMemoryKeyring
) -> None:
    gateway = start_gateway(gateways, tls_files)
    memory_keyring.set_password(SERVICE, "gateway", GATEWAY_TOKEN)
    policy = delivery_policy(
        {"host": smtp_server.host, "port": smtp_server.port, "security": "none"},
        {"kind": "webhook", "url": f"{gateway.url}/send", "ca_file": str(tls_files.ca_file)},
    )
    report = await run_diagnostics(policy)
    where = gateway.url.removeprefix("https://")
    found = statuses(report)
    assert found[f"gateway DNS {where}"] is CheckStatus.OK
    assert "certificate verified" in detail(report, f"gateway TLS {where}")
    assert found[f"gateway request {where}"] is CheckStatus.OK
    assert "HTTP 200 to an unauthenticated HEAD" in detail(report, f"gateway request {where}")
    assert [(r.method, r.path) for r in gateway.requests] == [("HEAD", "/send")]
    assert "authorization" not in gateway.requests[0].headers
    assert found["keyring gateway"] is CheckStatus.OK
    assert found["clock"] is CheckStatus.OK and "gateway's Date header" in detail(report, "clock")
    assert GATEWAY_TOKEN not in shown(report)


async def test_twilio_reads_the_account_with_the_token(
    smtp_server: Any, gateways: list[RunningGateway], memory_keyring: FakeMemoryKeyring
) -> None:
    gateway = start_gateway(gateways)
    memory_keyring.set_password(SERVICE, "gateway", GATEWAY_TOKEN)
    policy = delivery_policy(
        {"host": smtp_server.host, "port": smtp_server.port, "security": "none"},
        {"kind": "twilio", "url": gateway.url, "account": "AC123", "from_number": "+15550100"},
    )
    report = await run_diagnostics(policy)
    where = gateway.url.removeprefix("http://")
    assert statuses(report)[f"gateway request {where}"] is CheckStatus.OK
    assert statuses(report)[f"gateway TLS {where}"] is CheckStatus.SKIP  # http:// to loopback
    assert [(r.method, r.path) for r in gateway.requests] == [("GET", "/2010-04-01/Accounts/AC123.json")]
    gateway.answer(401)
    refused = await run_diagnostics(policy)
    assert statuses(refused)[f"gateway request {where}"] is CheckStatus.FAIL
    assert "token was refused (HTTP 401)" in detail(refused, f"gateway request {where}")
    assert all(request.method != "POST" for request in gateway.requests)
    assert GATEWAY_TOKEN not in shown(report) + shown(refused)


async def test_a_gateway_with_the_wrong_ca_fails_tls(
    smtp_server: Any, tls_files: TlsFiles, gateways: list[RunningGateway], memory_keyring: FakeMemoryKeyring
) -> None:
    gateway = start_gateway(gateways, tls_files)
    memory_keyring.set_password(SERVICE, "gateway", GATEWAY_TOKEN)
    policy = delivery_policy(
        {"host": smtp_server.host, "port": smtp_server.port, "security": "none"},
        {"kind": "webhook", "url": gateway.url, "ca_file": str(tls_files.wrong_ca_file)},
    )
    report = await run_diagnostics(policy)
    name = f"gateway request {gateway.url.removeprefix('https://')}"
    assert statuses(report)[name] is CheckStatus.FAIL
    assert "TLS handshake failed: certificate verify failed" in detail(report, name)
    assert gateway.requests == []


async def test_a_hung_gateway_fails_with_no_answer(
    smtp_server: Any, gateways: list[RunningGateway], memory_keyring: FakeMemoryKeyring
) -> None:
    gateway = start_gateway(gateways)
    gateway.answer(HANG)
    memory_keyring.set_password(SERVICE, "gateway", GATEWAY_TOKEN)
    policy = delivery_policy(
        {"host": smtp_server.host, "port": smtp_server.port, "security": "none"},
        {"kind": "webhook", "url": gateway.url, "timeout_seconds": 0.5},
    )
    report = await run_diagnostics(policy)
    assert detail(report, f"gateway request {gateway.url.removeprefix('http://')}") == "no answer within 0.5 s"


async def test_a_gateway_host_that_does_not_resolve_fails(
    smtp_server: Any, memory_keyring: FakeMemoryKeyring
) -> None:
    memory_keyring.set_password(SERVICE, "gateway", GATEWAY_TOKEN)
    policy = delivery_policy(
        {"host": smtp_server.host, "port": smtp_server.port, "security": "none"},
        {"kind": "webhook", "url": "https://sms.invalid/send", "timeout_seconds": 2},
    )
    report = await run_diagnostics(policy)
    assert statuses(report)["gateway DNS sms.invalid:443"] is CheckStatus.FAIL
