"""Reset sessions: their state, kept in the store under the SHA-256 of an opaque bearer token.

The token itself is never stored. Every call on a session runs under that session's lock (the store's,
so it holds across replicas), so two concurrent requests cannot both spend the same attempt or pass
the same gate.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from kiosk.policy.schema import Method
from kiosk.services.api import ErrorCode, Flow, Outcome, QuestionPrompt, RegistrationKind, Stage
from kiosk.services.backend.audit.log import new_reference
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.storage.db import Db
from kiosk.services.backend.storage.store import Store

EXPIRED_KEPT = timedelta(hours=1)  # expired sessions still answer `session_expired` for this long


def token_hash(token: str) -> str:
    """The stored form of a session token."""
    return hashlib.sha256(token.encode()).hexdigest()


class SessionState(BaseModel):
    """Everything the backend remembers about one reset session (server side only, never sent as is)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=False)

    token_hash: str
    reference: str
    kiosk_id: str
    locale: str
    opened_at: datetime
    expires_at: datetime
    flow: Flow = Flow.RECOVER
    stage: Stage = Stage.IDENTIFY
    captcha: str = Field(default="", repr=False)
    """The answer to the current CAPTCHA: its characters, or the right picture's id in a picture check."""
    captcha_pictures: bool = False
    """The current CAPTCHA is a picture check (which must never be read out)."""
    login: str = ""
    """The resolved account's login; '' when the typed ID matched no account."""
    subject: str = ""
    """Whom the per-user throttles count against: the login, or a hash of an ID that matched nothing."""
    gates_required: int = 0
    passed: list[Method] = Field(default_factory=list)
    exhausted: list[Method] = Field(default_factory=list)
    method: Method | None = None
    genuine: bool = False
    """The open gate can really be passed (else it is a decoy: see `decoys`)."""
    failures: dict[Method, int] = Field(default_factory=dict)
    asked: dict[str, int] = Field(default_factory=dict)
    shown_questions: list[QuestionPrompt] = Field(default_factory=list)
    """The asked questions as shown, kept at choosing so that showing them needs no directory lookup."""
    locked: bool = False
    refusal: ErrorCode | None = None
    """Why the account may not reset; shown at once with `reset.early_refusals`, else after a first gate."""
    outcome: Outcome | None = None
    ended: bool = False
    applying: bool = False
    """A new password is being written to the directory (saved before the write): a request that finds it
    set is a retry of one that died mid-write, and asks the directory whether the write went through."""
    # --- change and registration (flows change / register; `machine.record_sign_in` alone sets these)
    signed_in: bool = False
    """The user gave the account's current password (flows change and register)."""
    registration_gate: bool = False
    """Flow register: the account had registered methods at sign-in, so a gate must be passed first."""
    sealed_current: str = Field(default="", repr=False)
    """Flow change: the current password, sealed (`SecretBox`, the enrollment key) until the change is
    written (Active Directory's user change deletes the old value); cleared the moment it is used."""
    pending_kind: RegistrationKind | None = None
    """REGISTER_VERIFY: the kind of contact a code was sent to; REGISTER_APP: `app`."""
    sealed_pending: str = Field(default="", repr=False)
    """The pending contact (REGISTER_VERIFY) or new authenticator secret (REGISTER_APP), sealed."""
    registered: list[RegistrationKind] = Field(default_factory=list)
    """What this session registered (each audited once as `registered`; the notice names none of them)."""
    pending_failures: int = 0
    """REGISTER_APP: wrong codes for the pending authenticator secret (at `methods.code_attempts` it is dropped)."""
    sealed_notified: str = Field(default="", repr=False)
    """The addresses already told in this session that the security info changed (a JSON list, sealed)."""


class SessionStore:
    """Creates, loads, saves and ends sessions."""

    def __init__(self, store: Store, clock: Clock, lifetime: timedelta) -> None:
        self._store = store
        self._clock = clock
        self._lifetime = lifetime

    async def create(
        self, kiosk_id: str, locale: str, captcha: str, *, flow: Flow = Flow.RECOVER, stage: Stage = Stage.IDENTIFY
    ) -> tuple[str, SessionState]:
        """A new session of `flow` at its first stage, and its token (returned once, never stored)."""
        token = secrets.token_urlsafe(32)
        now = self._clock.now()
        state = SessionState(
            token_hash=token_hash(token),
            reference=new_reference(),
            kiosk_id=kiosk_id,
            locale=locale,
            opened_at=now,
            expires_at=now + self._lifetime,
            captcha=captcha,
            flow=flow,
            stage=stage,
        )
        cutoff = (now - EXPIRED_KEPT).isoformat()

        def write(db: Db) -> None:
            db.execute(
                "DELETE FROM codes WHERE token_hash IN (SELECT token_hash FROM sessions WHERE expires_at < ?)",
                (cutoff,),
            )
            db.execute("DELETE FROM sessions WHERE expires_at < ?", (cutoff,))
            db.execute(
                "INSERT INTO sessions (token_hash, expires_at, state_json) VALUES (?, ?, ?)",
                (state.token_hash, state.expires_at.isoformat(), state.model_dump_json()),
            )

        await self._store.call(write)
        return token, state

    async def load(self, token: str) -> SessionState:
        """The live session of `token`; 401 `session_required` / `session_expired` otherwise."""
        key = token_hash(token)
        row = await self._store.call(
            lambda db: db.execute("SELECT state_json FROM sessions WHERE token_hash = ?", (key,)).fetchone()
        )
        if row is None:
            raise ApiError(ErrorCode.SESSION_REQUIRED)
        state = SessionState.model_validate_json(row["state_json"])
        if state.ended:
            raise ApiError(ErrorCode.SESSION_REQUIRED)
        if self._clock.now() >= state.expires_at:
            raise ApiError(ErrorCode.SESSION_EXPIRED)
        return state

    async def save(self, state: SessionState) -> None:
        """Persist a session's state."""
        data = state.model_dump_json()
        await self._store.call(
            lambda db: db.execute("UPDATE sessions SET state_json = ? WHERE token_hash = ?", (data, state.token_hash))
        )

    async def end(self, state: SessionState) -> None:
        """Forget a session and its codes (it answers `session_required` afterwards)."""
        state.ended = True

        def write(db: Db) -> None:
            db.execute("DELETE FROM codes WHERE token_hash = ?", (state.token_hash,))
            db.execute("DELETE FROM sessions WHERE token_hash = ?", (state.token_hash,))

        await self._store.call(write)

    @asynccontextmanager
    async def locked(self, token: str) -> AsyncIterator[SessionState]:
        """Load the session under its lock and save it afterwards (also when an `ApiError` ends the call).

        The lock is the store's: it holds across every replica that serves the same database.
        """
        async with self._store.session_lock(token_hash(token)):
            state = await self.load(token)
            try:
                yield state
            except ApiError:
                if not state.ended:
                    await self.save(state)
                raise
            if not state.ended:
                await self.save(state)
