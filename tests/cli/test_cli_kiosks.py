"""`kiosk kiosks add|list|revoke` and the kiosk's credential end to end (issue 12, part 1).

The commands in-process (their output, refusals and audit rows), `kiosk secrets set backend`, the kiosk
reading its credential from the keyring (FAKE: the machine runs no keyring daemon), and one run of real
processes: `kiosk serve` over HTTPS on a database file, `kiosk kiosks add` and `revoke` as separate
processes beside it, and a kiosk's client calling it: a revocation in one process is refused at once
by the running server, and the secret is nowhere but in the kiosk's keyring.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import ssl
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from cryptography.fernet import Fernet
from live_servers.certificates import make_tls_files
from live_servers.common import free_port
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.replicas import write_fixed_keyring
from live_servers.served_backend import served_backend_for_kiosks

from kiosk.cli import directory_cmd
from kiosk.cli.main import connect_services, read_backend_credential
from kiosk.cli.main import main as cli_main
from kiosk.flows.steps import BeginAnswer, StepKind
from kiosk.policy.schema import Policy
from kiosk.services.api import ErrorCode
from kiosk.services.backend.credentials import SERVICE, CredentialError
from kiosk.services.backend.kiosks import parse_credential
from kiosk.services.client import ApiError, BackendClient

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / ".venv" / "bin" / "kiosk"
CREDENTIAL_LINE = re.compile(r"^    ([A-Za-z0-9._-]+:[A-Za-z0-9_-]{43})$", re.MULTILINE)


@pytest.fixture
def server_policy(tmp_path: Path) -> Path:
    """A server policy whose store is a file (kiosks can be enrolled only in a store that is kept)."""
    path = tmp_path / "server.toml"
    path.write_text(f'[directory.embedded]\ndatabase = "{tmp_path / "backend.sqlite3"}"\n', encoding="utf-8")
    return path


def kiosks(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """`kiosk kiosks ARGS` in this process: exit status, stdout, stderr."""
    status = cli_main(["kiosks", *args])
    out, err = capsys.readouterr()
    return status, out, err


def audit_export(policy: Path, capsys: pytest.CaptureFixture[str]) -> list[dict[str, str]]:
    assert cli_main(["audit", "export", "--policy", str(policy), "--format", "json"]) == 0
    rows: list[dict[str, str]] = json.loads(capsys.readouterr().out)
    return rows


# ------------------------------------------------------------------------------------------ the commands


def test_add_prints_the_credential_once_and_how_to_store_it(
    server_policy: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = kiosks(capsys, "add", "lobby-1", "--policy", str(server_policy))
    assert (status, err) == (0, "")
    (credential,) = CREDENTIAL_LINE.findall(out)
    parsed = parse_credential(credential)
    assert parsed is not None and parsed.name == "lobby-1"
    assert "kiosk secrets set backend" in out and "shown this once" in out
    status, out, _ = kiosks(capsys, "list", "--policy", str(server_policy))
    assert status == 0 and parsed.secret not in out
    header, row, summary = out.splitlines()
    assert header.split() == ["NAME", "CREATED", "REVOKED"]
    assert row.split()[0] == "lobby-1" and row.split()[2] == "-"
    assert summary == "(1 kiosk, 0 revoked)"
    status, out, _ = kiosks(capsys, "revoke", "lobby-1", "--policy", str(server_policy))
    assert status == 0 and out.startswith("revoked kiosk lobby-1 at ")
    status, out, _ = kiosks(capsys, "list", "--policy", str(server_policy), "--json")
    (entry,) = json.loads(out)
    assert set(entry) == {"name", "created_at", "revoked_at"} and entry["revoked_at"]
    rows = audit_export(server_policy, capsys)
    assert [(r["event"], r["kiosk_id"]) for r in rows] == [("kiosk_added", "lobby-1"), ("kiosk_revoked", "lobby-1")]
    assert all(re.fullmatch(r"ok:by=\S+", r["outcome"]) for r in rows)
    assert parsed.secret not in json.dumps(rows)
    assert parsed.secret.encode() not in (server_policy.parent / "backend.sqlite3").read_bytes()


@pytest.mark.parametrize(
    ("args", "status", "words"),
    [
        (("add", "lobby 1"), 1, "'lobby 1' is not a kiosk name"),
        (("add", "lobby:1"), 1, "is not a kiosk name"),
        (("revoke", "lobby-9"), 1, "no kiosk named 'lobby-9'"),
    ],
)
def test_a_bad_or_unknown_name_is_refused_in_one_line(
    server_policy: Path, capsys: pytest.CaptureFixture[str], args: tuple[str, ...], status: int, words: str
) -> None:
    code, out, err = kiosks(capsys, *args, "--policy", str(server_policy))
    assert (code, out) == (status, "")
    assert len(err.splitlines()) == 1 and words in err and err.startswith(f"kiosk kiosks {args[0]}: ")


def test_a_taken_or_revoked_name_is_refused(server_policy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    policy = str(server_policy)
    assert kiosks(capsys, "add", "lobby-1", "--policy", policy)[0] == 0
    status, _, err = kiosks(capsys, "add", "lobby-1", "--policy", policy)
    assert status == 1 and "a kiosk named lobby-1 already exists" in err
    assert kiosks(capsys, "revoke", "lobby-1", "--policy", policy)[0] == 0
    status, _, err = kiosks(capsys, "revoke", "lobby-1", "--policy", policy)
    assert status == 1 and "already revoked" in err
    status, _, err = kiosks(capsys, "add", "lobby-1", "--policy", policy)
    assert status == 1 and "was revoked" in err and "choose another name" in err
    assert [r["event"] for r in audit_export(server_policy, capsys)] == ["kiosk_added", "kiosk_revoked"]


def test_a_policy_without_a_kept_store_cannot_enrol_kiosks(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "empty.toml"
    empty.write_text("", encoding="utf-8")
    status, out, err = kiosks(capsys, "add", "lobby-1", "--policy", str(empty))
    assert (status, out) == (2, "") and "directory.embedded.database is empty" in err
    broken = tmp_path / "broken.toml"
    broken.write_text("[methods]\nrequird = 1\n", encoding="utf-8")
    status, _, err = kiosks(capsys, "list", "--policy", str(broken))
    assert status == 2 and "is not a valid policy" in err


# ------------------------------------------------------------------------------------------ the kiosk side


def test_secrets_set_backend_stores_a_credential_and_refuses_anything_else(
    memory_keyring: FakeMemoryKeyring, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    credential = "lobby-1:" + "A" * 43

    def typed(*entries: str) -> None:
        answers = iter(entries)
        monkeypatch.setattr(directory_cmd.getpass, "getpass", lambda prompt: next(answers))

    typed("A" * 43, "A" * 43)  # the secret without the name
    assert cli_main(["secrets", "set", "backend"]) == 1
    assert "not a kiosk credential" in capsys.readouterr().err and not memory_keyring.entries
    typed(f" {credential}\n", credential)  # pasted with blanks around it
    assert cli_main(["secrets", "set", "backend"]) == 0
    assert memory_keyring.entries[(SERVICE, "backend")] == credential
    assert credential not in "".join(capsys.readouterr())
    assert read_backend_credential() == credential


def test_a_kiosk_without_a_credential_says_which_command_stores_it(
    memory_keyring: FakeMemoryKeyring, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(CredentialError):
        read_backend_credential()
    assert "kiosk secrets set backend" in capsys.readouterr().err
    memory_keyring.set_password(SERVICE, "backend", "not-a-credential")
    with pytest.raises(CredentialError, match="not a kiosk credential"):
        read_backend_credential()


async def test_the_kiosk_sends_the_credential_from_its_keyring(memory_keyring: FakeMemoryKeyring) -> None:
    async with served_backend_for_kiosks() as (url, backend):
        credential = (await backend.kiosks.add("lobby-7")).text
        policy = Policy.model_validate({"backend": {"mode": "shared", "url": url, "kiosk_id": "spoofed"}})
        memory_keyring.set_password(SERVICE, "backend", credential)
        services = await connect_services(policy)
        try:
            assert (await services.flow.submit(BeginAnswer())).kind is StepKind.IDENTIFY
        finally:
            await services.close()
        opened = [r for r in await backend.audit_records() if r.event == "session_opened"]
        assert [r.kiosk_id for r in opened] == ["lobby-7"]  # the credential's, not the policy's kiosk_id
        memory_keyring.set_password(SERVICE, "backend", "lobby-7:" + "B" * 43)
        services = await connect_services(policy)
        try:
            step = await services.flow.submit(BeginAnswer())
            assert step.kind is StepKind.ERROR  # refused: the kiosk shows its error page, with a reference
        finally:
            await services.close()


def test_the_self_test_of_a_kiosk_without_its_credential_names_the_command(tmp_path: Path) -> None:
    policy = tmp_path / "kiosk.toml"
    policy.write_text(f'[backend]\nmode = "shared"\nurl = "http://127.0.0.1:{free_port()}"\n', encoding="utf-8")
    env = {**os.environ, **write_fixed_keyring(tmp_path / "keyring", {}), "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), "--policy", str(policy), "--self-test"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FAILED" in result.stdout
    assert "kiosk secrets set backend" in result.stderr


# ------------------------------------------------------------------------------------------ real processes


@dataclass(frozen=True)
class HttpsServer:
    """A running `kiosk serve` over HTTPS: its URL, the CA file kiosks trust, its environment, its log."""

    url: str
    ca_file: Path
    env: dict[str, str]
    log: Path


@pytest.fixture
def https_server(tmp_path: Path, server_policy: Path) -> Iterator[HttpsServer]:
    """`kiosk serve` over HTTPS on `server_policy`'s database file (FAKE keyring with its enrollment key)."""
    tls = make_tls_files(tmp_path, ("127.0.0.1",), "kiosk serve")
    keyring_env = write_fixed_keyring(tmp_path / "keyring", {"enrollment-key": Fernet.generate_key().decode()})
    env = {**os.environ, **keyring_env}
    port = free_port()
    log = tmp_path / "serve.log"
    command = [str(KIOSK), "serve", "--policy", str(server_policy), "--port", str(port)]
    command += ["--certificate", str(tls.cert_file), "--key", str(tls.key_file)]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own console script with fixed arguments
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT
        )
    url = f"https://127.0.0.1:{port}"
    trust = ssl.create_default_context(cafile=str(tls.ca_file))
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, log.read_text()
            try:
                httpx.get(f"{url}/v1/health", verify=trust, timeout=1)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline, "kiosk serve did not start"
                time.sleep(0.1)
        yield HttpsServer(url, tls.ca_file, env, log)
    finally:
        process.terminate()
        process.wait(timeout=30)


