"""The session state machine, declared once: which operation may run at which stage, where each may
lead, which stages each flow (recover, change, register) plans from the policy, and `earned`, the one
rule that decides whether a session may reset a password or unlock.

One machine runs all three flows: a flow is data (`FlowPlan`: its first stage and the stages it may
ever reach, planned from the policy), and `allowed`/`move` refuse a stage outside the session's plan as
they refuse a transition the table does not list.

Every stage change of a session goes through `move`, which refuses a transition the table does not
list; every passed gate is recorded by `record_gate`. A test checks that no other module assigns
`SessionState.stage` or touches `SessionState.passed`, so the table is the whole truth.

`earned` never trusts the stage: the reset and unlock steps call it again, and it re-evaluates the
recorded gates against the account as the directory describes it *now* and the policy: enough gates,
each a method this account may use, standing for as many *different factors* as it needs (an SMS and
a call to one phone are one factor; an administrator's security questions count for nothing).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from kiosk.policy.schema import Method, Policy
from kiosk.services.api import Flow, Stage
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.recovery.eligibility import evaluate, factors_of
from kiosk.services.backend.recovery.sessions import SessionState


class Operation(StrEnum):
    """What a request asks a session to do."""

    NEW_CAPTCHA = "new_captcha"
    IDENTIFY = "identify"
    CHOOSE_METHOD = "choose_method"
    VERIFY_CODE = "verify_code"
    RESEND_CODE = "resend_code"
    ANSWER_QUESTIONS = "answer_questions"
    CHOOSE_ACTION = "choose_action"
    SET_PASSWORD = "set_password"  # noqa: S105 - an operation's name, not a password
    SIGN_IN = "sign_in"
    RECONFIRM = "reconfirm"
    ADD_CONTACT = "add_contact"
    VERIFY_CONTACT = "verify_contact"
    RESEND_CONTACT_CODE = "resend_contact_code"
    SET_QUESTIONS = "set_questions"
    START_APP = "start_app"
    CONFIRM_APP = "confirm_app"
    CANCEL_PENDING = "cancel_pending"
    FINISH_REGISTRATION = "finish_registration"


_GATES = (Stage.CHOOSE_METHOD, Stage.VERIFY_CODE, Stage.ANSWER_QUESTIONS)
_REGISTERING = (Stage.REGISTER, Stage.REGISTER_VERIFY, Stage.REGISTER_APP)
_FINISHED = frozenset({Stage.DONE, Stage.RECONFIRM, Stage.REGISTER})
"""Where a reset, unlock or change leads: done, or first "still up to date?", or registration (required)."""
_AFTER_A_GATE = frozenset(
    {Stage.CHOOSE_METHOD, Stage.CHOOSE_ACTION, Stage.NEW_PASSWORD, Stage.REFUSED, Stage.REGISTER}
)
"""Where a passed gate leads: the next gate, the verified stages (registration's hub, in flow register),
or the refusal it may now learn."""

TRANSITIONS: Mapping[tuple[Stage, Operation], frozenset[Stage]] = {
    (Stage.IDENTIFY, Operation.NEW_CAPTCHA): frozenset({Stage.IDENTIFY}),
    (Stage.IDENTIFY, Operation.IDENTIFY): frozenset({Stage.CHOOSE_METHOD, Stage.REFUSED}),
    (Stage.SIGN_IN, Operation.NEW_CAPTCHA): frozenset({Stage.SIGN_IN}),
    # change: straight to the new password; register: a gate first when anything is registered, else the hub.
    (Stage.SIGN_IN, Operation.SIGN_IN): frozenset(
        {Stage.NEW_PASSWORD, Stage.CHOOSE_METHOD, Stage.REGISTER, Stage.REFUSED}
    ),
    **{(stage, Operation.CHOOSE_METHOD): frozenset({Stage.VERIFY_CODE, Stage.ANSWER_QUESTIONS}) for stage in _GATES},
    (Stage.VERIFY_CODE, Operation.VERIFY_CODE): _AFTER_A_GATE,
    (Stage.VERIFY_CODE, Operation.RESEND_CODE): frozenset({Stage.VERIFY_CODE}),
    (Stage.ANSWER_QUESTIONS, Operation.ANSWER_QUESTIONS): _AFTER_A_GATE,
    (Stage.CHOOSE_ACTION, Operation.CHOOSE_ACTION): frozenset({Stage.NEW_PASSWORD, *_FINISHED}),
    # Back from the new-password page to "unlock only": every gate is passed, so it is still earned.
    (Stage.NEW_PASSWORD, Operation.CHOOSE_ACTION): frozenset({Stage.NEW_PASSWORD, *_FINISHED}),
    (Stage.NEW_PASSWORD, Operation.SET_PASSWORD): _FINISHED,
    (Stage.RECONFIRM, Operation.RECONFIRM): frozenset({Stage.DONE, Stage.REGISTER}),
    (Stage.REGISTER, Operation.ADD_CONTACT): frozenset({Stage.REGISTER_VERIFY}),
    (Stage.REGISTER_VERIFY, Operation.VERIFY_CONTACT): frozenset({Stage.REGISTER, Stage.REGISTER_VERIFY}),
    (Stage.REGISTER_VERIFY, Operation.RESEND_CONTACT_CODE): frozenset({Stage.REGISTER_VERIFY}),
    (Stage.REGISTER, Operation.SET_QUESTIONS): frozenset({Stage.REGISTER}),
    (Stage.REGISTER, Operation.START_APP): frozenset({Stage.REGISTER_APP}),
    (Stage.REGISTER_APP, Operation.CONFIRM_APP): frozenset({Stage.REGISTER, Stage.REGISTER_APP}),
    **{(stage, Operation.CANCEL_PENDING): frozenset({Stage.REGISTER}) for stage in _REGISTERING},
    (Stage.REGISTER, Operation.FINISH_REGISTRATION): frozenset({Stage.DONE}),
}
"""stage × operation → the stages it may lead to. A pair not listed is refused (409 step_not_allowed).
A step that fails (wrong code, rejected password) leaves the stage as it was, except that a method
whose tries are used up sends the session back to choosing (VERIFY_CODE/ANSWER_QUESTIONS → CHOOSE_METHOD,
listed above)."""

VERIFIED_STAGES = frozenset({Stage.CHOOSE_ACTION, Stage.NEW_PASSWORD})
"""The stages only `earned` may lead to (flow recover; flow change reaches NEW_PASSWORD by the sign-in)."""

REGISTRATION_STAGES = frozenset(_REGISTERING)
"""The stages where a session may change the account's security info (only `may_register` leads there)."""


@dataclass(frozen=True, slots=True)
class FlowPlan:
    """A flow as data: the stage it starts at, every stage it may reach and every operation it may run
    under the policy."""

    flow: Flow
    first: Stage
    stages: frozenset[Stage]
    operations: frozenset[Operation]


_REGISTRATION_OPERATIONS = frozenset(
    {
        Operation.ADD_CONTACT,
        Operation.VERIFY_CONTACT,
        Operation.RESEND_CONTACT_CODE,
        Operation.SET_QUESTIONS,
        Operation.START_APP,
        Operation.CONFIRM_APP,
        Operation.CANCEL_PENDING,
        Operation.FINISH_REGISTRATION,
    }
)
_GATE_OPERATIONS = frozenset(
    {Operation.CHOOSE_METHOD, Operation.VERIFY_CODE, Operation.RESEND_CODE, Operation.ANSWER_QUESTIONS}
)
_FLOW_OPERATIONS: Mapping[Flow, frozenset[Operation]] = {
    Flow.RECOVER: frozenset(Operation) - {Operation.SIGN_IN},
    # A change never unlocks and never passes a gate: the current password is its only proof.
    Flow.CHANGE: frozenset(
        {Operation.NEW_CAPTCHA, Operation.SIGN_IN, Operation.SET_PASSWORD, Operation.RECONFIRM}
    )
    | _REGISTRATION_OPERATIONS,
    Flow.REGISTER: frozenset({Operation.NEW_CAPTCHA, Operation.SIGN_IN}) | _GATE_OPERATIONS | _REGISTRATION_OPERATIONS,
}


_AFTERWARDS = frozenset({Stage.RECONFIRM, *_REGISTERING})
_RECOVER = frozenset(
    {Stage.IDENTIFY, Stage.REFUSED, *_GATES, Stage.CHOOSE_ACTION, Stage.NEW_PASSWORD, Stage.DONE, *_AFTERWARDS}
)
_CHANGE = frozenset({Stage.SIGN_IN, Stage.REFUSED, Stage.NEW_PASSWORD, Stage.DONE, *_AFTERWARDS})
_REGISTER = frozenset({Stage.SIGN_IN, Stage.REFUSED, *_GATES, *_REGISTERING, Stage.DONE})


_FLOW_STAGES: Mapping[Flow, frozenset[Stage]] = {Flow.RECOVER: _RECOVER, Flow.CHANGE: _CHANGE, Flow.REGISTER: _REGISTER}
"""Every stage a flow may reach under any policy (`plan` narrows it for one policy)."""


def plan(flow: Flow, policy: Policy) -> FlowPlan:
    """The stages `flow` plans under `policy`: reconfirmation only with `registration.reconfirm_days`,
    registration after a reset or change only when reconfirming or `registration.require_on_sign_in`
    can lead there, and no registration stage at all when the policy offers registration nowhere."""
    if flow is Flow.RECOVER:
        stages, first = _RECOVER, Stage.IDENTIFY
    elif flow is Flow.CHANGE:
        stages, first = _CHANGE, Stage.SIGN_IN
    else:
        stages, first = _REGISTER, Stage.SIGN_IN
    operations = _FLOW_OPERATIONS[flow]
    registration = policy.registration
    if flow is not Flow.REGISTER:
        if registration.reconfirm_days == 0:
            stages -= {Stage.RECONFIRM}
            operations -= {Operation.RECONFIRM}
        if registration.reconfirm_days == 0 and not registration.require_on_sign_in:
            stages -= REGISTRATION_STAGES
            operations -= _REGISTRATION_OPERATIONS
    return FlowPlan(flow, first, stages, operations)


def allowed(stage: Stage, operation: Operation, flow: Flow = Flow.RECOVER, policy: Policy | None = None) -> bool:
    """True when `operation` may run at `stage` (in `flow`'s plan under `policy`, when given): the table
    lists the pair, and it leads somewhere the flow may go."""
    targets = TRANSITIONS.get((stage, operation))
    if targets is None or operation not in _FLOW_OPERATIONS[flow]:
        return False
    if policy is None:
        return True
    planned = plan(flow, policy)
    return stage in planned.stages and operation in planned.operations and bool(targets & planned.stages)


class IllegalTransition(AssertionError):
    """A programming error: code tried a transition the table does not list (a 500, never a reset)."""


def move(state: SessionState, operation: Operation, to: Stage, policy: Policy | None = None) -> None:
    """Move the session along a transition of the table (and, given the policy, within its flow's plan);
    anything else is a bug and raises."""
    if to not in TRANSITIONS.get((state.stage, operation), frozenset()):
        raise IllegalTransition(f"{state.stage.value} --{operation.value}--> {to.value} is not a transition")
    if to not in _FLOW_STAGES[state.flow] or operation not in _FLOW_OPERATIONS[state.flow]:
        raise IllegalTransition(f"{operation.value} to {to.value} is not part of flow {state.flow.value}")
    planned = plan(state.flow, policy) if policy is not None else None
    if planned is not None and not (to in planned.stages and operation in planned.operations):
        raise IllegalTransition(f"{operation.value} to {to.value} is not planned in flow {state.flow.value}")
    state.stage = to


def back_to_choosing(state: SessionState, operation: Operation) -> None:
    """The open gate's method is used up: back to the method page."""
    state.method = None
    move(state, operation, Stage.CHOOSE_METHOD)


def record_gate(state: SessionState, method: Method) -> None:
    """Record that the open gate was passed with `method` (the only place a gate is marked passed)."""
    state.passed.append(method)
    state.method = None
    state.genuine = False
    if method is Method.SECURITY_QUESTIONS:
        state.asked = {}
        state.shown_questions = []


def record_sign_in(state: SessionState, login: str, *, gate_needed: bool) -> None:
    """Record that the session's user gave their account's current password (the only place that does).

    `gate_needed` (flow register): the account had registered methods at sign-in, so one of them must be
    passed before anything may be registered; decided once, here, so what the session registers itself
    cannot raise or lower the bar.
    """
    state.login = login
    state.signed_in = True
    state.registration_gate = gate_needed


def may_change(state: SessionState, user: DirectoryUser | None) -> bool:
    """True when the session may write `user`'s new password as the user's own change (flow change):
    signed in as that very account, which is still enabled."""
    return (
        state.flow is Flow.CHANGE
        and state.signed_in
        and user is not None
        and bool(state.login)
        and user.login == state.login
        and user.enabled
        and state.refusal is None
    )


def may_register(state: SessionState, user: DirectoryUser | None, policy: Policy) -> bool:
    """True when the session may change `user`'s security info. Re-evaluated on every registration step:

    - flow register: signed in as the account, and one gate passed when it had anything registered at
      sign-in (a stolen password alone cannot replace someone's recovery data);
    - flow recover: the reset or unlock was earned and went through (`earned`, re-evaluated now);
    - flow change: the password change went through.
    """
    if user is None or not state.login or user.login != state.login or state.refusal is not None:
        return False
    if state.flow is Flow.REGISTER:
        return state.signed_in and user.enabled and (not state.registration_gate or bool(state.passed))
    if state.flow is Flow.CHANGE:
        return state.signed_in and state.outcome is not None and state.outcome.value == "changed"
    return state.outcome is not None and earned(state, user, policy)


def earned(state: SessionState, user: DirectoryUser | None, policy: Policy) -> bool:
    """True when the session has earned a reset or an unlock of `user`'s account.

    Re-evaluated from the recorded gates, never from the stage: the account must be the session's,
    eligible now, and the passed gates must be methods it may use now, standing for at least as many
    distinct factors as it needs gates (administrators and two-gate groups: two).
    """
    if state.flow is not Flow.RECOVER:
        return False
    if user is None or not state.login or user.login != state.login or state.refusal is not None:
        return False
    decision = evaluate(user, policy)
    if decision.refusal is not None:
        return False
    needed = max(decision.gates_required, state.gates_required, 1)
    usable = [method for method in state.passed if method in decision.offered]
    return len(factors_of(user, usable)) >= needed
