"""One kiosk's whole e-mail reset through HAProxy, with the real `BackendClient`, step by step.

`ServedKiosk` drives the flow the way the kiosk does (one client, one session token) and records which
replica served every call (HAProxy's `X-Served-By`), so a test can check that the calls alternate, or kill
the replica that served the previous call. The client is `BackendClient` over an httpx client built as
`BackendClient.shared` builds it, plus the kiosk's credential (`X-Kiosk-Credential`, from `enroll_kiosk`)
and a response hook that reads that header (`shared` takes neither yet).

The CAPTCHA: a served backend never tells its answer over HTTP (nor should it), and the test cannot ask
the process for it as the in-process tests do (`Backend.captcha_text_for_test`). The answer is in the
session's row of the store the replicas share, so the test reads it there (`CaptchaReader`), as anyone
with access to the database could: no code path of the product exists for it.

After the flow, `audit_events` and `audit_verify` run the real `kiosk audit` commands on a replica's policy.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import subprocess
import time
from collections.abc import Callable, Coroutine, Mapping
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
from live_servers.haproxy import SERVED_BY
from live_servers.postgres import PostgresCluster
from live_servers.replicas import KIOSK, REPO

from kiosk.policy.schema import Method
from kiosk.services.api import KIOSK_CREDENTIAL_HEADER, SessionView
from kiosk.services.backend.delivery.queue import DEAD_AFTER, HEARTBEAT
from kiosk.services.backend.recovery.sessions import token_hash
from kiosk.services.client import BackendClient
from kiosk.services.client.backend_client import request_timeouts

READ_CODE_WITHIN = DEAD_AFTER + HEARTBEAT + 5.0
"""How long `read_code` waits: a live worker adopts a killed replica's code within `DEAD_AFTER + HEARTBEAT`."""

CaptchaReader = Callable[[str], str]
"""The answer to a session's current CAPTCHA, read from the store by the session token."""

SESSION_STATE = "SELECT state_json FROM sessions WHERE token_hash = {placeholder}"
"""Where a session's state (its CAPTCHA answer with it) is stored, in both stores."""

DEMO_USER = "emma"
DEMO_USER_EMAIL = "emma.jansen@contoso.com"
NEW_PASSWORD = "Lantern-Orbit-Meadow-42"
PASSWORD_CHANGED = "Your Contoso password was changed"
"""The subject of the notice the user gets after a reset."""

EMAIL_RESET_EVENTS = ("session_opened", "identified", "method_chosen", "code_sent", "gate_passed", "reset")
"""The audit events of one undisturbed `email_reset_steps` session, in order."""


def sqlite_captcha(database: Path) -> CaptchaReader:
    """Read CAPTCHA answers from an SQLite store (opened read-only, beside the running replica)."""

    def read(token: str) -> str:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=10)) as db:
            row = db.execute(SESSION_STATE.format(placeholder="?"), (token_hash(token),)).fetchone()
        assert row is not None, "no such session in the store"
        return str(json.loads(row[0])["captcha"])

    return read


def postgres_captcha(cluster: PostgresCluster, dbname: str) -> CaptchaReader:
    """Read CAPTCHA answers from a PostgreSQL store (with psql; the token hash is hexadecimal, safe to inline)."""

    def read(token: str) -> str:
        key = token_hash(token)
        assert re.fullmatch(r"[0-9a-f]{64}", key)
        text = cluster.psql(SESSION_STATE.format(placeholder=f"'{key}'"), dbname).strip()
        assert text, "no such session in the store"
        return str(json.loads(text)["captcha"])

    return read


