"""Audit rows for every step, blocking work kept off the event loop, and `serve` under uvicorn."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time

import httpx
import pytest

from kiosk.policy.schema import Method
from kiosk.services.backend import Backend, ManualClock, hashing
from kiosk.services.backend.audit.log import AuditEvent

from .conftest import DEMO_PASSWORD, GOOD_PASSWORD, Kiosk


async def test_every_step_is_audited(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.open()
    await kiosk.request("POST", "/session/identify", {"user_id": "luke", "captcha": "x"})
    await kiosk.identify("luke")
    await kiosk.request("POST", "/session/password", {"password": GOOD_PASSWORD})
    await kiosk.choose(Method.EMAIL)
    await kiosk.request("POST", "/session/code", {"code": "00000000x"})
    await kiosk.code(await kiosk.sent_code())
    await kiosk.ok("POST", "/session/action", {"action": "reset"})
    await kiosk.password("short")
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    await kiosk.request("DELETE", "/session")
    await kiosk.start("nora")
    await kiosk.pass_email()  # told 'not enabled' once she proved the account is hers
    await kiosk.start("luke")
    await kiosk.backend.directory.set_locked("luke", True)
    await kiosk.pass_email()
    await kiosk.ok("POST", "/session/action", {"action": "unlock"})
    # A password change: a wrong current password, then the right one, then the new password.
    opened = await kiosk.request("POST", "/sessions", {"kiosk_id": "lobby-1", "locale": "en", "flow": "change"})
    kiosk.token = opened.json()["token"]
    for current in ("Not-The-Password-1", DEMO_PASSWORD):
        captcha = await backend.captcha_text_for_test(kiosk.token)
        await kiosk.request("POST", "/session/sign-in", {"user_id": "alex", "password": current, "captcha": captcha})
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    # Registration: emma signs in, passes a gate (she has an e-mail), registers security questions.
    opened = await kiosk.request("POST", "/sessions", {"kiosk_id": "lobby-1", "locale": "en", "flow": "register"})
    kiosk.token = opened.json()["token"]
    captcha = await backend.captcha_text_for_test(kiosk.token)
    await kiosk.ok("POST", "/session/sign-in", {"user_id": "emma", "password": DEMO_PASSWORD, "captcha": captcha})
    await kiosk.pass_email()
    answers = {"first_pet": "Rex", "first_school": "Oak Park", "childhood_nickname": "Bean"}
    questions = [{"predefined_id": key, "answer": answer} for key, answer in answers.items()]
    await kiosk.ok("POST", "/session/register/questions", {"questions": questions})
    await kiosk.ok("POST", "/session/register/done")
    # Half a year on, her reset asks whether that is still up to date; she keeps it.
    assert isinstance(backend.clock, ManualClock)
    backend.clock.advance(181 * 24 * 3600)
    await kiosk.start("emma")
    await kiosk.pass_email()
    assert (await kiosk.password(GOOD_PASSWORD)).json()["stage"] == "reconfirm"
    assert (await kiosk.ok("POST", "/session/reconfirm", {"choice": "keep"})).stage == "done"

    records = await backend.audit_records()
    # notice_failed needs an SMTP server that fails: tests/services/backend/delivery/ covers it;
    # blocked needs a tripped throttle: test_throttles.py covers it; the kiosk events need a served
    # backend and the `kiosk kiosks` commands: test_kiosk_identity.py and tests/cli/test_cli_kiosks.py.
    kiosk_events = {AuditEvent.KIOSK_REFUSED, AuditEvent.KIOSK_ADDED, AuditEvent.KIOSK_REVOKED}
    assert {r.event for r in records} == set(AuditEvent) - {AuditEvent.NOTICE_FAILED, AuditEvent.BLOCKED, *kiosk_events}
    first = [r for r in records if r.reference == records[0].reference]
    assert all(r.kiosk_id == "lobby-1" and len(r.correlation_id) == 32 for r in first)
    assert [r.event for r in first][:3] == [AuditEvent.SESSION_OPENED, AuditEvent.CAPTCHA_FAILED, AuditEvent.IDENTIFIED]
    assert all(r.user_id == "luke" for r in first[2:])
    assert {r.outcome for r in records if r.event is AuditEvent.REFUSED} == {"not_enabled"}
    assert {r.outcome for r in records if r.event is AuditEvent.PASSWORD_REJECTED} != {""}


@pytest.mark.sqlite_file  # traces sqlite3's own callbacks
async def test_database_and_hashing_run_off_the_event_loop(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    loop_thread = threading.get_ident()
    sql_threads: set[int] = set()
    hash_threads: set[int] = set()
    await backend._rt.store.call(lambda db: db.set_trace_callback(lambda _sql: sql_threads.add(threading.get_ident())))
    real_verify = hashing._verify

    def probe(*args: object) -> bool:
        hash_threads.add(threading.get_ident())
        return real_verify(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(hashing, "_verify", probe)
    await kiosk.start("emma")
    await kiosk.pass_email()
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    assert sql_threads and loop_thread not in sql_threads
    assert hash_threads and loop_thread not in hash_threads


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_serve_runs_the_same_app_under_uvicorn() -> None:
    port = _free_port()
    script = (
        "from kiosk.policy.schema import Policy\n"
        "from kiosk.services.backend import serve\n"
        f"serve(Policy(), '127.0.0.1', {port})\n"
    )
    process = subprocess.Popen(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read() if process.stdout else ""
                assert time.monotonic() < deadline, "server did not start"
                time.sleep(0.1)
        assert health.status_code == 200 and health.json()["status"] == "ok"
        # Served, every other call needs an enrolled kiosk's credential (tests/cli/test_cli_kiosks.py).
        refused = httpx.post(f"http://127.0.0.1:{port}/v1/sessions", json={}, timeout=5)
        assert refused.status_code == 401 and refused.json()["code"] == "kiosk_unauthorized"
        assert "server" not in refused.headers
    finally:
        process.terminate()
        process.wait(timeout=10)
