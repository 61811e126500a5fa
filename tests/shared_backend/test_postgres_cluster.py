"""The throwaway PostgreSQL cluster the shared backend's store and replica tests run on (issue 12, parts 4, 5)."""

from __future__ import annotations

import subprocess

from live_servers.postgres import PostgresCluster


def test_the_throwaway_postgres_cluster_answers_and_keeps_databases_apart(
    postgres_cluster: PostgresCluster, postgres_database: str
) -> None:
    assert int(postgres_cluster.psql("SHOW server_version_num").strip()) >= 150000
    assert postgres_cluster.psql("SHOW fsync").strip() == "off"
    assert postgres_cluster.psql("SHOW password_encryption").strip() == "scram-sha-256"
    postgres_cluster.psql(
        "CREATE TABLE probe (id integer PRIMARY KEY, word text NOT NULL); INSERT INTO probe VALUES (1, 'kiosk')",
        postgres_database,
    )
    assert postgres_cluster.psql("SELECT word FROM probe WHERE id = 1", postgres_database).strip() == "kiosk"
    other = postgres_cluster.fresh_database()
    try:
        assert postgres_cluster.psql("SELECT to_regclass('probe') IS NULL", other).strip() == "t"
    finally:
        postgres_cluster.drop_database(other)
    assert other not in postgres_cluster.psql("SELECT datname FROM pg_database").split()
    assert postgres_database in postgres_cluster.databases()


def test_the_postgres_cluster_refuses_a_wrong_password(postgres_cluster: PostgresCluster) -> None:
    environment = {**postgres_cluster.client_environment(), "PGPASSWORD": "not-" + postgres_cluster.password}
    done = subprocess.run(  # noqa: S603 - the cluster's own psql
        [str(postgres_cluster.bin_dir / "psql"), "-X", "-At", "-c", "SELECT 1"],
        env=environment,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode != 0
    assert "password authentication failed" in done.stderr
    assert postgres_cluster.password not in postgres_cluster.dsn()  # a DSN to log carries no password
