"""`kiosk report registration` and the registration and service-account lines of `policy explain` / `directory
test`, against the embedded directory (the demo users). Live Samba AD: tests/services/backend/directories/
test_live_protected_accounts.py.
"""

from __future__ import annotations

import asyncio
import csv
import io
import json
import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.cli.main import main as cli_main
from kiosk.cli.report_cmd import report_registration
from kiosk.policy.loader import load_policy
from kiosk.services.backend.directory.embedded import DirectoryUser, EmbeddedDirectory

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DEMO = str(RESOURCES / "demo-policy.toml")
DEMO_LOGINS = {"adele", "alex", "dana", "emma", "fay", "luke", "megan", "nora", "owen", "quinn", "tara"}
SUMMARY = (
    "stranded: 2 of 11 user(s) cannot self-serve (too_few_methods 1, writeback_disabled 1); 7 can; "
    "not meant to: account_disabled 1, not_enabled 1"
)
PROTECTED = ("write lockoutTime", "write pwdLastSet")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def variant(tmp_path: Path, *replacements: tuple[str, str]) -> str:
    """The demo policy with whole lines replaced (each `old` exactly once)."""
    text = (RESOURCES / "demo-policy.toml").read_text(encoding="utf-8")
    for old, new in replacements:
        line = re.compile(f"^{re.escape(old)}$", re.MULTILINE)
        assert len(line.findall(text)) == 1, old
        text = line.sub(lambda _, new=new: new, text)
    path = tmp_path / "variant.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


WRITEBACK_ON = ("writeback = false", "writeback = true")


@pytest.fixture
def protected_owen(monkeypatch: pytest.MonkeyPatch) -> None:
    """The demo directory as an AD would describe it if the service account could not write owen's entry."""
    real_all, real_find = EmbeddedDirectory.all_users, EmbeddedDirectory.find_user

    def protect(user: DirectoryUser) -> DirectoryUser:
        return replace(user, missing_rights=PROTECTED) if user.login == "owen" else user

    async def all_users(self: EmbeddedDirectory) -> list[DirectoryUser]:
        return [protect(user) for user in await real_all(self)]

    async def find_user(self: EmbeddedDirectory, user_id: str) -> DirectoryUser | None:
        found = await real_find(self, user_id)
        return protect(found) if found else None

    monkeypatch.setattr(EmbeddedDirectory, "all_users", all_users)
    monkeypatch.setattr(EmbeddedDirectory, "find_user", find_user)


# ------------------------------------------------------------------------------------------ report


