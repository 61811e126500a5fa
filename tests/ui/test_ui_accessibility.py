"""Accessibility of every page in the real window: names through QAccessible, secrets never exposed,
tab order in reading order, errors announced, and no clipped text at a 1.5× system font."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from layout_measure import clipped_text, overlaps
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QAccessible, QAccessibleInterface, QFont
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from kiosk.flows.steps import FieldError, Step, StepKind
from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import KioskTheme, Policy
from kiosk.ui.controls import AlertLabel, SecretLineEdit
from kiosk.ui.pages.answer_questions import AnswerQuestionsPage
from kiosk.ui.pages.choose_method import ChooseMethodPage
from kiosk.ui.pages.enter_code import EnterCodePage
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.pages.new_password import NewPasswordPage
from kiosk.ui.pages.register_app import RegisterAppPage
from kiosk.ui.pages.register_questions import RegisterQuestionsPage
from kiosk.ui.pages.register_verify import RegisterVerifyPage
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import ScreenshotFakeEngine, sample_steps
from kiosk.ui.theme import DEFAULT_SYSTEM_POINTS, DEFAULT_SYSTEM_POINTS_ELSEWHERE, apply_theme
from kiosk.ui.window import KioskWindow

Role = QAccessible.Role
INTERACTIVE_ROLES = {
    Role.PushButton,
    Role.CheckBox,
    Role.RadioButton,
    Role.ComboBox,
    Role.EditableText,
    Role.Link,
    Role.SpinBox,
    Role.Slider,
    Role.PageTab,
    Role.ButtonMenu,
    Role.ButtonDropDown,
    Role.List,
}
SECRETS = {
    EnterCodePage: "48302917",
    NewPasswordPage: "Tulip-Harbor-93!",
    AnswerQuestionsPage: "Rexthedog",
    RegisterVerifyPage: "48302917",
    RegisterQuestionsPage: "Rexthedog",
    RegisterAppPage: "492113",
}


async def _nothing_to_close() -> None:
    return None


def show(window: KioskWindow, step: Step, policy: Policy) -> None:
    """Attach a fake engine on `step`, as `kiosk screenshots` does, so the window renders that page."""
    engine = ScreenshotFakeEngine(step, PasswordRules.from_settings(policy.password), ("adele.vance", "Adele Vance"))
    window.attach(KioskServices(flow=engine, demo_feed=None, close=_nothing_to_close))
    QApplication.processEvents()


def walk(interface: QAccessibleInterface) -> Iterator[QAccessibleInterface]:
    """Every accessible interface under (and including) `interface`."""
    yield interface
    for index in range(interface.childCount()):
        child = interface.child(index)
        if child is not None and child.isValid():
            yield from walk(child)


def shown_interfaces(window: KioskWindow) -> list[QAccessibleInterface]:
    """The accessible tree of the window, without what is hidden."""
    root = QAccessible.queryAccessibleInterface(window)
    assert root is not None
    return [iface for iface in walk(root) if not iface.state().invisible]


def describe(iface: QAccessibleInterface) -> str:
    target = iface.object()
    return f"{iface.role().name} {type(target).__name__} {target.objectName()!r}" if target else iface.role().name


def all_texts(iface: QAccessibleInterface) -> str:
    """Everything an assistive technology can read from one interface."""
    texts = [iface.text(kind) for kind in (QAccessible.Text.Name, QAccessible.Text.Value, QAccessible.Text.Description)]
    text_interface = iface.textInterface()
    if text_interface is not None:
        texts.append(text_interface.text(0, text_interface.characterCount()))
    return "\n".join(texts)


@pytest.fixture
def every_kind(policy: Policy) -> dict[StepKind, Step]:
    """The screenshot sample of every page kind."""
    steps = sample_steps(policy)
    assert set(steps) == set(StepKind)
    return steps


def test_every_interactive_control_on_every_page_has_an_accessible_name(
    window: KioskWindow, policy: Policy, every_kind: dict[StepKind, Step]
) -> None:
    """Walk each page's QAccessible tree: every button, field, choice, link and picker is named."""
    unnamed: list[str] = []
    for kind, step in every_kind.items():
        show(window, step, policy)
        interfaces = shown_interfaces(window)
        assert any(iface.role() in INTERACTIVE_ROLES for iface in interfaces), kind
        for iface in interfaces:
            interactive = iface.role() in INTERACTIVE_ROLES or iface.state().focusable
            if interactive and not iface.text(QAccessible.Text.Name).strip():
                unnamed.append(f"{kind.value}: {describe(iface)}")
        # The widget side too: no visible tab stop is missing from the tree or unnamed.
        for widget in window.findChildren(QWidget):
            if widget.isVisible() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
                iface = QAccessible.queryAccessibleInterface(widget)
                assert iface is not None and iface.text(QAccessible.Text.Name).strip(), (kind, widget)
    assert not unnamed, "controls without an accessible name:\n" + "\n".join(unnamed)


