"""Whole recovery flows with SENTINEL secrets, searched for everywhere they must never be (issue 4 item 6),
and the flows of issue 13 after them: "still up to date?" → update → registration of new questions, an
authenticator app and an e-mail address, then a password change with a wrong and the right current one.

A backend on its own SQLite file e-mails codes through a REAL aiosmtpd server on loopback (SMTP AUTH
with a sentinel password from the FAKE in-memory keyring); the kiosk's own `BackendClient` drives it
in-process. The flows use a sentinel new password, sentinel security answers (registered for the
user here, stored as argon2 hashes), the e-mailed codes as read from the SMTP server, and provoke
the error paths that carry secrets: a wrong code, wrong answers, passwords refused by policy and by
history that contain the sentinel, sentinels in invalid request fields and in a broken body, the
password typed into the user-ID field, and sender exceptions whose messages quote the code and the
SMTP password.

Captured, and searched for every sentinel: every log record of every logger at DEBUG (caplog at the
root, with exceptions and stack info formatted), the audit rows, str/repr/body of every exception
the client raised, every HTTP answer body (error bodies in particular), and the raw bytes of the
SQLite store (main file, WAL and shared memory) after the flows. Self-checks make
sure the capture is not empty and that the search would find a secret where one legitimately is.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from live_servers.fake_keyring import FakeMemoryKeyring
from live_servers.fake_keyring import installed as memory_keyring_installed
from live_servers.smtp import SmtpServer, smtp_servers

from kiosk.policy.schema import (
    DeliveryKind,
    DeliverySettings,
    DirectorySettings,
    EmbeddedDirectorySettings,
    EnabledFor,
    Method,
    MethodSettings,
    PasswordSettings,
    Policy,
    ResetSettings,
    SmtpSecurity,
    SmtpSettings,
)
from kiosk.services.api import (
    ErrorCode,
    Flow,
    QuestionChoice,
    ReconfirmChoice,
    RegistrationKind,
    SessionView,
    Stage,
)
from kiosk.services.backend import Backend
from kiosk.services.backend.credentials import SERVICE
from kiosk.services.backend.delivery import smtp as smtp_sender_module
from kiosk.services.backend.directory.embedded import DirectoryUser, RegisteredQuestion
from kiosk.services.backend.hashing import hash_secret
from kiosk.services.backend.recovery.authenticator import code_at
from kiosk.services.backend.recovery.questions import normalize_answer
from kiosk.services.client.backend_client import EMBEDDED_BASE_URL, BackendClient
from kiosk.services.client.errors import ApiError, ProtocolError

# aiosmtpd warns about AUTH over plain SMTP; the server is on loopback on purpose.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

UNIQUE = secrets.token_hex(4)
NEW_PASSWORD = f"Sentinel-Pass-7Q!x-{UNIQUE}"
OLD_PASSWORD = f"Sentinel-Old-4Kw?z-{UNIQUE}"
BANNED = "pineapple"
REFUSED_PASSWORD = f"{NEW_PASSWORD}-{BANNED}"  # refused by policy, and it contains the sentinel
ANSWERS = {
    "first_pet": f"Sentinel Pet {UNIQUE}",
    "first_school": f"Sentinel School {UNIQUE}",
    "childhood_nickname": f"Sentinel Nick {UNIQUE}",
}
WRONG_ANSWER = f"Sentinel Wrong {UNIQUE}"
NEW_ANSWERS = {
    "first_car": f"Sentinel Car {UNIQUE}",
    "favorite_food": f"Sentinel Food {UNIQUE}",
    "father_middle_name": f"Sentinel Father {UNIQUE}",
}
CHANGED_PASSWORD = f"Sentinel-Changed-9Tz%c-{UNIQUE}"
WRONG_CURRENT = f"Sentinel-Wrong-Current-{UNIQUE}"
NEW_ADDRESS = f"samwise.{UNIQUE}@shire.test"
WRONG_CODE = "97531864"
SMTP_USER = "kiosk-mailer"
SMTP_PASSWORD = f"Sentinel-Smtp-8Rv#m-{UNIQUE}"
LOGIN = "samwise"
ADDRESS = "samwise@fabrikam.test"

# The test server's own loggers (aiosmtpd's `mail.log`) echo the SMTP wire, AUTH and DATA included:
# that is the mail relay, not the kiosk, so they are kept apart and used as a positive control.
SERVER_LOGGERS = ("mail.log",)


def sentinel_policy(port: int) -> Policy:
    """Two gates (e-mail, questions; an app may be registered), SMTP AUTH to 127.0.0.1:`port`, a banned word."""
    return Policy(
        reset=ResetSettings(enabled_for=EnabledFor.GROUP, groups=("Staff",)),
        methods=MethodSettings(enabled=(Method.EMAIL, Method.SECURITY_QUESTIONS, Method.APP_CODE), required=2),
        password=PasswordSettings(banned_words=(BANNED,)),
        directory=DirectorySettings(embedded=EmbeddedDirectorySettings(seed_demo_users=False)),
        delivery=DeliverySettings(
            kind=DeliveryKind.SMTP,
            sender_address="kiosk@fabrikam.test",
            smtp=SmtpSettings(
                host="127.0.0.1", port=port, security=SmtpSecurity.NONE, username=SMTP_USER, timeout_seconds=5
            ),
        ),
    )


@dataclass
class Capture:
    """Everything the flows produced that a secret must never reach."""

    responses: list[tuple[int, str, str]] = field(default_factory=list)
    """(status, path, body) of every HTTP answer."""
    exceptions: list[str] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    """Every code the backend made: from the SMTP server and from the sender exceptions."""
    tokens: list[str] = field(default_factory=list)
    app_secrets: list[str] = field(default_factory=list)
    """Authenticator secrets registered: shown to the user once (in the REGISTER_APP view), nowhere else."""

    def failed(self, error: BaseException) -> None:
        text = f"{type(error).__name__}: {error!s} {error!r}"
        if isinstance(error, ApiError):
            text += " " + error.body.model_dump_json()
        self.exceptions.append(text)

    @property
    def error_bodies(self) -> list[str]:
        return [body for status, _, body in self.responses if status >= 400]


@dataclass
class Rig:
    """The backend, its SMTP server, the client and what they captured."""

    backend: Backend
    server: SmtpServer
    http: httpx.AsyncClient
    client: BackendClient
    capture: Capture
    keyring: FakeMemoryKeyring


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with smtp_servers() as start:
        yield start(login=(SMTP_USER, SMTP_PASSWORD))


@pytest.fixture
async def rig(smtp_server: SmtpServer, tmp_path: Path) -> AsyncIterator[Rig]:
    with memory_keyring_installed() as fake_keyring:
        fake_keyring.set_password(SERVICE, "smtp", SMTP_PASSWORD)
        backend = await Backend.open(
            sentinel_policy(smtp_server.port), database=tmp_path / "kiosk.sqlite3", kiosk_id="sentinel-kiosk"
        )
        questions = [
            RegisteredQuestion(question, None, await hash_secret(normalize_answer(answer)))
            for question, answer in ANSWERS.items()
        ]
        user = DirectoryUser(
            login=LOGIN,
            display_name="Samwise Gamgee",
            auth_email=ADDRESS,
            groups=("Staff",),
            questions=tuple(questions),
        )
        await backend.directory.add_users([(user, await hash_secret(OLD_PASSWORD))])
        capture = Capture()

        async def keep(response: httpx.Response) -> None:
            await response.aread()
            capture.responses.append((response.status_code, response.request.url.path, response.text))

        transport = httpx.ASGITransport(app=backend.asgi, raise_app_exceptions=False)
        http = httpx.AsyncClient(transport=transport, base_url=EMBEDDED_BASE_URL, event_hooks={"response": [keep]})
        client = BackendClient(http)
        try:
            yield Rig(backend, smtp_server, http, client, capture, fake_keyring)
        finally:
            await client.aclose()
            await backend.close()


def code_in(message: EmailMessage) -> str:
    body = message.get_body(("plain",))
    assert body is not None
    match = re.search(r"\b(\d{6,10})\b", str(body.get_content()))
    assert match, body
    return match.group(1)


async def expect_error(capture: Capture, code: ErrorCode, call: Any) -> ApiError:
    """Await `call`, which must fail with `code`; the exception is captured."""
    with pytest.raises(ApiError) as raised:
        await call
    capture.failed(raised.value)
    assert raised.value.code is code, raised.value
    return raised.value


async def start(rig: Rig, user_id: str = LOGIN) -> SessionView:
    opened = await rig.client.open_session(kiosk_id="sentinel-kiosk", locale="en")
    rig.capture.tokens.append(opened.token)
    return await rig.client.identify(user_id, await rig.backend.captcha_text_for_test(opened.token))


async def the_whole_flow(rig: Rig) -> None:
    """E-mail code (a wrong one first), questions (wrong answers first), refused passwords, then the reset."""
    client, capture = rig.client, rig.capture
    view = await start(rig)
    assert view.stage is Stage.CHOOSE_METHOD
    await client.choose_method(Method.EMAIL)
    await rig.backend.deliver_pending()  # the delivery worker would within milliseconds
    code = code_in(rig.server.inbox.to(ADDRESS)[-1])
    capture.codes.append(code)
    assert code != WRONG_CODE
    await expect_error(capture, ErrorCode.CODE_WRONG, client.verify_code(WRONG_CODE))
    await client.verify_code(code)
    view = await client.choose_method(Method.SECURITY_QUESTIONS)
    asked = [(q.id, q.predefined_id or "") for q in view.questions]
    assert asked
    await expect_error(capture, ErrorCode.ANSWERS_WRONG, client.answer_questions([(i, WRONG_ANSWER) for i, _ in asked]))
    view = await client.answer_questions([(i, ANSWERS[predefined]) for i, predefined in asked])
    assert view.stage is Stage.NEW_PASSWORD
    await expect_error(capture, ErrorCode.PASSWORD_REJECTED, client.set_password(REFUSED_PASSWORD))
    await expect_error(capture, ErrorCode.PASSWORD_REJECTED, client.set_password(OLD_PASSWORD))
    with pytest.raises(ProtocolError) as refused_locally:  # the client refuses a NUL before sending
        await client.set_password(NEW_PASSWORD + "\x00")
    capture.failed(refused_locally.value)
    view = await client.set_password(NEW_PASSWORD)
    # Registered by an administrator, never confirmed at the kiosk: "is this still up to date?"
    assert view.stage is Stage.RECONFIRM
    assert await rig.backend.directory.verify_password(LOGIN, NEW_PASSWORD)
    view = await client.reconfirm(ReconfirmChoice.UPDATE)
    assert view.stage is Stage.REGISTER
    await register_everything(rig)
    view = await client.finish_registration()
    assert view.stage is Stage.DONE
    await client.close_session()
    await change_password(rig)


async def register_everything(rig: Rig) -> None:
    """New questions, an authenticator app (a wrong code first) and a new e-mail address (a wrong code first)."""
    client, capture = rig.client, rig.capture
    view = await client.register_questions(
        [(QuestionChoice(predefined_id=question), answer) for question, answer in NEW_ANSWERS.items()]
    )
    assert view.stage is Stage.REGISTER
    view = await client.start_app_registration()
    assert view.stage is Stage.REGISTER_APP and view.registration is not None
    secret = view.registration.app_secret
    assert secret
    capture.app_secrets.append(secret)
    await expect_error(capture, ErrorCode.CODE_WRONG, client.confirm_app_registration("000000"))
    view = await client.confirm_app_registration(code_at(secret, rig.backend.clock.now()))
    assert view.stage is Stage.REGISTER
    view = await client.add_contact(RegistrationKind.EMAIL, NEW_ADDRESS)
    assert view.stage is Stage.REGISTER_VERIFY
    await rig.backend.deliver_pending()
    code = code_in(rig.server.inbox.to(NEW_ADDRESS)[-1])
    capture.codes.append(code)
    await expect_error(capture, ErrorCode.CODE_WRONG, client.verify_contact(WRONG_CODE))
    view = await client.verify_contact(code)
    assert view.stage is Stage.REGISTER


async def change_password(rig: Rig) -> None:
    """"Change my password": a wrong current password first (the same answer as an unknown ID), then the right one."""
    client, capture = rig.client, rig.capture
    opened = await client.open_session(kiosk_id="sentinel-kiosk", locale="en", flow=Flow.CHANGE)
    capture.tokens.append(opened.token)
    await expect_error(
        capture,
        ErrorCode.SIGN_IN_FAILED,
        client.sign_in(LOGIN, WRONG_CURRENT, await rig.backend.captcha_text_for_test(opened.token)),
    )
    view = await client.sign_in(LOGIN, NEW_PASSWORD, await rig.backend.captcha_text_for_test(opened.token))
    assert view.stage is Stage.NEW_PASSWORD
    await expect_error(capture, ErrorCode.PASSWORD_REJECTED, client.set_password(REFUSED_PASSWORD))
    view = await client.set_password(CHANGED_PASSWORD)
    assert view.stage is Stage.DONE  # confirmed minutes ago: no "still up to date?"
    assert await rig.backend.directory.verify_password(LOGIN, CHANGED_PASSWORD)
    await client.close_session()


async def invalid_bodies(rig: Rig) -> None:
    """Sentinels in invalid fields and a broken body: 422 naming the field, never echoing the value."""
    await start(rig)
    token = rig.capture.tokens[-1]
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    bodies: list[tuple[str, bytes, str]] = [
        ("/v1/session/identify", json.dumps({"user_id": NEW_PASSWORD + "\x00", "captcha": "x"}).encode(), "user_id"),
        ("/v1/session/password", json.dumps({"password": NEW_PASSWORD + "\u0085"}).encode(), "password"),
        ("/v1/session/password", json.dumps({"password": NEW_PASSWORD, "extra": SMTP_PASSWORD}).encode(), "extra"),
        ("/v1/session/password", json.dumps({"password": [NEW_PASSWORD]}).encode(), "password"),
        ("/v1/session/code", json.dumps({"code": WRONG_CODE * 20}).encode(), "code"),
        (
            "/v1/session/answers",
            json.dumps({"answers": [{"id": "q1", "answer": ANSWERS["first_pet"] + "\x07"}]}).encode(),
            "answers.0.answer",
        ),
        ("/v1/session/password", b'{"password": "' + NEW_PASSWORD.encode() + b"\xff", "body"),
    ]
    for path, content, field_name in bodies:
        response = await rig.http.post(path, content=content, headers=headers)
        assert response.status_code == 422, response.text
        assert response.json()["code"] == "invalid_request" and response.json()["field"] == field_name
    # The password typed into the user-ID field (a real mistake at a kiosk): an unknown user.
    await rig.client.close_session()
    await start(rig, user_id=NEW_PASSWORD)  # unknown user: what the page then shows is not this test's business
    await rig.client.close_session()


async def sender_exceptions(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The SMTP library raising with the code and the SMTP password in its message; then the sender itself.

    The request only queues the code (and answers 200 either way); the delivery worker meets the failures.
    """

    async def failing_send(message: EmailMessage, **options: Any) -> None:
        code = code_in(message)
        rig.capture.codes.append(code)
        raise RuntimeError(f"relay refused {code} for {options.get('username')}:{options.get('password')}")

    await start(rig)
    with monkeypatch.context() as patch:
        patch.setattr(smtp_sender_module.aiosmtplib, "send", failing_send)
        await rig.client.choose_method(Method.EMAIL)
        await rig.backend.deliver_pending()

    original_build = smtp_sender_module.build_message

    def failing_build(sender: str, to: str, subject: str, body: str, organisation: str) -> EmailMessage:
        rig.capture.codes.append(code_in(original_build(sender, to, subject, body, organisation)))
        raise ValueError(f"cannot build a message from {body!r} (smtp password {SMTP_PASSWORD})")

    with monkeypatch.context() as patch:
        patch.setattr(smtp_sender_module, "build_message", failing_build)
        await rig.client.choose_method(Method.EMAIL)
        await rig.backend.deliver_pending()
    await rig.client.close_session()


