"""E-mail over SMTP (`delivery.kind = "smtp"`): multipart messages sent with aiosmtplib, never blocking the loop.

Every message has a plain-text part and an HTML alternative built from the same (already localized)
text, with the organisation's name and every value HTML-escaped. SMTP carries e-mail only: a code
for an SMS or a voice call is refused with a `DeliveryError`, never silently dropped.

Failures (server down, timeout, TLS, authentication, refused recipient) become a `DeliveryError`
whose reason is a short stable word; no message, password or server reply text goes into it.
"""

from __future__ import annotations

import html
import logging
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import aiosmtplib

from kiosk.i18n import _
from kiosk.policy.schema import Method, Policy, SmtpSecurity, SmtpSettings
from kiosk.services.backend.delivery.sender import DeliveryError, DeliveryFailure

log = logging.getLogger(__name__)


def html_alternative(organisation: str, subject: str, body: str) -> str:
    """The HTML part of a message: the plain text, escaped, in paragraphs, under the organisation's name."""
    paragraphs = "\n".join(
        "<p>" + "<br>".join(html.escape(line) for line in paragraph.splitlines()) + "</p>"
        for paragraph in body.split("\n\n")
        if paragraph.strip()
    )
    footer = html.escape(_("This message was sent by the {organisation} account recovery kiosk.")).format(
        organisation=html.escape(organisation)
    )
    return (
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(subject)}</title></head>\n<body>\n"
        f"<h1>{html.escape(organisation)}</h1>\n{paragraphs}\n"
        f"<hr><p><small>{footer}</small></p>\n</body></html>\n"
    )


def build_message(sender: str, to: str, subject: str, body: str, organisation: str) -> EmailMessage:
    """A multipart/alternative message: the plain text first, then the HTML."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate(localtime=False, usegmt=True)
    message["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or None)
    message.set_content(body)
    message.add_alternative(html_alternative(organisation, subject, body), subtype="html")
    return message


def classify(error: BaseException) -> DeliveryFailure:
    """The stable reason for an exception raised while talking to the SMTP server."""
    if isinstance(error, aiosmtplib.SMTPAuthenticationError):
        return DeliveryFailure.AUTH
    if isinstance(error, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return DeliveryFailure.TIMEOUT
    if isinstance(error, ssl.SSLError | ssl.CertificateError):
        return DeliveryFailure.TLS
    if isinstance(error, aiosmtplib.SMTPConnectError | ConnectionError):
        cause = error.__cause__ or error.__context__
        if cause is not None and isinstance(cause, ssl.SSLError | ssl.CertificateError):
            return DeliveryFailure.TLS
        return DeliveryFailure.UNREACHABLE
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused | aiosmtplib.SMTPSenderRefused):
        return DeliveryFailure.REFUSED
    if isinstance(error, aiosmtplib.SMTPException) and "tls" in str(error).lower():
        return DeliveryFailure.TLS
    if isinstance(error, OSError):
        return DeliveryFailure.UNREACHABLE
    return DeliveryFailure.ERROR


class SmtpSender:
    """A `Sender` that e-mails through the policy's SMTP server."""

    def __init__(self, policy: Policy, password: str = "") -> None:
        self._settings: SmtpSettings = policy.delivery.smtp
        self._organisation = policy.kiosk.branding.organisation
        self._from = self._settings.from_address or policy.delivery.sender_address
        self._password = password

    def _tls_context(self) -> ssl.SSLContext | None:
        if self._settings.security is SmtpSecurity.NONE:
            return None
        return ssl.create_default_context(cafile=self._settings.ca_file or None)

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        """E-mail one message; anything but e-mail, or any failure, is a `DeliveryError`."""
        if channel is not Method.EMAIL:
            raise DeliveryError(DeliveryFailure.UNSUPPORTED_CHANNEL, f"SMTP cannot deliver {channel.value}")
        settings = self._settings
        message = build_message(self._from, to, subject, body, self._organisation)
        try:
            context = self._tls_context()
        except (OSError, ssl.SSLError) as error:  # an unreadable or invalid ca_file
            raise DeliveryError(DeliveryFailure.TLS, f"ca_file: {type(error).__name__}") from None
        try:
            await aiosmtplib.send(
                message,
                hostname=settings.host,
                port=settings.port,
                use_tls=settings.security is SmtpSecurity.TLS,
                start_tls=settings.security is SmtpSecurity.STARTTLS,
                tls_context=context,
                username=settings.username or None,
                password=self._password if settings.username else None,
                timeout=settings.timeout_seconds,
            )
        except Exception as error:  # noqa: BLE001 - every failure becomes one stable reason
            reason = classify(error)
            log.warning(
                "e-mail to %s:%d failed: %s (%s)", settings.host, settings.port, reason.value, type(error).__name__
            )
            raise DeliveryError(reason, type(error).__name__) from None
