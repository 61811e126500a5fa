"""The start page: the organisation and one big "Can't access your account?" action."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import BeginAnswer, Helpdesk, StartData, StepKind
from kiosk.i18n import _
from kiosk.ui.controls import button, label
from kiosk.ui.pages.base import Page, PageContext, set_title


class StartPage(Page):
    """Welcome and the big start button, which says "Starting…" until the backend is connected."""

    kind = StepKind.START
    shows_cancel: ClassVar[bool] = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.title.setObjectName("heroTitle")
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.intro.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.begin = button("hero")
        self.begin.clicked.connect(self.accept)
        self.hint = label("muted")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addSpacing(24)
        self.body.addWidget(self.begin, 0, Qt.AlignmentFlag.AlignHCenter)
        self.body.addSpacing(12)
        self.body.addWidget(self.hint)
        self.helpdesk = label("muted")
        self.helpdesk.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.body.addSpacing(12)
        self.body.addWidget(self.helpdesk)
        self._ready = True
        self.outer.setContentsMargins(0, 60, 0, 0)

    def set_ready(self, ready: bool) -> None:
        """Enable the big button once the service is connected; until then it reads "Starting…"."""
        self._ready = ready
        self.begin.setEnabled(ready)
        self.retranslate()

    def retranslate(self) -> None:
        """Texts of the start page."""
        if self._step is not None:
            organisation = self.data(StartData).organisation
            self.intro.setText(_("Reset your {organisation} password or unlock your account.").format(
                organisation=organisation))
        set_title(self.title, _("Welcome"))
        text = _("Can't access your account?") if self._ready else _("Starting…")
        self.begin.setText(text)
        self.begin.setAccessibleName(text)
        self.hint.setText(_("You'll need your user ID and one of the ways you registered to prove it's you."))
        contact = help_contact(self.context.helpdesk)
        need_help = _("Need help? Contact your helpdesk: {contact}")
        self.helpdesk.setText(need_help.format(contact=contact) if contact else "")
        self.helpdesk.setVisible(bool(contact))

    def accept(self) -> None:
        """Begin the flow (only once the service is ready)."""
        if self._ready:
            self.answered.emit(BeginAnswer())

    def focus_first(self) -> None:
        """Focus the big button."""
        self.begin.setFocus()


def help_contact(helpdesk: Helpdesk | None) -> str:
    """The quickest way to reach the helpdesk, for one line: the phone, else the web address, else the e-mail."""
    if helpdesk is None:
        return ""
    return helpdesk.phone or helpdesk.url or helpdesk.email
