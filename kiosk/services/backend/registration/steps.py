"""The registration steps: contacts confirmed by a code, security questions, the authenticator app,
reconfirmation, and finishing.

Every step first asks the state machine whether its operation may run at the session's stage, then
`machine.may_register` whether this session may change this account's security info now (re-evaluated
on every step, against the account as it is now): the one rule that keeps a stolen password, a session
that has not reset yet or another user's session from replacing anyone's recovery data. Nothing secret
(a contact, a code, an answer, a secret) reaches the audit, a log or an exception.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable

from kiosk.policy.schema import Method
from kiosk.services.api import (
    ContactRequest,
    ErrorCode,
    Outcome,
    QuestionsRegistrationRequest,
    ReconfirmChoice,
    ReconfirmRequest,
    RegistrationKind,
    Stage,
    VerifyCodeRequest,
)
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.delivery.messages import code_message, security_info_changed_notice
from kiosk.services.backend.delivery.queue import Message
from kiosk.services.backend.directory.embedded import DirectoryUser, RegisteredQuestion
from kiosk.services.backend.directory.errors import WriteFailed
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.recovery import authenticator, machine
from kiosk.services.backend.recovery.codes import CodeStatus
from kiosk.services.backend.recovery.machine import Operation
from kiosk.services.backend.recovery.questions import normalize_answer
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.recovery.throttle import Blocked, Event
from kiosk.services.backend.registration.rules import can_register, code_method, contact_value, question_reasons
from kiosk.services.backend.runtime import Runtime

log = logging.getLogger(__name__)

CONTACTS = (RegistrationKind.EMAIL, RegistrationKind.PHONE)
"""The kinds confirmed by a code sent to them (the others: questions, and the app's own code)."""


async def registrant(rt: Runtime, state: SessionState, operation: Operation) -> DirectoryUser:
    """The session's account, when the state machine allows `operation` now AND `machine.may_register`
    holds for it now; 409 `step_not_allowed` (audited) otherwise."""
    await rt.require(state, operation)
    user = await rt.directory.user_by_login(state.login) if state.login else None
    if user is None or not machine.may_register(state, user, rt.policy):
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome="may_not_register")
        raise ApiError(ErrorCode.STEP_NOT_ALLOWED)
    return user


async def _allowed(rt: Runtime, state: SessionState, user: DirectoryUser, kind: RegistrationKind) -> None:
    """403 `registration_not_allowed` (audited) for a kind the policy does not let this user register."""
    if kind not in can_register(user, rt.policy):
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome=f"{ErrorCode.REGISTRATION_NOT_ALLOWED.value}:{kind}")
        raise ApiError(ErrorCode.REGISTRATION_NOT_ALLOWED)


async def _take(rt: Runtime, state: SessionState, *events: Event) -> list[int]:
    """Count these events against the user (one transaction); 429 when blocked or over a limit."""
    try:
        return await rt.throttle.take(state.subject, *events)
    except Blocked as blocked:
        await rt.refuse_blocked(state, blocked)


def _drop_pending(state: SessionState) -> None:
    state.pending_kind = None
    state.sealed_pending = ""
    state.pending_failures = 0


async def _store(
    rt: Runtime, state: SessionState, user: DirectoryUser, kind: RegistrationKind, write: Awaitable[None]
) -> None:
    """Write one registration; a refusal by the directory changed nothing, is audited and told (502).
    Then audit it (`registered`, outcome = the kind) and tell the user's addresses, old and new."""
    try:
        await write
    except WriteFailed as refusal:
        log.warning("registration of %s refused by the directory: %s", kind.value, refusal.result)
        await rt.record(state, AuditEvent.REGISTERED, outcome=f"{ErrorCode.WRITEBACK_FAILED.value}:{refusal.result}")
        raise ApiError(ErrorCode.WRITEBACK_FAILED) from None
    if kind not in state.registered:
        state.registered.append(kind)
    await rt.record(state, AuditEvent.REGISTERED, outcome=kind.value)
    await _notify(rt, state, user)


async def _notify(rt: Runtime, state: SessionState, before: DirectoryUser) -> None:
    """Tell the user that their security info changed, once per address per session, as soon as it has:
    the addresses known before the change (so the real owner learns of a change they did not make) and
    after it (a newly registered e-mail). The notice says nothing of what was registered."""
    after = await rt.directory.user_by_login(before.login) or before
    told: list[str] = json.loads(rt.sealer.open(state.sealed_notified) or "[]") if state.sealed_notified else []
    new = [address for address in dict.fromkeys((*before.emails, *after.emails)) if address not in told]
    if not new:
        return
    state.sealed_notified = rt.sealer.seal(json.dumps([*told, *new]))
    subject, body = security_info_changed_notice(rt.policy, after)
    await rt.delivery.enqueue_notices(
        rt.origin(state), [Message(Method.EMAIL, address, subject, body) for address in new]
    )


