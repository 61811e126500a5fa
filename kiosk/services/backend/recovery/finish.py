"""The end of a verified session: unlock only, or a new password written to the directory (a reset in
flow recover, the user's own change in flow change); then where the session goes afterwards."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable

from kiosk.policy.password import PasswordRules, check_password, normalize_password
from kiosk.policy.schema import Method
from kiosk.services.api import Action, ChooseActionRequest, ErrorCode, Flow, NewPasswordRequest, Outcome, Stage
from kiosk.services.backend import deadline
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.delivery.messages import admin_reset_notice, password_changed_notice
from kiosk.services.backend.delivery.queue import Message
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.directory.errors import (
    DirectoryUnavailable,
    PasswordRefused,
    WriteFailed,
    WrongCurrentPassword,
)
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.recovery import machine
from kiosk.services.backend.recovery.eligibility import unlock_offered
from kiosk.services.backend.recovery.machine import Operation
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.recovery.throttle import Blocked, Event
from kiosk.services.backend.registration import afterwards
from kiosk.services.backend.runtime import Runtime

log = logging.getLogger(__name__)


async def _require_earned(rt: Runtime, state: SessionState, operation: Operation) -> DirectoryUser:
    """The session's account, when the state machine allows `operation` now AND the recorded gates
    earn it (`machine.earned`, re-evaluated against the account as it is now); 409 otherwise."""
    await rt.require(state, operation)
    if not state.login:
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome="not_earned")
        raise ApiError(ErrorCode.STEP_NOT_ALLOWED)
    user = await rt.directory.user_by_login(state.login)
    if user is None:
        raise ApiError(ErrorCode.DIRECTORY_UNAVAILABLE)
    if not machine.earned(state, user, rt.policy):
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome="not_earned")
        raise ApiError(ErrorCode.STEP_NOT_ALLOWED)
    return user


async def _require_signed_in(rt: Runtime, state: SessionState) -> DirectoryUser:
    """Flow change: the session's account, when the state machine allows setting the password now AND the
    session signed in as that account, still enabled (`machine.may_change`), with its current password
    still sealed; 409 otherwise."""
    await rt.require(state, Operation.SET_PASSWORD)
    user = await rt.directory.user_by_login(state.login) if state.login else None
    if state.login and user is None:
        raise ApiError(ErrorCode.DIRECTORY_UNAVAILABLE)
    if not machine.may_change(state, user) or not state.sealed_current:
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome="not_signed_in")
        raise ApiError(ErrorCode.STEP_NOT_ALLOWED)
    assert user is not None  # may_change said so
    return user


async def choose_action(rt: Runtime, state: SessionState, request: ChooseActionRequest) -> None:
    """A verified user with a locked account chooses: unlock only, or a new password."""
    if state.stage is Stage.NEW_PASSWORD and not unlock_offered(state.locked, rt.policy):
        # Back from the new-password page is "unlock only" only for a locked account that may unlock.
        await rt.record(state, AuditEvent.STEP_REFUSED, outcome=state.stage.value)
        raise ApiError(ErrorCode.STEP_NOT_ALLOWED)
    user = await _require_earned(rt, state, Operation.CHOOSE_ACTION)
    if request.action is Action.UNLOCK:
        deadline.before_effect()  # the point of no return: past the deadline, refused with nothing done
    await rt.record(state, AuditEvent.ACTION_CHOSEN, outcome=request.action.value)
    if request.action is Action.RESET:
        machine.move(state, Operation.CHOOSE_ACTION, Stage.NEW_PASSWORD)
        return
    await _write(rt, state, AuditEvent.UNLOCKED, rt.directory.unlock(state.login))
    await _finish(rt, state, user, Operation.CHOOSE_ACTION, Outcome.UNLOCKED)


async def set_password(rt: Runtime, state: SessionState, request: NewPasswordRequest) -> None:
    """Check the new password against the policy and the history, then write it: a reset (which also
    unlocks) in flow recover, the user's own change from the sealed current password in flow change."""
    change = state.flow is Flow.CHANGE
    if change:
        user = await _require_signed_in(rt, state)
    else:
        user = await _require_earned(rt, state, Operation.SET_PASSWORD)
    outcome, event = (Outcome.CHANGED, AuditEvent.CHANGED) if change else (Outcome.RESET, AuditEvent.RESET)
    rules = PasswordRules.from_policy(rt.policy)  # the organisation's name is banned too
    # NFC is what is checked, compared with the history and written (the request model already
    # normalized it; this keeps the rule where the password is used).
    password = normalize_password(request.password)
    if state.applying and await rt.directory.verify_password(user.login, password):
        # A retry of a request that died after writing this very password (a replica killed mid-step):
        # the write went through, so it is finished and told as done, never checked against the history
        # it is now part of, nor written twice.
        await _done(rt, state, user, outcome)
        return
    recent = await rt.directory.password_recently_used(user.login, password, rules.history)
    # zxcvbn is CPU-heavy: on the hashing workers, counted against the same cores.
    names = (user.login, user.display_name)
    verdict = await rt.hashing.run(functools.partial(check_password, password, rules, names, recently_used=recent))
    if not verdict.ok:
        await rt.record(state, AuditEvent.PASSWORD_REJECTED, outcome=",".join(verdict.failed))
        raise ApiError(ErrorCode.PASSWORD_REJECTED, reasons=verdict.failed)
    # The point of no return: past the step's deadline the reset is refused (503 busy) with nothing done,
    # rather than applied after the kiosk stopped waiting.
    deadline.before_effect()
    try:
        taken = await rt.throttle.take(state.login, Event.RESET)
    except Blocked as blocked:
        await rt.refuse_blocked(state, blocked)
    # Written ahead: if this process dies during the write, the session says so to the next request.
    state.applying = True
    await rt.sessions.save(state)
    try:
        if change:
            current = rt.sealer.open(state.sealed_current)
            written = rt.directory.change_password(user.login, current, password)
        else:
            written = rt.directory.reset_password(user.login, password)
        await _write(rt, state, event, written)
    except ApiError as failure:
        if failure.code is not ErrorCode.PASSWORD_REJECTED and await _holds(rt, user.login, password):
            # The directory failed to answer (a dropped connection, a timeout) after it took the password
            # (for a change, a retry then finds the old password gone): it went through, and is told so.
            await _done(rt, state, user, outcome)
            return
        # A refusal of the password changed nothing. Otherwise it cannot be known yet (the directory may
        # take it a moment later): `applying` stays set, so a retry asks the directory first.
        state.applying = failure.code not in (ErrorCode.PASSWORD_REJECTED, ErrorCode.SIGN_IN_FAILED)
        if failure.code is ErrorCode.SIGN_IN_FAILED:
            state.sealed_current = ""  # the password changed since the sign-in: this session can change nothing
        await rt.throttle.refund(taken)
        raise
    await _done(rt, state, user, outcome)


