"""Type a new authentication e-mail address or phone number; a code is sent to it to confirm it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import ContactAnswer, FieldError, RegisterContactData, Step, StepKind
from kiosk.i18n import _
from kiosk.services.api import MAX_CONTACT, RegistrationKind
from kiosk.ui import texts
from kiosk.ui.controls import LabelledField, button
from kiosk.ui.pages.base import Page, PageContext, add_row, set_title

EMAIL_HINTS = (
    Qt.InputMethodHint.ImhEmailCharactersOnly
    | Qt.InputMethodHint.ImhNoAutoUppercase
    | Qt.InputMethodHint.ImhPreferLatin
)
PHONE_HINTS = Qt.InputMethodHint.ImhDialableCharactersOnly
"""Digits, +, spaces: the on-screen keyboard shows its dial pad."""


class RegisterContactPage(Page):
    """One field (e-mail or phone, with the right input hints and keyboard) and Send code."""

    kind = StepKind.REGISTER_CONTACT

    def __init__(self, context: PageContext, parent: QWidget | None = None) -> None:
        super().__init__(context, parent)
        self.contact = LabelledField("contact")
        self.contact.edit.setMaxLength(MAX_CONTACT)
        # An address or a number reads left to right in every language: "+31 6 1234 5678" in a right-to-left
        # field would show its digit groups in reverse order. Full width, so the field still sits where the
        # page's direction puts fields (a narrower left-to-right field would move to the left edge).
        self.contact.edit.setLayoutDirection(Qt.LayoutDirection.LeftToRight)
        self.body.addWidget(self.contact)
        self.send = button("primary")
        self.send.clicked.connect(self.accept)
        add_row(self.action_row, self.send)

    @property
    def contact_kind(self) -> RegistrationKind:
        """E-mail or phone."""
        return self.data(RegisterContactData).kind

    def load(self, step: Step) -> None:
        """The right hints for the kind, and what was typed before a field error."""
        phone = self.contact_kind is RegistrationKind.PHONE
        self.contact.edit.setInputMethodHints(PHONE_HINTS if phone else EMAIL_HINTS)
        self.contact.edit.setText(self.data(RegisterContactData).value)

    def retranslate(self) -> None:
        """Texts of the contact page."""
        if self.contact_kind is RegistrationKind.PHONE:
            set_title(self.title, _("Your phone number for codes"))
            self.intro.setText(_("We'll text a code to this number to check it. Include the country code."))
            self.contact.set_caption(_("Mobile phone number"))
            self.contact.edit.setPlaceholderText(_("Example: +31 6 1234 5678"))
        else:
            set_title(self.title, _("Your e-mail address for codes"))
            self.intro.setText(_(
                "We'll e-mail a code to this address to check it. Use an address you can read "
                "when you can't sign in at work."
            ))
            self.contact.set_caption(_("E-mail address"))
            self.contact.edit.setPlaceholderText(_("Example: name@example.com"))
        self.send.setText(_("Send code"))
        self.send.setAccessibleName(_("Send code"))

    def place_error(self, error: FieldError) -> bool:
        """Every error of this page is about its one field."""
        if error.code == "contact_invalid":
            self.contact.set_error(texts.contact_invalid(self.contact_kind))
        else:
            self.contact.set_error(texts.field_error(error))
        return True

    def clear_field_errors(self) -> None:
        """Hide the field's error."""
        self.contact.set_error(None)

    def clear_inputs(self) -> None:
        """Wipe the typed address or number."""
        self.contact.edit.clear()

    def accept(self) -> None:
        """Send the address or number (after checking it is not empty)."""
        value = self.contact.edit.text().strip()
        self.clear_field_errors()
        if not value:
            self.place_error(FieldError("value", "required"))
            self.contact.edit.setFocus()
            return
        self.answered.emit(ContactAnswer(kind=self.contact_kind, value=value))

    def focus_first(self) -> None:
        """Focus the field."""
        self.contact.edit.setFocus()