def test_the_text_report_lists_every_user_masked_and_says_who_is_stranded(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report", "registration", "--policy", DEMO)
    assert (code, err) == (3, "")  # somebody is stranded, like `policy diff`
    lines = out.splitlines()
    assert lines[0] == "registration of 11 user(s) in the embedded directory (the demo users, in a temporary store)"
    assert lines[1].split() == ["login", "e-mail", "phone", "questions", "app", "last", "confirmed", "self-service"]
    rows = {line.split()[0]: line for line in lines[2:13]}
    assert set(rows) == DEMO_LOGINS
    assert rows["quinn"].split()[1:5] == ["-", "-", "3", "no"]
    assert rows["fay"].split()[1:5] == ["-", "-", "0", "no"] and rows["fay"].endswith("too_few_methods")
    assert rows["adele"].endswith("yes, 2 gates") and rows["emma"].endswith("yes, 1 gate")
    assert "+31 •• ••• ••78" in rows["tara"]
    assert SUMMARY in lines
    assert lines[-1] == "nothing was sent, written or recorded"
    # Never a value: no whole address, phone number, app secret or answer hash.
    secrets = [value for user in asyncio.run(demo_users()) for value in values_of(user)]
    assert len(secrets) > 15 and not [value for value in secrets if value in out]


async def demo_users() -> list[DirectoryUser]:
    from kiosk.services.backend.directory.inspection import open_for_reading

    async with open_for_reading(load_policy(Path(DEMO))) as directory:
        return await directory.all_users()


def values_of(user: DirectoryUser) -> list[str]:
    """Every registered value of `user` (what the report may only mask or count)."""
    contacts = (user.auth_email, user.alt_email, user.auth_phone, user.mobile_phone, user.office_phone)
    answers = [question.answer_hash for question in user.questions]
    return [value for value in (*contacts, user.totp_secret, *answers) if value]


def test_the_csv_report_is_one_row_per_user(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "report", "registration", "--policy", DEMO, "--csv")
    assert (code, err) == (3, "")
    rows = {row["login"]: row for row in csv.DictReader(io.StringIO(out))}
    assert set(rows) == DEMO_LOGINS
    assert (rows["quinn"]["questions"], rows["quinn"]["app"], rows["quinn"]["offered"]) == (
        "3",
        "no",
        "security_questions",
    )
    assert (rows["adele"]["self_service"], rows["adele"]["gates_required"], rows["adele"]["offered"]) == (
        "yes", "2", "email app_code",
    )  # fmt: skip
    assert (rows["fay"]["self_service"], rows["fay"]["refusal"]) == ("no", "too_few_methods")
    assert rows["tara"]["mobile"] == "+31 •• ••• ••78" and rows["tara"]["email"] == "t•••••@contoso.com"
    assert all(datetime.fromisoformat(row["confirmed_at"]) for row in rows.values())  # the demo seed confirmed them
    assert {row["reconfirm_due"] for row in rows.values()} == {"no"}


def test_the_json_report_agrees_with_policy_explain_for_every_user(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "report", "registration", "--policy", DEMO, "--json")
    report = json.loads(out)
    assert code == 3
    assert report["summary"] == {
        "users": 11,
        "self_service": 7,
        "stranded": 2,
        "stranded_by_reason": {"too_few_methods": 1, "writeback_disabled": 1},
        "out_of_scope_by_reason": {"account_disabled": 1, "not_enabled": 1},
        "reconfirm_due": 0,
    }
    for user in report["users"]:
        _, explained, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", user["login"], "--json")
        decision = json.loads(explained)
        assert (user["refusal"], user["offered"], user["gates_required"]) == (
            decision["refusal"],
            decision["offered"],
            decision["gates_required"],
        )
        seeded = {"confirmed_at", "reconfirm_after"}  # each command seeds its own temporary demo store
        assert {k: v for k, v in user["registered"].items() if k not in seeded} == {
            k: v for k, v in decision["registration"].items() if k not in seeded
        }
        assert user["stranded"] is (user["refusal"] not in (None, "account_disabled", "not_enabled"))


def test_nobody_stranded_exits_0(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    nobody = variant(tmp_path, ('enabled_for = "group"', 'enabled_for = "none"'))
    code, out, _ = run(capsys, "report", "registration", "--policy", nobody)
    assert code == 0
    assert "stranded: 0 of 11 user(s) cannot self-serve; 0 can; not meant to: not_enabled 10, account_disabled 1" in out


def test_csv_and_json_together_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        cli_main(["report", "registration", "--policy", DEMO, "--csv", "--json"])
    assert stopped.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_a_bad_policy_is_exit_1_with_its_problems(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = variant(tmp_path, ("required = 1", "required = 7"))
    code, out, err = run(capsys, "report", "registration", "--policy", bad)
    assert (code, out) == (1, "") and "methods.required" in err


def test_reconfirmation_falls_due_after_the_policys_days() -> None:
    policy = load_policy(Path(DEMO))
    days = policy.registration.reconfirm_days
    out = io.StringIO()
    later = datetime.now(UTC) + timedelta(days=days + 1)
    assert report_registration(policy, "json", out, io.StringIO(), now=later) == 3
    users = {user["login"]: user["registered"] for user in json.loads(out.getvalue())["users"]}
    assert users["quinn"]["reconfirm_due"] is True and users["adele"]["reconfirm_due"] is True
    assert users["fay"]["reconfirm_due"] is False  # nothing registered: nothing to confirm
    assert users["fay"]["reconfirm_after"] is None and users["fay"]["confirmed_at"]
    confirmed = datetime.fromisoformat(users["quinn"]["confirmed_at"])
    assert datetime.fromisoformat(users["quinn"]["reconfirm_after"]) == confirmed + timedelta(days=days)
    text = io.StringIO()
    report_registration(policy, "text", text, io.StringIO(), now=later)
    quinn = next(line for line in text.getvalue().splitlines() if line.startswith("quinn "))
    assert "(due)" in quinn


def test_a_display_name_cannot_become_a_spreadsheet_formula(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = EmbeddedDirectory.all_users

    async def hostile(self: EmbeddedDirectory) -> list[DirectoryUser]:
        users = await real(self)
        return [replace(users[0], display_name='=HYPERLINK("http://x.example","y")'), *users[1:]]

    monkeypatch.setattr(EmbeddedDirectory, "all_users", hostile)
    _, out, _ = run(capsys, "report", "registration", "--policy", DEMO, "--csv")
    names = [row["display_name"] for row in csv.DictReader(io.StringIO(out))]
    assert names[0] == '\'=HYPERLINK("http://x.example","y")'


def test_a_user_the_service_account_cannot_reset_is_stranded(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, protected_owen: None
) -> None:
    policy = variant(tmp_path, WRITEBACK_ON)
    code, out, _ = run(capsys, "report", "registration", "--policy", policy, "--csv")
    rows = {row["login"]: row for row in csv.DictReader(io.StringIO(out))}
    assert code == 3
    assert (rows["owen"]["refusal"], rows["owen"]["missing_rights"]) == (
        "writeback_not_permitted",
        "write:lockoutTime write:pwdLastSet",
    )
    _, text, _ = run(capsys, "report", "registration", "--policy", policy)
    assert "(too_few_methods 1, writeback_not_permitted 1)" in text


# ------------------------------------------------------------------------------------------ explain


def test_explain_shows_the_registration_state(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "tara")
    assert code == 0
    registered = next(line for line in out.splitlines() if line.startswith("registered: "))
    assert registered == (
        "registered: e-mail t•••••@contoso.com, phone +31 •• ••• ••78, 0 security question(s), authenticator app: yes"
    )
    confirmed = next(line for line in out.splitlines() if line.startswith("last confirmed: "))
    assert re.fullmatch(
        r"last confirmed: \d{4}-\d\d-\d\d \d\d:\d\d UTC; reconfirmation due from \d{4}-\d\d-\d\d \d\d:\d\d UTC",
        confirmed,
    )


def test_explain_says_never_confirmed_and_due(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real = EmbeddedDirectory.find_user

    async def unconfirmed(self: EmbeddedDirectory, user_id: str) -> DirectoryUser | None:
        found = await real(self, user_id)
        return replace(found, confirmed_at=None) if found else None

    monkeypatch.setattr(EmbeddedDirectory, "find_user", unconfirmed)
    _, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "quinn")
    assert "last confirmed: never; reconfirmation DUE: after a reset or change" in out
    _, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "quinn", "--json")
    assert json.loads(out)["registration"] == {
        "email": None, "mobile": None, "office": None, "questions": 3, "app": False,
        "confirmed_at": None, "reconfirm_due": True, "reconfirm_after": None,
    }  # fmt: skip


def test_explain_tells_the_missing_right_and_the_fix(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, protected_owen: None
) -> None:
    code, out, _ = run(capsys, "policy", "explain", "--policy", variant(tmp_path, WRITEBACK_ON), "--user", "owen")
    assert code == 3
    lines = out.splitlines()
    assert lines[1].startswith("verdict: REFUSED (writeback_not_permitted): the kiosk's service account may not reset")
    assert (
        "  NO  written back, but the service account may not write lockoutTime, write pwdLastSet on this account"
        in lines
    )
    assert any("AdminSDHolder" in line and "adminCount = 1" in line for line in lines)
    assert any(line.strip().startswith("fix: either delegate the same rights") for line in lines)
    assert "the kiosk: tells the refusal after a first verification with email (a code really arrives)" in lines
    code, out, _ = run(
        capsys, "policy", "explain", "--policy", variant(tmp_path, WRITEBACK_ON), "--user", "owen", "--json"
    )
    decision = json.loads(out)
    assert (decision["refusal"], decision["user"]["missing_rights"]) == ("writeback_not_permitted", list(PROTECTED))
    assert decision["refusal_told"] == "after_first_verification"


def test_explain_of_a_user_the_service_account_may_reset_has_no_rights_lines(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, protected_owen: None
) -> None:
    _, out, _ = run(capsys, "policy", "explain", "--policy", variant(tmp_path, WRITEBACK_ON), "--user", "emma")
    assert "AdminSDHolder" not in out and "may not" not in out
