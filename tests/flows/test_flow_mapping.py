"""Session views map to the right pages with the right data."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from kiosk.flows.mapping import ViewContext, account_name, gate_progress, identify_step, start_step, step_for_view
from kiosk.flows.steps import (
    AnswerQuestionsData,
    ChooseMethodData,
    DoneData,
    DoneOutcome,
    EnterCodeData,
    MethodChoice,
    NewPasswordData,
    RefusedData,
    ResetOrUnlockData,
    StartData,
    StepKind,
)
from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import HelpdeskSettings, KioskSettings, Method, Policy
from kiosk.services.api import (
    CodeChallenge,
    ErrorCode,
    Flow,
    MethodOption,
    Outcome,
    QuestionPrompt,
    Refusal,
    SessionView,
    Stage,
)

EXPIRES = datetime(2030, 1, 1, tzinfo=UTC)
POLICY = Policy(
    kiosk=KioskSettings(done_countdown_seconds=7, helpdesk=HelpdeskSettings(text="Call us", phone="+31 20 555 0100"))
)
CONTEXT = ViewContext(POLICY, user_id="emma@contoso.com")
EMAIL = MethodOption(method=Method.EMAIL, masked_target="e•••@contoso.com")
APP = MethodOption(method=Method.APP_CODE)


def view(stage: Stage, **fields: object) -> SessionView:
    return SessionView.model_validate({"stage": stage, "expires_at": EXPIRES, **fields})


def test_start_shows_the_organisation() -> None:
    step = start_step(POLICY)
    assert step.kind is StepKind.START
    assert step.data == StartData(organisation="Contoso", flows=(Flow.RECOVER, Flow.CHANGE, Flow.REGISTER))
    assert not step.can_go_back


def test_identify_can_go_back_to_start() -> None:
    assert identify_step(b"png", "emma").can_go_back


def test_refused_carries_reason_reference_and_helpdesk() -> None:
    step = step_for_view(view(Stage.REFUSED, refusal=Refusal(code=ErrorCode.NOT_ENABLED, reference="R-12")), CONTEXT)
    assert step.kind is StepKind.REFUSED
    assert isinstance(step.data, RefusedData)
    assert (step.data.reason, step.data.reference) == ("not_enabled", "R-12")
    assert (step.data.helpdesk.text, step.data.helpdesk.phone) == ("Call us", "+31 20 555 0100")
    assert not step.can_go_back


def test_choose_method_counts_gates_from_one() -> None:
    first = step_for_view(view(Stage.CHOOSE_METHOD, gates_required=2, methods=(EMAIL, APP)), CONTEXT)
    assert isinstance(first.data, ChooseMethodData)
    assert (first.data.gate.number, first.data.gate.required) == (1, 2)
    assert first.data.methods == (MethodChoice(Method.EMAIL, "e•••@contoso.com"), MethodChoice(Method.APP_CODE))
    assert first.can_go_back
    second = step_for_view(view(Stage.CHOOSE_METHOD, gates_required=2, gates_passed=1, methods=(APP,)), CONTEXT)
    assert isinstance(second.data, ChooseMethodData)
    assert second.data.gate.number == 2
    assert not second.can_go_back


def test_enter_code_shows_the_challenge() -> None:
    challenge = CodeChallenge(
        method=Method.EMAIL,
        masked_target="e•••@contoso.com",
        attempts_left=5,
        code_length=8,
        expires_at=EXPIRES,
        can_resend=True,
    )
    step = step_for_view(view(Stage.VERIFY_CODE, gates_required=1, methods=(EMAIL, APP), code=challenge), CONTEXT)
    assert step.kind is StepKind.ENTER_CODE
    assert step.data == EnterCodeData(
        gate=gate_progress(view(Stage.VERIFY_CODE, gates_required=1)),
        method=Method.EMAIL,
        masked_target="e•••@contoso.com",
        attempts_left=5,
        code_length=8,
        expires_at=EXPIRES,
        can_resend=True,
        can_choose_other=True,
    )
    assert step.can_go_back


def test_a_verify_view_without_a_challenge_breaks_the_contract() -> None:
    with pytest.raises(ValueError, match="challenge"):
        step_for_view(view(Stage.VERIFY_CODE), CONTEXT)


def test_questions_use_remembered_methods_when_the_view_has_none() -> None:
    prompts = (QuestionPrompt(id="q1", predefined_id="pet"), QuestionPrompt(id="q2", custom_text="Best teacher?"))
    remembered = ViewContext(POLICY, methods=(MethodChoice(Method.EMAIL), MethodChoice(Method.SECURITY_QUESTIONS)))
    step = step_for_view(view(Stage.ANSWER_QUESTIONS, gates_required=1, questions=prompts), remembered)
    assert isinstance(step.data, AnswerQuestionsData)
    assert [q.id for q in step.data.questions] == ["q1", "q2"]
    assert step.data.questions[1].custom_text == "Best teacher?"
    assert step.data.can_choose_other


def test_reset_or_unlock_greets_by_name() -> None:
    step = step_for_view(view(Stage.CHOOSE_ACTION, display_name="Emma Example", locked=True), CONTEXT)
    assert step.data == ResetOrUnlockData(display_name="Emma Example")


def test_new_password_names_the_user_and_falls_back_to_policy_rules() -> None:
    step = step_for_view(view(Stage.NEW_PASSWORD, display_name="Emma Example"), CONTEXT)
    assert isinstance(step.data, NewPasswordData)
    assert step.data.rules == PasswordRules.from_policy(POLICY)
    assert step.data.user_names == ("emma", "Emma Example")
    assert not step.can_go_back
    assert step_for_view(view(Stage.NEW_PASSWORD), ViewContext(POLICY, came_from_action=True)).can_go_back


@pytest.mark.parametrize(
    ("outcome", "expected"), [(Outcome.RESET, DoneOutcome.RESET), (Outcome.UNLOCKED, DoneOutcome.UNLOCKED)]
)
def test_done_counts_down_from_the_policy(outcome: Outcome, expected: DoneOutcome) -> None:
    step = step_for_view(view(Stage.DONE, outcome=outcome), CONTEXT)
    assert step.data == DoneData(outcome=expected, countdown_seconds=7)


def test_the_identify_stage_needs_a_captcha() -> None:
    with pytest.raises(ValueError, match="CAPTCHA"):
        step_for_view(view(Stage.IDENTIFY), CONTEXT)


@pytest.mark.parametrize(
    ("typed", "account"), [("emma@contoso.com", "emma"), ("CONTOSO\\emma", "emma"), ("emma", "emma"), ("", "")]
)
def test_the_account_name_drops_the_domain(typed: str, account: str) -> None:
    assert account_name(typed) == account
