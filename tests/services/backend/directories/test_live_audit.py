"""`kiosk audit` on the audit trail of real recoveries against each LIVE directory (OpenLDAP, Samba AD).

A backend on the live server (service password in the FAKE in-memory keyring) keeps its store in a
file named by the policy; alice resets her password (checked by binding as her) and erin, outside the
enabled group, is refused after her e-mail code. The policy is then written out as TOML and the
commands read that file, as an administrator would.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_servers.common import new_password
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.kiosk_setup import live_policy, restore_password

from kiosk.cli.main import main as cli_main
from kiosk.policy.loader import load_policy
from kiosk.policy.schema import EmbeddedDirectorySettings, Policy
from kiosk.services.api import Stage
from kiosk.services.backend import Backend, ManualClock

from ..conftest import START, Kiosk


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    return json.dumps(str(value))  # a TOML basic string: JSON's escapes are TOML's


def to_toml(data: dict[str, Any], table: str = "") -> str:
    """The (nested) settings as TOML: plain keys first, then one [table] per section."""
    lines = [f"[{table}]"] if table else []
    lines += [f"{key} = {toml_value(value)}" for key, value in data.items() if not isinstance(value, dict)]
    text = "\n".join(lines) + "\n"
    for key, value in data.items():
        if isinstance(value, dict):
            text += "\n" + to_toml(value, f"{table}.{key}" if table else key)
    return text


def with_database(policy: Policy, database: Path) -> Policy:
    embedded = EmbeddedDirectorySettings(database=str(database))
    return policy.model_copy(update={"directory": policy.directory.model_copy(update={"embedded": embedded})})


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(["audit", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_audit_commands_on_a_live_directory_trail(
    live: Any, fake_keyring: FakeMemoryKeyring, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    database = tmp_path / "backend.sqlite3"
    policy = with_database(live_policy(live), database)
    policy_path = tmp_path / "policy.toml"
    policy_path.write_text(to_toml(policy.model_dump(mode="json", exclude_defaults=True)), encoding="utf-8")
    assert load_policy(policy_path) == policy  # the file says exactly what the backend ran with

    backend = await Backend.open(policy, clock=ManualClock(START), kiosk_id="live-backend")
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://k") as http:
            kiosk = Kiosk(backend, http)
            alice = live.users["alice"]
            chosen = new_password()  # never one another test uses: the server keeps password history
            await kiosk.start(alice.mail)
            try:
                await kiosk.pass_email()
                assert (await kiosk.password(chosen)).status_code == 200
                assert live.bind_ok(alice.dn, chosen)
            finally:
                restore_password(live, "alice")
            await kiosk.start("erin")
            view = await kiosk.pass_email()
            assert view.stage is Stage.REFUSED
    finally:
        await backend.close()

    code, out, err = run(capsys, "list", "--policy", str(policy_path), "--user", "alice")
    assert (code, err) == (0, "")
    events = [line.split()[2:4] for line in out.splitlines()[1:-1]]
    assert ["reset", "ok"] in events and ["gate_passed", "email"] in events

    code, out, _ = run(capsys, "list", "--policy", str(policy_path), "--event", "refused")
    [refusal] = [line.split() for line in out.splitlines()[1:-1]]
    assert refusal[3:5] == ["not_enabled", "erin"]

    code, out, _ = run(capsys, "export", "--policy", str(policy_path), "--format", "csv")
    exported = list(csv.DictReader(io.StringIO(out)))
    with closing(sqlite3.connect(database)) as db:
        stored = db.execute("SELECT id, hash FROM audit ORDER BY id").fetchall()
    assert [(int(row["id"]), row["hash"]) for row in exported] == stored
    assert all(row["kiosk_id"] == "lobby-1" for row in exported)

    code, out, _ = run(capsys, "verify", "--policy", str(policy_path))
    assert (code, out) == (0, f"OK: {len(stored)} events, chain intact, head {stored[-1][1]}\n")

    reset_id = next(int(row["id"]) for row in exported if row["event"] == "reset")
    with closing(sqlite3.connect(database)) as db:
        db.execute("UPDATE audit SET user_id = 'bob' WHERE id = ?", (reset_id,))
        db.commit()
    code, out, _ = run(capsys, "verify", "--policy", str(policy_path))
    assert code == 1 and out.startswith(f"FAILED: edited at id {reset_id} (")