async def _send_code(rt: Runtime, state: SessionState, kind: RegistrationKind, target: str) -> None:
    """A code to the new contact, through the code book and the delivery queue, like a gate's code."""
    await _take(rt, state, Event.EMAIL if kind is RegistrationKind.EMAIL else Event.PHONE_ATTEMPT)
    method = code_method(kind, rt.policy)
    code, issued = await rt.codes.issue(state.token_hash, method, target, subject=state.subject)
    subject, body = code_message(rt.policy, method, code)
    await rt.delivery.enqueue_code(
        rt.origin(state), Message(method, target, subject, body), expires_at=issued.expires_at, decoy=False
    )


async def add_contact(rt: Runtime, state: SessionState, request: ContactRequest) -> None:
    """Send a code to a new authentication e-mail or phone (REGISTER → REGISTER_VERIFY)."""
    user = await registrant(rt, state, Operation.ADD_CONTACT)
    kind = RegistrationKind(request.kind)
    await _allowed(rt, state, user, kind)
    value = contact_value(kind, request.value)
    if value is None:
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome=f"{ErrorCode.CONTACT_INVALID.value}:{kind}")
        raise ApiError(ErrorCode.CONTACT_INVALID, field="value")
    await _send_code(rt, state, kind, value)
    state.pending_kind = kind
    state.sealed_pending = rt.sealer.seal(value)
    state.pending_failures = 0
    machine.move(state, Operation.ADD_CONTACT, Stage.REGISTER_VERIFY, rt.policy)


def _pending_contact(rt: Runtime, state: SessionState) -> tuple[RegistrationKind, str]:
    """The contact a code was sent to; `no_active_code` when none is pending."""
    kind, value = state.pending_kind, rt.sealer.open(state.sealed_pending) if state.sealed_pending else ""
    if kind not in CONTACTS or kind is None or not value:
        raise ApiError(ErrorCode.NO_ACTIVE_CODE)
    return kind, value


async def verify_contact(rt: Runtime, state: SessionState, request: VerifyCodeRequest) -> None:
    """The code sent to the new contact: right registers it (→ REGISTER). A wrong code costs one of the
    code's tries (the last burns it; a new one is sent on request, within the sending limits) but is no
    failed proof of who the user is: the session has proved that already, and a typo in a new address
    must not block the account's resets for a day."""
    user = await registrant(rt, state, Operation.VERIFY_CONTACT)
    kind, value = _pending_contact(rt, state)
    check = await rt.codes.check(state.token_hash, request.code)
    if check.status is CodeStatus.OK:
        write_through = rt.policy.registration.write_to_directory
        now = rt.clock.now()
        await _store(
            rt,
            state,
            user,
            kind,
            rt.directory.register_contact(user, kind, value, now, write_to_directory=write_through),
        )
        _drop_pending(state)
        machine.move(state, Operation.VERIFY_CONTACT, Stage.REGISTER, rt.policy)
        return
    if check.status is CodeStatus.NONE:
        raise ApiError(ErrorCode.NO_ACTIVE_CODE)
    await rt.record(state, AuditEvent.GATE_FAILED, outcome=f"register_{kind.value}:{check.status.value}")
    if check.status is CodeStatus.EXPIRED:
        raise ApiError(ErrorCode.CODE_EXPIRED)
    if check.status is CodeStatus.BURNED:
        raise ApiError(ErrorCode.CODE_BURNED, attempts_left=0)
    raise ApiError(ErrorCode.CODE_WRONG, attempts_left=check.attempts_left)


async def resend_contact_code(rt: Runtime, state: SessionState) -> None:
    """A new code to the pending contact (the old one stops working)."""
    await registrant(rt, state, Operation.RESEND_CONTACT_CODE)
    kind, value = _pending_contact(rt, state)
    await _send_code(rt, state, kind, value)


async def set_questions(rt: Runtime, state: SessionState, request: QuestionsRegistrationRequest) -> None:
    """Replace the security questions (answers hashed slowly, never stored as given)."""
    user = await registrant(rt, state, Operation.SET_QUESTIONS)
    await _allowed(rt, state, user, RegistrationKind.QUESTIONS)
    reasons = question_reasons(request.questions, rt.policy)
    if reasons:
        outcome = f"{ErrorCode.QUESTIONS_INVALID.value}:{','.join(reasons)}"
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome=outcome)
        raise ApiError(ErrorCode.QUESTIONS_INVALID, field="questions", question_reasons=reasons)
    # Hashed exactly as a reset checks them (`questions.answers_correct`): the normalized answer, argon2.
    hashes = await asyncio.gather(*(rt.hashing.hash_secret(normalize_answer(q.answer)) for q in request.questions))
    questions = [
        RegisteredQuestion(question.predefined_id, question.custom_text, answer_hash)
        for question, answer_hash in zip(request.questions, hashes, strict=True)
    ]
    kind = RegistrationKind.QUESTIONS
    await _store(rt, state, user, kind, rt.directory.register_questions(user, questions, rt.clock.now()))
    await rt.question_draws.release(user.login)  # the kept draw was of the old questions
    machine.move(state, Operation.SET_QUESTIONS, Stage.REGISTER, rt.policy)


