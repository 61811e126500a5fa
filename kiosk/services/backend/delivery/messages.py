"""The localized templates of every message the backend sends: codes and notices.

The strings go through gettext (`kiosk.i18n._`) when a message is built, not at import, so they
follow the language in use; without a catalog they are the English source text. Values are filled
in after translation, so a translator never sees (or breaks) them. Each template returns the plain
text; the SMTP sender adds the HTML alternative (escaped) from the same text.
"""

from __future__ import annotations

from kiosk.i18n import _, ngettext
from kiosk.policy.schema import Method, Policy
from kiosk.services.backend.directory.embedded import DirectoryUser


def code_message(policy: Policy, method: Method, code: str) -> tuple[str, str]:
    """Subject and body of a verification code sent for `method`."""
    organisation = policy.kiosk.branding.organisation
    minutes = policy.methods.code_lifetime_minutes
    if method in (Method.MOBILE_CALL, Method.OFFICE_CALL):
        spoken = " ".join(code)
        # TRANSLATORS: read out by a voice call; {code} is the code with spaces between the digits.
        body = _("This is {organisation}. Your verification code is: {code}. Again: {code}.")
        return _("Verification code (voice call)"), body.format(organisation=organisation, code=spoken)
    # TRANSLATORS: {minutes} is a number; the sentence follows the code in an SMS or e-mail.
    expiry = ngettext("It expires in {minutes} minute.", "It expires in {minutes} minutes.", minutes)
    if method is Method.MOBILE_SMS:
        body = _("{organisation} verification code: {code}.") + " " + expiry
        return _("Verification code (SMS)"), body.format(organisation=organisation, code=code, minutes=minutes)
    body = (
        _("Your {organisation} verification code is {code}.")
        + " "
        + expiry
        + "\n"
        + _("If you did not ask for it, tell your IT service desk.")
    )
    return _("Your verification code"), body.format(organisation=organisation, code=code, minutes=minutes)


def password_changed_notice(policy: Policy, user: DirectoryUser, *, by_the_user: bool = False) -> tuple[str, str]:
    """Subject and body of "your password was changed", to the user's own addresses: reset (after proving who
    they are) or, `by_the_user`, changed with the current password."""
    organisation = policy.kiosk.branding.organisation
    subject = _("Your {organisation} password was changed").format(organisation=organisation)
    if by_the_user:
        what = _(
            "The password of your account {login} was just changed at a self-service kiosk, with the current "
            "password. If this was not you, contact your IT service desk immediately."
        )
    else:
        what = _(
            "The password of your account {login} was just reset at a self-service kiosk. "
            "If this was not you, contact your IT service desk immediately."
        )
    body = _("Hello {name},").format(name=user.display_name) + "\n\n" + what.format(login=user.login)
    return subject, body


def admin_reset_notice(policy: Policy, user: DirectoryUser) -> tuple[str, str]:
    """Subject and body of "an administrator reset their password", to the other administrators."""
    subject = _("Administrator password reset: {name}").format(name=user.display_name)
    body = _(
        "The password of administrator account {login} ({name}) was just reset "
        "through self-service password reset."
    ).format(login=user.login, name=user.display_name)
    return subject, body


def security_info_changed_notice(policy: Policy, user: DirectoryUser) -> tuple[str, str]:
    """Subject and body of "your security info was changed", to the user's addresses from before the change
    and after it; it never says what was registered, nor any of it."""
    organisation = policy.kiosk.branding.organisation
    subject = _("Your {organisation} security info was changed").format(organisation=organisation)
    body = (
        _("Hello {name},").format(name=user.display_name)
        + "\n\n"
        + _(
            "The security info of your account {login} (the ways you prove who you are when you reset your "
            "password) was just changed at a self-service kiosk. If this was not you, contact your IT service "
            "desk immediately."
        ).format(login=user.login)
    )
    return subject, body
