"""Pure mapping from the backend's `SessionView` (and failures) to the `Step` view-models the UI shows."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime

from kiosk.flows.steps import (
    AnswerQuestionsData,
    ChooseMethodData,
    DoneData,
    DoneOutcome,
    EnterCodeData,
    ErrorData,
    FieldError,
    GateProgress,
    Helpdesk,
    IdentifyData,
    MethodChoice,
    NewPasswordData,
    PictureCheckData,
    Question,
    QuestionOption,
    ReconfirmData,
    RefusedData,
    RegisterAppData,
    RegisterContactData,
    RegisterData,
    RegisteredMethod,
    RegisterQuestionsData,
    RegisterVerifyData,
    ResetOrUnlockData,
    SignInData,
    StartData,
    Step,
    StepKind,
)
from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Method, Policy
from kiosk.services.api import (
    MAX_REGISTERED_ANSWER,
    MIN_REGISTERED_ANSWER,
    ErrorCode,
    Flow,
    Outcome,
    RegistrationKind,
    RegistrationView,
    SessionView,
    Stage,
)

SERVICE_UNAVAILABLE = "service_unavailable"
"""Error-page code: the backend could not be reached."""
SERVICE_TIMEOUT = "service_timeout"
"""Error-page code: the backend did not answer in time."""
CHANGE_UNCONFIRMED = "change_unconfirmed"
"""Error-page code: the answer to a new password was lost (timeout, unreachable): it may have been set."""
UNLOCK_UNCONFIRMED = "unlock_unconfirmed"
"""Error-page code: the answer to an unlock was lost (timeout, unreachable): the account may be unlocked."""
REGISTRATION_UNCONFIRMED = "registration_unconfirmed"
"""Error-page code: the answer to a registration step (a code, questions, "still up to date") was lost: the
security info may have been saved (Retry shows what the backend holds)."""
SESSION_EXPIRED = ErrorCode.SESSION_EXPIRED.value
"""Error-page code: the reset session is gone (timed out or closed)."""
INTERNAL = ErrorCode.INTERNAL.value
"""Error-page code: something broke that the user cannot fix (also used for answers that break the contract)."""


@dataclass(frozen=True, slots=True)
class ViewContext:
    """What the engine knows beside the session view: never a secret."""

    policy: Policy
    user_id: str = ""
    came_from_action: bool = False
    methods: tuple[MethodChoice, ...] = ()
    """The current gate's choices, remembered from its choose-method page (for Back)."""


def offered_flows(policy: Policy) -> tuple[Flow, ...]:
    """The ways in the policy offers on the start page (`kiosk.offer_*`), in the order recover, change, register."""
    kiosk = policy.kiosk
    offered = {
        Flow.RECOVER: kiosk.offer_recovery,
        Flow.CHANGE: kiosk.offer_change,
        Flow.REGISTER: kiosk.offer_registration,
    }
    return tuple(flow for flow in (Flow.RECOVER, Flow.CHANGE, Flow.REGISTER) if offered[flow])


def start_step(policy: Policy) -> Step:
    """The start page."""
    return Step(StepKind.START, StartData(organisation=policy.kiosk.branding.organisation, flows=offered_flows(policy)))


def identify_step(
    captcha_png: bytes,
    user_id: str = "",
    errors: tuple[FieldError, ...] = (),
    *,
    policy: Policy | None = None,
    picture_check: PictureCheckData | None = None,
) -> Step:
    """The user ID + CAPTCHA page (the policy says which alternatives it offers); Back leads to the start."""
    data = IdentifyData(
        captcha_png=captcha_png,
        user_id=user_id,
        audio=policy.captcha.audio if policy else True,
        pictures_offered=policy.captcha.no_transcription_alternative if policy else False,
        picture_check=picture_check,
    )
    return Step(StepKind.IDENTIFY, data, errors, can_go_back=True)


def sign_in_step(
    captcha_png: bytes,
    user_id: str = "",
    errors: tuple[FieldError, ...] = (),
    *,
    policy: Policy,
    flow: Flow,
    picture_check: PictureCheckData | None = None,
) -> Step:
    """User ID + current password + CAPTCHA (flows change and register); Back leads to the start."""
    data = SignInData(
        captcha_png=captcha_png,
        user_id=user_id,
        audio=policy.captcha.audio,
        pictures_offered=policy.captcha.no_transcription_alternative,
        picture_check=picture_check,
        flow=flow,
    )
    return Step(StepKind.SIGN_IN, data, errors, can_go_back=True)


def local_reference() -> str:
    """A reference for an error page when no answer brought one: `kiosk-` and 12 random hex digits.

    The backend never saw it: whoever shows it logs it with the failure, so the kiosk's log finds it.
    """
    return f"kiosk-{secrets.token_hex(6)}"


def error_step(
    code: str, correlation_id: str, *, retryable: bool = True, blocked_until: datetime | None = None
) -> Step:
    """A page for a failure the user cannot fix by editing a field, with the reference the helpdesk looks up."""
    data = ErrorData(code=code, correlation_id=correlation_id, retryable=retryable, blocked_until=blocked_until)
    return Step(StepKind.ERROR, data)


