"""Signing in with the current password (flows change and register): user ID + password + CAPTCHA.

A wrong current password, an unknown or ambiguous user ID and a disabled or locked account look the
same (`sign_in_failed`, the same work: an unknown ID's password is checked against a decoy hash) and
count toward the same limits as a failed proof (a wrong code or wrong answers). Only after the right
password may the session learn that its flow is refused for the account.
"""

from __future__ import annotations

from typing import NoReturn

from kiosk.services.api import ErrorCode, Flow, SignInRequest, Stage
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.directory.errors import AmbiguousUser
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.recovery import machine
from kiosk.services.backend.recovery.decoys import DUMMY_ANSWER_HASH, subject_of
from kiosk.services.backend.recovery.eligibility import evaluate, offered_methods
from kiosk.services.backend.recovery.machine import Operation
from kiosk.services.backend.recovery.opening import check_captcha, throttle_identified
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.recovery.throttle import Blocked, Event
from kiosk.services.backend.runtime import Runtime

DECOY_PASSWORD_HASH = DUMMY_ANSWER_HASH
"""What a password typed for no usable account is checked against: a hash of the profile passwords
are hashed with (`Hashing.hash_secret`), of a value nobody knows, so the check costs what a real one does."""


async def sign_in(rt: Runtime, state: SessionState, request: SignInRequest) -> None:
    """Check the CAPTCHA, find the account, check its current password; then the flow's next stage."""
    await rt.require(state, Operation.SIGN_IN)
    await check_captcha(rt, state, request.captcha)
    try:
        user = await rt.directory.find_user(request.user_id)
        reason = "unknown_user" if user is None else ""
    except AmbiguousUser:
        user, reason = None, "ambiguous_user"  # never guessed: no account, the audit says why
    if user is not None and not user.enabled:
        reason = ErrorCode.ACCOUNT_DISABLED.value
    elif user is not None and user.locked:
        # A locked-out account signs in nowhere (the directories refuse its bind): "Can't access your
        # account?" unlocks it.
        reason = "account_locked"
    # Only a resolved account's login reaches the audit; what a stranger typed is kept only as a hash.
    state.login = user.login if user is not None else ""
    state.subject = state.login or await subject_of(rt.store, request.user_id)
    try:
        await throttle_identified(rt, state)
        proof = await _reserve_proof(rt, state)
        if user is None or reason:
            await rt.hashing.verify_secret(DECOY_PASSWORD_HASH, request.password)  # the work of a real check
            await _failed(rt, state, proof, reason)
        if not await rt.directory.verify_password(user.login, request.password):
            await _failed(rt, state, proof, "wrong_password")
        await _settle(rt, state, proof, failed=False)
    except BaseException:
        state.login = ""  # a sign-in that did not succeed leaves no account in the session
        raise
    await _signed_in(rt, state, user, request.password)


async def _signed_in(rt: Runtime, state: SessionState, user: DirectoryUser, password: str) -> None:
    """The right password: record it, then the flow's next stage (or its refusal, told only now)."""
    decision = evaluate(user, rt.policy)
    gate_needed = state.flow is Flow.REGISTER and bool(offered_methods(user, rt.policy))
    machine.record_sign_in(state, user.login, gate_needed=gate_needed)
    await rt.record(state, AuditEvent.SIGNED_IN, outcome=state.flow.value)
    if state.flow is Flow.CHANGE:
        # Any enabled account may change its own password (as at a Windows sign-in screen), whatever
        # `reset.enabled_for` says; only a password the kiosk may not write back is refused.
        refusal = ErrorCode.WRITEBACK_DISABLED if ErrorCode.WRITEBACK_DISABLED in decision.refusals else None
    else:
        # Registration, as in Azure AD: only for the users self-service is enabled for.
        refusal = ErrorCode.NOT_ENABLED if ErrorCode.NOT_ENABLED in decision.refusals else None
    if refusal is not None:
        state.refusal = refusal
        machine.move(state, Operation.SIGN_IN, Stage.REFUSED, rt.policy)
        await rt.record(state, AuditEvent.REFUSED, outcome=refusal.value)
        return
    if state.flow is Flow.CHANGE:
        # Kept until the change is written: Active Directory's user change deletes the old value.
        state.sealed_current = rt.sealer.seal(password)
        machine.move(state, Operation.SIGN_IN, Stage.NEW_PASSWORD, rt.policy)
    elif gate_needed:
        state.gates_required = 1  # what is registered guards what may replace it
        machine.move(state, Operation.SIGN_IN, Stage.CHOOSE_METHOD, rt.policy)
    else:
        machine.move(state, Operation.SIGN_IN, Stage.REGISTER, rt.policy)


async def _reserve_proof(rt: Runtime, state: SessionState) -> int:
    """Reserve a failed proof against the subject before the password is checked (429 when blocked), so
    parallel wrong passwords never exceed the limit; refunded when it was right."""
    try:
        (proof,) = await rt.throttle.take(state.subject, Event.FAILED_PROOF)
    except Blocked as blocked:
        await rt.refuse_blocked(state, blocked)
    return proof


async def _settle(rt: Runtime, state: SessionState, proof: int, *, failed: bool) -> None:
    """Settle the reserved proof; the failure that reaches the limit answers 429."""
    until = await rt.throttle.settle(state.subject, proof, failed=failed)
    if until is not None:
        await rt.refuse_blocked(state, Blocked(Event.FAILED_PROOF.value, until))


async def _failed(rt: Runtime, state: SessionState, proof: int, reason: str) -> NoReturn:
    """A sign-in that failed, whatever the reason: audited with it (for the helpdesk), counted as a failed
    proof, and told as the one `sign_in_failed` (the one that reaches the limit as 429)."""
    await rt.record(state, AuditEvent.SIGN_IN_FAILED, outcome=reason)
    await _settle(rt, state, proof, failed=True)
    raise ApiError(ErrorCode.SIGN_IN_FAILED)