async def start_app(rt: Runtime, state: SessionState) -> None:
    """A new authenticator secret, shown until confirmed (REGISTER → REGISTER_APP)."""
    user = await registrant(rt, state, Operation.START_APP)
    await _allowed(rt, state, user, RegistrationKind.APP)
    state.pending_kind = RegistrationKind.APP
    state.sealed_pending = rt.sealer.seal(authenticator.new_secret())
    state.pending_failures = 0
    machine.move(state, Operation.START_APP, Stage.REGISTER_APP, rt.policy)


async def confirm_app(rt: Runtime, state: SessionState, request: VerifyCodeRequest) -> None:
    """One current code from the app registers the new secret (→ REGISTER); after `methods.code_attempts`
    wrong codes the secret is dropped (→ REGISTER)."""
    user = await registrant(rt, state, Operation.CONFIRM_APP)
    secret = rt.sealer.open(state.sealed_pending) if state.pending_kind is RegistrationKind.APP else ""
    if not secret:
        raise ApiError(ErrorCode.NO_ACTIVE_CODE)
    # Not a proof of who the user is (they are looking at the secret), so not counted against their
    # failed proofs: the pending secret's own tries bound the guesses. Replay-safe: the time-step is
    # claimed for the account, so the code that confirmed the app cannot then pass a reset's gate too.
    if await rt.authenticator.verify(user.login, secret, request.code):
        kind = RegistrationKind.APP
        await _store(rt, state, user, kind, rt.directory.register_app(user, secret, rt.clock.now()))
        _drop_pending(state)
        machine.move(state, Operation.CONFIRM_APP, Stage.REGISTER, rt.policy)
        return
    state.pending_failures += 1
    left = max(0, rt.policy.methods.code_attempts - state.pending_failures)
    await rt.record(state, AuditEvent.GATE_FAILED, outcome="register_app")
    if left == 0:
        _drop_pending(state)
        machine.move(state, Operation.CONFIRM_APP, Stage.REGISTER, rt.policy)
    raise ApiError(ErrorCode.CODE_WRONG if left else ErrorCode.CODE_BURNED, attempts_left=left)


async def cancel_pending(rt: Runtime, state: SessionState) -> None:
    """Drop a pending contact or app secret, back to the hub."""
    await registrant(rt, state, Operation.CANCEL_PENDING)
    _drop_pending(state)
    machine.move(state, Operation.CANCEL_PENDING, Stage.REGISTER, rt.policy)


async def finish(rt: Runtime, state: SessionState) -> None:
    """Done registering (→ DONE). The user was already told of each change as it was made (`_notify`):
    a session left without finishing must not keep a change secret."""
    await registrant(rt, state, Operation.FINISH_REGISTRATION)
    _drop_pending(state)
    machine.move(state, Operation.FINISH_REGISTRATION, Stage.DONE, rt.policy)
    if state.outcome is None:
        state.outcome = Outcome.REGISTERED


async def reconfirm(rt: Runtime, state: SessionState, request: ReconfirmRequest) -> None:
    """Keep (the registration is confirmed now, → DONE) or update (→ REGISTER)."""
    user = await registrant(rt, state, Operation.RECONFIRM)
    if request.choice is ReconfirmChoice.UPDATE:
        await rt.record(state, AuditEvent.RECONFIRMED, outcome=ReconfirmChoice.UPDATE.value)
        machine.move(state, Operation.RECONFIRM, Stage.REGISTER, rt.policy)
        return
    try:
        await rt.directory.reconfirm(user, rt.clock.now())
    except WriteFailed as refusal:
        log.warning("reconfirmation refused by the directory: %s", refusal.result)
        await rt.record(state, AuditEvent.RECONFIRMED, outcome=f"{ErrorCode.WRITEBACK_FAILED.value}:{refusal.result}")
        raise ApiError(ErrorCode.WRITEBACK_FAILED) from None
    await rt.record(state, AuditEvent.RECONFIRMED, outcome=ReconfirmChoice.KEEP.value)
    machine.move(state, Operation.RECONFIRM, Stage.DONE, rt.policy)
