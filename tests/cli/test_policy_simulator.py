"""`kiosk policy explain` and `kiosk policy diff` against the embedded directory (the demo users).

Live directories: tests/services/backend/directories/test_live_policy_simulator.py.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest

from kiosk.cli.main import main as cli_main
from kiosk.policy.loader import load_policy
from kiosk.services.backend import Backend

RESOURCES = Path(__file__).resolve().parents[2] / "resources"
DEMO = str(RESOURCES / "demo-policy.toml")


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli_main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def variant(tmp_path: Path, name: str, *replacements: tuple[str, str]) -> str:
    """The demo policy with settings replaced: each `old` must be exactly one whole line of it."""
    text = (RESOURCES / "demo-policy.toml").read_text(encoding="utf-8")
    for old, new in replacements:
        line = re.compile(f"^{re.escape(old)}$", re.MULTILINE)
        assert len(line.findall(text)) == 1, old
        text = line.sub(lambda _, new=new: new, text)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


REQUIRED_2 = ("required = 1", "required = 2")
NO_QUESTIONS = (
    'enabled = ["email", "mobile_sms", "security_questions", "app_code"]',
    'enabled = ["email", "mobile_sms", "app_code"]',
)


# ------------------------------------------------------------------------------------------ explain


def test_explain_an_administrator_needs_two_gates_and_no_questions(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "adele")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "user: adele (Adele Vance)"
    assert lines[1] == "verdict: may use self-service: 2 gates, choosing among email, app_code"
    assert "gates: 2: administrators always need 2 (methods.required = 1)" in lines
    assert any(
        "security_questions" in line and "administrators may not use security questions" in line for line in lines
    )
    assert any(line.split() == ["email", "offered", "(a•••••@contoso.com)"] for line in lines)
    assert "the second gate shows up after the first" in out
    assert lines[-1] == "nothing was sent, written or recorded"
    assert "adele.vance@contoso.com" not in out  # contact data is masked, as the kiosk shows it


def test_explain_a_user_with_nothing_registered_is_refused_and_never_told(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "fay@contoso.com")
    assert code == 3
    assert "verdict: REFUSED (too_few_methods): too few usable verification methods" in out
    assert "  NO  0 usable factor(s) (none) for 1 gate(s)" in out.splitlines()
    assert "no code ever arrives and the refusal is never told" in out


def test_explain_a_disabled_user_is_told_after_a_first_verification(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "DANA")
    assert code == 3
    lines = out.splitlines()
    assert "verdict: REFUSED (account_disabled): the account is disabled" in lines
    assert "  NO  account disabled" in lines
    assert "the kiosk: tells the refusal after a first verification with email (a code really arrives)" in lines


def test_explain_refusals_for_group_and_writeback(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "nora")
    assert code == 3 and "  NO  self-service not allowed: not a member of SSPR-Users" in out
    code, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "owen")
    assert code == 3 and "  NO  password managed on premises, but on_premises.writeback = false" in out


def test_explain_locked_user_may_choose_unlock_only(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "luke")
    assert code == 0
    assert 'account: locked: after the gates they choose "reset my password" or "unlock only"' in out
    strict = variant(
        tmp_path, "strict.toml", ("allow_unlock_without_reset = true", "allow_unlock_without_reset = false")
    )
    code, out, _ = run(capsys, "policy", "explain", "--policy", strict, "--user", "luke")
    assert code == 0 and "unlock only is off" in out


def test_explain_json_for_scripts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "tara", "--json")
    assert code == 0
    data = json.loads(out)
    assert data["eligible"] is True and data["refusal"] is None and data["refusal_told"] is None
    assert (data["gates_required"], data["gate_reason"], data["two_gate_groups"]) == (2, "two_gate_group", ["Finance"])
    assert data["offered"] == ["email", "mobile_sms", "app_code"]
    by_method = {entry["method"]: entry for entry in data["methods"]}
    assert by_method["mobile_sms"]["masked_target"] == "+31 •• ••• ••78"
    assert by_method["security_questions"]["status"] == "not_registered"
    assert data["user"]["groups"] == ["SSPR-Users", "Finance"]

    code, out, _ = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "fay", "--json")
    data = json.loads(out)
    assert (code, data["refusals"], data["refusal_told"]) == (3, ["too_few_methods"], "never")


def test_explain_prints_no_secret(capsys: pytest.CaptureFixture[str]) -> None:
    """Answers, hashes and authenticator secrets never reach the output, in either format."""
    for user_id in ("quinn", "adele", "alex"):
        for extra in ((), ("--json",)):
            code, out, err = run(capsys, "policy", "explain", "--policy", DEMO, "--user", user_id, *extra)
            assert code == 0
            for secret in ("Rex", "Oak Park", "Bean", "Whiskers", "Lincoln", "argon2", "totp"):
                assert secret not in out + err, (user_id, secret)


def test_explain_unknown_user_is_a_clear_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "policy", "explain", "--policy", DEMO, "--user", "nobody-here")
    assert (code, out) == (1, "")
    assert (
        err == "kiosk: no user matches 'nobody-here' in the embedded directory (the demo users, in a temporary store)\n"
    )


@pytest.mark.parametrize(
    ("user_id", "message"),
    [
        ("x" * 1024 * 1024, "kiosk: the user ID is 1048576 characters long; the kiosk accepts at most 256\n"),
        ("  ", "kiosk: the user ID is empty\n"),
        ("emma\nadele", "kiosk: the user ID contains control characters (the kiosk refuses those)\n"),
    ],
    ids=["1-MB", "blank", "newline"],
)
def test_explain_unusable_user_id_is_exit_2(capsys: pytest.CaptureFixture[str], user_id: str, message: str) -> None:
    code, out, err = run(capsys, "policy", "explain", "--policy", DEMO, "--user", user_id)
    assert (code, out, err) == (2, "", message)


def test_explain_bad_policy_prints_what_policy_check_prints(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('[methods]\nrequired = 3\n\n[kiosk]\nlanguage = ["en"]\n', encoding="utf-8")
    code, out, err = run(capsys, "policy", "explain", "--policy", str(broken), "--user", "emma")
    assert (code, out) == (1, "")
    _, _, check_err = run(capsys, "policy", "check", str(broken))
    assert err == check_err
    assert err.splitlines()[0] == f"{broken}:2: methods.required: must be 1 or 2; got the number 3"


def test_explain_refuses_a_shared_backend_kiosk_policy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    shared = variant(
        tmp_path, "shared.toml", ('mode = "embedded"', 'mode = "shared"\nurl = "https://kiosk.contoso.com"')
    )
    code, out, err = run(capsys, "policy", "explain", "--policy", shared, "--user", "emma")
    assert (code, out) == (1, "")
    assert 'backend.mode = "shared"' in err and "kiosk serve --policy" in err


async def _make_store(database: Path) -> None:
    """A backend store of the demo users at `database`, as a kiosk with `directory.embedded.database` leaves it."""
    policy = load_policy(RESOURCES / "demo-policy.toml")
    backend = await Backend.open(policy, database=database, kiosk_id="test-kiosk")
    await backend.directory.set_locked("emma", True)  # proves the file is what is read, not fresh demo users
    await backend.close()


@pytest.mark.usefixtures("memory_keyring")  # the store file seals app secrets with the keyring's key
def test_explain_reads_a_configured_database_without_changing_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    database = tmp_path / "kiosk.sqlite3"
    asyncio.run(_make_store(database))
    before = hashlib.sha256(database.read_bytes()).hexdigest()
    policy = variant(
        tmp_path,
        "stored.toml",
        ("seed_demo_users = true", f"seed_demo_users = false\ndatabase = {json.dumps(str(database))}"),
    )
    code, out, _ = run(capsys, "policy", "explain", "--policy", policy, "--user", "emma")
    assert code == 0 and 'account: locked: after the gates they choose "reset my password" or "unlock only"' in out
    assert hashlib.sha256(database.read_bytes()).hexdigest() == before
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM audit").fetchone() == (0,)  # nothing recorded
        assert db.execute("SELECT count(*) FROM sessions").fetchone() == (0,)

    (tmp_path / "gone.toml").write_text(Path(policy).read_text().replace("kiosk.sqlite3", "missing.sqlite3"))
    code, out, err = run(capsys, "policy", "explain", "--policy", str(tmp_path / "gone.toml"), "--user", "emma")
    assert (code, out) == (1, "")
    assert err.startswith("kiosk: directory.embedded.database: ") and "missing.sqlite3 does not exist" in err


# --------------------------------------------------------------------------------------------- diff


def test_diff_raising_required_to_two_lists_the_stranded_demo_users(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    new = variant(tmp_path, "required-2.toml", REQUIRED_2)
    code, out, err = run(capsys, "policy", "diff", DEMO, new)
    assert (code, err) == (3, "")
    lines = out.splitlines()
    assert lines[:2] == ["settings that change (1):", "  methods.required: 1 → 2"]
    assert lines[2].startswith("users: 11 in the embedded directory (the demo users, in a temporary store)")
    start = lines.index("lose self-service (4):")
    assert lines[start + 1 : start + 5] == [
        "  alex (Alex Wilber): now refused: too_few_methods (usable: app_code; 2 gate(s) needed)",
        "  emma (Emma Jansen): now refused: too_few_methods (usable: email; 2 gate(s) needed)",
        "  luke (Luke de Vries): now refused: too_few_methods (usable: email; 2 gate(s) needed)",
        "  quinn (Quinn Bakker): now refused: too_few_methods (usable: security_questions; 2 gate(s) needed)",
    ]
    assert "gain self-service: nobody" in lines
    assert any(line.startswith("WARNING: 4 user(s) would lose self-service") for line in lines)


def test_diff_of_a_policy_with_itself_changes_nothing_and_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "policy", "diff", DEMO, DEMO)
    assert code == 0
    assert out.splitlines()[:2] == ["settings that change (0):", "  (none)"]
    assert "WARNING" not in out and "lose self-service: nobody" in out


def test_diff_gain_loss_and_other_gates(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    new = variant(
        tmp_path,
        "wider.toml",
        NO_QUESTIONS,
        ('enabled_for = "group"', 'enabled_for = "all"'),
        ("writeback = false", "writeback = true"),
        ('two_gate_groups = ["Finance"]', "two_gate_groups = []"),
    )
    code, out, _ = run(capsys, "policy", "diff", DEMO, new)
    assert code == 3
    lines = out.splitlines()
    assert (
        '  methods.enabled: ["email", "mobile_sms", "security_questions", "app_code"] → '
        '["email", "mobile_sms", "app_code"] (removed security_questions)'
    ) in lines
    assert '  reset.enabled_for: "group" → "all"' in lines
    assert '  methods.two_gate_groups: ["Finance"] → [] (removed Finance)' in lines
    assert "lose self-service (1):" in lines
    assert "  quinn (Quinn Bakker): now refused: too_few_methods (usable: none; 1 gate(s) needed)" in lines
    assert "gain self-service (2):" in lines
    assert "  nora (Nora Smit): now 1 gate among email (was not_enabled)" in lines
    assert "  owen (Owen Peters): now 1 gate among email (was writeback_disabled)" in lines
    assert "keep it, with other gates or methods (1):" in lines
    assert (
        "  tara (Tara Visser): 2 gates among email, mobile_sms, app_code → 1 gate among email, mobile_sms, app_code"
        in lines
    )


def test_diff_json_and_a_refusal_that_changes_reason(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    new = variant(tmp_path, "all.toml", ('enabled_for = "group"', 'enabled_for = "all"'))
    code, out, _ = run(capsys, "policy", "diff", DEMO, new, "--json")
    data = json.loads(out)
    assert code == 0  # nobody loses: exit 0 even though the policy changed
    assert data["settings"] == [{"key": "reset.enabled_for", "old": "group", "new": "all"}]
    assert data["users"] == 11 and data["lose"] == []
    assert [entry["login"] for entry in data["gain"]] == ["nora"]
    assert data["gain"][0]["new"] == {
        "eligible": True, "refusal": None, "gates_required": 1, "offered": ["email"], "factors": ["email"]
    }
    assert data["reason_changed"] == []

    closed = variant(tmp_path, "none.toml", ('enabled_for = "group"', 'enabled_for = "none"'))
    code, out, _ = run(capsys, "policy", "diff", DEMO, closed, "--json")
    data = json.loads(out)
    assert code == 3 and len(data["lose"]) == 7  # everyone who could reset
    assert {entry["login"] for entry in data["reason_changed"]} == {"fay", "owen"}  # now not_enabled first


@pytest.mark.usefixtures("memory_keyring")
def test_diff_reads_users_with_the_directory_policy(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    database = tmp_path / "kiosk.sqlite3"
    asyncio.run(_make_store(database))
    with sqlite3.connect(database) as db:
        db.execute("DELETE FROM users WHERE login <> 'emma'")
    directory = variant(
        tmp_path,
        "directory.toml",
        ("seed_demo_users = true", f"seed_demo_users = false\ndatabase = {json.dumps(str(database))}"),
    )
    new = variant(tmp_path, "required-2.toml", REQUIRED_2)
    code, out, _ = run(capsys, "policy", "diff", DEMO, new, "--directory-policy", directory)
    assert code == 3
    assert (
        f"users: 1 in the embedded directory ({database}) (read once, with the directory settings of {directory})"
        in out
    )
    assert "lose self-service (1):" in out and "emma (Emma Jansen)" in out


def test_diff_tells_every_bad_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    first = tmp_path / "first.toml"
    first.write_text("[methods]\nrequired = 3\n", encoding="utf-8")
    second = tmp_path / "second.toml"
    second.write_text("[reset]\nenabled_for = 'some'\n", encoding="utf-8")
    code, out, err = run(capsys, "policy", "diff", str(first), str(second))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert lines[0] == f"{first}:2: methods.required: must be 1 or 2; got the number 3"
    assert lines[1].startswith(f"{second}:2: reset.enabled_for: ")
    code, _, err = run(capsys, "policy", "diff", DEMO, str(tmp_path / "missing.toml"))
    assert code == 1 and err == f"{tmp_path / 'missing.toml'}: no such file; give the path of a policy .toml file\n"


def test_policy_check_points_at_diff_when_two_gates_are_required(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    new = variant(tmp_path, "required-2.toml", REQUIRED_2)
    code, out, err = run(capsys, "policy", "check", new)
    assert (code, out) == (0, f"OK: {new} is a valid policy\n")  # still valid: a note, not a problem
    assert err == (
        f"note: {new}: methods.required = 2: users with only one usable method cannot reset; "
        "`kiosk policy diff OLD NEW` lists who would lose self-service\n"
    )
    assert run(capsys, "policy", "check", DEMO) == (0, f"OK: {DEMO} is a valid policy\n", "")


def test_a_directory_that_refuses_the_search_is_a_clear_exit_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ldap3.core.exceptions import LDAPInsufficientAccessRightsResult

    from kiosk.services.backend.directory.embedded import EmbeddedDirectory

    async def refused(self: EmbeddedDirectory) -> list[object]:
        raise LDAPInsufficientAccessRightsResult("search of (uid=secret-looking-filter) refused")

    monkeypatch.setattr(EmbeddedDirectory, "all_users", refused)
    code, out, err = run(capsys, "policy", "diff", DEMO, DEMO)
    assert (code, out) == (1, "")
    assert err == "kiosk: the directory refused the search (LDAPInsufficientAccessRightsResult)\n"


def test_a_reader_that_goes_away_is_no_traceback() -> None:
    """`kiosk policy show … | head -1`: the pipe closes early; the command ends quietly, without a traceback."""
    import subprocess
    import sys

    script = "import sys; from kiosk.cli.main import main; sys.exit(main(sys.argv[1:]))"
    child = subprocess.Popen(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-c", script, "policy", "show", "--effective", str(RESOURCES / "demo-policy.toml")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert child.stdout is not None and child.stderr is not None
    child.stdout.close()  # the reader is gone before anything is written
    errors = child.stderr.read().decode()
    assert child.wait(timeout=60) == 1
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
