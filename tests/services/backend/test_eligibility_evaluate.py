"""`eligibility.evaluate`: every reason behind a decision, and `assess` (what sessions use) agreeing with it."""

from __future__ import annotations

from dataclasses import replace

import pytest

from kiosk.policy.schema import EnabledFor, Method, MethodSettings, OnPremisesSettings, Policy, ResetSettings
from kiosk.services.api import ErrorCode
from kiosk.services.backend import Backend
from kiosk.services.backend.directory.embedded import DirectoryUser, RegisteredQuestion
from kiosk.services.backend.recovery.eligibility import (
    GateReason,
    MethodStatus,
    assess,
    evaluate,
    offered_methods,
    unlock_offered,
)

from .conftest import demo_policy

QUESTION = RegisteredQuestion("first_pet", None, "$argon2id$not-checked-here")


def user(**fields: object) -> DirectoryUser:
    """A user in SSPR-Users with an e-mail address, changed by `fields`."""
    base = DirectoryUser(login="kim", display_name="Kim", groups=("SSPR-Users",), auth_email="kim@contoso.com")
    return replace(base, **fields)  # type: ignore[arg-type]


def statuses(policy: Policy, who: DirectoryUser) -> dict[Method, MethodStatus]:
    return {verdict.method: verdict.status for verdict in evaluate(who, policy).methods}


def test_every_failed_check_is_kept_in_the_order_the_kiosk_tells_them() -> None:
    policy = demo_policy()  # group SSPR-Users, writeback off
    nobody = user(enabled=False, groups=("Sales",), password_managed_on_premises=True, auth_email="")
    decision = evaluate(nobody, policy)
    assert decision.refusals == (
        ErrorCode.ACCOUNT_DISABLED,
        ErrorCode.NOT_ENABLED,
        ErrorCode.WRITEBACK_DISABLED,
        ErrorCode.TOO_FEW_METHODS,
    )
    assert decision.refusal is ErrorCode.ACCOUNT_DISABLED
    assert assess(nobody, policy).refusal is ErrorCode.ACCOUNT_DISABLED


def test_an_eligible_user_gets_gates_methods_and_the_groups_that_let_them_in() -> None:
    decision = evaluate(user(groups=("Staff", "sspr-users")), demo_policy())
    assert decision.refusals == () and decision.refusal is None
    assert decision.access_groups == ("sspr-users",)  # group names compare case-insensitively
    assert (decision.gates_required, decision.gate_reason) == (1, GateReason.POLICY)
    assert decision.offered == (Method.EMAIL,)


def test_gate_reasons_administrator_beats_two_gate_group() -> None:
    policy = demo_policy()  # two_gate_groups = Finance
    finance = evaluate(user(groups=("SSPR-Users", "FINANCE")), policy)
    assert (finance.gates_required, finance.gate_reason, finance.two_gate_groups) == (
        2,
        GateReason.TWO_GATE_GROUP,
        ("FINANCE",),
    )
    admin = evaluate(user(is_admin=True, groups=("SSPR-Users", "Finance")), policy)
    assert (admin.gates_required, admin.gate_reason) == (2, GateReason.ADMINISTRATOR)
    assert admin.refusal is ErrorCode.TOO_FEW_METHODS  # only e-mail: one method for two gates


def test_method_statuses_say_why_a_method_is_not_offered() -> None:
    policy = demo_policy(
        methods=MethodSettings(
            enabled=(Method.EMAIL, Method.APP_NOTIFICATION, Method.SECURITY_QUESTIONS, Method.APP_CODE), required=1
        )
    )
    two_questions = user(questions=(QUESTION, QUESTION), office_phone="+31 20 555 0101")
    found = statuses(policy, two_questions)
    assert found == {
        Method.EMAIL: MethodStatus.OFFERED,
        Method.APP_NOTIFICATION: MethodStatus.NO_PUSH_SERVICE,
        Method.SECURITY_QUESTIONS: MethodStatus.TOO_FEW_QUESTIONS,  # 2 registered, 3 asked
        Method.APP_CODE: MethodStatus.NOT_REGISTERED,
        Method.OFFICE_CALL: MethodStatus.NOT_ENABLED,  # data, but the policy does not enable it
    }
    admin = user(is_admin=True, questions=(QUESTION,) * 3)
    assert statuses(policy, admin)[Method.SECURITY_QUESTIONS] is MethodStatus.ADMIN_NO_QUESTIONS
    assert statuses(policy, replace(admin, is_admin=False))[Method.SECURITY_QUESTIONS] is MethodStatus.OFFERED
    assert evaluate(admin, policy).questions_registered == 3 and evaluate(admin, policy).questions_needed == 3


def test_unlock_only_is_offered_to_locked_users_when_the_policy_allows_it() -> None:
    allowed = demo_policy()
    refused = demo_policy(on_premises=OnPremisesSettings(writeback=False, allow_unlock_without_reset=False))
    assert evaluate(user(locked=True), allowed).unlock_offered is True
    assert evaluate(user(locked=True), refused).unlock_offered is False
    assert evaluate(user(locked=False), allowed).unlock_offered is False
    assert unlock_offered(True, allowed) and not unlock_offered(True, refused)


@pytest.mark.parametrize(
    "policy",
    [
        demo_policy(),
        demo_policy(methods=MethodSettings(enabled=(Method.EMAIL, Method.APP_CODE), required=2)),
        demo_policy(reset=ResetSettings(enabled_for=EnabledFor.ALL)),
        demo_policy(reset=ResetSettings(enabled_for=EnabledFor.NONE)),
        demo_policy(on_premises=OnPremisesSettings(writeback=True)),
    ],
    ids=["demo", "two-gates", "all", "none", "writeback"],
)
async def test_assess_and_evaluate_agree_for_every_demo_user(policy: Policy) -> None:
    """The session's verdict is `evaluate`'s, for each demo user: no second implementation to drift."""
    backend = await Backend.open(demo_policy(), kiosk_id="test-kiosk")
    try:
        users = await backend.directory.all_users()
    finally:
        await backend.close()
    assert len(users) == 11
    for each in users:
        decision, verdict = evaluate(each, policy), assess(each, policy)
        assert verdict.refusal == decision.refusal, each.login
        if verdict.refusal is None:
            assert (verdict.gates_required, verdict.methods) == (decision.gates_required, decision.offered)
            assert verdict.methods == offered_methods(each, policy)
    assert assess(None, policy).refusal is ErrorCode.UNKNOWN_USER


async def test_all_users_reads_each_user_as_find_user_does(backend: Backend) -> None:
    listed = await backend.directory.all_users()
    assert [each.login for each in listed] == sorted(each.login for each in listed)
    for each in listed:
        assert await backend.directory.find_user(each.login) == each
    assert {"adele", "fay", "dana", "quinn"} <= {each.login for each in listed}
    quinn = next(each for each in listed if each.login == "quinn")
    assert len(quinn.questions) == 3 and "quinn@contoso.com" in quinn.aliases
