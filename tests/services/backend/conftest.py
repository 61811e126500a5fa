"""Fixtures for the backend tests: a demo-like policy, a manual clock, a backend and a kiosk driver."""

from __future__ import annotations

import base64
import os
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import httpx
import pyotp
import pytest

from kiosk.policy.schema import (
    DirectorySettings,
    EmbeddedDirectorySettings,
    EnabledFor,
    Method,
    MethodSettings,
    OnPremisesSettings,
    Policy,
    ResetSettings,
)
from kiosk.policy.store_schema import StoreKind, StoreSettings
from kiosk.services.api import SessionOpened, SessionView
from kiosk.services.backend import Backend, ManualClock

START = datetime(2025, 3, 3, 9, 0, 0, tzinfo=UTC)
DEMO_PASSWORD = "Contoso-Demo-2025!"
QUINN_ANSWERS = {"first_pet": "Rex", "first_school": "Oak Park", "childhood_nickname": "Bean"}
ADELE_ANSWERS = {"first_pet": "Whiskers", "first_school": "Lincoln Elementary", "childhood_nickname": "Ace"}
GOOD_PASSWORD = "Lantern-Orbit-Meadow-42"


def demo_policy(**changes: Any) -> Policy:
    """The demo policy (as resources/demo-policy.toml describes it), with optional section overrides."""
    sections: dict[str, Any] = {
        "reset": ResetSettings(enabled_for=EnabledFor.GROUP, groups=("SSPR-Users",)),
        "methods": MethodSettings(
            enabled=(Method.EMAIL, Method.MOBILE_SMS, Method.SECURITY_QUESTIONS, Method.APP_CODE),
            required=1,
            two_gate_groups=("Finance",),
        ),
        "on_premises": OnPremisesSettings(writeback=False, allow_unlock_without_reset=True),
        "directory": DirectorySettings(embedded=EmbeddedDirectorySettings(seed_demo_users=True)),
    }
    sections.update(changes)
    return Policy(**sections)


STORE_UNDER_TEST = os.environ.get("KIOSK_TEST_STORE", "sqlite")
"""`make test` runs this folder twice: on SQLite (the default) and with KIOSK_TEST_STORE=postgresql."""


