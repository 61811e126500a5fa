"""The start page: the organisation and the ways in the policy offers, one big button each."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from kiosk.flows.steps import BeginAnswer, Helpdesk, StartData, Step, StepKind
from kiosk.i18n import _
from kiosk.services.api import Flow
from kiosk.ui.controls import WrappingButton, button, label
from kiosk.ui.pages.base import Page, PageContext, set_title


def way_in(flow: Flow) -> str:
    """A way in as its button says it."""
    match flow:
        case Flow.CHANGE:
            return _("Change my password")
        case Flow.REGISTER:
            return _("Set up my security info")
    return _("Can't access your account?")


def way_in_hint(flow: Flow) -> str:
    """What a way in needs, in one line under its button."""
    match flow:
        case Flow.CHANGE:
            return _("You'll need your user ID and your current password.")
        case Flow.REGISTER:
            return _("Register ways to prove it's you, so you can reset your password yourself.")
    return _("You'll need your user ID and one of the ways you registered to prove it's you.")


class StartPage(Page):
    """Welcome and a big button per way in; the first says "Starting…" until the backend is connected."""

    kind = StepKind.START
    shows_cancel: ClassVar[bool] = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.title.setObjectName("heroTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.ways: dict[Flow, WrappingButton] = {}
        self.hints: dict[Flow, QLabel] = {}
        self.body.addSpacing(16)
        for flow in Flow:
            way = button("hero")
            way.clicked.connect(lambda _checked=False, flow=flow: self.begin_flow(flow))
            hint = label("muted")
            hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
            # The hint spans the page (a wrapped label needs the layout's width to know its height).
            group = QVBoxLayout()
            group.setSpacing(6)
            group.addWidget(way, 0, Qt.AlignmentFlag.AlignHCenter)
            group.addWidget(hint)
            self.body.addLayout(group)
            self.ways[flow], self.hints[flow] = way, hint
        self.begin = self.ways[Flow.RECOVER]
        """The "Can't access your account?" button (the only one on a recovery-only kiosk)."""
        self.helpdesk = label("muted")
        self.helpdesk.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addWidget(self.helpdesk)
        self._ready = True
        self.outer.setContentsMargins(0, 60, 0, 0)

    @property
    def flows(self) -> tuple[Flow, ...]:
        """The ways in on offer, in the order shown."""
        if self._step is None or not isinstance(self._step.data, StartData):
            return (Flow.RECOVER,)
        return tuple(flow for flow in Flow if flow in self._step.data.flows) or (Flow.RECOVER,)

    def load(self, step: Step) -> None:
        """Show the offered ways in; with several, the page sits higher and the buttons are a little lower,
        so three ways in with long translations (German) fit 1024x768 without scrolling."""
        several = len(self.flows) > 1
        self.outer.setContentsMargins(0, 0 if several else 60, 0, 0)
        for way in self.ways.values():
            way.setProperty("compact", several)
            way.style().unpolish(way)
            way.style().polish(way)

    def set_ready(self, ready: bool) -> None:
        """Enable the buttons once the service is connected; until then the first reads "Starting…"."""
        self._ready = ready
        for way in self.ways.values():
            way.setEnabled(ready)
        self.retranslate()

    def retranslate(self) -> None:
        """Texts of the start page."""
        flows = self.flows
        if self._step is not None:
            organisation = self.data(StartData).organisation
            if flows == (Flow.RECOVER,):
                intro = _("Reset your {organisation} password or unlock your account.")
            elif flows == (Flow.CHANGE,):
                intro = _("Change your {organisation} password.")
            elif flows == (Flow.REGISTER,):
                intro = _("Set up how you prove it's you for your {organisation} account.")
            else:
                intro = _("What would you like to do with your {organisation} account?")
            self.intro.setText(intro.format(organisation=organisation))
        set_title(self.title, _("Welcome"))
        for flow, way in self.ways.items():
            offered = flow in flows
            first = flow == flows[0]
            text = way_in(flow) if self._ready else _("Starting…")
            way.setText(text)
            way.setAccessibleName(text)
            way.setAccessibleDescription(way_in_hint(flow) if self._ready else "")
            # Until the service is connected, one disabled "Starting…" button stands for all of them.
            way.setVisible(offered and (self._ready or first))
            self.hints[flow].setText(way_in_hint(flow))
            self.hints[flow].setVisible(offered and (self._ready or first))
        # The buttons of a column are as wide as the widest, whatever the language (when the page is
        # narrower, all of them take its width and wrap).
        for way in self.ways.values():
            way.match_width(0)
        widest = max(way.sizeHint().width() for way in self.ways.values())
        for way in self.ways.values():
            way.match_width(widest)
        contact = help_contact(self.context.helpdesk)
        need_help = _("Need help? Contact your helpdesk: {contact}")
        self.helpdesk.setText(need_help.format(contact=contact) if contact else "")
        self.helpdesk.setVisible(bool(contact))

    def begin_flow(self, flow: Flow) -> None:
        """Begin a way in (only once the service is ready)."""
        if self._ready:
            self.answered.emit(BeginAnswer(flow=flow))

    def accept(self) -> None:
        """Enter with nothing focused: the first way in."""
        self.begin_flow(self.flows[0])

    def focus_first(self) -> None:
        """Focus the first way in."""
        self.ways[self.flows[0]].setFocus()


def help_contact(helpdesk: Helpdesk | None) -> str:
    """The quickest way to reach the helpdesk, for one line: the phone, else the web address, else the e-mail."""
    if helpdesk is None:
        return ""
    return helpdesk.phone or helpdesk.url or helpdesk.email