def test_fields_are_named_by_their_labels_and_errors_describe_them(
    window: KioskWindow, policy: Policy, every_kind: dict[StepKind, Step]
) -> None:
    """A field's accessible name is its visible caption; its error is its accessible description."""
    show(window, every_kind[StepKind.IDENTIFY], policy)
    page = window.current_page
    assert isinstance(page, IdentifyPage)
    for field in (page.user_id, page.captcha):
        assert field.caption.buddy() is field.edit
        iface = QAccessible.queryAccessibleInterface(field.edit)
        assert iface is not None
        assert iface.text(QAccessible.Text.Name) == field.caption.text()
    captcha = QAccessible.queryAccessibleInterface(page.captcha.edit)
    assert captcha is not None
    assert captcha.text(QAccessible.Text.Description) == page.captcha.error.text() != ""


@pytest.mark.parametrize(
    "kind",
    [
        StepKind.ENTER_CODE,
        StepKind.NEW_PASSWORD,
        StepKind.ANSWER_QUESTIONS,
        StepKind.REGISTER_VERIFY,
        StepKind.REGISTER_QUESTIONS,
        StepKind.REGISTER_APP,
    ],
)
def test_secret_fields_never_expose_their_contents(
    window: KioskWindow, policy: Policy, every_kind: dict[StepKind, Step], qtbot: QtBot, kind: StepKind
) -> None:
    """Type into every password, code and answer field: nothing in the accessible tree reads it back."""
    show(window, every_kind[kind], policy)
    page = window.current_page
    secret = SECRETS[type(page)]
    edits = [edit for edit in page.findChildren(QLineEdit) if edit.isVisible()]
    assert edits
    for edit in edits:
        assert isinstance(edit, SecretLineEdit), edit.objectName()
        edit.setFocus()
        qtbot.keyClicks(edit, secret)  # typed while focused: PasswordEchoOnEdit shows it on screen now
        assert edit.text() == secret
        iface = QAccessible.queryAccessibleInterface(edit)
        assert iface is not None
        assert iface.text(QAccessible.Text.Value) == ""
        assert iface.textInterface() is None
        assert iface.state().passwordEdit and iface.state().editable
        assert iface.text(QAccessible.Text.Name)  # still named by its caption
    for iface in shown_interfaces(window):
        assert secret not in all_texts(iface), describe(iface)
        assert secret[:4] not in all_texts(iface), describe(iface)


def reading_order(widgets: list[QWidget], page: QWidget) -> list[QWidget]:
    """Rows top to bottom, then left to right in each row. A row is a band of widgets whose heights
    overlap: a row of unequal buttons, or a two-line question picker beside its one-line answer field."""
    boxes = sorted(((widget.mapTo(page, QPoint(0, 0)), widget) for widget in widgets), key=lambda box: box[0].y())
    rows: list[list[tuple[QPoint, QWidget]]] = []
    bottom = -1
    for top_left, widget in boxes:
        if not rows or top_left.y() >= bottom:
            rows.append([])
        rows[-1].append((top_left, widget))
        bottom = max(bottom, top_left.y() + widget.height()) if len(rows[-1]) > 1 else top_left.y() + widget.height()
    return [widget for row in rows for _top_left, widget in sorted(row, key=lambda box: box[0].x())]


def tab_stops(start: QWidget) -> list[QWidget]:
    """The visible, enabled tab stops of the window, in focus-chain order from `start`."""
    stops: list[QWidget] = []
    widget = start
    while True:
        if widget.isVisible() and widget.isEnabled() and widget.focusPolicy() & Qt.FocusPolicy.TabFocus:
            stops.append(widget)
        widget = widget.nextInFocusChain()
        if widget is start:
            return stops


