"""Every page renders its Step's data, field errors land next to their fields, every control is named."""

from __future__ import annotations

from dataclasses import replace

import pytest
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.flows.steps import FieldError, Step, StepKind
from kiosk.policy.schema import Policy
from kiosk.ui.pages import PAGES, PageContext
from kiosk.ui.pages.answer_questions import AnswerQuestionsPage
from kiosk.ui.pages.choose_method import ChooseMethodPage
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.error import ErrorPage
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.pages.refused import RefusedPage
from kiosk.ui.screenshots import SAMPLE_NOW, sample_steps
from kiosk.ui.texts import isolate
from kiosk.ui.window import KioskWindow


@pytest.fixture
def steps(policy: Policy) -> dict[StepKind, Step]:
    """One realistic Step per kind."""
    return sample_steps(policy)


@pytest.fixture
def context(engine: RecordingEngine) -> PageContext:
    """Page context with a fixed clock."""
    return PageContext(check_password=engine.check_password, now=lambda: SAMPLE_NOW)


def visible_texts(widget: QWidget) -> str:
    """Every text a user can see on a widget tree, one per line."""
    found: list[str] = []
    for child in widget.findChildren(QWidget):
        if child.isVisibleTo(widget) and hasattr(child, "text"):
            found.append(str(child.text()))
    return "\n".join(found)


def test_registry_has_one_page_class_per_kind() -> None:
    assert set(PAGES) == set(StepKind)
    assert all(page.kind is kind for kind, page in PAGES.items())


def test_choose_method_shows_masked_contacts_and_gate(qtbot: QtBot, context: PageContext, steps) -> None:
    page = ChooseMethodPage(context)
    qtbot.addWidget(page)
    page.show_step(steps[StepKind.CHOOSE_METHOD], fresh=True)
    names = [button.accessibleName() for _method, button in page.choices]
    assert names == [
        f"E-mail a code to {isolate('a•••••@contoso.com')}",  # contacts isolated for right-to-left text
        f"Text a code to {isolate('+31 •• ••• ••78')}",
        "Answer security questions",
    ]
    assert page.gate.text() == "Verification 2 of 2"
    assert not page.gate.isHidden()


def test_enter_code_shows_target_attempts_left_and_expiry(qtbot: QtBot, context: PageContext, steps) -> None:
    page = EnterCodePage(context)
    qtbot.addWidget(page)
    page.show_step(steps[StepKind.ENTER_CODE], fresh=True)
    # A first gate names no contact (no account enumeration) …
    assert page.intro.text().startswith("If your account has an e-mail address for verification")
    step = steps[StepKind.ENTER_CODE]
    page.show_step(replace(step, data=replace(step.data, masked_target="a•••••@contoso.com")), fresh=True)
    assert page.intro.text() == f"We e-mailed a code to {isolate('a•••••@contoso.com')}."  # … a second gate does
    assert page.code.error.text() == "That code isn't right. You have 3 attempts left."
    assert page.expiry.text() == "The code expires in 4 minutes."
    assert not page.resend.isHidden() and not page.other.isHidden()
    assert page.code.edit.maxLength() == 8


def test_enter_code_hides_resend_and_other_when_not_offered(qtbot: QtBot, context: PageContext, steps) -> None:
    step = steps[StepKind.ENTER_CODE]
    assert not isinstance(step.data, str)
    data = replace(step.data, can_resend=False, can_choose_other=False, expires_at=None)  # type: ignore[type-var]
    page = EnterCodePage(context)
    qtbot.addWidget(page)
    page.show_step(Step(StepKind.ENTER_CODE, data, errors=(FieldError("code", "code_expired"),)), fresh=True)
    assert page.resend.isHidden() and page.other.isHidden() and page.expiry.isHidden()
    assert page.code.error.text() == "This code has expired. Send a new code."