async def _done(rt: Runtime, state: SessionState, user: DirectoryUser, outcome: Outcome) -> None:
    """The new password is in the directory: finish the session's step and tell the user."""
    state.applying = False
    state.sealed_current = ""  # used: the current password is kept no longer than the change needs it
    await _finish(rt, state, user, Operation.SET_PASSWORD, outcome)
    await _notify(rt, state, user)


async def _holds(rt: Runtime, login: str, password: str) -> bool:
    """Whether the directory now holds `password` for `login` (False when it cannot tell)."""
    try:
        return await rt.directory.verify_password(login, password)
    except Exception:  # noqa: BLE001 - unreachable or failing: not known to hold it
        return False


async def _write(rt: Runtime, state: SessionState, event: AuditEvent, change: Awaitable[None]) -> None:
    """Make one change in the directory; a failure there changed nothing, is audited and told to the user."""
    try:
        await change
    except WrongCurrentPassword:
        # A user change whose current password no longer holds: changed elsewhere since the sign-in.
        await rt.record(state, AuditEvent.SIGN_IN_FAILED, outcome="current_password_changed")
        raise ApiError(ErrorCode.SIGN_IN_FAILED) from None
    except PasswordRefused as refusal:
        # The kiosk's rules passed but the directory's own policy (length, history, age) did not.
        await rt.record(state, AuditEvent.PASSWORD_REJECTED, outcome=refusal.rule.value)
        raise ApiError(ErrorCode.PASSWORD_REJECTED, reasons=(refusal.rule,)) from None
    except DirectoryUnavailable as outage:
        await rt.record(state, event, outcome=f"{ErrorCode.DIRECTORY_UNAVAILABLE.value}:{outage.reason.value}")
        raise ApiError(ErrorCode.DIRECTORY_UNAVAILABLE) from None
    except WriteFailed as refusal:
        # The directory's reason (its LDAP result name, e.g. insufficientAccessRights: a rights problem
        # an administrator can fix) goes into the audit and the log; it is a stable code, never a value.
        log.warning("%s refused by the directory: %s", event.value, refusal.result)
        await rt.record(state, event, outcome=f"{ErrorCode.WRITEBACK_FAILED.value}:{refusal.result}")
        raise ApiError(ErrorCode.WRITEBACK_FAILED) from None
    except Exception as error:  # noqa: BLE001 - any adapter failure: nothing changed, tell the user
        log.warning("%s failed in the directory: %s", event.value, type(error).__name__)
        await rt.record(state, event, outcome=ErrorCode.WRITEBACK_FAILED.value)
        raise ApiError(ErrorCode.WRITEBACK_FAILED) from None


_EVENTS = {Outcome.RESET: AuditEvent.RESET, Outcome.UNLOCKED: AuditEvent.UNLOCKED, Outcome.CHANGED: AuditEvent.CHANGED}


async def _finish(
    rt: Runtime, state: SessionState, user: DirectoryUser, operation: Operation, outcome: Outcome
) -> None:
    """The session has done its job: remember what, audit it, and go where the flow goes afterwards
    (done, "is this still up to date?", or registration: `registration.afterwards`)."""
    state.outcome = outcome
    state.locked = False
    await rt.record(state, _EVENTS[outcome])
    await rt.throttle.succeeded(state.login)  # a success clears the user's counters
    machine.move(state, operation, await afterwards.next_stage(rt, state, user), rt.policy)


async def _notify(rt: Runtime, state: SessionState, user: DirectoryUser) -> None:
    """Queue the e-mail notices the policy asks for. The password is already changed: the worker sends
    them with retries, and one that cannot be sent is audited (`notice_failed`) and logged, never
    undoing the reset or failing the request."""
    notices: list[Message] = []
    if rt.policy.notifications.notify_user_on_reset:
        subject, body = password_changed_notice(rt.policy, user, by_the_user=state.flow is Flow.CHANGE)
        notices += [Message(Method.EMAIL, address, subject, body) for address in user.emails]
    if user.is_admin and rt.policy.notifications.notify_admins_on_admin_reset:
        subject, body = admin_reset_notice(rt.policy, user)
        for admin in await rt.directory.administrators():
            if admin.login != user.login:
                notices += [Message(Method.EMAIL, address, subject, body) for address in admin.emails]
    await rt.delivery.enqueue_notices(rt.origin(state), notices)
