"""After a reset, unlock or change: "Is this still up to date?" with the registered methods, keep or update."""

from __future__ import annotations

from typing import ClassVar

from PySide6.QtWidgets import QLabel, QWidget

from kiosk.flows.steps import ReconfirmAnswer, ReconfirmData, Step, StepKind
from kiosk.i18n import _
from kiosk.services.api import ReconfirmChoice
from kiosk.ui import texts
from kiosk.ui.controls import button, label
from kiosk.ui.pages.base import Page, PageContext, add_row, set_title


class ReconfirmPage(Page):
    """What just went through, the registered methods (masked), and Yes, keep / Update."""

    kind = StepKind.RECONFIRM
    shows_cancel: ClassVar[bool] = False  # Done (or keep / update) is the way on: nothing to cancel

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.news = label("newsLine")
        self.outer.insertWidget(0, self.news)
        self.lines: list[QLabel] = []
        self.confirmed = label("muted")
        self.body.addWidget(self.confirmed)
        self.keep = button("primary")
        self.keep.clicked.connect(lambda: self.answered.emit(ReconfirmAnswer(ReconfirmChoice.KEEP)))
        self.update_info = button()
        self.update_info.clicked.connect(lambda: self.answered.emit(ReconfirmAnswer(ReconfirmChoice.UPDATE)))
        add_row(self.action_row, self.keep, self.update_info)

    def load(self, step: Step) -> None:
        """One line per registered method."""
        for old in self.lines:
            self.body.removeWidget(old)
            old.hide()
            old.deleteLater()
        self.lines = []
        for index, _method in enumerate(self.data(ReconfirmData).registered):
            line = label("registeredLine")
            self.body.insertWidget(index, line)
            line.show()
            self.lines.append(line)

    def retranslate(self) -> None:
        """Texts of the reconfirmation page."""
        data = self.data(ReconfirmData)
        news = texts.outcome_line(data.outcome)
        self.news.setText(("✓ " + news) if news else "")
        self.news.setAccessibleName(news)
        self.news.setVisible(bool(news))
        set_title(self.title, _("Is this still up to date?"))
        self.intro.setText(_("If you forget your password, you prove it's you with what you registered:"))
        for method, line in zip(data.registered, self.lines, strict=True):
            line.setText("• " + texts.registered_method(method))
        self.confirmed.setText(texts.last_confirmed(data.confirmed_at))
        self.confirmed.setVisible(data.confirmed_at is not None)
        keep = _("Yes, keep it")
        # TRANSLATORS: a button under "Is this still up to date?": change the registered security info.
        update = _("Update")
        for widget, text in ((self.keep, keep), (self.update_info, update)):
            widget.setText(text)
            widget.setAccessibleName(text)
        self.keep.setAccessibleDescription(_("Your security info stays as it is."))
        self.update_info.setAccessibleDescription(_("Add or change the ways you prove it's you."))

    def accept(self) -> None:
        """Enter with nothing focused: keep."""
        self.keep.click()

    def focus_first(self) -> None:
        """Focus Yes, keep it."""
        self.keep.setFocus()
