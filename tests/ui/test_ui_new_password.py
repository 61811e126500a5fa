"""The live password checklist follows the typing (debounced) and shows strength and rejections."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import FieldError, NewPasswordData, Step, StepKind
from kiosk.policy.password import PasswordRule
from kiosk.policy.schema import Policy
from kiosk.ui.pages import PageContext
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.screenshots import SAMPLE_NOW, sample_steps


@pytest.fixture
def page(qtbot: QtBot, engine: RecordingEngine, policy: Policy) -> NewPasswordPage:
    """The password page showing the sample rules."""
    widget = NewPasswordPage(PageContext(check_password=engine.check_password, now=lambda: SAMPLE_NOW))
    qtbot.addWidget(widget)
    step = sample_steps(policy)[StepKind.NEW_PASSWORD]
    assert isinstance(step.data, NewPasswordData)
    widget.show_step(replace(step, data=replace(step.data, rejected=())), fresh=True)
    return widget


def marks(page: NewPasswordPage) -> dict[PasswordRule, str]:
    """The ✓/✗ of each rule line."""
    return {rule: line.mark.text() for rule, line in page.rule_lines.items()}


def test_checklist_lists_the_rules_in_words(page: NewPasswordPage) -> None:
    texts = [line.text.text() for line in page.rule_lines.values()]
    assert "At least 10 characters" in texts
    assert "At least 3 of: lower case, upper case, digits, symbols" in texts
    # The history is only known to the backend: the line says so instead of claiming ✓.
    assert marks(page)[PasswordRule.NOT_RECENT] == "•"
    assert "checked when you save" in page.rule_lines[PasswordRule.NOT_RECENT].text.text()


def test_an_empty_field_shows_no_rule_as_met(qtbot: QtBot, page: NewPasswordPage, engine: RecordingEngine) -> None:
    # An empty password passes "at most 256 characters", "no banned words"...: ticks before the first
    # key told a newcomer that three rules were already met. Nothing is judged until something is typed.
    lines = [*page.rule_lines.values(), page.match_line]
    judged_lines = {rule: line for rule, line in page.rule_lines.items() if rule is not PasswordRule.NOT_RECENT}
    assert len(judged_lines) >= 3

    def neutral() -> bool:
        return all(line.mark.text() == "○" and line.mark.objectName() == "rulePending"
                   for line in judged_lines.values())

    assert neutral() and page.match_line.mark.text() == "○"
    assert not any(line.mark.objectName() == "ruleOk" or ": met" in line.accessibleName() for line in lines)
    assert page.meter.value() == 0 and page.strength.text() == ""
    qtbot.keyClicks(page.password.edit, "x")  # the first character: judged from here on
    qtbot.waitUntil(lambda: marks(page)[PasswordRule.MIN_LENGTH] == "✗", timeout=1000)
    assert marks(page)[PasswordRule.MAX_LENGTH] == "✓"
    assert {marks(page)[rule] for rule in judged_lines} <= {"✓", "✗"} and page.match_line.mark.text() == "✗"
    page.password.edit.clear()  # erased again: back to unjudged, not to the empty password's ticks
    qtbot.waitUntil(neutral, timeout=1000)
    assert page.match_line.mark.text() == "○" and marks(page)[PasswordRule.NOT_RECENT] == "•"
    page.retranslate()  # a language switch keeps the neutral marks
    assert neutral()


def test_checklist_updates_while_typing(qtbot: QtBot, page: NewPasswordPage, engine: RecordingEngine) -> None:
    engine.password_checks.clear()
    qtbot.keyClicks(page.password.edit, "short")
    qtbot.waitUntil(lambda: engine.password_checks == [5] and page.estimate.idle, timeout=1000)  # one, not five
    assert marks(page)[PasswordRule.MIN_LENGTH] == "✗"
    qtbot.keyClicks(page.password.edit, "-Tulip-Canal-42")
    qtbot.waitUntil(lambda: marks(page)[PasswordRule.MIN_LENGTH] == "✓", timeout=1000)
    assert marks(page)[PasswordRule.CHARACTER_CLASSES] == "✓"
    assert page.meter.value() >= 2 and page.strength.text().startswith("Strength: ")
    qtbot.keyClicks(page.confirm.edit, "short-Tulip-Canal-42")
    qtbot.waitUntil(lambda: page.match_line.mark.text() == "✓", timeout=1000)


def passphrase(length: int) -> str:
    """A varied passphrase of exactly `length` characters."""
    words = "Quartz lantern 97 Orbit meadow Falcon tundra Ginger harbor Violet canyon Maple ember Juniper 48".split()
    text = "-".join(words)
    while len(text) < length:
        text += "-" + "-".join(reversed(words))
    return text[:length]


@pytest.mark.parametrize("length", [72, 73, 128, 256])
def test_the_checklist_takes_a_passphrase_of_any_allowed_length(
    qtbot: QtBot, page: NewPasswordPage, engine: RecordingEngine, length: int
) -> None:
    # zxcvbn refuses more than 72 characters: the check must not raise in the debounce timer's slot.
    engine.password_checks.clear()
    page.password.edit.setText(passphrase(length))
    qtbot.waitUntil(lambda: engine.password_checks == [length] and page.estimate.idle, timeout=2000)
    assert page.password.edit.text() == passphrase(length)  # the field keeps all 256
    shown = marks(page)
    assert shown[PasswordRule.MIN_LENGTH] == shown[PasswordRule.MAX_LENGTH] == shown[PasswordRule.STRENGTH] == "✓"
    assert page.meter.value() == 4


def test_rejections_and_field_errors_are_explained(page: NewPasswordPage) -> None:
    step = page.step
    assert isinstance(step.data, NewPasswordData)
    rejected = Step(
        StepKind.NEW_PASSWORD,
        replace(step.data, rejected=("not_recent", "strength")),
        errors=(FieldError("confirm", "password_mismatch"),),
    )
    page.show_step(rejected, fresh=True)
    assert page.rejected.text().splitlines() == [
        "You used this password recently. Choose one you haven't used before.",
        "This password is too easy to guess. Try a longer phrase.",
    ]
    assert page.confirm.error.text() == "The two passwords are not the same."


def test_leaving_the_page_wipes_both_passwords(qtbot: QtBot, page: NewPasswordPage) -> None:
    qtbot.keyClicks(page.password.edit, "secret-secret")
    qtbot.keyClicks(page.confirm.edit, "secret-secret")
    page.leave()
    assert page.password.edit.text() == "" and page.confirm.edit.text() == ""


def test_a_page_shown_again_shows_only_its_own_checklist(page: NewPasswordPage, policy: Policy) -> None:
    # The lines of the previous showing wait for the event loop to be deleted; until then they must not
    # paint over the new ones (they did: a ✗ of the old check over a ✓ of the new one).
    from kiosk.ui.pages.new_password import ChecklistLine

    step = sample_steps(policy)[StepKind.NEW_PASSWORD]
    page.show_step(step, fresh=True)
    visible = [line for line in page.findChildren(ChecklistLine) if line.isVisibleTo(page)]
    assert sorted(map(id, visible)) == sorted(map(id, [*page.rule_lines.values(), page.match_line]))


def test_a_screen_reader_meets_the_checklist_after_its_heading_and_before_save(page: NewPasswordPage) -> None:
    from PySide6.QtGui import QAccessible, QAccessibleInterface

    def walk(node: QAccessibleInterface) -> list[str]:
        names = [node.text(QAccessible.Text.Name)]
        for index in range(node.childCount()):
            child = node.child(index)
            if child is not None and child.isValid():
                names += walk(child)
        return names

    page.show()
    page.retranslate()
    root = QAccessible.queryAccessibleInterface(page)
    assert root is not None
    names = walk(root)
    heading, save = names.index("Your password needs"), names.index("Save password")
    lines = [names.index(line.accessibleName()) for line in page.rule_lines.values()]
    assert lines and all(heading < line < save for line in lines)
