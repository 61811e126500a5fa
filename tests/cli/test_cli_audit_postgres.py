"""`kiosk audit list|verify` on a shared backend's PostgreSQL store: real recoveries written by the backend,
read back by the administrator's command with the password from the environment, and a tampered row found."""

from __future__ import annotations

import asyncio
import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from cli.test_cli_audit import NEW_PASSWORD, RESOURCES, START, Session
from live_servers.postgres import PostgresCluster

from kiosk.cli.main import main as cli_main
from kiosk.policy.loader import load_policy
from kiosk.services.backend import Backend, ManualClock


@pytest.fixture
def shared_store(
    postgres_cluster: PostgresCluster, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Path, str]]:
    """(policy file naming a fresh PostgreSQL database, that database's name); the password in the environment."""
    name = postgres_cluster.fresh_database("audit")
    text = (RESOURCES / "demo-policy.toml").read_text(encoding="utf-8")
    text += f'\n[store]\nkind = "postgresql"\nurl = {json.dumps(postgres_cluster.dsn(name))}\n'
    policy = tmp_path / "server.toml"
    policy.write_text(text, encoding="utf-8")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "enrollment-key").write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(credentials))  # as systemd hands them to a service
    monkeypatch.setenv("KIOSK_DATABASE_PASSWORD", postgres_cluster.password)
    try:
        yield policy, name
    finally:
        postgres_cluster.drop_database(name)


async def _recoveries(policy: Path) -> None:
    clock = ManualClock(START)
    backend = await Backend.open(load_policy(policy), clock=clock, kiosk_id="backend-1")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
            session = Session(backend, http)
            await session.identify("emma", wrong_captcha_first=True)
            await session.pass_email()
            await session.post("/session/password", {"password": NEW_PASSWORD})
    finally:
        await backend.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(["audit", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_the_trail_of_a_postgresql_store_is_listed_verified_and_its_tampering_found(
    shared_store: tuple[Path, str], postgres_cluster: PostgresCluster, capsys: pytest.CaptureFixture[str]
) -> None:
    policy, name = shared_store
    asyncio.run(_recoveries(policy))

    code, out, _ = run(capsys, "list", "--policy", str(policy), "--user", "EMMA", "--event", "reset")
    assert code == 0, out
    assert "emma" in out and "reset" in out and "(1 event)" in out

    code, out, _ = run(capsys, "verify", "--policy", str(policy))
    assert code == 0, out
    events = int(postgres_cluster.psql("SELECT COUNT(*) FROM audit", name).strip())
    assert out.startswith(f"OK: {events} events, chain intact, head ") and events >= 6

    postgres_cluster.psql("UPDATE audit SET outcome = 'refused' WHERE event = 'reset'", name)
    code, out, _ = run(capsys, "verify", "--policy", str(policy))
    assert code == 1 and out.startswith("FAILED: edited at id "), out


def test_a_wrong_database_password_is_a_clear_error(
    shared_store: tuple[Path, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    policy, _ = shared_store
    monkeypatch.setenv("KIOSK_DATABASE_PASSWORD", "not-the-password")
    code, out, err = run(capsys, "verify", "--policy", str(policy))
    assert code == 2
    assert "cannot connect to the PostgreSQL store 127.0.0.1:" in err and "password authentication failed" in err
    assert "not-the-password" not in out + err
