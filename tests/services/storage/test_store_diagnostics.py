"""`kiosk diagnose` on a server whose store is PostgreSQL: reachable or not, which schema version, and a
missing or wrong password told with its fix (never shown). Nothing is created or migrated by the check."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.postgres import PostgresCluster

from kiosk.policy.schema import Policy
from kiosk.services.backend import Backend
from kiosk.services.backend.diagnostics.checks import run_diagnostics
from kiosk.services.backend.storage.migrations import LATEST
from kiosk.services.diagnosis import CheckStatus, DiagnosticReport


def backend_check(report: DiagnosticReport) -> tuple[CheckStatus, str, str]:
    check = next(c for c in report.checks if c.name == "backend")
    return check.status, check.detail, check.hint


async def test_diagnose_reports_the_postgresql_store_and_changes_nothing(
    postgres_cluster: PostgresCluster,
    memory_keyring: FakeMemoryKeyring,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    name = postgres_cluster.fresh_database("diag")
    try:
        policy = Policy.model_validate({"store": {"kind": "postgresql", "url": postgres_cluster.dsn(name)}})
        monkeypatch.delenv("KIOSK_DATABASE_PASSWORD", raising=False)
        status, detail, hint = backend_check(await run_diagnostics(policy))
        assert status is CheckStatus.FAIL and "no password" in detail
        assert "kiosk secrets set database" in hint and "KIOSK_DATABASE_PASSWORD" in hint

        monkeypatch.setenv("KIOSK_DATABASE_PASSWORD", "wrong-password-123")
        status, detail, hint = backend_check(await run_diagnostics(policy))
        assert status is CheckStatus.FAIL and "password authentication failed" in detail
        assert "wrong-password-123" not in json.dumps([detail, hint])

        monkeypatch.setenv("KIOSK_DATABASE_PASSWORD", postgres_cluster.password)
        status, detail, _ = backend_check(await run_diagnostics(policy))
        assert status is CheckStatus.OK and f"schema version 0, migrated to {LATEST} when the backend starts" in detail
        assert postgres_cluster.psql("SELECT to_regclass('schema_migrations') IS NULL", name).strip() == "t"

        backend = await Backend.open(policy)
        await backend.close()
        status, detail, _ = backend_check(await run_diagnostics(policy))
        assert status is CheckStatus.OK and f"schema version {LATEST} (current)" in detail
        assert postgres_cluster.password not in detail
    finally:
        postgres_cluster.drop_database(name)


async def test_a_server_that_cannot_reach_its_postgresql_store_says_where_why_and_what_to_do(
    postgres_cluster: PostgresCluster, memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.services.backend.startup import startup_failure

    policy = Policy.model_validate({"store": {"kind": "postgresql", "url": postgres_cluster.dsn("postgres")}})
    monkeypatch.setenv("KIOSK_DATABASE_PASSWORD", "wrong-password-456")
    with pytest.raises(Exception) as raised:  # whatever psycopg raises: the message is what is checked
        await Backend.open(policy)
    line = startup_failure(raised.value, policy)
    assert line.startswith(f"the backend cannot start: the PostgreSQL store 127.0.0.1:{postgres_cluster.port}/postgres")
    assert "password authentication failed" in line and "kiosk secrets set database" in line
    assert "wrong-password-456" not in line and "\n" not in line