class ServedKiosk:
    """One kiosk's session through the load balancer; `served_by` lists the replica of every answer."""

    def __init__(
        self, url: str, captcha: CaptchaReader, credential: str, *, kiosk_id: str = "lobby-1", timeout: float = 10.0
    ) -> None:
        self.served_by: list[str] = []
        self._captcha = captcha
        self._kiosk_id = kiosk_id
        self._token = ""
        self.view: SessionView | None = None
        http = httpx.AsyncClient(
            base_url=url,
            timeout=request_timeouts(timeout),
            headers={KIOSK_CREDENTIAL_HEADER: credential},
            event_hooks={"response": [self._record]},
        )
        self.client = BackendClient(http)

    async def _record(self, response: httpx.Response) -> None:
        self.served_by.append(response.headers.get(SERVED_BY, ""))

    @property
    def last_served_by(self) -> str:
        """The replica that answered the previous call."""
        return self.served_by[-1]

    async def aclose(self) -> None:
        """Close the client's connections."""
        await self.client.aclose()

    # ------------------------------------------------------------------ the steps, one call each

    async def open(self) -> None:
        """Open a session (a CAPTCHA comes with it)."""
        opened = await self.client.open_session(kiosk_id=self._kiosk_id, locale="en")
        self._token = opened.token
        self.view = opened.view

    async def identify(self, user_id: str = DEMO_USER) -> None:
        """Give the user ID and the CAPTCHA's answer (read from the store)."""
        self.view = await self.client.identify(user_id, self._captcha(self._token))

    async def choose_email(self) -> None:
        """Choose the e-mail method: a code is queued for the user's address."""
        self.view = await self.client.choose_method(Method.EMAIL)

    async def read_code(self, to: str = DEMO_USER_EMAIL, *, within: float = READ_CODE_WITHIN) -> str:
        """The newest code e-mailed to `to`, from the dev outbox, asked again until it is there.

        The replica that answers delivers what is due first, but a message another replica's worker is
        sending at that moment shows up only once that worker is done, and one queued by a replica killed
        before its worker sent it once a live worker adopts it: like the user, wait for the mail.
        """
        deadline = time.monotonic() + within
        while True:
            messages = [message for message in (await self.client.dev_outbox()).messages if message.to == to]
            if messages or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert messages, f"no message to {to} in the dev outbox within {within} s"
        match = re.search(r"\b(\d{6,10})\b", messages[-1].body)
        assert match, "the newest message carries no code"
        return match.group(1)

    async def enter_code(self, code: str) -> None:
        """Type the code."""
        self.view = await self.client.verify_code(code)

    async def set_password(self, password: str = NEW_PASSWORD) -> None:
        """Choose the new password: the reset."""
        self.view = await self.client.set_password(password)

    async def notices(
        self, to: str = DEMO_USER_EMAIL, *, expect: str = PASSWORD_CHANGED, within: float = READ_CODE_WITHIN
    ) -> list[str]:
        """The subjects of the messages to `to` in the dev outbox, oldest first, once `expect` is among them
        (or after `within` seconds). The replica that queued the notice sends it a moment after its answer,
        and the replica asked shows it only once sent (asked at once, it was missing 2 runs in 8)."""
        deadline = time.monotonic() + within
        while True:
            subjects = [message.subject for message in (await self.client.dev_outbox()).messages if message.to == to]
            if expect in subjects or time.monotonic() > deadline:
                return subjects
            await asyncio.sleep(0.05)

    def email_reset_steps(self) -> list[Callable[[], Coroutine[Any, Any, None]]]:
        """The whole e-mail reset of the demo user, one HTTP call per step (the code read is a call too)."""
        code: list[str] = []

        async def read_code() -> None:
            code.append(await self.read_code())

        async def enter_code() -> None:
            await self.enter_code(code[-1])

        return [self.open, self.identify, self.choose_email, read_code, enter_code, self.set_password]


# ---------------------------------------------------------------------- the audit trail, with the real CLI


def run_audit(policy_file: Path, environment: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`kiosk audit ARGS --policy FILE` as an administrator runs it on a replica's machine."""
    return subprocess.run(  # noqa: S603 - our own console script with fixed arguments
        [str(KIOSK), "audit", *args, "--policy", str(policy_file)],
        cwd=REPO,
        env=dict(environment),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def audit_verify(policy_file: Path, environment: Mapping[str, str]) -> str:
    """`kiosk audit verify`: asserts the hash chain is intact; its report."""
    done = run_audit(policy_file, environment, "verify")
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def audit_events(policy_file: Path, environment: Mapping[str, str]) -> list[dict[str, Any]]:
    """Every audit event, oldest first, as `kiosk audit export --format json` writes them."""
    done = run_audit(policy_file, environment, "export", "--format", "json")
    assert done.returncode == 0, done.stderr
    events: list[dict[str, Any]] = json.loads(done.stdout)
    return events
