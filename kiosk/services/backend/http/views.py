"""What the kiosk may see of a session: the `SessionView` built from the server-side state."""

from __future__ import annotations

from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Method
from kiosk.services.api import (
    CodeChallenge,
    Flow,
    MethodOption,
    Refusal,
    RegisteredMethod,
    RegistrationKind,
    RegistrationView,
    SessionView,
    Stage,
)
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.recovery import authenticator
from kiosk.services.backend.recovery.eligibility import masked_target, target_of
from kiosk.services.backend.recovery.masking import mask_email, mask_phone
from kiosk.services.backend.recovery.offer import GATE_STAGES, attempts_left, shown_gates, shown_methods, uniform_phase
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.registration import qr
from kiosk.services.backend.registration.rules import (
    can_register,
    code_method,
    methods_needed,
    question_choices,
)
from kiosk.services.backend.runtime import Runtime

REGISTRATION_VIEW_STAGES = (Stage.REGISTER, Stage.REGISTER_VERIFY, Stage.REGISTER_APP, Stage.RECONFIRM)
VERIFIED_STAGES = (Stage.CHOOSE_ACTION, Stage.NEW_PASSWORD, Stage.DONE, *REGISTRATION_VIEW_STAGES)


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


def _registered(user: DirectoryUser) -> tuple[RegisteredMethod, ...]:
    """What the account holds, masked: never an address, number, answer or secret."""
    methods: list[RegisteredMethod] = []
    if email := target_of(user, Method.EMAIL):
        methods.append(RegisteredMethod(kind=RegistrationKind.EMAIL, masked_target=mask_email(email)))
    if phone := target_of(user, Method.MOBILE_SMS):
        methods.append(RegisteredMethod(kind=RegistrationKind.PHONE, masked_target=mask_phone(phone)))
    if user.questions:
        methods.append(RegisteredMethod(kind=RegistrationKind.QUESTIONS, questions=len(user.questions)))
    if user.totp_secret:
        methods.append(RegisteredMethod(kind=RegistrationKind.APP))
    return tuple(methods)


async def _registration_view(rt: Runtime, state: SessionState, user: DirectoryUser) -> RegistrationView:
    """The registration stages' data; the pending contact masked, the new app secret only in REGISTER_APP."""
    kinds = can_register(user, rt.policy)
    asks_questions = RegistrationKind.QUESTIONS in kinds
    view = RegistrationView(
        registered=_registered(user),
        can_register=kinds,
        methods_needed=methods_needed(user, rt.policy),
        questions_to_register=rt.policy.security_questions.number_to_register if asks_questions else 0,
        question_choices=question_choices(rt.policy) if asks_questions else (),
        confirmed_at=user.confirmed_at,
    )
    pending = rt.sealer.open(state.sealed_pending) if state.sealed_pending else ""
    kind = state.pending_kind
    if state.stage is Stage.REGISTER_VERIFY and kind in (RegistrationKind.EMAIL, RegistrationKind.PHONE) and pending:
        active = await rt.codes.active(state.token_hash)
        method = code_method(kind, rt.policy)
        masked = mask_email(pending) if kind is RegistrationKind.EMAIL else mask_phone(pending)
        challenge = CodeChallenge(
            method=method,
            masked_target=masked,
            attempts_left=active.attempts_left if active else 0,
            code_length=rt.codes.length,
            expires_at=active.expires_at if active else None,
            can_resend=True,
        )
        return view.model_copy(update={"pending": challenge})
    if state.stage is Stage.REGISTER_APP and kind is RegistrationKind.APP and pending:
        uri = qr.provisioning_uri(pending, user.login, rt.policy.kiosk.branding.organisation)
        return view.model_copy(update={"app_secret": pending, "app_uri": uri, "app_qr_svg": qr.qr_svg(uri)})
    return view


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
        # Claim "not one of your last N" only where a reused password will be refused (a reset on Samba: never;
        # a user's own change on any AD: always).
        own_change = state.flow is Flow.CHANGE
        history_checked = rules.history == 0 or await rt.directory.enforces_history(user.login, own_change=own_change)
        update["rules"] = rules if history_checked else rules.model_copy(update={"history": 0})
    if state.stage is Stage.DONE or state.stage in REGISTRATION_VIEW_STAGES:
        update["outcome"] = state.outcome  # after a reset, unlock or change: what was done (None in flow register)
    if state.stage in REGISTRATION_VIEW_STAGES:
        update["registration"] = await _registration_view(rt, state, user)
    return view.model_copy(update=update)
