"""Opening, identifying and closing a reset session (the steps before the verification gates)."""

from __future__ import annotations

from kiosk.services.api import (
    CaptchaAudio,
    CaptchaImage,
    ErrorCode,
    Flow,
    IdentifyRequest,
    OpenSessionRequest,
    PictureCheck,
    SessionLocaleRequest,
    Stage,
)
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.directory.errors import AmbiguousUser
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.human_check import captcha
from kiosk.services.backend.human_check import pictures as picture_check
from kiosk.services.backend.recovery import machine
from kiosk.services.backend.recovery.decoys import subject_of
from kiosk.services.backend.recovery.eligibility import assess
from kiosk.services.backend.recovery.machine import Operation
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.recovery.throttle import Blocked, Scope, source_address
from kiosk.services.backend.runtime import Runtime


async def open_session(
    rt: Runtime, request: OpenSessionRequest, *, kiosk: str = ""
) -> tuple[str, SessionState, CaptchaImage]:
    """Start a session in the identify stage, with a first CAPTCHA: its token, state and picture.

    The session's kiosk id, in its audit rows and per-kiosk limits, is `kiosk`, the name in the
    caller's credential, on a served backend; the body's `kiosk_id` (the caller's claim) counts only
    in-process, where there is no credential. Drawing the CAPTCHA costs CPU, so opening is limited per
    kiosk id and per source address: 429 before anything is made or drawn, audited without a session.
    """
    kiosk_id = kiosk or request.kiosk_id or rt.kiosk_id
    if not flow_offered(rt, request.flow):
        raise ApiError(ErrorCode.STEP_NOT_ALLOWED)
    keys = [(Scope.KIOSK, kiosk_id)]
    if address := source_address.get():
        keys.append((Scope.ADDRESS, address))
    try:
        await rt.throttle.opened(keys)
    except Blocked as blocked:
        outcome = f"{blocked.reason}:until={blocked.until.isoformat()}"
        await rt.audit.record(AuditEvent.BLOCKED, kiosk_id=kiosk_id, reference="", outcome=outcome)
        raise ApiError(ErrorCode.TOO_MANY_ATTEMPTS, blocked_until=blocked.until) from None
    challenge = captcha.new_challenge()
    first = machine.plan(request.flow, rt.policy).first
    token, state = await rt.sessions.create(kiosk_id, request.locale, challenge, flow=request.flow, stage=first)
    await rt.record(state, AuditEvent.SESSION_OPENED)
    image = await captcha.render_image(challenge)
    return token, state, image


def flow_offered(rt: Runtime, flow: Flow) -> bool:
    """Whether the policy offers `flow` on the start page (`kiosk.offer_recovery/_change/_registration`)."""
    kiosk = rt.policy.kiosk
    offered = {Flow.RECOVER: kiosk.offer_recovery, Flow.CHANGE: kiosk.offer_change}
    return offered.get(flow, kiosk.offer_registration)


async def new_captcha(rt: Runtime, state: SessionState) -> CaptchaImage:
    """Replace the session's CAPTCHA (the old one stops working) and return its picture."""
    await rt.require(state, Operation.NEW_CAPTCHA)
    await _count_captcha(rt, state)
    _set_text_challenge(state)
    return await captcha.render_image(state.captcha)


async def new_picture_check(rt: Runtime, state: SessionState) -> PictureCheck:
    """Replace the session's CAPTCHA with a picture check (the old one stops working); 403 when the
    policy does not offer it (`captcha.no_transcription_alternative`)."""
    if not rt.policy.captcha.no_transcription_alternative:
        raise ApiError(ErrorCode.CAPTCHA_DISABLED)
    await rt.require(state, Operation.NEW_CAPTCHA)
    await _count_captcha(rt, state)
    challenge = picture_check.new_challenge()
    state.captcha, state.captcha_pictures = challenge.answer, True
    return await picture_check.render(challenge)


async def captcha_audio(rt: Runtime, state: SessionState) -> CaptchaAudio:
    """The current CAPTCHA read out in the session's language, for people who cannot see the picture.

    403 when the policy turned audio off (`captcha.audio`); 409 while a picture check is current (its
    answer is an id that must never be read out).
    """
    if not rt.policy.captcha.audio:
        raise ApiError(ErrorCode.CAPTCHA_DISABLED)
    await rt.require(state, Operation.NEW_CAPTCHA)
    if state.captcha_pictures:
        raise ApiError(ErrorCode.STEP_NOT_ALLOWED)
    await _count_captcha(rt, state)
    return await captcha.render_audio(state.captcha, state.locale)


