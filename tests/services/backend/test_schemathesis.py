"""Fuzzing the `/v1` API from its own OpenAPI document (issue 4 item 7): no 5xx, answers as documented.

Schemathesis loads `/v1/openapi.json` from the in-process ASGI app (the demo policy of
resources/demo-policy.toml, opened by the app's lifespan on schemathesis' own event-loop thread) and
generates valid and invalid requests for every operation. The app is the served one (`kiosk serve`'s),
so every case carries an enrolled kiosk's credential, and each runs in a fresh session, so the
session routes are exercised past both 401s. Bounded and deterministic: a few hundred cases, fixed seed
(derandomize), no deadline and no example database.
"""

from __future__ import annotations

import asyncio
import json
import re
import sqlite3
import zlib
from collections.abc import Iterator
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyotp
import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from kiosk.policy.loader import load_policy
from kiosk.policy.schema import Policy
from kiosk.services.api import KIOSK_CREDENTIAL_HEADER
from kiosk.services.backend import Backend, ManualClock, _ServedApp
from kiosk.services.backend.http.openapi import build_document
from kiosk.services.backend.http.routes import active_routes
from kiosk.services.backend.recovery.sessions import token_hash

DEMO_POLICY = Path(__file__).resolve().parents[3] / "resources" / "demo-policy.toml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


POLICY = load_policy(DEMO_POLICY)
# Every case opens a session from the one test client, on the real clock: far more than a kiosk may
# open in 10 minutes (`limits.kiosk_sessions_per_10_minutes`), so the fuzzed backend allows them all.
FUZZ_POLICY = POLICY.model_copy(
    update={"limits": POLICY.limits.model_copy(update={"kiosk_sessions_per_10_minutes": 10_000})}
)
APP = _ServedApp(FUZZ_POLICY)  # the backend opens on the first request (ASGI lifespan), not at import

# The document the app serves, built from the same route table without opening a backend at import.
schema = schemathesis.openapi.from_dict(build_document(active_routes(POLICY.demo), kiosk_credential=True))
schema.app = APP
_CREDENTIALS: dict[int, str] = {}
"""The kiosk enrolled in each backend the app's lifespan opened (schemathesis' client may start it anew)."""


def _kiosk() -> dict[str, str]:
    """The header of a kiosk enrolled in the served app's current store (enrolled on first use)."""
    if APP._backend is None:
        with asgi.get_client(APP) as client:
            assert client.get("http://testserver/v1/health").status_code == 200  # the lifespan opened it
    backend = APP._backend
    assert backend is not None
    if id(backend) not in _CREDENTIALS:
        _CREDENTIALS[id(backend)] = asyncio.run(backend.kiosks.add(f"fuzz-{len(_CREDENTIALS)}")).text
    return {KIOSK_CREDENTIAL_HEADER: _CREDENTIALS[id(backend)]}


@pytest.fixture(scope="module", autouse=True)
def close_backend() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()  # closes the backend the lifespan opened


def test_the_served_document_is_the_fuzzed_one() -> None:
    with asgi.get_client(APP) as client:
        response = client.get("http://testserver/v1/openapi.json", headers=_kiosk())
    assert response.status_code == 200
    assert response.json() == schema.raw_schema


def _fresh_token() -> str:
    with asgi.get_client(APP) as client:
        response = client.post(
            "http://testserver/v1/sessions", json={"kiosk_id": "fuzz", "locale": "en"}, headers=_kiosk()
        )
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_documented(case: schemathesis.Case) -> None:
    headers = {} if "Authorization" in (case.headers or {}) else {"Authorization": f"Bearer {_fresh_token()}"}
    case.call_and_validate(headers={**headers, **_kiosk()}, checks=CHECKS)


