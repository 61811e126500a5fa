"""The verification gates: choosing a method, sending and checking codes, answering questions.

Two gates are always two different factors (`eligibility.Factor`); every stage change goes through
the declared state machine (`machine`), which alone records a passed gate. Codes sent by
e-mail/SMS/voice count attempts per code; the authenticator app and security questions count them
per session, and a method whose attempts are used up is no longer offered in that session.
"""

from __future__ import annotations

from kiosk.policy.schema import Method
from kiosk.services.api import AnswersRequest, ChooseMethodRequest, ErrorCode, Flow, Stage, VerifyCodeRequest
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.delivery.messages import code_message
from kiosk.services.backend.delivery.queue import Message
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.recovery import machine
from kiosk.services.backend.recovery.codes import CodeStatus
from kiosk.services.backend.recovery.decoys import check_decoy_answers, decoy_pool, decoy_prompts
from kiosk.services.backend.recovery.eligibility import CODE_METHODS, target_of, unlock_offered
from kiosk.services.backend.recovery.machine import Operation
from kiosk.services.backend.recovery.offer import attempts_left, available_methods, lookup, shown_methods
from kiosk.services.backend.recovery.questions import answers_correct, prompts
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.recovery.throttle import Blocked, Event
from kiosk.services.backend.runtime import Runtime


async def _user(rt: Runtime, state: SessionState) -> DirectoryUser | None:
    """The session's account (None for a typed ID that matched none, see `decoys`)."""
    user = await lookup(rt, state)
    if user is None and state.login:  # the account vanished from the directory mid-session
        raise ApiError(ErrorCode.DIRECTORY_UNAVAILABLE)
    return user


async def _take(rt: Runtime, state: SessionState, *events: Event) -> list[int]:
    """Count these events against the user (one transaction); 429 when blocked or over a limit."""
    try:
        return await rt.throttle.take(state.subject, *events)
    except Blocked as blocked:
        await rt.refuse_blocked(state, blocked)


async def _settle(rt: Runtime, state: SessionState, proof: int, *, failed: bool) -> None:
    """Settle a reserved failed proof; the failure that reaches the limit answers 429."""
    until = await rt.throttle.settle(state.subject, proof, failed=failed)
    if until is not None:
        await rt.refuse_blocked(state, Blocked(Event.FAILED_PROOF.value, until))


async def _send_code(rt: Runtime, state: SessionState, user: DirectoryUser | None, method: Method) -> None:
    await _take(rt, state, Event.EMAIL if method is Method.EMAIL else Event.PHONE_ATTEMPT)
    target = target_of(user, method) if user is not None and state.genuine else ""
    code, issued = await rt.codes.issue(state.token_hash, method, target, subject=state.subject, genuine=state.genuine)
    # Real or decoy, the same work: the message is built and queued (one store round trip); the
    # delivery worker sends a real one, drops a decoy's, and audits either (code_sent). The answer
    # never waits for SMTP or the gateway, nor reports a failure: it cannot tell the two apart.
    subject, body = code_message(rt.policy, method, code)
    await rt.delivery.enqueue_code(
        rt.origin(state), Message(method, target, subject, body), expires_at=issued.expires_at, decoy=not state.genuine
    )


async def choose_method(rt: Runtime, state: SessionState, request: ChooseMethodRequest) -> None:
    """Pick the method for the next gate (also to switch method while a gate is open)."""
    await rt.require(state, Operation.CHOOSE_METHOD)
    user = await _user(rt, state)
    method = request.method
    if method not in shown_methods(rt, state, user):
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome=ErrorCode.METHOD_NOT_AVAILABLE.value)
        raise ApiError(ErrorCode.METHOD_NOT_AVAILABLE)
    await rt.record(state, AuditEvent.METHOD_CHOSEN, outcome=method.value)
    state.method = method
    state.genuine = method in available_methods(rt, state, user)
    if method in CODE_METHODS:
        await _send_code(rt, state, user, method)
        machine.move(state, Operation.CHOOSE_METHOD, Stage.VERIFY_CODE)
    elif method is Method.APP_CODE:
        machine.move(state, Operation.CHOOSE_METHOD, Stage.VERIFY_CODE)
    else:
        if not state.asked:  # switching back keeps the same questions: re-picking would reveal more
            registered = (
                len(user.questions)
                if state.genuine and user is not None
                else len(await decoy_pool(rt.store, rt.policy, state.subject))
            )
            # The same questions for this ID in every session until answered or a day old: a new
            # session must not be a way to draw questions until the known ones come up.
            state.asked = await rt.question_draws.draw(
                state.subject, registered, rt.policy.security_questions.number_to_reset
            )
            state.shown_questions = list(
                prompts(user, state.asked)
                if state.genuine and user is not None
                else decoy_prompts(await decoy_pool(rt.store, rt.policy, state.subject), state.asked)
            )
        machine.move(state, Operation.CHOOSE_METHOD, Stage.ANSWER_QUESTIONS)