def log_text(records: list[logging.LogRecord]) -> str:
    """Every record in full: message, arguments, exception and stack, formatted."""
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    return "\n".join(f"{formatter.format(record)} {record.args!r}" for record in records)


def store_bytes(database: Path) -> bytes:
    return b"".join(
        Path(f"{database}{suffix}").read_bytes()
        for suffix in ("", "-wal", "-shm")
        if Path(f"{database}{suffix}").exists()
    )


def leaks(haystack: str, needles: dict[str, str]) -> list[str]:
    folded = haystack.casefold()
    return [name for name, value in needles.items() if value in haystack or value.casefold() in folded]


def byte_leaks(haystack: bytes, needles: dict[str, str]) -> list[str]:
    folded = haystack.lower()
    return [
        name
        for name, value in needles.items()
        if value.encode() in haystack or value.casefold().encode() in folded or value.encode("utf-16-le") in haystack
    ]


async def test_no_secret_reaches_logs_audit_errors_bodies_or_the_store(
    rig: Rig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)  # the root logger: every logger that propagates
    non_propagating = [
        name
        for name, logger in logging.Logger.manager.loggerDict.items()
        if isinstance(logger, logging.Logger) and not logger.propagate and name.startswith("kiosk")
    ]
    assert non_propagating == []  # nothing of ours escapes the root handler

    await the_whole_flow(rig)
    await invalid_bodies(rig)
    await sender_exceptions(rig, monkeypatch)

    capture = rig.capture
    secrets_by_name = {
        "new password": NEW_PASSWORD,
        "old password": OLD_PASSWORD,
        "refused password": REFUSED_PASSWORD,
        "wrong answer": WRONG_ANSWER,
        "changed password": CHANGED_PASSWORD,
        "wrong current password": WRONG_CURRENT,
        **{f"new answer {name}": answer for name, answer in NEW_ANSWERS.items()},
        "wrong code": WRONG_CODE,
        "smtp password": SMTP_PASSWORD,
        **{f"answer {name}": answer for name, answer in ANSWERS.items()},
        **{f"code {index}": code for index, code in enumerate(capture.codes)},
    }
    tokens = {f"token {index}": token for index, token in enumerate(capture.tokens)}
    # The app secret is shown once, in the REGISTER_APP view (a success body): nowhere else.
    app_secrets = {f"app secret {index}": secret for index, secret in enumerate(capture.app_secrets)}

    # ---- self-checks: the capture is not empty, and the search finds what IS there
    assert len(capture.codes) == 4  # one e-mailed, one to the newly registered address, two quoted by the sender
    assert len(capture.app_secrets) == 1
    assert len(capture.exceptions) >= 5 and len(capture.error_bodies) >= 11
    assert {status for status, _, _ in capture.responses} >= {200, 201, 400, 422}
    ours = [record for record in caplog.records if not record.name.startswith(SERVER_LOGGERS)]
    server = [record for record in caplog.records if record.name.startswith(SERVER_LOGGERS)]
    assert any(r.levelno == logging.DEBUG for r in ours)  # DEBUG really was captured
    assert any(r.name == "kiosk.services.backend.delivery.smtp" and r.levelno == logging.WARNING for r in ours)
    assert any("the sender raised ValueError" in r.getMessage() for r in ours)  # the delivery worker's
    assert any(r.name.startswith("kiosk.services.client") for r in ours)
    # The relay's own wire log, captured from its thread, does hold the e-mailed code: the search works.
    assert leaks(log_text(server), {"code 0": capture.codes[0]}) == ["code 0"]
    assert capture.codes[0] in str(rig.server.inbox.to(ADDRESS)[0])
    audit = await rig.backend.audit_records()
    events = {record.event.value for record in audit}
    assert {"code_sent", "gate_failed", "gate_passed", "password_rejected", "reset"} <= events
    assert {"reconfirmed", "registered", "sign_in_failed", "signed_in", "changed"} <= events

    # ---- the searches
    everything = secrets_by_name | tokens | app_secrets
    assert leaks(log_text(ours), everything) == []
    assert leaks("\n".join(repr(record) for record in audit), everything) == []
    assert leaks("\n".join(capture.exceptions), everything) == []
    assert leaks("\n".join(capture.error_bodies), everything) == []
    # Success bodies carry the session token (the open-session answer) and the app secret (the page that
    # shows it) but no other secret; the app secret is in exactly the views of that page.
    assert leaks("\n".join(body for _, _, body in capture.responses), secrets_by_name) == []
    showing = [path for _, path, body in capture.responses if capture.app_secrets[0] in body]
    assert showing == ["/v1/session/register/app"]
    database = rig.backend.database
    assert byte_leaks(store_bytes(database), everything) == []

    # ---- what is stored instead: argon2 hashes only
    with closing(sqlite3.connect(database)) as db:
        code_hashes = [row[0] for row in db.execute("SELECT code_hash FROM codes")]
        answer_hashes = [row[0] for row in db.execute("SELECT answer_hash FROM user_questions")]
        password_hash, history = db.execute(
            "SELECT password_hash, history_json FROM users WHERE login = ?", (LOGIN,)
        ).fetchone()
        sessions = [row[0] for row in db.execute("SELECT state_json FROM sessions")]
    assert answer_hashes and all(value.startswith("$argon2") for value in answer_hashes)
    assert all(value.startswith("$argon2") for value in code_hashes)
    assert password_hash.startswith("$argon2") and all(value.startswith("$argon2") for value in json.loads(history))
    assert leaks("\n".join(sessions), secrets_by_name | tokens) == []


