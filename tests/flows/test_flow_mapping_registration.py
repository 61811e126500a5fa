"""Every stage of the change and registration flows has its page, built from the session view alone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.flows.mapping import (
    ViewContext,
    contact_step,
    offered_flows,
    questions_step,
    sign_in_step,
    step_for_view,
)
from kiosk.flows.steps import (
    DoneData,
    DoneOutcome,
    NewPasswordData,
    QuestionOption,
    ReconfirmData,
    RegisterAppData,
    RegisterContactData,
    RegisterData,
    RegisteredMethod,
    RegisterQuestionsData,
    RegisterVerifyData,
    SignInData,
    StepKind,
)
from kiosk.policy.schema import KioskSettings, Method, Policy
from kiosk.services.api import (
    MAX_REGISTERED_ANSWER,
    MIN_REGISTERED_ANSWER,
    CodeChallenge,
    Flow,
    Outcome,
    QuestionChoice,
    RegistrationKind,
    RegistrationView,
    SessionView,
    Stage,
)
from kiosk.services.api import (
    RegisteredMethod as ApiRegisteredMethod,
)

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)
CONFIRMED = datetime(2026, 1, 5, tzinfo=UTC)
POLICY = Policy(kiosk=KioskSettings(done_countdown_seconds=7))
CONTEXT = ViewContext(POLICY, user_id="fay")
REGISTRATION = RegistrationView(
    registered=(
        ApiRegisteredMethod(kind=RegistrationKind.EMAIL, masked_target="f•••@contoso.com"),
        ApiRegisteredMethod(kind=RegistrationKind.QUESTIONS, questions=3),
    ),
    can_register=(RegistrationKind.EMAIL, RegistrationKind.PHONE, RegistrationKind.QUESTIONS, RegistrationKind.APP),
    methods_needed=2,
    questions_to_register=3,
    question_choices=(QuestionChoice(predefined_id="first_pet"), QuestionChoice(custom_text="Best teacher?")),
    confirmed_at=CONFIRMED,
)
REGISTERED = (
    RegisteredMethod(kind=RegistrationKind.EMAIL, masked_target="f•••@contoso.com"),
    RegisteredMethod(kind=RegistrationKind.QUESTIONS, questions=3),
)


def view(stage: Stage, **fields: object) -> SessionView:
    return SessionView.model_validate({"stage": stage, "expires_at": EXPIRES, **fields})


def test_every_stage_but_the_captcha_ones_has_a_page() -> None:
    """No stage of any flow falls through: the CAPTCHA stages are built by their own functions."""
    challenge = CodeChallenge(
        method=Method.EMAIL, attempts_left=5, code_length=8, expires_at=EXPIRES, can_resend=True, masked_target="x"
    )
    app = REGISTRATION.model_copy(
        update={"app_secret": "JBSWY3DPEHPK3PXP", "app_uri": "otpauth://x", "app_qr_svg": "<svg/>"}
    )
    fields: dict[Stage, dict[str, object]] = {
        Stage.VERIFY_CODE: {"code": challenge},
        Stage.REGISTER_VERIFY: {"registration": REGISTRATION.model_copy(update={"pending": challenge})},
        Stage.REGISTER_APP: {"registration": app},
        Stage.REGISTER: {"registration": REGISTRATION},
        Stage.RECONFIRM: {"registration": REGISTRATION},
    }
    for stage in Stage:
        if stage in (Stage.IDENTIFY, Stage.SIGN_IN):
            with pytest.raises(ValueError, match="CAPTCHA"):
                step_for_view(view(stage), CONTEXT)
            continue
        step = step_for_view(view(stage, **fields.get(stage, {})), CONTEXT)
        assert step.kind.value == {
            Stage.VERIFY_CODE: "enter_code",
            Stage.ANSWER_QUESTIONS: "answer_questions",
            Stage.CHOOSE_ACTION: "reset_or_unlock",
        }.get(stage, stage.value)


def test_offered_flows_follow_the_policy_in_a_fixed_order() -> None:
    assert offered_flows(POLICY) == (Flow.RECOVER, Flow.CHANGE, Flow.REGISTER)
    only = Policy(kiosk=KioskSettings(offer_recovery=False, offer_change=False))
    assert offered_flows(only) == (Flow.REGISTER,)


def test_the_sign_in_page_follows_the_captcha_policy() -> None:
    step = sign_in_step(b"png", "emma", policy=POLICY, flow=Flow.REGISTER)
    assert step.kind is StepKind.SIGN_IN and step.can_go_back
    assert step.data == SignInData(
        captcha_png=b"png", user_id="emma", audio=True, pictures_offered=False, flow=Flow.REGISTER
    )


@pytest.mark.parametrize(
    ("outcome", "shown"),
    [
        (None, None),
        (Outcome.RESET, DoneOutcome.RESET),
        (Outcome.CHANGED, DoneOutcome.CHANGED),
        (Outcome.REGISTERED, None),
    ],
)
def test_the_hub_shows_what_is_registered_and_what_just_happened(
    outcome: Outcome | None, shown: DoneOutcome | None
) -> None:
    step = step_for_view(
        view(Stage.REGISTER, flow=Flow.CHANGE, outcome=outcome, display_name="Fay Mulder", registration=REGISTRATION),
        CONTEXT,
    )
    assert step.kind is StepKind.REGISTER
    assert not step.can_go_back  # Cancel or Done leave the hub
    assert step.data == RegisterData(
        registered=REGISTERED,
        can_register=REGISTRATION.can_register,
        methods_needed=2,
        confirmed_at=CONFIRMED,
        outcome=shown,
        display_name="Fay Mulder",
    )


def test_a_registration_stage_without_its_data_breaks_the_contract() -> None:
    for stage in (Stage.REGISTER, Stage.RECONFIRM, Stage.REGISTER_VERIFY, Stage.REGISTER_APP):
        with pytest.raises(ValueError, match="registration data"):
            step_for_view(view(stage), CONTEXT)
    with pytest.raises(ValueError, match="pending"):
        step_for_view(view(Stage.REGISTER_VERIFY, registration=REGISTRATION), CONTEXT)
    with pytest.raises(ValueError, match="secret"):
        step_for_view(view(Stage.REGISTER_APP, registration=REGISTRATION), CONTEXT)


@pytest.mark.parametrize(
    ("method", "kind"), [(Method.EMAIL, RegistrationKind.EMAIL), (Method.MOBILE_SMS, RegistrationKind.PHONE)]
)
def test_the_code_page_of_a_new_contact(method: Method, kind: RegistrationKind) -> None:
    pending = CodeChallenge(
        method=method,
        masked_target="+31 •• ••• ••78",
        attempts_left=4,
        code_length=8,
        expires_at=EXPIRES,
        can_resend=True,
    )
    step = step_for_view(
        view(Stage.REGISTER_VERIFY, registration=REGISTRATION.model_copy(update={"pending": pending})), CONTEXT
    )
    assert step.can_go_back  # Back drops the pending contact
    assert step.data == RegisterVerifyData(
        kind=kind,
        masked_target="+31 •• ••• ••78",
        attempts_left=4,
        code_length=8,
        expires_at=EXPIRES,
        can_resend=True,
    )


def test_the_app_page_shows_the_secret_but_never_in_repr() -> None:
    app = REGISTRATION.model_copy(
        update={
            "app_secret": "JBSWY3DPEHPK3PXP",
            "app_uri": "otpauth://totp/Contoso:fay?secret=JBSWY3DPEHPK3PXP",
            "app_qr_svg": "<svg>JBSWY3DPEHPK3PXP</svg>",
        }
    )
    step = step_for_view(view(Stage.REGISTER_APP, registration=app), CONTEXT)
    assert isinstance(step.data, RegisterAppData)
    assert (step.data.secret, step.data.qr_svg) == ("JBSWY3DPEHPK3PXP", "<svg>JBSWY3DPEHPK3PXP</svg>")
    assert (step.data.attempts_left, step.data.code_length) == (POLICY.methods.code_attempts, 6)
    assert step.can_go_back
    assert "JBSWY3DPEHPK3PXP" not in repr(step)


def test_reconfirm_shows_the_registration_and_its_age() -> None:
    step = step_for_view(
        view(Stage.RECONFIRM, outcome=Outcome.UNLOCKED, display_name="Luke", registration=REGISTRATION), CONTEXT
    )
    assert not step.can_go_back
    assert step.data == ReconfirmData(
        registered=REGISTERED, confirmed_at=CONFIRMED, outcome=DoneOutcome.UNLOCKED, display_name="Luke"
    )


@pytest.mark.parametrize(
    ("flow", "outcome", "shown"),
    [
        (Flow.CHANGE, Outcome.CHANGED, DoneOutcome.CHANGED),
        (Flow.REGISTER, Outcome.REGISTERED, DoneOutcome.REGISTERED),
        (Flow.REGISTER, None, DoneOutcome.REGISTERED),
        (Flow.RECOVER, Outcome.REGISTERED, DoneOutcome.REGISTERED),
    ],
)
def test_done_says_what_the_flow_did(flow: Flow, outcome: Outcome | None, shown: DoneOutcome) -> None:
    step = step_for_view(view(Stage.DONE, flow=flow, outcome=outcome), CONTEXT)
    assert step.data == DoneData(outcome=shown, countdown_seconds=7)


def test_the_change_flows_new_password_page_says_so() -> None:
    step = step_for_view(view(Stage.NEW_PASSWORD, flow=Flow.CHANGE, display_name="Emma Jansen"), CONTEXT)
    assert isinstance(step.data, NewPasswordData)
    assert step.data.flow is Flow.CHANGE
    assert not step.can_go_back


def test_the_local_pages_open_from_the_hubs_data() -> None:
    contact = contact_step(RegistrationKind.PHONE)
    assert contact.kind is StepKind.REGISTER_CONTACT and contact.can_go_back
    assert contact.data == RegisterContactData(kind=RegistrationKind.PHONE)
    questions = questions_step(REGISTRATION)
    assert questions.kind is StepKind.REGISTER_QUESTIONS and questions.can_go_back
    assert questions.data == RegisterQuestionsData(
        count=3,
        choices=(QuestionOption(predefined_id="first_pet"), QuestionOption(custom_text="Best teacher?")),
        min_answer=MIN_REGISTERED_ANSWER,
        max_answer=MAX_REGISTERED_ANSWER,
        registered=3,
    )