def pytest_configure(config: pytest.Config) -> None:
    """Register the marker of tests that only make sense on SQLite."""
    config.addinivalue_line("markers", "sqlite_file: reads or breaks the SQLite file itself (not run on PostgreSQL)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, leave out the tests that read the SQLite file itself (they ran on the first)."""
    if STORE_UNDER_TEST != "postgresql":
        return
    kept = [item for item in items if item.get_closest_marker("sqlite_file") is None]
    if len(kept) != len(items):
        config.hook.pytest_deselected(items=[item for item in items if item not in kept])
        items[:] = kept


@pytest.fixture(scope="session")
def _postgres_databases(request: pytest.FixtureRequest) -> Iterator[Callable[[], str]]:
    """On the PostgreSQL pass: makes a fresh, already migrated database (a copy of a template migrated once,
    over one admin connection: a psql process and a migration per backend cost minutes over the pass)."""
    import asyncio

    import psycopg

    from kiosk.services.backend.storage.store import Store
    from kiosk.services.backend.storage.target import PostgresSettings

    cluster = request.getfixturevalue("postgres_cluster")
    template = cluster.fresh_database("template")
    store = asyncio.run(Store.open(PostgresSettings(cluster.dsn(template), cluster.password, pool_size=1)))
    asyncio.run(store.close())  # no connection may stay open to a template
    made: list[str] = []
    with psycopg.connect(cluster.dsn(cluster.dbname), password=cluster.password, autocommit=True) as admin:

        def fresh() -> str:
            name = f"backend_{len(made)}_{os.getpid()}"
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            made.append(name)
            return name

        try:
            yield fresh
        finally:
            for name in made:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    cluster.drop_database(template)


@pytest.fixture(autouse=True)
def _backends_on_postgresql(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[None]:
    """On the PostgreSQL pass, every backend a test opens without a database of its own gets a fresh
    PostgreSQL database on the run's throwaway cluster (test code only: Backend.open is wrapped here)."""
    if STORE_UNDER_TEST != "postgresql":
        yield
        return
    cluster = request.getfixturevalue("postgres_cluster")
    fresh_database = request.getfixturevalue("_postgres_databases")
    secrets_folder = tmp_path_factory.mktemp("credentials")
    (secrets_folder / "enrollment-key").write_text(base64.urlsafe_b64encode(os.urandom(32)).decode())
    monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(secrets_folder))
    monkeypatch.setenv("KIOSK_DATABASE_PASSWORD", cluster.password)
    original = Backend.open.__func__  # type: ignore[attr-defined]

    async def open_on_postgresql(cls: type[Backend], policy: Policy, **options: Any) -> Backend:
        if (
            options.get("database") is None
            and policy.store.kind is StoreKind.SQLITE
            and not policy.directory.embedded.database
        ):
            name = fresh_database()
            store = StoreSettings(kind=StoreKind.POSTGRESQL, url=cluster.dsn(name), pool_size=4)
            policy = policy.model_copy(update={"store": store})
        return await original(cls, policy, **options)  # type: ignore[no-any-return]

    monkeypatch.setattr(Backend, "open", classmethod(open_on_postgresql))
    yield  # the databases are dropped at the end of the pass


@pytest.fixture
def clock() -> ManualClock:
    """A manual clock at a fixed Monday morning."""
    return ManualClock(START)


@pytest.fixture
def policy() -> Policy:
    """The demo policy; override this fixture in a test module to change it."""
    return demo_policy()


@pytest.fixture
async def backend(policy: Policy, clock: ManualClock) -> AsyncIterator[Backend]:
    """A backend on a fresh temporary database."""
    opened = await Backend.open(policy, clock=clock, kiosk_id="test-kiosk")
    yield opened
    await opened.close()


@pytest.fixture
async def http(backend: Backend) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client talking to the backend in-process."""
    transport = httpx.ASGITransport(app=backend.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://kiosk") as client:
        yield client


class Kiosk:
    """Drives one reset session over HTTP, the way the kiosk's client does."""

    def __init__(self, backend: Backend, http: httpx.AsyncClient) -> None:
        self.backend = backend
        self.http = http
        self.token = ""
        self.responses: list[httpx.Response] = []

    async def request(self, method: str, path: str, body: Any = None, *, auth: bool = True) -> httpx.Response:
        """Send one request (with the session token) and remember the response."""
        headers = {"Authorization": f"Bearer {self.token}"} if auth and self.token else {}
        response = await self.http.request(method, f"/v1{path}", json=body, headers=headers)
        self.responses.append(response)
        return response

    async def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> SessionView:
        """Send a request that must succeed with a SessionView."""
        response = await self.request(method, path, body)
        assert response.status_code == status, response.text
        return SessionView.model_validate_json(response.content)

    async def error(self, method: str, path: str, body: Any, status: int, code: str) -> dict[str, Any]:
        """Send a request that must fail with `code`; returns the error body."""
        response = await self.request(method, path, body)
        assert response.status_code == status, response.text
        payload: dict[str, Any] = response.json()
        assert payload["code"] == code, payload
        assert payload["message_key"] == f"error.{code}"
        assert payload["correlation_id"] == response.headers["X-Correlation-Id"]
        return payload

    async def open(self) -> SessionOpened:
        """Open a session."""
        response = await self.request("POST", "/sessions", {"kiosk_id": "lobby-1", "locale": "en"})
        assert response.status_code == 201, response.text
        opened = SessionOpened.model_validate_json(response.content)
        self.token = opened.token
        return opened

    async def identify(self, user_id: str) -> SessionView:
        """Identify (solving the CAPTCHA through the test hook)."""
        captcha = await self.backend.captcha_text_for_test(self.token)
        return await self.ok("POST", "/session/identify", {"user_id": user_id, "captcha": captcha})

    async def start(self, user_id: str) -> SessionView:
        """Open a session and identify."""
        await self.open()
        return await self.identify(user_id)

    async def choose(self, method: Method) -> SessionView:
        """Choose the method for the next gate, and let the delivery worker send what that queued."""
        view = await self.ok("POST", "/session/method", {"method": method.value})
        await self.backend.deliver_pending()
        return view

    async def run_queue(self, seconds: int) -> None:
        """Let `seconds` of (manual) time pass, one second at a time, delivering what falls due (retries)."""
        clock = self.backend.clock
        assert isinstance(clock, ManualClock)
        for _ in range(seconds):
            await self.backend.deliver_pending()
            clock.advance(1)
        await self.backend.deliver_pending()

    async def sent_code(self) -> str:
        """The code in the newest outbox message (delivered first: the dev outbox is the queue's sender)."""
        messages = await self.backend.outbox()
        digits = re.sub(r"(?<=\d) (?=\d)", "", messages[-1].body)  # voice calls space the digits out
        match = re.search(r"\b(\d{6,10})\b", digits)
        assert match, messages[-1].body
        return match.group(1)

    async def app_code(self, login: str, offset_steps: int = 0) -> str:
        """The authenticator code of `login` at the backend's clock."""
        user = await self.backend.directory.find_user(login)
        assert user is not None
        return str(pyotp.TOTP(user.totp_secret).at(self.backend.clock.now(), counter_offset=offset_steps))

    async def code(self, code: str) -> SessionView:
        """Enter a code that must be right."""
        return await self.ok("POST", "/session/code", {"code": code})

    async def pass_email(self) -> SessionView:
        """Pass a gate by e-mail code."""
        await self.choose(Method.EMAIL)
        return await self.code(await self.sent_code())

    async def pass_app(self, login: str) -> SessionView:
        """Pass a gate with the authenticator app."""
        await self.choose(Method.APP_CODE)
        return await self.code(await self.app_code(login))

    async def answer(self, view: SessionView, answers: dict[str, str]) -> httpx.Response:
        """Answer the asked questions from a predefined-id → answer table."""
        body = {"answers": [{"id": q.id, "answer": answers[q.predefined_id or ""]} for q in view.questions]}
        return await self.request("POST", "/session/answers", body)

    async def password(self, password: str) -> httpx.Response:
        """Send a new password, and let the delivery worker send the notices that queued."""
        response = await self.request("POST", "/session/password", {"password": password})
        await self.backend.deliver_pending()
        return response


@pytest.fixture
def kiosk(backend: Backend, http: httpx.AsyncClient) -> Kiosk:
    """A kiosk driver."""
    return Kiosk(backend, http)


@asynccontextmanager
async def kiosk_for(policy: Policy, clock: ManualClock | None = None) -> AsyncIterator[Kiosk]:
    """A kiosk driver on its own backend with `policy` (for tests that need a different policy)."""
    backend = await Backend.open(policy, clock=clock or ManualClock(START))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
            yield Kiosk(backend, http)
    finally:
        await backend.close()
