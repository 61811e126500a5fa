"""The account is locked: reset the password (and unlock) or unlock only."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import Choice, ResetOrUnlockAnswer, ResetOrUnlockData, StepKind
from kiosk.i18n import _
from kiosk.ui.controls import ChoiceButton
from kiosk.ui.pages.base import Page, PageContext, set_title


class ResetOrUnlockPage(Page):
    """Two big choices."""

    kind = StepKind.RESET_OR_UNLOCK

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.reset = ChoiceButton()
        self.reset.clicked.connect(lambda: self.answered.emit(ResetOrUnlockAnswer(Choice.RESET)))
        self.unlock = ChoiceButton()
        self.unlock.clicked.connect(lambda: self.answered.emit(ResetOrUnlockAnswer(Choice.UNLOCK)))
        self.body.addWidget(self.reset)
        self.body.addWidget(self.unlock)

    def retranslate(self) -> None:
        """Texts of the choice page."""
        name = self.data(ResetOrUnlockData).display_name
        set_title(self.title, _("Your account is locked"))
        if name:
            self.intro.setText(_("{name}, what would you like to do?").format(name=name))
        else:
            self.intro.setText(_("What would you like to do?"))
        self.reset.set_texts(_("Reset my password"), _("Choose a new password. This also unlocks your account."))
        self.unlock.set_texts(_("Unlock my account only"), _("Keep your current password."))

    def focus_first(self) -> None:
        """Focus the first choice."""
        self.reset.setFocus()