def test_refused_shows_reason_helpdesk_and_selectable_reference(qtbot: QtBot, context: PageContext, steps) -> None:
    page = RefusedPage(context)
    qtbot.addWidget(page)
    page.show_step(steps[StepKind.REFUSED], fresh=True)
    texts = visible_texts(page)
    assert page.title.text() == "Contact your administrator to reset your password"
    assert "enough verification information" in page.intro.text()
    assert "R-7Q4M-2KXD" == page.reference.text()
    assert page.reference.textInteractionFlags()  # selectable
    assert "Phone: +31 20 555 0100" in texts and "servicedesk@contoso.example" in texts


def test_error_page_shows_message_correlation_id_and_retry(qtbot: QtBot, context: PageContext, steps) -> None:
    page = ErrorPage(context)
    qtbot.addWidget(page)
    page.show_step(steps[StepKind.ERROR], fresh=True)
    assert page.title.text() == "The service can't be reached"
    assert page.reference.text() == "c0ffee42-9b1d"
    assert not page.retry.isHidden()


def test_the_blocked_page_says_until_when(qtbot: QtBot, context: PageContext, steps) -> None:
    from datetime import timedelta

    from kiosk.flows.steps import ErrorData

    page = ErrorPage(context)
    qtbot.addWidget(page)
    until = SAMPLE_NOW + timedelta(hours=24)
    blocked = Step(StepKind.ERROR, ErrorData(code="too_many_attempts", correlation_id="c0ffee", blocked_until=until))
    page.show_step(blocked, fresh=True)
    assert page.title.text() == "Too many attempts"
    assert "Try again after " in page.intro.text()


def test_questions_are_localized_by_id_and_custom_ones_shown_as_written(
    qtbot: QtBot, context: PageContext, steps
) -> None:
    page = AnswerQuestionsPage(context)
    qtbot.addWidget(page)
    page.show_step(steps[StepKind.ANSWER_QUESTIONS], fresh=True)
    captions = [row.caption.text() for _id, row in page.rows]
    assert captions == [
        "What was the name of your first pet?",
        "In what city was your mother born?",
        "What was the name of our first office's coffee machine?",
    ]


def test_field_errors_go_next_to_fields_and_unknown_fields_to_the_banner(
    qtbot: QtBot, context: PageContext, steps
) -> None:
    page = IdentifyPage(context)
    qtbot.addWidget(page)
    step = replace(steps[StepKind.IDENTIFY], errors=(
        FieldError("captcha", "captcha_wrong"), FieldError("session", "something_new")))
    page.show_step(step, fresh=True)
    assert page.captcha.error.text() == "The characters didn't match the picture. Try the new picture."
    assert page.user_id.error.isHidden()
    assert page.banner.text() == "This value was not accepted."
    assert page.user_id.edit.text() == "adele.vance@contoso.com"
    assert not page.captcha_image.pixmap().isNull()


@pytest.mark.parametrize("kind", list(StepKind))
def test_every_visible_control_has_an_accessible_name(
    window: KioskWindow, engine: RecordingEngine, steps, kind: StepKind
) -> None:
    window.render_step(steps[kind])
    for control in window.findChildren(QWidget):
        if isinstance(control, (QAbstractButton, QLineEdit, QComboBox)) and control.isVisibleTo(window):
            assert control.accessibleName(), f"{type(control).__name__} on {kind} has no accessible name"


def test_language_switch_rerenders_without_touching_engine_or_input(
    window: KioskWindow, engine: RecordingEngine, steps
) -> None:
    window.render_step(steps[StepKind.IDENTIFY])
    page = window.current_page
    assert isinstance(page, IdentifyPage)
    page.user_id.edit.setText("someone@contoso.com")
    window.set_language("ar")
    assert window.layoutDirection().name == "RightToLeft"
    assert page.user_id.edit.text() == "someone@contoso.com"
    assert window.header.languages.currentData() == "ar"
    window.set_language("en")
    assert window.layoutDirection().name == "LeftToRight"
    assert engine.calls == []
