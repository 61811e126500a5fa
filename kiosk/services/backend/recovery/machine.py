"""The recovery state machine, declared once: which operation may run at which stage, where each may
lead, and `earned`, the one rule that decides whether a session may reset a password or unlock.

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
from enum import StrEnum

from kiosk.policy.schema import Method, Policy
from kiosk.services.api import Stage
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


_GATES = (Stage.CHOOSE_METHOD, Stage.VERIFY_CODE, Stage.ANSWER_QUESTIONS)
_AFTER_A_GATE = frozenset({Stage.CHOOSE_METHOD, Stage.CHOOSE_ACTION, Stage.NEW_PASSWORD, Stage.REFUSED})
"""Where a passed gate leads: the next gate, the verified stages, or the refusal it may now learn."""

TRANSITIONS: Mapping[tuple[Stage, Operation], frozenset[Stage]] = {
    (Stage.IDENTIFY, Operation.NEW_CAPTCHA): frozenset({Stage.IDENTIFY}),
    (Stage.IDENTIFY, Operation.IDENTIFY): frozenset({Stage.CHOOSE_METHOD, Stage.REFUSED}),
    **{(stage, Operation.CHOOSE_METHOD): frozenset({Stage.VERIFY_CODE, Stage.ANSWER_QUESTIONS}) for stage in _GATES},
    (Stage.VERIFY_CODE, Operation.VERIFY_CODE): _AFTER_A_GATE,
    (Stage.VERIFY_CODE, Operation.RESEND_CODE): frozenset({Stage.VERIFY_CODE}),
    (Stage.ANSWER_QUESTIONS, Operation.ANSWER_QUESTIONS): _AFTER_A_GATE,
    (Stage.CHOOSE_ACTION, Operation.CHOOSE_ACTION): frozenset({Stage.NEW_PASSWORD, Stage.DONE}),
    # Back from the new-password page to "unlock only": every gate is passed, so it is still earned.
    (Stage.NEW_PASSWORD, Operation.CHOOSE_ACTION): frozenset({Stage.NEW_PASSWORD, Stage.DONE}),
    (Stage.NEW_PASSWORD, Operation.SET_PASSWORD): frozenset({Stage.DONE}),
}
"""stage × operation → the stages it may lead to. A pair not listed is refused (409 step_not_allowed).
A step that fails (wrong code, rejected password) leaves the stage as it was, except that a method
whose tries are used up sends the session back to choosing (VERIFY_CODE/ANSWER_QUESTIONS → CHOOSE_METHOD,
listed above)."""

VERIFIED_STAGES = frozenset({Stage.CHOOSE_ACTION, Stage.NEW_PASSWORD})
"""The stages only `earned` may lead to."""


def allowed(stage: Stage, operation: Operation) -> bool:
    """True when `operation` may run at `stage`."""
    return (stage, operation) in TRANSITIONS


class IllegalTransition(AssertionError):
    """A programming error: code tried a transition the table does not list (a 500, never a reset)."""


def move(state: SessionState, operation: Operation, to: Stage) -> None:
    """Move the session along a transition of the table; anything else is a bug and raises."""
    if to not in TRANSITIONS.get((state.stage, operation), frozenset()):
        raise IllegalTransition(f"{state.stage.value} --{operation.value}--> {to.value} is not a transition")
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


def earned(state: SessionState, user: DirectoryUser | None, policy: Policy) -> bool:
    """True when the session has earned a reset or an unlock of `user`'s account.

    Re-evaluated from the recorded gates, never from the stage: the account must be the session's,
    eligible now, and the passed gates must be methods it may use now, standing for at least as many
    distinct factors as it needs gates (administrators and two-gate groups: two).
    """
    if user is None or not state.login or user.login != state.login or state.refusal is not None:
        return False
    decision = evaluate(user, policy)
    if decision.refusal is not None:
        return False
    needed = max(decision.gates_required, state.gates_required, 1)
    usable = [method for method in state.passed if method in decision.offered]
    return len(factors_of(user, usable)) >= needed