async def _pass_gate(
    rt: Runtime, state: SessionState, user: DirectoryUser | None, method: Method, operation: Operation
) -> None:
    machine.record_gate(state, method)
    await rt.record(state, AuditEvent.GATE_PASSED, outcome=method.value)
    if state.refusal is not None:
        # The person has proved they hold the account: now they may learn why it cannot reset.
        machine.move(state, operation, Stage.REFUSED)
        await rt.record(state, AuditEvent.REFUSED, outcome=state.refusal.value)
    elif state.flow is Flow.REGISTER:
        # Registration: one gate proves the account's owner (on top of the password), whatever reset needs.
        registering = machine.may_register(state, user, rt.policy)
        machine.move(state, operation, Stage.REGISTER if registering else Stage.CHOOSE_METHOD, rt.policy)
    elif not machine.earned(state, user, rt.policy):
        machine.move(state, operation, Stage.CHOOSE_METHOD)
    else:
        state.locked = await rt.directory.is_locked(state.login)
        next_stage = Stage.CHOOSE_ACTION if unlock_offered(state.locked, rt.policy) else Stage.NEW_PASSWORD
        machine.move(state, operation, next_stage)


async def _count_failure(rt: Runtime, state: SessionState, method: Method, operation: Operation) -> int:
    """Count a wrong try of a per-session method; when none are left the method is used up."""
    state.failures[method] = state.failures.get(method, 0) + 1
    left = attempts_left(rt, state, method)
    await rt.record(state, AuditEvent.GATE_FAILED, outcome=method.value)
    if left == 0:
        state.exhausted.append(method)
        machine.back_to_choosing(state, operation)
    return left


async def verify_code(rt: Runtime, state: SessionState, request: VerifyCodeRequest) -> None:
    """Check a typed code (sent code or authenticator app) for the open gate."""
    if state.stage in (Stage.IDENTIFY, Stage.REFUSED):
        await rt.require(state, Operation.VERIFY_CODE)
    method = state.method
    if state.stage is not Stage.VERIFY_CODE or method is None:
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome=ErrorCode.NO_ACTIVE_CODE.value)
        raise ApiError(ErrorCode.NO_ACTIVE_CODE)
    if method is Method.APP_CODE:
        user = await _user(rt, state)
        _, proof = await _take(rt, state, Event.PHONE_ATTEMPT, Event.FAILED_PROOF)
        # A decoy has no secret to check against: the code is simply wrong.
        if (
            state.genuine
            and user is not None
            and await rt.authenticator.verify(user.login, user.totp_secret, request.code)
        ):
            await _settle(rt, state, proof, failed=False)
            return await _pass_gate(rt, state, user, method, Operation.VERIFY_CODE)
        left = await _count_failure(rt, state, method, Operation.VERIFY_CODE)
        await _settle(rt, state, proof, failed=True)
        raise ApiError(ErrorCode.CODE_WRONG if left else ErrorCode.CODE_BURNED, attempts_left=left)
    (proof,) = await _take(rt, state, Event.FAILED_PROOF)
    check = await rt.codes.check(state.token_hash, request.code)
    if check.status is CodeStatus.OK:
        await _settle(rt, state, proof, failed=False)
        return await _pass_gate(rt, state, await _user(rt, state), method, Operation.VERIFY_CODE)
    if not check.spent:
        await rt.throttle.refund([proof])  # no guess was checked (none, expired, already burned)
    if check.status is CodeStatus.NONE:
        raise ApiError(ErrorCode.NO_ACTIVE_CODE)
    await rt.record(state, AuditEvent.GATE_FAILED, outcome=check.status.value)
    if check.spent:
        await _settle(rt, state, proof, failed=True)
    if check.status is CodeStatus.EXPIRED:
        raise ApiError(ErrorCode.CODE_EXPIRED)
    if check.status is CodeStatus.BURNED:
        raise ApiError(ErrorCode.CODE_BURNED, attempts_left=0)
    raise ApiError(ErrorCode.CODE_WRONG, attempts_left=check.attempts_left)


async def resend_code(rt: Runtime, state: SessionState) -> None:
    """Send a new code for the open gate; the previous one stops working."""
    await rt.require(state, Operation.RESEND_CODE)
    method = state.method
    if method not in CODE_METHODS or method is None:  # app codes roll by themselves
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome="resend_app_code")
        raise ApiError(ErrorCode.STEP_NOT_ALLOWED)
    await _send_code(rt, state, await _user(rt, state), method)


async def answer_questions(rt: Runtime, state: SessionState, request: AnswersRequest) -> None:
    """Check the answers to the asked security questions; all must be right."""
    await rt.require(state, Operation.ANSWER_QUESTIONS)
    user = await _user(rt, state)
    _, proof = await _take(rt, state, Event.PHONE_ATTEMPT, Event.FAILED_PROOF)
    if state.genuine and user is not None:
        correct = await answers_correct(rt.hashing, user, state.asked, request.answers)
    else:
        correct = await check_decoy_answers(rt.hashing, len(state.asked))
    if correct:
        await _settle(rt, state, proof, failed=False)
        await rt.question_draws.release(state.subject)  # answered: the next reset may draw anew
        return await _pass_gate(rt, state, user, Method.SECURITY_QUESTIONS, Operation.ANSWER_QUESTIONS)
    left = await _count_failure(rt, state, Method.SECURITY_QUESTIONS, Operation.ANSWER_QUESTIONS)
    await _settle(rt, state, proof, failed=True)
    raise ApiError(ErrorCode.ANSWERS_WRONG, attempts_left=left)
