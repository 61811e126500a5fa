"""SMS codes and voice calls through an HTTP gateway (`[delivery.gateway]`): a JSON webhook or a Twilio-compatible API.

- webhook: `POST url` with `{"channel": "sms"|"voice", "to", "text", "language"}` (and `"from"` when
  `from_number` is set) and `Authorization: Bearer <token>`;
- twilio: `POST {url}/2010-04-01/Accounts/{account}/Messages.json` (To, From, Body) for an SMS and
  `.../Calls.json` (To, From, Twiml) for a voice call, with HTTP Basic (account, token).

The text is already in the session's language (the backend runs each request under it, see
`kiosk.i18n.language`); the gateway adds that language: the webhook's `language`, TwiML's
`<Say language="de-DE">`. A voice call reads the code digit by digit ("4, 7, 1, …"): the commas make
a text-to-speech voice pause between digits instead of reading one big number.

Every failure becomes a `DeliveryError` with a stable reason (unreachable, timeout, tls, auth for
401/403, refused for another 4xx, error for 5xx). The token, the code, the text and the phone
number never go into an exception or a log line: only the gateway's host and the reason do.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote, urlsplit
from xml.etree import ElementTree

import httpx

from kiosk.i18n import current_language, regional_language
from kiosk.policy.schema import GatewayKind, GatewaySettings, Method
from kiosk.services.backend.delivery.sender import DeliveryError, DeliveryFailure

log = logging.getLogger(__name__)

GATEWAY_SECRET = "gateway"  # noqa: S105 - the name of the keyring entry (`kiosk secrets set gateway`)
"""The keyring entry of the gateway's token: the webhook's bearer token or the Twilio auth token."""

TWILIO_API_VERSION = "2010-04-01"

SMS_CHANNELS = frozenset({Method.MOBILE_SMS})
VOICE_CHANNELS = frozenset({Method.MOBILE_CALL, Method.OFFICE_CALL})

_SPACED_DIGITS = re.compile(r"(?<!\d)\d(?: \d)+(?!\d)")


def spoken(text: str) -> str:
    """The text as a voice reads it: digits spaced out ("4 7 1") become "4, 7, 1", a pause between each."""
    return _SPACED_DIGITS.sub(lambda match: ", ".join(match.group(0).split(" ")), text)


def twiml(text: str, language: str) -> str:
    """`<Response><Say language="…">text</Say></Response>`, every character of the text XML-escaped."""
    response = ElementTree.Element("Response")
    say = ElementTree.SubElement(response, "Say", language=language)
    say.text = text
    return ElementTree.tostring(response, encoding="unicode")


def dialable(number: str) -> str:
    """A phone number as gateways want it: `+31 (0)6 1234-5678` → `+31612345678` (no separators)."""
    if number.lstrip().startswith("+"):
        number = number.replace("(0)", "")  # the trunk prefix written for callers inside the country
    return re.sub(r"[\s().\-/]", "", number)


def _chain(error: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def classify(error: BaseException) -> DeliveryFailure:
    """The stable reason for an exception raised while talking to the gateway."""
    if isinstance(error, httpx.TimeoutException | TimeoutError):
        return DeliveryFailure.TIMEOUT  # a TLS handshake that hangs is a timeout too, as for the directory
    if any(isinstance(cause, ssl.SSLError | ssl.CertificateError) for cause in _chain(error)):
        return DeliveryFailure.TLS
    if isinstance(error, httpx.NetworkError | httpx.ProxyError | OSError):
        return DeliveryFailure.UNREACHABLE
    return DeliveryFailure.ERROR


def status_failure(status: int) -> DeliveryFailure:
    """The stable reason for a gateway's non-2xx answer."""
    if status in (401, 403):
        return DeliveryFailure.AUTH
    if 400 <= status < 500:
        return DeliveryFailure.REFUSED
    return DeliveryFailure.ERROR


class GatewaySender:
    """A `Sender` for SMS codes and voice calls through the policy's HTTP gateway (webhook or Twilio)."""

    def __init__(self, settings: GatewaySettings, token: str) -> None:
        if settings.kind is GatewayKind.NONE:
            raise ValueError('a gateway sender needs delivery.gateway.kind = "webhook" or "twilio"')
        self._settings = settings
        self._token = token
        self._host = urlsplit(settings.base_url).hostname or ""

    def __repr__(self) -> str:  # never the token
        return f"GatewaySender(kind={self._settings.kind.value}, host={self._host})"

    def _tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self._settings.ca_file or None)

    def _request(self, channel: Method, to: str, body: str) -> tuple[str, dict[str, Any]]:
        """The URL and the httpx arguments of the POST that delivers one message."""
        settings = self._settings
        voice = channel in VOICE_CHANNELS
        text = spoken(body) if voice else body
        if settings.kind is GatewayKind.WEBHOOK:
            payload = {
                "channel": "voice" if voice else "sms",
                "to": dialable(to),
                "text": text,
                "language": current_language(),
            }
            if settings.from_number:
                payload["from"] = settings.from_number
            return settings.base_url, {"json": payload, "headers": {"Authorization": f"Bearer {self._token}"}}
        account = quote(settings.account, safe="")
        resource = "Calls.json" if voice else "Messages.json"
        url = f"{settings.base_url}/{TWILIO_API_VERSION}/Accounts/{account}/{resource}"
        form = {"To": dialable(to), "From": settings.from_number}
        if voice:
            form["Twiml"] = twiml(text, regional_language())
        else:
            form["Body"] = text
        return url, {"data": form, "auth": (settings.account, self._token)}

    async def send(self, channel: Method, to: str, subject: str, body: str) -> None:
        """Send an SMS (`mobile_sms`) or place a voice call (`mobile_call`, `office_call`); e-mail is refused.

        The subject is not sent: an SMS or a call has none. Any failure is a `DeliveryError`.
        """
        if channel not in SMS_CHANNELS | VOICE_CHANNELS:
            raise DeliveryError(DeliveryFailure.UNSUPPORTED_CHANNEL, f"the gateway cannot deliver {channel.value}")
        what = "voice call" if channel in VOICE_CHANNELS else "SMS"
        url, arguments = self._request(channel, to, body)
        try:
            context = self._tls_context()
        except (OSError, ssl.SSLError) as error:  # an unreadable or invalid ca_file
            self._log_failure(what, DeliveryFailure.TLS, f"ca_file: {type(error).__name__}")
            raise DeliveryError(DeliveryFailure.TLS, f"ca_file: {type(error).__name__}") from None
        try:
            async with httpx.AsyncClient(
                verify=context, timeout=self._settings.timeout_seconds, follow_redirects=False
            ) as client:
                response = await client.post(url, **arguments)
        except Exception as error:  # noqa: BLE001 - every failure becomes one stable reason
            # Only the type: an httpx message may quote the URL or the request.
            reason = classify(error)
            self._log_failure(what, reason, type(error).__name__)
            raise DeliveryError(reason, type(error).__name__) from None
        if not response.is_success:
            # The gateway's answer is not quoted: it may echo the number or the text.
            reason = status_failure(response.status_code)
            self._log_failure(what, reason, f"HTTP {response.status_code}")
            raise DeliveryError(reason, f"HTTP {response.status_code}")

    def _log_failure(self, what: str, reason: DeliveryFailure, detail: str) -> None:
        log.warning(
            "%s through the %s gateway at %s failed: %s (%s)",
            what,
            self._settings.kind.value,
            self._host,
            reason.value,
            detail,
        )