async def _count_captcha(rt: Runtime, state: SessionState) -> None:
    """Count a CAPTCHA about to be drawn or read aloud; past the session's limit, 429 (audited) until
    it ends, and the CAPTCHA on show stays as it was."""
    try:
        await rt.throttle.captcha(state.token_hash, state.expires_at)
    except Blocked as blocked:
        await rt.refuse_blocked(state, blocked)


def _set_text_challenge(state: SessionState) -> None:
    state.captcha, state.captcha_pictures = captcha.new_challenge(), False


async def check_captcha(rt: Runtime, state: SessionState, answer: str) -> None:
    """Check the answer to the session's CAPTCHA (one try per challenge, right or wrong: a new one is
    set either way); 400 `captcha_wrong`, audited, when it does not solve it."""
    # Either kind of CAPTCHA: the typed characters, or the chosen picture's id (`picture_check`).
    solved = captcha.solves(state.captcha, answer)
    _set_text_challenge(state)
    if not solved:
        await rt.record(state, AuditEvent.CAPTCHA_FAILED, outcome=ErrorCode.CAPTCHA_WRONG.value)
        raise ApiError(ErrorCode.CAPTCHA_WRONG)


async def identify(rt: Runtime, state: SessionState, request: IdentifyRequest) -> None:
    """Check the CAPTCHA, find the user and decide eligibility.

    Unless `reset.early_refusals`, every user ID (unknown, disabled, ineligible, eligible) goes on
    to the same method page by the same code path, and a refusal is told only after a first gate
    (see `decoys`). With it, a refusal is told at once.
    """
    await rt.require(state, Operation.IDENTIFY)
    await check_captcha(rt, state, request.captcha)
    try:
        user = await rt.directory.find_user(request.user_id)
        ambiguous = False
    except AmbiguousUser:
        # Two entries share the typed ID: never guess; it is treated as no account. The audit
        # tells the helpdesk why.
        user, ambiguous = None, True
    verdict = assess(user, rt.policy)
    # Only a resolved account's login reaches the audit: what a stranger typed may be anything,
    # even a password typed into the wrong field; an unknown ID is kept only as a hash.
    state.login = user.login if user else ""
    state.subject = state.login or await subject_of(rt.store, request.user_id)
    await throttle_identified(rt, state)
    state.refusal = verdict.refusal
    outcome = "ambiguous_user" if ambiguous else (verdict.refusal.value if verdict.refusal else "ok")
    if verdict.refusal is not None and rt.policy.reset.early_refusals:
        machine.move(state, Operation.IDENTIFY, Stage.REFUSED)
        await rt.record(state, AuditEvent.REFUSED, outcome=outcome)
    else:
        machine.move(state, Operation.IDENTIFY, Stage.CHOOSE_METHOD)
        # An account that may not reset still has to pass one gate to learn why.
        state.gates_required = verdict.gates_required or 1
        await rt.record(state, AuditEvent.IDENTIFIED, outcome=outcome)


async def throttle_identified(rt: Runtime, state: SessionState) -> None:
    """The per-kiosk / per-address cap on distinct accounts, then the user's own block (429 if either)."""
    # An unknown ID counts too (sweeping guesses), as its hash, and can be blocked like an account.
    keys = [(Scope.KIOSK, state.kiosk_id)]
    if address := source_address.get():
        keys.append((Scope.ADDRESS, address))
    try:
        await rt.throttle.identified(keys, state.subject)
        await rt.throttle.check(state.subject)
    except Blocked as blocked:
        await rt.refuse_blocked(state, blocked)


async def close(rt: Runtime, state: SessionState) -> None:
    """End the session: its token and codes stop working at once."""
    await rt.record(state, AuditEvent.SESSION_CLOSED, outcome=state.stage.value)
    await rt.sessions.end(state)


async def change_locale(rt: Runtime, state: SessionState, request: SessionLocaleRequest) -> None:
    """The user switched language mid-session: codes and notices built from now on are in the new one."""
    # Any stage: the picker is on every page. An unknown tag is kept as given and read as English
    # (`kiosk.i18n.language`), exactly like the locale a session is opened with.
    state.locale = request.locale