# ---------------------------------------------------------------- stateful: following the document's links
# The document links `POST /v1/sessions` (201) to every session operation with
# `header.Authorization: "Bearer {$response.body#/token}"`, so schemathesis' state machine opens a
# session and then calls identify, method, code, answers, password … on THAT session. Two things a
# fuzzer cannot do alone are done by `Guide` (documented, test-only): solving the CAPTCHA (read from
# the session's row, as `Backend.captcha_text_for_test` does) and knowing a code, an app code or a
# demo user's answers; without them every walk would stop at identify. Guidance touches only cases
# schemathesis generated as valid (positive), so the negative cases still must be refused. The
# backend runs on a manual clock that jumps a day before every scenario (throttles and sessions of
# earlier scenarios lapse), on its own temporary database.

STATEFUL_STEPS = 16
STATEFUL_SCENARIOS = 25  # at most 400 calls
GOOD_PASSWORD = "Lantern-Orbit-Meadow-42"
DEMO_IDS = ("quinn", "alex", "tara", "luke", "adele", "nora", "fay", "nobody-here")
DEMO_METHODS = {"quinn": "security_questions", "alex": "app_code", "tara": "email", "luke": "email", "adele": "email"}
DEMO_ANSWERS = {
    "quinn": {"first_pet": "Rex", "first_school": "Oak Park", "childhood_nickname": "Bean"},
    "adele": {"first_pet": "Whiskers", "first_school": "Lincoln Elementary", "childhood_nickname": "Ace"},
}


