"""`kiosk serve --workers N` on PostgreSQL: N processes behind one port, and every scrape of `/metrics` counts
the requests of all of them, whichever worker answers it; on SQLite more than one worker is refused."""

from __future__ import annotations

import base64
import os
import re
import subprocess
from pathlib import Path

import httpx
from cli.test_cli_serve_startup import KIOSK, REPO
from live_servers.common import free_port, wait_until
from live_servers.postgres import PostgresCluster

from kiosk.services.backend.hashing import QUEUE_PER_WORKER

HEALTH_COUNT = re.compile(r'^kiosk_http_requests_total\{method="GET",route="/v1/health",status="200"\} (\S+)$', re.M)


def test_every_scrape_counts_the_requests_of_every_worker(postgres_cluster: PostgresCluster, tmp_path: Path) -> None:
    name = postgres_cluster.fresh_database("workers")
    policy = tmp_path / "server.toml"
    policy.write_text(f'[store]\nkind = "postgresql"\nurl = "{postgres_cluster.dsn(name)}"\n', encoding="utf-8")
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "enrollment-key").write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    env = {
        **os.environ,
        "KIOSK_DATABASE_PASSWORD": postgres_cluster.password,
        "CREDENTIALS_DIRECTORY": str(credentials),
    }
    port = free_port()
    server = subprocess.Popen(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), "serve", "--policy", str(policy), "--port", str(port), "--workers", "2"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: _answers(f"{base}/v1/ready"), timeout=60, what="both workers to answer")
        for _ in range(40):  # a new connection each time: the kernel hands them to either worker
            assert httpx.get(f"{base}/v1/health", timeout=5).status_code == 200
        counts = set()
        for _ in range(6):
            scrape = httpx.get(f"{base}/metrics", timeout=5)
            assert scrape.status_code == 200
            found = HEALTH_COUNT.search(scrape.text)
            assert found, scrape.text[:2000]
            counts.add(float(found.group(1)))
        # Every scrape, from whichever worker, sees at least the 40 calls above (plus the readiness waits).
        assert min(counts) >= 40, counts
        # The two workers share the cores: each hashes on its share, so the machine admits what it can hash.
        capacity = re.search(r"^kiosk_hashing_queue_capacity (\S+)$", scrape.text, re.M)
        assert capacity, scrape.text[:2000]
        share = max(1, (os.cpu_count() or 1) // 2)
        assert float(capacity.group(1)) == 2 * (share + QUEUE_PER_WORKER * share)
    finally:
        server.terminate()
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait(timeout=10)
        postgres_cluster.drop_database(name)
    output = server.stdout.read() if server.stdout else ""
    assert len(set(re.findall(r"Started server process \[(\d+)\]", output))) == 2, output


def test_more_than_one_worker_on_sqlite_is_refused(tmp_path: Path) -> None:
    policy = tmp_path / "server.toml"
    policy.write_text(f'[directory.embedded]\ndatabase = "{tmp_path / "k.sqlite3"}"\n', encoding="utf-8")
    done = subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), "serve", "--policy", str(policy), "--port", str(free_port()), "--workers", "2"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1
    assert "--workers 2 needs store.kind = 'postgresql'" in done.stderr
    assert not (tmp_path / "k.sqlite3").exists()  # refused before anything was opened


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