def run_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """The `kiosk` console script in its own process."""
    return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), *args], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_kiosks_enrolled_and_revoked_beside_a_running_server(https_server: HttpsServer, server_policy: Path) -> None:
    server, policy = https_server, str(server_policy)
    added = run_cli(server.env, "kiosks", "add", "lobby-1", "--policy", policy)
    assert added.returncode == 0, added.stderr
    (credential,) = CREDENTIAL_LINE.findall(added.stdout)
    secret = credential.partition(":")[2]

    async def kiosk_calls() -> None:
        # Without a credential, from another loopback address (each address gets its own audit row).
        trust = ssl.create_default_context(cafile=str(server.ca_file))
        stranger = httpx.AsyncHTTPTransport(verify=trust, local_address="127.0.0.2")
        async with httpx.AsyncClient(transport=stranger, base_url=server.url) as http:
            assert (await http.get("/v1/health")).status_code == 200  # health needs no credential
            refused = await http.post("/v1/sessions", json={"kiosk_id": "lobby-1", "locale": "en"})
            assert refused.status_code == 401 and refused.json()["code"] == "kiosk_unauthorized"
        lobby = BackendClient.shared(server.url, timeout=5.0, ca_file=str(server.ca_file), credential=credential)
        try:
            opened = await lobby.open_session(kiosk_id="someone-else", locale="en")
            assert opened.token and (await lobby.session()).stage.value == "identify"
            # Revoked by another process: the running server refuses the very next call.
            revoked = await asyncio.to_thread(run_cli, server.env, "kiosks", "revoke", "lobby-1", "--policy", policy)
            assert revoked.returncode == 0, revoked.stderr
            with pytest.raises(ApiError) as after:
                await lobby.session()
            assert after.value.code is ErrorCode.KIOSK_UNAUTHORIZED and after.value.status == 401
        finally:
            await lobby.aclose()

    asyncio.run(kiosk_calls())
    listed = run_cli(server.env, "kiosks", "list", "--policy", policy, "--json")
    (entry,) = json.loads(listed.stdout)
    assert entry["name"] == "lobby-1" and entry["revoked_at"]
    exported = run_cli(server.env, "audit", "export", "--policy", policy, "--format", "json")
    rows = json.loads(exported.stdout)
    events = [(row["event"], row["kiosk_id"]) for row in rows]
    assert ("kiosk_added", "lobby-1") in events and ("kiosk_revoked", "lobby-1") in events
    assert ("session_opened", "lobby-1") in events  # the credential's name, never the body's "someone-else"
    refusals = [(row["kiosk_id"], row["outcome"]) for row in rows if row["event"] == "kiosk_refused"]
    assert refusals == [("", "missing:peer=127.0.0.2"), ("lobby-1", "revoked:peer=127.0.0.1")]
    for text in (added.stderr, exported.stdout, listed.stdout, server.log.read_text(errors="replace")):
        assert secret not in text
    for database in server_policy.parent.glob("backend.sqlite3*"):  # the file and its write-ahead log
        assert secret.encode() not in database.read_bytes()
