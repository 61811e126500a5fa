"""Pick how to prove who you are: one big choice per offered method, with its masked contact."""

from __future__ import annotations

from itertools import pairwise

from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import ChooseMethodAnswer, ChooseMethodData, FieldError, Step, StepKind
from kiosk.i18n import _
from kiosk.policy.schema import Method
from kiosk.ui import texts
from kiosk.ui.controls import ChoiceButton
from kiosk.ui.pages.base import Page, PageContext, set_title


class ChooseMethodPage(Page):
    """A column of method buttons; clicking one answers at once."""

    kind = StepKind.CHOOSE_METHOD

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.choices: list[tuple[Method, ChoiceButton]] = []

    def load(self, step: Step) -> None:
        """One button per offered method."""
        for _method, old in self.choices:
            self.body.removeWidget(old)
            old.deleteLater()
        self.choices = []
        for choice in self.data(ChooseMethodData).methods:
            widget = ChoiceButton()
            widget.clicked.connect(lambda _checked=False, method=choice.method: self._choose(method))
            self.body.addWidget(widget)
            self.choices.append((choice.method, widget))
        for (_first, first), (_second, second) in pairwise(self.choices):
            QWidget.setTabOrder(first, second)

    def retranslate(self) -> None:
        """Texts of the method page."""
        data = self.data(ChooseMethodData)
        self.set_gate(texts.gate_progress(data.gate) if data.gate.required > 1 else None)
        if data.gate.number > 1:
            set_title(self.title, _("Choose a second way to verify"))
        else:
            set_title(self.title, _("How do you want to verify it's you?"))
        self.intro.setText(_("Choose one of the ways you registered."))
        for choice, (_method, widget) in zip(data.methods, self.choices, strict=True):
            widget.set_texts(texts.method_label(choice), texts.method_hint(choice.method))

    def place_error(self, error: FieldError) -> bool:
        """Method errors go in the banner (there is no field to put them under)."""
        return False

    def _choose(self, method: Method) -> None:
        self.answered.emit(ChooseMethodAnswer(method=method))

    def focus_first(self) -> None:
        """Focus the first choice."""
        if self.choices:
            self.choices[0][1].setFocus()
