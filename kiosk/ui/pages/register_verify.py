"""Type the code sent to a new e-mail address or phone number: the code page's widgets, without gates."""

from __future__ import annotations

from kiosk.flows.steps import RegisterVerifyData, StepKind
from kiosk.i18n import _
from kiosk.services.api import RegistrationKind
from kiosk.ui import texts
from kiosk.ui.pages.enter_code import CodeView, EnterCodePage


class RegisterVerifyPage(EnterCodePage):
    """The enter-code page for a contact being registered: where the code went, expiry, attempts, resend."""

    kind = StepKind.REGISTER_VERIFY

    def view(self) -> CodeView:
        """The code page's view of a RegisterVerifyData."""
        data = self.data(RegisterVerifyData)
        target = data.masked_target or ""
        if data.kind is RegistrationKind.PHONE:
            title = _("Confirm your phone number")
            intro = texts.fill(_("We texted a code to {target}. Type it here to confirm the number."), target=target)
        else:
            title = _("Confirm your e-mail address")
            intro = texts.fill(_("We e-mailed a code to {target}. Type it here to confirm the address."), target=target)
        return CodeView(
            gate=None,
            title=title,
            intro=intro,
            attempts_left=data.attempts_left,
            code_length=data.code_length,
            expires_at=data.expires_at,
            can_resend=data.can_resend,
            can_choose_other=False,
        )
