"""Self-service is not possible: contact the administrator, with the helpdesk and a reference code."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import QFrame, QVBoxLayout, QWidget

from kiosk.flows.steps import RefusedData, StepKind
from kiosk.i18n import _
from kiosk.ui import texts
from kiosk.ui.controls import button, label
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title


class RefusedPage(Page):
    """"Contact your administrator to reset your password", why, whom to contact and the reference."""

    kind = StepKind.REFUSED
    shows_cancel: ClassVar[bool] = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.helpdesk = QFrame()
        self.helpdesk.setObjectName("helpdesk")
        box = QVBoxLayout(self.helpdesk)
        box.setContentsMargins(20, 16, 20, 16)
        box.setSpacing(6)
        self.helpdesk_heading = label("fieldLabel")
        self.helpdesk_text = label(selectable=True)
        self.helpdesk_phone = label(selectable=True)
        self.helpdesk_url = label(selectable=True)
        self.helpdesk_email = label(selectable=True)
        for widget in (self.helpdesk_heading, self.helpdesk_text, self.helpdesk_phone, self.helpdesk_url,
                       self.helpdesk_email):
            box.addWidget(widget)
        self.reference_caption = label("fieldLabel")
        self.reference = label("reference", selectable=True)
        self.reference_hint = label("muted")
        self.done = button("primary")
        self.done.clicked.connect(self.accept)
        self.body.addWidget(self.helpdesk)
        self.body.addSpacing(6)
        self.body.addWidget(self.reference_caption)
        self.body.addWidget(self.reference)
        self.body.addWidget(self.reference_hint)
        add_row(self.action_row, self.done)

    def retranslate(self) -> None:
        """Texts of the refusal page."""
        data = self.data(RefusedData)
        set_title(self.title, _("Contact your administrator to reset your password"))
        self.intro.setText(texts.refusal_reason(data.reason))
        self.helpdesk_heading.setText(_("Your helpdesk"))
        desk = data.helpdesk
        self.helpdesk_text.setText(texts.helpdesk_text(desk.text))
        for widget, caption, value in (
            (self.helpdesk_phone, _("Phone"), desk.phone),
            (self.helpdesk_url, _("Web"), desk.url),
            (self.helpdesk_email, _("E-mail"), desk.email),
        ):
            # No accessible name of its own: a screen reader reads a label's name, and only the whole
            # line (caption and value) tells the user how to reach the helpdesk.
            widget.setText(_("{caption}: {value}").format(caption=caption, value=value))
            widget.setVisible(bool(value))
        self.reference_caption.setText(_("Reference code"))
        self.reference.setText(data.reference)
        self.reference.setAccessibleName(_("Reference code {reference}").format(reference=data.reference))
        self.reference_hint.setText(_("Give this code to the helpdesk so they can see what happened."))
        self.done.setText(_("Start over"))
        self.done.setAccessibleName(_("Start over"))

    def accept(self) -> None:
        """Leave: back to the start."""
        self.requested.emit(Request.CANCEL)

    def focus_first(self) -> None:
        """Focus the button."""
        self.done.setFocus()