def test_tab_order_follows_the_reading_order_and_focus_starts_on_the_first_useful_control(
    window: KioskWindow, policy: Policy, every_kind: dict[StepKind, Step]
) -> None:
    """On every page: focus lands inside the page and Tab visits the page's controls in reading order."""
    for kind, step in every_kind.items():
        show(window, step, policy)
        page = window.current_page
        focused = window.focusWidget()
        assert focused is not None and page.isAncestorOf(focused), (kind, focused)
        assert focused is page.focusWidget()
        on_page = [widget for widget in tab_stops(focused) if page.isAncestorOf(widget)]
        ordered = reading_order(on_page, page)
        page_chain = [widget for widget in tab_stops(ordered[0]) if page.isAncestorOf(widget)]
        assert page_chain == ordered, (kind, [w.accessibleName() for w in page_chain])


def test_back_and_cancel_follow_the_page_and_the_language_picker_comes_last(
    window: KioskWindow, policy: Policy, every_kind: dict[StepKind, Step]
) -> None:
    """Window chrome in reading order around the page: ... page controls, Back, Cancel, then the header's picker."""
    for kind, step in every_kind.items():
        show(window, step, policy)
        page = window.current_page
        chain = tab_stops(window.header.languages)[1:]
        page_count = sum(1 for widget in chain if page.isAncestorOf(widget))
        chrome = [widget for widget in (window.back, window.cancel) if widget.isVisible()]
        assert all(page.isAncestorOf(widget) for widget in chain[:page_count]), kind
        assert chain[page_count:] == chrome, (kind, [w.accessibleName() for w in chain])


def test_field_errors_and_the_banner_are_announced(
    window: KioskWindow, policy: Policy, every_kind: dict[StepKind, Step]
) -> None:
    """Errors reach a screen reader when they appear (an assertive announcement), not only on screen."""
    identify = every_kind[StepKind.IDENTIFY]
    show(window, Step(StepKind.IDENTIFY, identify.data), policy)
    page = window.current_page
    assert isinstance(page, IdentifyPage) and isinstance(page.captcha.error, AlertLabel)
    heard: list[str] = []
    page.captcha.error.announced.connect(heard.append)
    show(window, identify, policy)
    assert heard == [page.captcha.error.text()] and heard[0]

    choose = every_kind[StepKind.CHOOSE_METHOD]
    show(window, choose, policy)
    chooser = window.current_page
    assert isinstance(chooser, ChooseMethodPage) and isinstance(chooser.banner, AlertLabel)
    banner: list[str] = []
    chooser.banner.announced.connect(banner.append)
    show(window, Step(StepKind.CHOOSE_METHOD, choose.data, errors=(FieldError("method", "required"),)), policy)
    assert banner == [chooser.banner.text()] and chooser.banner.isVisible()


@pytest.mark.parametrize(
    ("theme", "size"),
    [
        (KioskTheme.STANDARD, (1280, 1024)),
        (KioskTheme.HIGH_CONTRAST, (1280, 1024)),
        pytest.param(KioskTheme.STANDARD, (1024, 768)),
    ],
)
def test_no_text_is_clipped_at_one_and_a_half_times_the_system_font(
    window: KioskWindow,
    policy: Policy,
    every_kind: dict[StepKind, Step],
    qapp: QApplication,
    theme: KioskTheme,
    size: tuple[int, int],
) -> None:
    """A user who set a 1.5× larger system font gets 1.5× larger kiosk text, and every label, button and
    picker still fits, nothing overlapping (the same measures as the 2× check in every language,
    test_ui_large_text.py)."""
    system = QFont("DejaVu Sans")
    system.setPointSizeF(1.5 * DEFAULT_SYSTEM_POINTS.get(sys.platform, DEFAULT_SYSTEM_POINTS_ELSEWHERE))
    applied = apply_theme(qapp, policy.kiosk.branding.accent_color, theme, system_font=system)
    assert applied.scale == pytest.approx(1.5)
    window.resize(*size)
    problems: list[str] = []
    for kind, step in every_kind.items():
        show(window, step, policy)
        QApplication.processEvents()  # the scroll area settles on the page's new size
        page = window.current_page
        assert page.title.fontInfo().pixelSize() >= 44, kind  # 30 px titles at 1.5×
        problems += [f"{kind.value}: {problem}" for problem in clipped_text(window) + overlaps(window)]
    assert not problems, "clipped or overlapping text:\n" + "\n".join(problems)
