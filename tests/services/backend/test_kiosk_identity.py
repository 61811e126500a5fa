"""Kiosk identity on a served backend (issue 12, part 1): every call but health and ready needs a live credential.

In-process (httpx's ASGITransport, with a chosen client address) against a backend opened as `kiosk serve`
opens it (`require_kiosk_credential=True`): a call without a live `X-Kiosk-Credential` is 401
`kiosk_unauthorized` before any work, audited at most once per address per minute; the kiosk id in the
audit and in the per-kiosk limits is the credential's, never the body's; a session answers only the
kiosk that opened it; a revocation holds on the very next call. The same over real HTTP, with the CLI
and `kiosk serve` in separate processes, is in tests/cli/test_cli_kiosks.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.policy.schema import LimitSettings, Method, Policy
from kiosk.services.api import KIOSK_CREDENTIAL_HEADER, Stage
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.audit.log import AuditEvent, AuditRecord
from kiosk.services.backend.http.kiosk_identity import REFUSALS_AUDITED_PER_MINUTE
from kiosk.services.backend.kiosks import KioskRegistryError, Verdict, parse_credential, secret_hash

from .conftest import GOOD_PASSWORD, START, Kiosk, demo_policy

# A call of every kind that needs a credential: no session, a session route, one with a body.
GUARDED = [
    ("GET", "/v1/openapi.json", None),
    ("POST", "/v1/sessions", {"kiosk_id": "lobby-9", "locale": "en"}),
    ("GET", "/v1/session", None),
    ("POST", "/v1/session/identify", {"user_id": "emma", "captcha": "123456"}),
    ("POST", "/v1/session/password", {"password": GOOD_PASSWORD}),
    ("GET", "/v1/dev/outbox", None),
]


@asynccontextmanager
async def served(policy: Policy | None = None) -> AsyncIterator[Backend]:
    """A backend opened as `kiosk serve` opens it (a kiosk credential on every call), on a manual clock."""
    backend = await Backend.open(policy or demo_policy(), clock=ManualClock(START), require_kiosk_credential=True)
    try:
        yield backend
    finally:
        await backend.close()


def client(backend: Backend, credential: str | None = None, address: str = "127.0.0.1") -> httpx.AsyncClient:
    """An HTTP client from `address` that sends `credential` (when given) with every call."""
    transport = httpx.ASGITransport(app=backend.asgi, client=(address, 40000))
    headers = {KIOSK_CREDENTIAL_HEADER: credential} if credential is not None else None
    return httpx.AsyncClient(transport=transport, base_url="http://kiosk", headers=headers)


async def refusals(backend: Backend) -> list[AuditRecord]:
    return [r for r in await backend.audit_records() if r.event is AuditEvent.KIOSK_REFUSED]


async def session_count(backend: Backend) -> int:
    return int(await backend._rt.store.call(lambda db: db.execute("SELECT COUNT(*) FROM sessions").fetchone()[0]))


def assert_refused(response: httpx.Response, code: str = "kiosk_unauthorized") -> None:
    assert response.status_code == 401, response.text
    body: dict[str, Any] = response.json()
    assert body["code"] == code and body["message_key"] == f"error.{code}"
    assert body["correlation_id"] == response.headers["X-Correlation-Id"]


# ------------------------------------------------------------------------------------------ the gate


async def test_health_and_ready_need_no_credential_everything_else_does() -> None:
    async with served() as backend, client(backend) as http:
        assert (await http.get("/v1/health")).status_code == 200
        assert (await http.get("/v1/ready")).status_code == 200
        for method, path, body in GUARDED:
            assert_refused(await http.request(method, path, json=body))
        assert await session_count(backend) == 0
        (row,) = await refusals(backend)  # one row for the address, however many calls it made
        assert (row.kiosk_id, row.reference, row.user_id) == ("", "", "")
        assert row.outcome == "missing:peer=127.0.0.1"


async def test_a_live_credential_is_let_through_and_the_embedded_backend_asks_for_none() -> None:
    async with served() as backend:
        credential = (await backend.kiosks.add("lobby-1")).text
        async with client(backend, credential) as http:
            kiosk = Kiosk(backend, http)
            await kiosk.start("emma")
            await kiosk.pass_email()
            assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
        assert not await refusals(backend)
    embedded = await Backend.open(demo_policy(), clock=ManualClock(START))
    try:
        async with client(embedded) as http:  # in-process, no network: no credential asked for
            assert (await http.post("/v1/sessions", json={"kiosk_id": "k", "locale": "en"})).status_code == 201
    finally:
        await embedded.close()


@pytest.mark.parametrize(
    ("presented", "reason", "claimed"),
    [
        ("{name}:{secret}x", Verdict.WRONG_SECRET, "lobby-1"),
        ("{name}:", Verdict.MALFORMED, ""),
        ("{secret}", Verdict.MALFORMED, ""),  # the secret alone: it must not become the audit's kiosk id
        ("{secret}:{name}", None, ""),  # unknown, or malformed when the random secret starts with - or _
        ("lobby-2:{secret}", Verdict.UNKNOWN, ""),
        ("LOBBY-1:{secret}", Verdict.UNKNOWN, ""),
        ("lobby 1:{secret}", Verdict.MALFORMED, ""),
        ("\u202elobby-1:{secret}", Verdict.MALFORMED, ""),
        ("{name}:{secret}" + "x" * 300, Verdict.MALFORMED, ""),
    ],
)
async def test_a_credential_that_is_not_the_live_one_is_refused_and_audited_without_its_secret(
    presented: str, reason: Verdict | None, claimed: str
) -> None:
    async with served() as backend:
        live = await backend.kiosks.add("lobby-1")
        text = presented.format(name=live.name, secret=live.secret)
        async with client(backend) as http:
            # Raw latin-1 bytes, as a client could send them (httpx would refuse a str it cannot encode).
            headers = {KIOSK_CREDENTIAL_HEADER.encode(): text.encode("utf-8")}
            response = await http.post("/v1/sessions", json={"kiosk_id": "x", "locale": "en"}, headers=headers)
        assert_refused(response)
        assert await session_count(backend) == 0
        (row,) = await refusals(backend)
        reasons = {reason} if reason is not None else {Verdict.UNKNOWN, Verdict.MALFORMED}
        assert row.outcome in {f"{why}:peer=127.0.0.1" for why in reasons} and row.kiosk_id == claimed
        assert live.secret not in repr(await backend.audit_records())


async def test_a_revoked_kiosk_is_refused_on_its_very_next_call() -> None:
    async with served() as backend:
        credential = (await backend.kiosks.add("lobby-1")).text
        async with client(backend, credential) as http:
            kiosk = Kiosk(backend, http)
            await kiosk.start("emma")
            await backend.kiosks.revoke("lobby-1")  # as `kiosk kiosks revoke` does, in the same store
            assert_refused(await kiosk.request("GET", "/session"))
            assert_refused(await http.post("/v1/sessions", json={"kiosk_id": "lobby-1", "locale": "en"}))
        (row,) = await refusals(backend)
        assert (row.kiosk_id, row.outcome) == ("lobby-1", "revoked:peer=127.0.0.1")


async def test_the_refusal_comes_before_any_work() -> None:
    """No body is read and no session is looked up or locked for a call without a live credential."""
    async with served() as backend:
        credential = (await backend.kiosks.add("lobby-1")).text
        async with client(backend, credential) as own, client(backend, "lobby-1:wrong") as http:
            kiosk = Kiosk(backend, own)
            await kiosk.open()
            store_calls: list[str] = []
            real_call = backend._rt.store.call

            async def counted(work: Any) -> Any:
                store_calls.append(getattr(work, "__qualname__", "?"))
                return await real_call(work)

            backend._rt.store.call = counted  # type: ignore[method-assign]
            # A body far over the limit and not JSON, on a real session: refused as a kiosk, not as a request.
            oversized = await http.post(
                "/v1/session/identify", content=b"{" * 200_000, headers={"Authorization": f"Bearer {kiosk.token}"}
            )
            del backend._rt.store.call
            assert_refused(oversized)
            # One look at the kiosk's row, one audit row: the session was never loaded or saved.
            assert [name.rsplit(".", 1)[-1] for name in store_calls] == ["<lambda>", "insert"]
            assert (await kiosk.request("GET", "/session")).status_code == 200  # untouched, still usable


# ------------------------------------------------------------------------------------------ whose calls


async def test_the_kiosk_id_comes_from_the_credential_never_from_the_body() -> None:
    limits = LimitSettings(kiosk_sessions_per_10_minutes=2)
    async with served(demo_policy(limits=limits)) as backend:
        lobby = (await backend.kiosks.add("lobby-1")).text
        other = (await backend.kiosks.add("lobby-2")).text
        async with client(backend, lobby, "10.0.0.1") as http:
            for claimed in ("lobby-2", "spoofed"):
                opened = await http.post("/v1/sessions", json={"kiosk_id": claimed, "locale": "en"})
                assert opened.status_code == 201
            # A third session of lobby-1 is over its limit, whatever kiosk id the body claims.
            third = await http.post("/v1/sessions", json={"kiosk_id": "brand-new", "locale": "en"})
            assert third.status_code == 429 and third.json()["code"] == "too_many_attempts"
        async with client(backend, other, "10.0.0.2") as http:  # lobby-2's own limit is untouched
            assert (await http.post("/v1/sessions", json={"kiosk_id": "lobby-1", "locale": "en"})).status_code == 201
        records = await backend.audit_records()
        opened_by = [r.kiosk_id for r in records if r.event is AuditEvent.SESSION_OPENED]
        assert opened_by == ["lobby-1", "lobby-1", "lobby-2"]
        blocked = [r for r in records if r.event is AuditEvent.BLOCKED]
        assert [r.kiosk_id for r in blocked] == ["lobby-1"]


async def test_a_session_answers_only_the_kiosk_that_opened_it() -> None:
    async with served() as backend:
        mine = (await backend.kiosks.add("lobby-1")).text
        theirs = (await backend.kiosks.add("lobby-2")).text
        async with client(backend, mine, "10.0.0.1") as own, client(backend, theirs, "10.0.0.2") as other:
            kiosk = Kiosk(backend, own)
            view = await kiosk.start("emma")
            thief = Kiosk(backend, other)
            thief.token = kiosk.token
            for method, path, body in [
                ("GET", "/session", None),
                ("POST", "/session/method", {"method": Method.EMAIL.value}),
                ("DELETE", "/session", None),
            ]:
                assert_refused(await thief.request(method, path, body), "session_required")
            # The owner's session is as it was: not ended, not moved, nothing sent.
            assert (await kiosk.ok("GET", "/session")).stage is view.stage is Stage.CHOOSE_METHOD
            assert not await backend.outbox()
        rows = await refusals(backend)
        assert {(r.kiosk_id, r.user_id, r.outcome) for r in rows} == {
            ("lobby-2", "emma", "other_kiosks_session:peer=10.0.0.2")
        }
        opened = next(r for r in await backend.audit_records() if r.event is AuditEvent.SESSION_OPENED)
        assert {r.reference for r in rows} == {opened.reference}


# ------------------------------------------------------------------------------------------ a flood


async def test_a_flood_of_refusals_writes_one_row_per_address_per_minute() -> None:
    async with served() as backend:
        clock = backend.clock
        assert isinstance(clock, ManualClock)
        async with client(backend, "lobby-1:guess", "192.0.2.7") as http:
            for _ in range(50):
                assert_refused(await http.get("/v1/openapi.json"))
            clock.advance(59)
            assert_refused(await http.get("/v1/openapi.json"))
            assert len(await refusals(backend)) == 1
            clock.advance(1)
            assert_refused(await http.get("/v1/openapi.json"))
        first, second = await refusals(backend)
        assert first.outcome == "unknown:peer=192.0.2.7"
        assert second.outcome == "unknown:unaudited=50:peer=192.0.2.7"  # what the minute left out is counted


async def test_a_flood_from_many_addresses_is_capped_per_minute() -> None:
    async with served() as backend:
        for number in range(REFUSALS_AUDITED_PER_MINUTE + 15):
            async with client(backend, None, f"198.51.100.{number}") as http:
                assert_refused(await http.get("/v1/session"))
        assert len(await refusals(backend)) == REFUSALS_AUDITED_PER_MINUTE
        clock = backend.clock
        assert isinstance(clock, ManualClock)
        clock.advance(60)
        async with client(backend, None, "203.0.113.1") as http:
            assert_refused(await http.get("/v1/session"))
        assert (await refusals(backend))[-1].outcome == "missing:unaudited=15:peer=203.0.113.1"


# ------------------------------------------------------------------------------------------ the registry


async def test_the_registry_keeps_only_a_hash_and_refuses_what_an_administrator_gets_wrong() -> None:
    async with served() as backend:
        registry = backend.kiosks
        credential = await registry.add("lobby-1")
        assert parse_credential(credential.text) == credential and len(credential.secret) >= 43
        assert credential.secret not in repr(credential)
        rows = await backend._rt.store.call(lambda db: [tuple(row) for row in db.execute("SELECT * FROM kiosks")])
        assert rows == [("lobby-1", secret_hash(credential.secret), START.isoformat(), "")]
        assert credential.secret not in repr(rows)
        for bad in ("", "lobby:1", "lobby 1", "-lobby", "x" * 65, "kiosk\u200b"):
            with pytest.raises(KioskRegistryError, match="is not a kiosk name"):
                await registry.add(bad)
        with pytest.raises(KioskRegistryError, match="already exists"):
            await registry.add("lobby-1")
        with pytest.raises(KioskRegistryError, match="no kiosk named"):
            await registry.revoke("lobby-9")
        assert await registry.revoke("lobby-1") == START.isoformat()
        with pytest.raises(KioskRegistryError, match="already revoked"):
            await registry.revoke("lobby-1")
        with pytest.raises(KioskRegistryError, match="was revoked"):
            await registry.add("lobby-1")  # a revoked name is never given again
        (entry,) = await registry.entries()
        assert (entry.name, entry.revoked_at) == ("lobby-1", START.isoformat())


async def test_the_served_document_asks_for_the_credential_where_the_backend_does() -> None:
    async with served() as backend:
        credential = (await backend.kiosks.add("lobby-1")).text
        async with client(backend, credential) as http:
            document = (await http.get("/v1/openapi.json")).json()
    scheme = document["components"]["securitySchemes"]["kiosk"]
    assert (scheme["type"], scheme["in"], scheme["name"]) == ("apiKey", "header", KIOSK_CREDENTIAL_HEADER)
    for path, item in document["paths"].items():
        for operation in item.values():
            guarded = path not in ("/v1/health", "/v1/ready")
            assert any("kiosk" in requirement for requirement in operation.get("security", [])) is guarded
            assert ("kiosk_unauthorized" in operation["responses"].get("401", {}).get("description", "")) is guarded


# ------------------------------------------------------------------------------------------ the property

PRINTABLE = st.characters(min_codepoint=0x20, max_codepoint=0x7E)


def _candidates(live: str, revoked: str) -> st.SearchStrategy[str]:
    """Credentials near the live one (one character changed, cut, grown, another kiosk's part), and anything."""
    name, _, secret = live.partition(":")

    def changed(position: int, char: str) -> str:
        position %= len(live)
        return live[:position] + char + live[position + 1 :]

    return st.one_of(
        st.text(PRINTABLE, max_size=300),
        st.builds(changed, st.integers(0, 500), PRINTABLE),
        st.integers(0, len(live) - 1).map(lambda cut: live[:cut]),
        st.text(PRINTABLE, min_size=1, max_size=5).map(lambda tail: live + tail),
        st.just(revoked),
        st.just(f"{revoked.partition(':')[0]}:{secret}"),
        st.just(f"{name}:{revoked.partition(':')[2]}"),
        st.just(f"{name.upper()}:{secret}"),
        st.just(f"{name}:{secret}:{secret}"),
    )


def test_no_credential_but_the_live_one_opens_a_session() -> None:
    """For any credential that is not exactly a live NAME:SECRET the answer is 401 and no session exists."""
    loop = asyncio.new_event_loop()

    async def setup() -> tuple[Backend, str, str]:
        backend = await Backend.open(demo_policy(), clock=ManualClock(START), require_kiosk_credential=True)
        live = (await backend.kiosks.add("lobby-1")).text
        revoked = (await backend.kiosks.add("lobby-0")).text
        await backend.kiosks.revoke("lobby-0")
        return backend, live, revoked

    backend, live, revoked = loop.run_until_complete(setup())

    async def attempt(candidate: str) -> None:
        async with client(backend) as http:
            headers = {KIOSK_CREDENTIAL_HEADER.encode(): candidate.encode("latin-1")}
            response = await http.post("/v1/sessions", json={"kiosk_id": "lobby-1", "locale": "en"}, headers=headers)
        assert_refused(response)
        assert await session_count(backend) == 0

    @settings(max_examples=300, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(candidate=_candidates(live, revoked))
    def property_holds(candidate: str) -> None:
        if candidate.strip(" \t") == live:  # the same header value to HTTP (surrounding blanks are not part of it)
            return
        loop.run_until_complete(attempt(candidate))

    try:
        property_holds()
        # The control: the live credential itself does open one.
        async def control() -> int:
            async with client(backend, live) as http:
                response = await http.post("/v1/sessions", json={"kiosk_id": "x", "locale": "en"})
            return response.status_code

        assert loop.run_until_complete(control()) == 201
        assert loop.run_until_complete(session_count(backend)) == 1
    finally:
        loop.run_until_complete(backend.close())
        loop.close()