class GuidedBackend:
    """The demo backend as an ASGI app with lifespan, on a manual clock, plus the test's read-only view of its store."""

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.clock = ManualClock(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
        self.backend: Backend | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    self.backend = await Backend.open(self.policy, clock=self.clock, kiosk_id="stateful")
                    self.loop = asyncio.get_running_loop()
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    if self.backend is not None:
                        await self.backend.close()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        assert self.backend is not None, "the app must run lifespan events"
        await self.backend.asgi(scope, receive, send)

    def totp_secret(self, login: str) -> str:
        """A demo user's app secret, read through the directory on the app's loop (stored sealed)."""
        assert self.backend is not None and self.loop is not None
        found = asyncio.run_coroutine_threadsafe(self.backend.directory.find_user(login), self.loop).result(10)
        return found.totp_secret if found is not None else ""

    def read(self, query: str, *args: Any) -> list[sqlite3.Row]:
        """Rows of the backend's store (a second, read-only connection; the store runs in WAL mode)."""
        assert self.backend is not None
        with closing(sqlite3.connect(f"file:{self.backend.database}?mode=ro", uri=True)) as db:
            db.row_factory = sqlite3.Row
            return db.execute(query, args).fetchall()


GUIDED = GuidedBackend(POLICY)
stateful_schema = schemathesis.openapi.from_dict(build_document(active_routes(POLICY.demo)))
stateful_schema.app = GUIDED
# Only the document's own links: no links guessed from field names (it would chain e.g. the dev
# authenticator's `user_id` into identify, and make identify, not open_session, the entry point).
stateful_schema.config.phases.stateful.inference.algorithms = []


def _positive(case: schemathesis.Case) -> bool:
    meta = case.meta
    return meta is not None and all(
        info.mode is GenerationMode.POSITIVE for info in [meta.generation, *meta.components.values()]
    )


class Guide:
    """Fills, in some valid cases, what only the user at the kiosk knows (deterministically, from the case)."""

    def __init__(self, app: GuidedBackend) -> None:
        self.app = app

    def session(self, case: schemathesis.Case) -> dict[str, Any] | None:
        scheme, _, token = str((case.headers or {}).get("Authorization", "")).partition(" ")
        if scheme != "Bearer" or not token:
            return None
        rows = self.app.read("SELECT state_json FROM sessions WHERE token_hash = ?", token_hash(token))
        return json.loads(rows[0]["state_json"]) if rows else None

    def __call__(self, case: schemathesis.Case) -> None:
        body = case.body
        if not _positive(case) or not isinstance(body, dict):
            return
        state = self.session(case)
        if state is None:
            return
        dice = zlib.crc32(json.dumps(body, sort_keys=True).encode())
        operation = case.operation.definition.raw.get("operationId")
        if dice % 8 == 0:  # one case in eight stays as generated
            return
        if operation == "identify":
            body.update(captcha=state["captcha"], user_id=DEMO_IDS[dice % len(DEMO_IDS)])
        elif operation == "choose_method" and state.get("login") in DEMO_METHODS:
            body["method"] = DEMO_METHODS[state["login"]]
        elif operation == "verify_code" and (code := self.code_for(state)):
            body["code"] = code
        elif operation == "answer_questions" and (answers := self.answers_for(state)):
            body["answers"] = answers
        elif operation == "set_password" and dice % 2:
            body["password"] = GOOD_PASSWORD

    def code_for(self, state: dict[str, Any]) -> str | None:
        if state.get("method") == "app_code":
            return str(pyotp.TOTP(self.app.totp_secret(state["login"])).at(self.app.clock.now()))
        newest = self.app.read("SELECT body FROM outbox ORDER BY id DESC LIMIT 1")
        digits = re.sub(r"(?<=\d) (?=\d)", "", newest[0]["body"]) if newest else ""
        found = re.search(r"\b(\d{6,10})\b", digits)
        return found.group(1) if found else None

    def answers_for(self, state: dict[str, Any]) -> list[dict[str, str]] | None:
        known = DEMO_ANSWERS.get(state.get("login", ""))
        if not known:
            return None
        rows = self.app.read("SELECT position, predefined_id FROM user_questions WHERE login = ?", state["login"])
        by_position = {row["position"]: row["predefined_id"] for row in rows}
        return [{"id": qid, "answer": known[by_position[position]]} for qid, position in state["asked"].items()]


STATEFUL_CALLS: list[tuple[str, int]] = []
_guide = Guide(GUIDED)


class GuidedWorkflow(stateful_schema.as_state_machine()):  # type: ignore[misc]
    def setup(self) -> None:
        GUIDED.clock.advance(25 * 3600)  # a new day: earlier sessions, codes and throttles have lapsed

    def before_call(self, case: schemathesis.Case) -> None:
        _guide(case)

    def after_call(self, response: Any, case: schemathesis.Case) -> None:
        super().after_call(response, case)
        STATEFUL_CALLS.append((str(case.operation.definition.raw.get("operationId")), response.status_code))

    def validate_response(
        self, response: Any, case: schemathesis.Case, additional_checks: Any = None, **kwargs: Any
    ) -> None:
        case.validate_response(response, checks=CHECKS, transport_kwargs=kwargs or None, recorder=self.recorder)


def test_the_document_links_a_new_session_to_every_session_operation() -> None:
    links = schema.raw_schema["paths"]["/v1/sessions"]["post"]["responses"]["201"]["links"]
    session_operations = {spec.operation_id for spec in active_routes(POLICY.demo) if spec.session}
    assert set(links) == session_operations and "identify" in links and "set_password" in links
    for link in links.values():
        assert link["parameters"] == {"header.Authorization": "Bearer {$response.body#/token}"}


@pytest.mark.sqlite_file  # reads sessions from the SQLite file
def test_the_stateful_walk_follows_the_links_and_answers_as_documented() -> None:
    STATEFUL_CALLS.clear()
    GuidedWorkflow.run(
        settings=settings(
            max_examples=STATEFUL_SCENARIOS,
            stateful_step_count=STATEFUL_STEPS,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
    )
    reached = {(operation, status) for operation, status in STATEFUL_CALLS}
    assert not [call for call in STATEFUL_CALLS if call[1] >= 500]
    # Bounded: Hypothesis does not count the scenarios it rejects against max_examples, so allow
    # some slack over scenarios × steps, but never an unbounded walk.
    assert len(STATEFUL_CALLS) <= 2 * STATEFUL_SCENARIOS * STATEFUL_STEPS
    # The walk went past the 401 (links carried the token), through identify, and on to the gates
    # with a live session (answered as documented, not 401). How far past that it gets depends on
    # Hypothesis's choices (a fuzzer cannot pass a gate), so that is not asserted.
    assert ("open_session", 201) in reached and ("identify", 200) in reached
    assert {status for operation, status in reached if operation == "choose_method"} - {401}
