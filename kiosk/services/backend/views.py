"""What the kiosk may see of a session: the `SessionView` built from the server-side state."""

from __future__ import annotations

from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Method
from kiosk.services.api import CodeChallenge, MethodOption, Refusal, SessionView, Stage
from kiosk.services.backend import authenticator
from kiosk.services.backend.directory import DirectoryUser
from kiosk.services.backend.eligibility import masked_target, offered_methods
from kiosk.services.backend.questions import prompts
from kiosk.services.backend.runtime import Runtime
from kiosk.services.backend.sessions import SessionState

GATE_STAGES = (Stage.CHOOSE_METHOD, Stage.VERIFY_CODE, Stage.ANSWER_QUESTIONS)
VERIFIED_STAGES = (Stage.CHOOSE_ACTION, Stage.NEW_PASSWORD, Stage.DONE)


def available_methods(rt: Runtime, state: SessionState, user: DirectoryUser) -> tuple[Method, ...]:
    """Methods still open for the next gate: offered, not yet passed, not used up."""
    return tuple(
        method
        for method in offered_methods(user, rt.policy)
        if method not in state.passed and method not in state.exhausted
    )


def attempts_left(rt: Runtime, state: SessionState, method: Method) -> int:
    """Wrong tries left for a method whose attempts are counted per session (app code, questions)."""
    return max(0, rt.policy.methods.code_attempts - state.failures.get(method, 0))


async def _code_challenge(rt: Runtime, state: SessionState, user: DirectoryUser) -> CodeChallenge | None:
    method = state.method
    if method is None:
        return None
    if method is Method.APP_CODE:
        return CodeChallenge(
            method=method,
            attempts_left=attempts_left(rt, state, method),
            code_length=authenticator.DIGITS,
            expires_at=None,
            can_resend=False,
        )
    active = await rt.codes.active(state.token_hash)
    return CodeChallenge(
        method=method,
        masked_target=masked_target(user, method),
        attempts_left=active.attempts_left if active else 0,
        code_length=rt.codes.length,
        expires_at=active.expires_at if active else None,
        can_resend=True,
    )


async def build_view(rt: Runtime, state: SessionState) -> SessionView:
    """The session as the kiosk may see it; contact data masked, the name only once verified."""
    view = SessionView(
        stage=state.stage,
        expires_at=state.expires_at,
        gates_required=state.gates_required,
        gates_passed=len(state.passed),
        refusal=Refusal(code=state.refusal, reference=state.reference) if state.refusal else None,
    )
    user = await rt.directory.find_user(state.login) if state.login else None
    if user is None:
        return view
    update: dict[str, object] = {}
    if state.stage in GATE_STAGES:
        update["methods"] = tuple(
            MethodOption(method=method, masked_target=masked_target(user, method))
            for method in available_methods(rt, state, user)
        )
    if state.stage is Stage.VERIFY_CODE:
        update["code"] = await _code_challenge(rt, state, user)
    if state.stage is Stage.ANSWER_QUESTIONS:
        update["questions"] = prompts(user, state.asked)
    if state.stage in VERIFIED_STAGES:
        update["display_name"] = user.display_name
        update["locked"] = state.locked
    if state.stage is Stage.NEW_PASSWORD:
        update["rules"] = PasswordRules.from_settings(rt.policy.password)
    if state.stage is Stage.DONE:
        update["outcome"] = state.outcome
    return view.model_copy(update=update)
