"""What the kiosk may see of a session: the `SessionView` built from the server-side state."""

from __future__ import annotations

from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Method
from kiosk.services.api import CodeChallenge, MethodOption, Refusal, SessionView, Stage
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.recovery import authenticator
from kiosk.services.backend.recovery.eligibility import masked_target
from kiosk.services.backend.recovery.offer import GATE_STAGES, attempts_left, shown_gates, shown_methods, uniform_phase
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.runtime import Runtime

VERIFIED_STAGES = (Stage.CHOOSE_ACTION, Stage.NEW_PASSWORD, Stage.DONE)


async def _code_challenge(rt: Runtime, state: SessionState, user: DirectoryUser | None) -> CodeChallenge | None:
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
        masked_target=_masked(rt, state, user, method),
        attempts_left=active.attempts_left if active else 0,
        code_length=rt.codes.length,
        expires_at=active.expires_at if active else None,
        can_resend=True,
    )


def _masked(rt: Runtime, state: SessionState, user: DirectoryUser | None, method: Method) -> str | None:
    # Contact data says the account exists: never shown in the uniform phase.
    if user is None or uniform_phase(rt, state):
        return None
    return masked_target(user, method)


async def build_view(rt: Runtime, state: SessionState) -> SessionView:
    """The session as the kiosk may see it; contact data masked, the name only once verified.

    In the uniform phase the view is built without the account at all, so it cannot differ (in
    content or in the time a directory lookup takes) between user IDs.
    """
    shown_refusal = state.refusal if state.stage is Stage.REFUSED else None
    view = SessionView(
        flow=state.flow,
        stage=state.stage,
        expires_at=state.expires_at,
        gates_required=shown_gates(rt, state),
        gates_passed=len(state.passed),
        refusal=Refusal(code=shown_refusal, reference=state.reference) if shown_refusal else None,
    )
    if state.stage in (Stage.IDENTIFY, Stage.SIGN_IN, Stage.REFUSED):
        return view
    uniform = uniform_phase(rt, state)
    if not uniform:
        user = await rt.directory.user_by_login(state.login) if state.login else None
        if user is None:
            return view
    else:
        user = None
    update: dict[str, object] = {}
    if state.stage in GATE_STAGES:
        update["methods"] = tuple(
            MethodOption(method=method, masked_target=_masked(rt, state, user, method))
            for method in shown_methods(rt, state, user)
        )
    if state.stage is Stage.VERIFY_CODE:
        update["code"] = await _code_challenge(rt, state, user)
    if state.stage is Stage.ANSWER_QUESTIONS:
        update["questions"] = tuple(state.shown_questions)
    if user is None:
        return view.model_copy(update=update)
    if state.stage in VERIFIED_STAGES:
        update["display_name"] = user.display_name
        update["locked"] = state.locked
    if state.stage is Stage.NEW_PASSWORD:
        rules = PasswordRules.from_policy(rt.policy)
        # Claim "not one of your last N" only where a reused password will be refused (Samba: never).
        history_checked = rules.history == 0 or await rt.directory.enforces_history(user.login)
        update["rules"] = rules if history_checked else rules.model_copy(update={"history": 0})
    if state.stage is Stage.DONE:
        update["outcome"] = state.outcome
    return view.model_copy(update=update)
