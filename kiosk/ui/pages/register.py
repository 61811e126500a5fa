"""The security-info hub: what is registered (masked), what self-service needs, a button per kind, Done."""

from __future__ import annotations

from itertools import pairwise
from typing import ClassVar

from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QAbstractScrollArea, QGridLayout, QLabel, QWidget

from kiosk.flows.steps import (
    FinishRegistrationAnswer,
    RegisterData,
    RegisteredMethod,
    StartRegistrationAnswer,
    Step,
    StepKind,
)
from kiosk.i18n import _
from kiosk.services.api import RegistrationKind
from kiosk.ui import texts
from kiosk.ui.controls import ChoiceButton, button, label
from kiosk.ui.pages.base import Page, PageContext, add_row, set_title


class RegisterPage(Page):
    """First what just happened (a reset, a change, a method registered), then one choice per kind."""

    kind = StepKind.REGISTER
    shows_cancel: ClassVar[bool] = False  # Done (or keep / update) is the way on: nothing to cancel

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.news = label("newsLine")
        """What just went through ("Your password has been changed."), said before anything else."""
        self.outer.insertWidget(0, self.news)
        self.confirmed = label("muted")
        # Two columns of choices: four kinds, the news and Done fit 1024x768 without scrolling.
        self.grid = QGridLayout()
        self.grid.setHorizontalSpacing(16)
        self.grid.setVerticalSpacing(12)
        self.grid.setColumnStretch(0, 1)
        self.grid.setColumnStretch(1, 1)
        self.body.addLayout(self.grid)
        self.choices: list[tuple[RegistrationKind, ChoiceButton]] = []
        self._columns = 0
        self.kept: list[QLabel] = []
        """Registered kinds the policy does not let the user change here: listed, not offered."""
        self.done = button("primary")
        self.done.clicked.connect(self.accept)
        add_row(self.action_row, self.done)
        self.body.addWidget(self.confirmed)

    def _registered(self) -> dict[RegistrationKind, RegisteredMethod]:
        return {method.kind: method for method in self.data(RegisterData).registered}

    def load(self, step: Step) -> None:
        """One choice per kind the user may register; registered kinds that may not be changed, as lines."""
        for old in [widget for _kind, widget in self.choices] + self.kept:
            self.grid.removeWidget(old)
            self.body.removeWidget(old)
            old.hide()
            old.deleteLater()
        data = self.data(RegisterData)
        self.choices, self.kept = [], []
        for kind in RegistrationKind:
            if kind not in data.can_register:
                continue
            choice = ChoiceButton()
            choice.clicked.connect(lambda _checked=False, kind=kind: self.answered.emit(StartRegistrationAnswer(kind)))
            self.grid.addWidget(choice, 0, 0)  # placed by `_place_choices`
            choice.show()  # now, not when the layout gets round to it: focus_first may come first
            self.choices.append((kind, choice))
        position = self.body.indexOf(self.confirmed)
        for method in data.registered:
            if method.kind not in data.can_register:
                line = label()
                self.body.insertWidget(position, line)
                line.show()
                position += 1
                self.kept.append(line)
        self._columns = 0
        self._place_choices()
        chain = [widget for _kind, widget in self.choices] + [self.done]
        for first, second in pairwise(chain):
            QWidget.setTabOrder(first, second)

    def retranslate(self) -> None:
        """Texts of the hub."""
        data = self.data(RegisterData)
        registered = self._registered()
        news = [texts.outcome_line(data.outcome)]
        if data.just_registered is not None:
            news.append(texts.registered_just_now(data.just_registered))
        news_text = " ".join(line for line in news if line)
        self.news.setText(("✓ " + news_text) if news_text else "")
        self.news.setAccessibleName(news_text)
        self.news.setVisible(bool(news_text))
        set_title(self.title, _("Your security info"))
        self.intro.setText(texts.methods_needed(data.methods_needed, len(data.registered)))
        for kind, choice in self.choices:
            choice.set_texts(*texts.registration_choice(kind, registered.get(kind)))
        kept = [method for method in data.registered if method.kind not in data.can_register]
        for method, line in zip(kept, self.kept, strict=True):
            line.setText(texts.registered_method(method))
        self.confirmed.setText(texts.last_confirmed(data.confirmed_at))
        self.confirmed.setVisible(data.confirmed_at is not None)
        # TRANSLATORS: the button that ends setting up the security info.
        done = _("Done")
        self.done.setText(done)
        self.done.setAccessibleName(done)

    def _place_choices(self) -> None:
        """Two columns of choices when two fit side by side, else one (large text, long translations)."""
        widest = max((choice.sizeHint().width() for _kind, choice in self.choices), default=0)
        columns = 2 if 2 * widest + self.grid.horizontalSpacing() <= self._room() else 1
        if columns == self._columns:
            return
        self._columns = columns
        for place, (_kind, choice) in enumerate(self.choices):
            self.grid.removeWidget(choice)
            self.grid.addWidget(choice, place // columns, place % columns)
        self.grid.setColumnStretch(1, 1 if columns == 2 else 0)
        # Called while the page is being laid out (resizeEvent): the enclosing layouts keep the sizes they
        # measured with the old columns unless told, and the window would keep the old, wider page.
        for layout in (self.body, self.outer):
            layout.invalidate()
        self.updateGeometry()

    def _room(self) -> int:
        """The width the page is shown in: the page's own, or its scroll area's if that is narrower (two
        columns that do not fit would widen the page past the window, and then seem to fit)."""
        widget: QWidget | None = self
        while widget is not None and not isinstance(widget.parentWidget(), QAbstractScrollArea):
            widget = widget.parentWidget()
        return min(self.width(), widget.width()) if widget is not None else self.width()

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Re-flow the choices for the new width."""
        super().resizeEvent(event)
        self._place_choices()

    def accept(self) -> None:
        """Done with the security info."""
        self.answered.emit(FinishRegistrationAnswer())

    def focus_first(self) -> None:
        """Focus the first choice (or Done when there is nothing to register)."""
        (self.choices[0][1] if self.choices else self.done).setFocus()