def helpdesk(policy: Policy) -> Helpdesk:
    """The helpdesk contact from the policy."""
    settings = policy.kiosk.helpdesk
    return Helpdesk(text=settings.text, phone=settings.phone, url=settings.url, email=settings.email)


def gate_progress(view: SessionView) -> GateProgress:
    """The gate the user is on (1-based) and how many are required."""
    return GateProgress(number=view.gates_passed + 1, required=max(view.gates_required, view.gates_passed + 1))


def method_choices(view: SessionView) -> tuple[MethodChoice, ...]:
    """The methods a view offers, as Step data."""
    return tuple(MethodChoice(method=option.method, masked_target=option.masked_target) for option in view.methods)


def choose_method_step(gate: GateProgress, methods: tuple[MethodChoice, ...]) -> Step:
    """Pick a method; Back (to a new identify) only exists before the first gate is passed."""
    return Step(StepKind.CHOOSE_METHOD, ChooseMethodData(gate=gate, methods=methods), can_go_back=gate.number == 1)


def reset_or_unlock_step(display_name: str | None) -> Step:
    """Reset or only unlock a locked account."""
    return Step(StepKind.RESET_OR_UNLOCK, ResetOrUnlockData(display_name=display_name))


def step_for_view(view: SessionView, context: ViewContext) -> Step:
    """The page for a session view; the identify stage needs a CAPTCHA and is built by `identify_step`."""
    match view.stage:
        case Stage.REFUSED:
            return _refused(view, context.policy)
        case Stage.CHOOSE_METHOD:
            return choose_method_step(gate_progress(view), method_choices(view))
        case Stage.VERIFY_CODE:
            return _enter_code(view, context)
        case Stage.ANSWER_QUESTIONS:
            return _answer_questions(view, context)
        case Stage.CHOOSE_ACTION:
            return reset_or_unlock_step(view.display_name)
        case Stage.NEW_PASSWORD:
            return _new_password(view, context)
        case Stage.DONE:
            outcome = done_outcome(view.outcome) or (
                DoneOutcome.REGISTERED if view.flow is Flow.REGISTER else DoneOutcome.RESET
            )
            return Step(StepKind.DONE, DoneData(outcome, context.policy.kiosk.done_countdown_seconds))
        case Stage.RECONFIRM:
            return _reconfirm(view)
        case Stage.REGISTER:
            return register_step(view)
        case Stage.REGISTER_VERIFY:
            return _register_verify(view)
        case Stage.REGISTER_APP:
            return _register_app(view, context)
        case Stage.IDENTIFY:
            raise ValueError("the identify stage needs a CAPTCHA: use identify_step")
        case Stage.SIGN_IN:
            raise ValueError("the sign-in stage needs a CAPTCHA: use sign_in_step")


_DONE_OUTCOMES = {
    Outcome.RESET: DoneOutcome.RESET,
    Outcome.UNLOCKED: DoneOutcome.UNLOCKED,
    Outcome.CHANGED: DoneOutcome.CHANGED,
    Outcome.REGISTERED: DoneOutcome.REGISTERED,
}


def done_outcome(outcome: Outcome | None) -> DoneOutcome | None:
    """What the session did, as the done page (and the hub) says it; None when nothing yet."""
    return _DONE_OUTCOMES.get(outcome) if outcome is not None else None


def _account_outcome(view: SessionView) -> DoneOutcome | None:
    """The reset, unlock or change that went through in this session (registering is not one)."""
    outcome = done_outcome(view.outcome)
    return None if outcome is DoneOutcome.REGISTERED else outcome


def _registration(view: SessionView) -> RegistrationView:
    if view.registration is None:
        raise ValueError(f"a {view.stage.value} view without its registration data")
    return view.registration


def registered_methods(registration: RegistrationView) -> tuple[RegisteredMethod, ...]:
    """What the user has registered, as Step data (never the values)."""
    return tuple(
        RegisteredMethod(kind=method.kind, masked_target=method.masked_target, questions=method.questions)
        for method in registration.registered
    )


def register_step(view: SessionView) -> Step:
    """The security-info hub (no Back: Cancel or Done leave it)."""
    registration = _registration(view)
    data = RegisterData(
        registered=registered_methods(registration),
        can_register=registration.can_register,
        methods_needed=registration.methods_needed,
        confirmed_at=registration.confirmed_at,
        outcome=_account_outcome(view),
        display_name=view.display_name,
    )
    return Step(StepKind.REGISTER, data)


def contact_step(kind: RegistrationKind, value: str = "", errors: tuple[FieldError, ...] = ()) -> Step:
    """Type a new authentication e-mail or phone (a local page: Back returns to the hub)."""
    return Step(StepKind.REGISTER_CONTACT, RegisterContactData(kind=kind, value=value), errors, can_go_back=True)


