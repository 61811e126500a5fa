"""Issue 11: the recovery state machine is declared in one module, and only that module moves a session.

Read from the source (an AST walk), so a new `state.stage = …` or `state.passed.append(…)` anywhere
else fails here, however it got there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kiosk.policy.schema import Policy
from kiosk.services.api import Flow, Stage
from kiosk.services.backend.recovery import machine
from kiosk.services.backend.recovery.machine import (
    REGISTRATION_STAGES,
    TRANSITIONS,
    VERIFIED_STAGES,
    IllegalTransition,
    Operation,
    plan,
)
from kiosk.services.backend.recovery.sessions import SessionState

BACKEND = Path(machine.__file__).parents[1]
GUARDED = ("stage", "passed", "signed_in", "registration_gate")
"""What only the state machine may set: the stage, the passed gates, and the sign-in (`record_sign_in`)."""
MUTATORS = {"append", "extend", "insert", "remove", "pop", "clear", "__setitem__", "__iadd__"}


def _writes(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, what) for every assignment to `.stage` and every change of `.passed` in a module."""
    found = []
    for node in ast.walk(tree):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        for target in targets:
            for part in ast.walk(target):
                if isinstance(part, ast.Attribute) and part.attr in GUARDED:
                    found.append((node.lineno, f"assigns .{part.attr}"))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in MUTATORS
            and isinstance(node.func.value, ast.Attribute)
            and node.func.value.attr == "passed"
        ):
            found.append((node.lineno, f"calls .passed.{node.func.attr}"))
    return found


def test_only_the_state_machine_moves_a_session_or_marks_a_gate_passed() -> None:
    offenders = []
    for path in sorted(BACKEND.rglob("*.py")):
        if path == Path(machine.__file__):
            continue
        for line, what in _writes(ast.parse(path.read_text(), filename=str(path))):
            offenders.append(f"{path.relative_to(BACKEND)}:{line} {what}")
    assert offenders == []
    # …and the walk does see such writes (it would not pass vacuously).
    assert _writes(ast.parse(Path(machine.__file__).read_text()))


WIDEST = Policy.model_validate({"registration": {"reconfirm_days": 30, "require_on_sign_in": True}})
"""A policy under which every flow plans every stage it can have."""


def _entries(flow: Flow, into: frozenset[Stage]) -> set[Operation]:
    """The operations that lead into `into` from outside it, within `flow`'s plan."""
    stages = plan(flow, WIDEST).stages
    return {
        op
        for (stage, op), targets in TRANSITIONS.items()
        if stage in stages and stage not in into and targets & into & stages
    }


def test_the_verified_stages_are_reached_only_through_a_passed_gate_or_the_current_password() -> None:
    # Recovery: only answering a gate leads where a reset or unlock can happen.
    assert _entries(Flow.RECOVER, VERIFIED_STAGES) == {Operation.VERIFY_CODE, Operation.ANSWER_QUESTIONS}
    # Change: only the sign-in with the current password leads to the new password, never to an unlock.
    assert _entries(Flow.CHANGE, VERIFIED_STAGES) == {Operation.SIGN_IN}
    assert Stage.CHOOSE_ACTION not in plan(Flow.CHANGE, WIDEST).stages
    # Registration never reaches a password stage at all.
    assert not plan(Flow.REGISTER, WIDEST).stages & VERIFIED_STAGES
    # Done only from a stage that did something (or the steps after it).
    finishing = VERIFIED_STAGES | {Stage.RECONFIRM, Stage.REGISTER}
    assert all(Stage.DONE not in targets for (stage, _), targets in TRANSITIONS.items() if stage not in finishing)


def test_registration_is_reached_only_after_a_proof() -> None:
    after_proof = {Operation.VERIFY_CODE, Operation.ANSWER_QUESTIONS, Operation.SIGN_IN, Operation.RECONFIRM,
                   Operation.SET_PASSWORD, Operation.CHOOSE_ACTION}  # fmt: skip
    for flow in Flow:
        assert _entries(flow, REGISTRATION_STAGES) <= after_proof
    # A recovery session never signs in, and the sign-in leads nowhere in it.
    assert Stage.SIGN_IN not in plan(Flow.RECOVER, WIDEST).stages
    # Without reconfirmation or required registration, a reset or change never leads to registration.
    narrow = Policy.model_validate({"registration": {"reconfirm_days": 0, "require_on_sign_in": False}})
    for flow in (Flow.RECOVER, Flow.CHANGE):
        assert not plan(flow, narrow).stages & (REGISTRATION_STAGES | {Stage.RECONFIRM})


def test_a_move_out_of_the_flow_raises() -> None:
    state = SessionState.model_construct(stage=Stage.NEW_PASSWORD, flow=Flow.CHANGE)
    with pytest.raises(IllegalTransition):
        machine.move(state, Operation.CHOOSE_ACTION, Stage.NEW_PASSWORD)  # a table pair, but no stage of change…
    state = SessionState.model_construct(stage=Stage.CHOOSE_ACTION, flow=Flow.CHANGE)
    assert not machine.allowed(Stage.CHOOSE_ACTION, Operation.CHOOSE_ACTION, Flow.CHANGE, WIDEST)
    state = SessionState.model_construct(stage=Stage.NEW_PASSWORD, flow=Flow.RECOVER)
    narrow = Policy.model_validate({"registration": {"reconfirm_days": 0, "require_on_sign_in": False}})
    with pytest.raises(IllegalTransition):
        machine.move(state, Operation.SET_PASSWORD, Stage.RECONFIRM, narrow)  # not planned under this policy
    machine.move(state, Operation.SET_PASSWORD, Stage.DONE, narrow)
    assert state.stage is Stage.DONE


def test_a_transition_the_table_does_not_list_raises() -> None:
    state = SessionState.model_construct(stage=Stage.CHOOSE_METHOD)
    with pytest.raises(IllegalTransition):
        machine.move(state, Operation.CHOOSE_METHOD, Stage.NEW_PASSWORD)
    assert state.stage is Stage.CHOOSE_METHOD
    machine.move(state, Operation.CHOOSE_METHOD, Stage.VERIFY_CODE)
    assert state.stage is Stage.VERIFY_CODE
