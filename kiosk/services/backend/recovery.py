"""Opening, identifying and closing a reset session (the steps before the verification gates)."""

from __future__ import annotations

import hashlib

from kiosk.services.api import (
    CaptchaAudio,
    CaptchaImage,
    ErrorCode,
    IdentifyRequest,
    OpenSessionRequest,
    SessionOpened,
    SessionView,
    Stage,
)
from kiosk.services.backend import captcha
from kiosk.services.backend.audit import AuditEvent
from kiosk.services.backend.eligibility import assess
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.ldap_errors import AmbiguousUser
from kiosk.services.backend.runtime import Runtime
from kiosk.services.backend.sessions import SessionState
from kiosk.services.backend.throttle import Blocked, Scope, source_address
from kiosk.services.backend.views import build_view


async def open_session(rt: Runtime, request: OpenSessionRequest) -> SessionOpened:
    """Start a session in the identify stage, with a first CAPTCHA."""
    challenge = captcha.new_challenge()
    token, state = await rt.sessions.create(request.kiosk_id or rt.kiosk_id, request.locale, challenge)
    await rt.record(state, AuditEvent.SESSION_OPENED)
    image = await captcha.render_image(challenge)
    return SessionOpened(token=token, view=await build_view(rt, state), captcha=image)


async def new_captcha(rt: Runtime, state: SessionState) -> CaptchaImage:
    """Replace the session's CAPTCHA (the old one stops working) and return its picture."""
    await rt.require_stage(state, Stage.IDENTIFY)
    state.captcha = captcha.new_challenge()
    return await captcha.render_image(state.captcha)


async def captcha_audio(rt: Runtime, state: SessionState) -> CaptchaAudio:
    """The current CAPTCHA read out, for people who cannot see the picture."""
    await rt.require_stage(state, Stage.IDENTIFY)
    return await captcha.render_audio(state.captcha)


async def identify(rt: Runtime, state: SessionState, request: IdentifyRequest) -> SessionView:
    """Check the CAPTCHA, find the user and decide eligibility: on to the gates, or refused."""
    await rt.require_stage(state, Stage.IDENTIFY)
    solved = captcha.solves(state.captcha, request.captcha)
    state.captcha = captcha.new_challenge()  # one try per challenge, right or wrong
    if not solved:
        await rt.record(state, AuditEvent.CAPTCHA_FAILED, outcome=ErrorCode.CAPTCHA_WRONG.value)
        raise ApiError(ErrorCode.CAPTCHA_WRONG)
    try:
        user = await rt.directory.find_user(request.user_id)
    except AmbiguousUser:
        # Two entries share the typed ID: never guess. The stranger sees 'unknown user' (no
        # enumeration); the audit tells the helpdesk why.
        state.stage = Stage.REFUSED
        state.refusal = ErrorCode.UNKNOWN_USER
        await rt.record(state, AuditEvent.REFUSED, outcome="ambiguous_user")
        return await build_view(rt, state)
    verdict = assess(user, rt.policy)
    # Only a resolved account's login reaches the audit: what a stranger typed may be anything,
    # even a password typed into the wrong field.
    state.login = user.login if user else ""
    await _throttle(rt, state, request.user_id)
    if verdict.refusal is not None:
        state.stage = Stage.REFUSED
        state.refusal = verdict.refusal
        await rt.record(state, AuditEvent.REFUSED, outcome=verdict.refusal.value)
    else:
        state.stage = Stage.CHOOSE_METHOD
        state.gates_required = verdict.gates_required
        await rt.record(state, AuditEvent.IDENTIFIED)
    return await build_view(rt, state)


async def _throttle(rt: Runtime, state: SessionState, typed: str) -> None:
    """The per-kiosk / per-address cap on distinct accounts, then the user's own block (429 if either)."""
    # An unknown ID counts too (sweeping guesses), as a hash: what a stranger typed is never stored.
    subject = state.login or "?" + hashlib.sha256(typed.strip().casefold().encode()).hexdigest()
    keys = [(Scope.KIOSK, state.kiosk_id)]
    if address := source_address.get():
        keys.append((Scope.ADDRESS, address))
    try:
        await rt.throttle.identified(keys, subject)
        if state.login:
            await rt.throttle.check(state.login)
    except Blocked as blocked:
        await rt.refuse_blocked(state, blocked)


async def close(rt: Runtime, state: SessionState) -> None:
    """End the session: its token and codes stop working at once."""
    await rt.record(state, AuditEvent.SESSION_CLOSED, outcome=state.stage.value)
    await rt.sessions.end(state)