def questions_step(
    registration: RegistrationView, selected: tuple[int, ...] = (), errors: tuple[FieldError, ...] = ()
) -> Step:
    """Pick and answer the security questions to register (a local page: Back returns to the hub)."""
    registered = next(
        (method.questions for method in registration.registered if method.kind is RegistrationKind.QUESTIONS), 0
    )
    data = RegisterQuestionsData(
        count=registration.questions_to_register,
        choices=tuple(
            QuestionOption(predefined_id=choice.predefined_id, custom_text=choice.custom_text)
            for choice in registration.question_choices
        ),
        min_answer=MIN_REGISTERED_ANSWER,
        max_answer=MAX_REGISTERED_ANSWER,
        registered=registered,
        selected=selected,
    )
    return Step(StepKind.REGISTER_QUESTIONS, data, errors, can_go_back=True)


def _register_verify(view: SessionView) -> Step:
    pending = _registration(view).pending
    if pending is None:
        raise ValueError("a register-verify view without the pending code")
    kind = RegistrationKind.EMAIL if pending.method is Method.EMAIL else RegistrationKind.PHONE
    data = RegisterVerifyData(
        kind=kind,
        masked_target=pending.masked_target,
        attempts_left=pending.attempts_left,
        code_length=pending.code_length,
        expires_at=pending.expires_at,
        can_resend=pending.can_resend,
    )
    return Step(StepKind.REGISTER_VERIFY, data, can_go_back=True)


APP_CODE_LENGTH = 6
"""Digits of an authenticator code (RFC 6238's usual 6) when the view does not say."""


def _register_app(view: SessionView, context: ViewContext) -> Step:
    registration = _registration(view)
    if not (registration.app_secret and registration.app_uri and registration.app_qr_svg):
        raise ValueError("a register-app view without the new secret")
    pending = registration.pending
    data = RegisterAppData(
        secret=registration.app_secret,
        uri=registration.app_uri,
        qr_svg=registration.app_qr_svg,
        attempts_left=pending.attempts_left if pending else context.policy.methods.code_attempts,
        code_length=pending.code_length if pending else APP_CODE_LENGTH,
    )
    return Step(StepKind.REGISTER_APP, data, can_go_back=True)


def _reconfirm(view: SessionView) -> Step:
    registration = _registration(view)
    data = ReconfirmData(
        registered=registered_methods(registration),
        confirmed_at=registration.confirmed_at,
        outcome=_account_outcome(view),
        display_name=view.display_name,
    )
    return Step(StepKind.RECONFIRM, data)


def _refused(view: SessionView, policy: Policy) -> Step:
    refusal = view.refusal
    reason = refusal.code.value if refusal else ErrorCode.NOT_ENABLED.value
    reference = refusal.reference if refusal else ""
    return Step(StepKind.REFUSED, RefusedData(reason=reason, reference=reference, helpdesk=helpdesk(policy)))


def _gate_methods(view: SessionView, context: ViewContext) -> tuple[MethodChoice, ...]:
    return method_choices(view) or context.methods


def _enter_code(view: SessionView, context: ViewContext) -> Step:
    challenge = view.code
    if challenge is None:
        raise ValueError("a verify-code view without a code challenge")
    methods = _gate_methods(view, context)
    data = EnterCodeData(
        gate=gate_progress(view),
        method=challenge.method,
        masked_target=challenge.masked_target,
        attempts_left=challenge.attempts_left,
        code_length=challenge.code_length,
        expires_at=challenge.expires_at,
        can_resend=challenge.can_resend,
        can_choose_other=len(methods) > 1,
    )
    return Step(StepKind.ENTER_CODE, data, can_go_back=bool(methods))


def _answer_questions(view: SessionView, context: ViewContext) -> Step:
    methods = _gate_methods(view, context)
    questions = tuple(
        Question(id=prompt.id, predefined_id=prompt.predefined_id, custom_text=prompt.custom_text)
        for prompt in view.questions
    )
    data = AnswerQuestionsData(gate=gate_progress(view), questions=questions, can_choose_other=len(methods) > 1)
    return Step(StepKind.ANSWER_QUESTIONS, data, can_go_back=bool(methods))


def account_name(user_id: str) -> str:
    """The account part of a typed user ID: `emma` of `emma@contoso.com` or `CONTOSO\\emma`."""
    return user_id.rpartition("\\")[2].partition("@")[0]


def user_names(user_id: str, display_name: str | None) -> tuple[str, ...]:
    """The names a new password may not contain: the typed account name and the display name.

    The domain of a typed UPN is left out, as the backend checks the login, not the UPN: otherwise
    the live checklist would refuse any password containing `com`.
    """
    return tuple(name for name in (account_name(user_id), display_name or "") if name)


def _new_password(view: SessionView, context: ViewContext) -> Step:
    rules = view.rules or PasswordRules.from_policy(context.policy)
    data = NewPasswordData(rules=rules, user_names=user_names(context.user_id, view.display_name), flow=view.flow)
    return Step(StepKind.NEW_PASSWORD, data, can_go_back=context.came_from_action)


def with_errors(step: Step, *errors: FieldError) -> Step:
    """The same page with these field errors (replacing earlier ones)."""
    return replace(step, errors=errors)
