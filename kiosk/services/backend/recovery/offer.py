"""What a session offers for its next gate: methods, the number of gates shown, tries left.

Until a first gate is passed every account is offered the same (see `decoys`); afterwards, the
methods the account can really use, minus every method of a factor already proved.
"""

from __future__ import annotations

from kiosk.policy.schema import Method
from kiosk.services.api import Stage
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.recovery.decoys import uniform_methods
from kiosk.services.backend.recovery.eligibility import factor_of, factors_of, offered_methods
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.runtime import Runtime

GATE_STAGES = (Stage.CHOOSE_METHOD, Stage.VERIFY_CODE, Stage.ANSWER_QUESTIONS)


async def lookup(rt: Runtime, state: SessionState) -> DirectoryUser | None:
    """The session's account, None when the typed ID matched none; one directory lookup either way,
    so the two cases take alike long."""
    user = await rt.directory.user_by_login(state.login or state.subject)
    return user if state.login else None  # the subject hash ('?…') is no valid login anyway


def uniform_phase(rt: Runtime, state: SessionState) -> bool:
    """True while every account must look alike: before a first gate, unless `reset.early_refusals`; never
    after a sign-in with the account's password (flows change and register), which already proved it."""
    return not rt.policy.reset.early_refusals and not state.passed and not state.signed_in


def available_methods(rt: Runtime, state: SessionState, user: DirectoryUser | None) -> tuple[Method, ...]:
    """Methods the account can really use for the next gate: offered, not used up, and not of a
    factor a passed gate already proved (an SMS gate leaves no call to the same phone)."""
    if user is None:
        return ()
    proved = factors_of(user, state.passed)
    return tuple(
        method
        for method in offered_methods(user, rt.policy)
        if factor_of(user, method) not in proved and method not in state.exhausted
    )


def shown_methods(rt: Runtime, state: SessionState, user: DirectoryUser | None) -> tuple[Method, ...]:
    """Methods the kiosk offers for the next gate: the policy's for every account in the uniform
    phase (see `decoys`), afterwards the ones the account can really use."""
    if uniform_phase(rt, state):
        return tuple(
            method
            for method in uniform_methods(rt.policy)
            if method not in state.passed and method not in state.exhausted
        )
    return available_methods(rt, state, user)


def shown_gates(rt: Runtime, state: SessionState) -> int:
    """The number of gates shown: the policy's in the uniform phase (a two-gate account learns of its
    second gate after the first), afterwards the account's own."""
    return rt.policy.methods.required if uniform_phase(rt, state) else state.gates_required


def attempts_left(rt: Runtime, state: SessionState, method: Method) -> int:
    """Wrong tries left for a method whose attempts are counted per session (app code, questions)."""
    return max(0, rt.policy.methods.code_attempts - state.failures.get(method, 0))