async def test_codes_in_the_store_are_argon2_while_the_session_is_open(rig: Rig) -> None:
    """Before the gate is passed (closed sessions delete their codes), the live code row holds a hash only."""
    await start(rig)
    await rig.client.choose_method(Method.EMAIL)
    await rig.backend.deliver_pending()
    code = code_in(rig.server.inbox.to(ADDRESS)[-1])
    with closing(sqlite3.connect(rig.backend.database)) as db:
        [code_hash] = [row[0] for row in db.execute("SELECT code_hash FROM codes WHERE superseded = 0")]
    assert code_hash.startswith("$argon2") and code not in code_hash
    assert byte_leaks(store_bytes(rig.backend.database), {"code": code, "smtp password": SMTP_PASSWORD}) == []


async def test_the_emailed_code_is_drawn_with_secrets_choice(rig: Rig, monkeypatch: pytest.MonkeyPatch) -> None:
    """The digits of the code come from `secrets.choice` (scripted here): the e-mailed code is exactly them."""
    real_choice = secrets.choice
    script = iter("31415926" * 4)
    drawn: list[str] = []

    def scripted_choice(population: Any) -> Any:
        if population == "0123456789":
            drawn.append(next(script))
            return drawn[-1]
        return real_choice(population)

    await start(rig)
    monkeypatch.setattr(secrets, "choice", scripted_choice)
    await rig.client.choose_method(Method.EMAIL)
    monkeypatch.undo()
    await rig.backend.deliver_pending()
    sent = code_in(rig.server.inbox.to(ADDRESS)[-1])
    assert drawn and sent in "".join(drawn)
    assert sent == "31415926"


async def test_a_password_typed_as_user_id_is_not_kept_even_as_a_fast_hash(rig: Rig) -> None:
    import hashlib

    await start(rig, user_id=NEW_PASSWORD)
    fast_hash = hashlib.sha256(NEW_PASSWORD.strip().casefold().encode()).hexdigest()
    stored = store_bytes(rig.backend.database)
    assert fast_hash.encode() not in stored
    # What is kept instead is a keyed hash (HMAC with the backend's own secret), so it can be counted.
    from kiosk.services.backend.recovery.decoys import subject_of

    keyed = await subject_of(rig.backend._rt.store, NEW_PASSWORD)
    assert keyed.encode() in store_bytes(rig.backend.database) and keyed != "?" + fast_hash
