"""Issue 11: the recovery state machine is declared in one module, and only that module moves a session.

Read from the source (an AST walk), so a new `state.stage = …` or `state.passed.append(…)` anywhere
else fails here, however it got there.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from kiosk.services.api import Stage
from kiosk.services.backend.recovery import machine
from kiosk.services.backend.recovery.machine import TRANSITIONS, VERIFIED_STAGES, IllegalTransition, Operation
from kiosk.services.backend.recovery.sessions import SessionState

BACKEND = Path(machine.__file__).parents[1]
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
                if isinstance(part, ast.Attribute) and part.attr in ("stage", "passed"):
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


def test_the_verified_stages_are_reached_only_through_a_passed_gate() -> None:
    # Only answering a gate leads into the stages where a reset or unlock can happen.
    entries = {op for (stage, op), targets in TRANSITIONS.items() if targets & VERIFIED_STAGES
               and stage not in VERIFIED_STAGES}  # fmt: skip
    assert entries == {Operation.VERIFY_CODE, Operation.ANSWER_QUESTIONS}
    assert all(Stage.DONE not in targets for (stage, _), targets in TRANSITIONS.items() if stage not in VERIFIED_STAGES)


def test_a_transition_the_table_does_not_list_raises() -> None:
    state = SessionState.model_construct(stage=Stage.CHOOSE_METHOD)
    with pytest.raises(IllegalTransition):
        machine.move(state, Operation.CHOOSE_METHOD, Stage.NEW_PASSWORD)
    assert state.stage is Stage.CHOOSE_METHOD
    machine.move(state, Operation.CHOOSE_METHOD, Stage.VERIFY_CODE)
    assert state.stage is Stage.VERIFY_CODE
