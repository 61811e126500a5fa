"""Something the user cannot fix in a field: what happened, a correlation id, the helpdesk, Retry and Start over."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import ErrorData, StepKind
from kiosk.i18n import _
from kiosk.ui import texts
from kiosk.ui.controls import HelpdeskBox, button, label
from kiosk.ui.pages.base import Page, PageContext, Request, add_row, set_title, show_helpdesk


class ErrorPage(Page):
    """The message for an error code, the helpdesk reference, and the ways forward."""

    kind = StepKind.ERROR
    shows_cancel: ClassVar[bool] = False

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.mark = label("errorMark", wrap=False)
        self.mark.setText("!")
        self.outer.insertWidget(0, self.mark)
        self.reference_caption = label("fieldLabel")
        self.reference = label("reference", selectable=True)
        self.body.addWidget(self.reference_caption)
        self.body.addWidget(self.reference)
        self.helpdesk = HelpdeskBox()
        self.body.addWidget(self.helpdesk)
        self.retry = button("primary")
        self.retry.clicked.connect(self.accept)
        self.start_over = button()
        self.start_over.clicked.connect(lambda: self.requested.emit(Request.CANCEL))
        add_row(self.action_row, self.retry, self.start_over)

    def retranslate(self) -> None:
        """Texts of the error page."""
        data = self.data(ErrorData)
        self.mark.setAccessibleName(_("Error"))
        set_title(self.title, texts.error_title(data.code))
        if data.blocked_until is not None:
            message = f"{texts.blocked_reason()} {texts.blocked_until(data.blocked_until)}"
        else:
            message = texts.error_message(data.code)
        self.intro.setText(message)
        # Always a reference: the backend's, a proxy's header or one the kiosk made and logged (ErrorData).
        self.reference_caption.setText(_("If you contact the helpdesk, give them this reference:"))
        self.reference.setText(data.correlation_id)
        self.reference.setAccessibleName(_("Reference {reference}").format(reference=data.correlation_id))
        self.retry.setText(_("Try again"))
        self.retry.setAccessibleName(_("Try again"))
        self.retry.setVisible(data.retryable)
        self.start_over.setText(_("Start over"))
        self.start_over.setAccessibleName(_("Start over"))
        show_helpdesk(self.helpdesk, self.context.helpdesk)

    def accept(self) -> None:
        """Retry when the error allows it, else start over."""
        self.requested.emit(Request.RETRY if self.data(ErrorData).retryable else Request.CANCEL)

    def focus_first(self) -> None:
        """Focus the way forward."""
        (self.retry if self.data(ErrorData).retryable else self.start_over).setFocus()
