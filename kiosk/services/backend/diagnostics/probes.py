"""What `kiosk diagnose` does on the wire: the directory, the SMTP server, the SMS/voice gateway, a shared backend.

Each probe goes as far as it harmlessly can and stops at the first failure, returning one result per
step it reached (connection and TLS, login or bind, and so on) plus, where the server tells its
time, a `TimeSample` for the clock check. Nothing is changed or sent: the directory is bound and
read, the SMTP server sees EHLO, STARTTLS, AUTH and QUIT (no MAIL FROM), and the gateway gets a
HEAD request (a webhook) or a read of the account (Twilio), never a message.

The code paths are the kiosk's own (`LdapConnector.connect`, the senders' TLS contexts and failure
classification), so what passes here is what the backend will do. Server error texts are not
quoted (they may echo a request); only stable reasons and TLS verification phrases are.
"""

from __future__ import annotations

import contextlib
import ipaddress
import re
import socket
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote, urlsplit

from kiosk.policy.directory_schema import ActiveDirectorySettings, OpenLdapSettings
from kiosk.policy.schema import GatewayKind, GatewaySettings, SmtpSecurity, SmtpSettings
from kiosk.services.backend.delivery.sender import DeliveryFailure
from kiosk.services.diagnosis import CheckResult, CheckStatus

Clock = Callable[[], datetime]

CERTIFICATE_WARNING_DAYS = 30
"""A server certificate that expires sooner than this is a warning."""


@dataclass(frozen=True, slots=True)
class TimeSample:
    """A server's clock as seen once: its time, and ours at the middle of the round trip."""

    source: str
    server_time: datetime
    local_time: datetime


@dataclass
class Probe:
    """What one probe found: results in the order of the steps, and the server times it saw."""

    results: list[CheckResult] = field(default_factory=list)
    times: list[TimeSample] = field(default_factory=list)

    def add(self, name: str, status: CheckStatus, detail: str, hint: str = "") -> None:
        """Record one step's result."""
        self.results.append(CheckResult(name, status, detail, hint))


def host_port(url: str, default_port: int) -> str:
    """`host:port` of a URL, for the names of the checks."""
    parts = urlsplit(url)
    return f"{parts.hostname or ''}:{parts.port or default_port}"


def _midpoint(start: datetime, end: datetime) -> datetime:
    return start + (end - start) / 2


# ---------------------------------------------------------------------------------------------- TLS


def tls_result(name: str, ssl_object: Any, now: datetime, *, verified: bool, lead: str = "") -> CheckResult:
    """The TLS session of a connection: protocol, whether the certificate was verified, its expiry."""
    if ssl_object is None:
        return CheckResult(name, CheckStatus.FAIL, f"{lead}no TLS session on the connection")
    version = ssl_object.version() or "TLS"
    der = ssl_object.getpeercert(binary_form=True)
    if not der:
        return CheckResult(name, CheckStatus.FAIL, f"{lead}{version}, but the server sent no certificate")
    from cryptography import x509

    certificate = x509.load_der_x509_certificate(der)
    subject = certificate.subject.rfc4514_string() or "(no subject)"
    expires = certificate.not_valid_after_utc
    days = (expires - now).total_seconds() / 86400
    if days < 0:
        expiry = f"EXPIRED on {expires:%Y-%m-%d}"
    else:
        count = int(days)
        expiry = f"valid until {expires:%Y-%m-%d %H:%M} UTC ({count} day{'' if count == 1 else 's'} left)"
    if not verified:
        return CheckResult(
            name,
            CheckStatus.WARN,
            f"{lead}{version}, certificate NOT verified ({subject}), {expiry}",
            "insecure_skip_tls_verify is for tests only: set ca_file to the CA that signed the server's certificate",
        )
    detail = f"{lead}{version}, certificate verified ({subject}), {expiry}"
    if days < 0:
        return CheckResult(name, CheckStatus.FAIL, detail, "renew the server's certificate")
    if days < CERTIFICATE_WARNING_DAYS:
        return CheckResult(
            name,
            CheckStatus.WARN,
            detail,
            f"renew the server's certificate (warned under {CERTIFICATE_WARNING_DAYS} days)",
        )
    return CheckResult(name, CheckStatus.OK, detail)


# ------------------------------------------------------------------------------------------ directory

LdapSettings = ActiveDirectorySettings | OpenLdapSettings

_UNAVAILABLE_TEXT = {
    "unreachable": ("cannot connect", "check the URL's host and port, and that a firewall lets the kiosk through"),
    "timeout": ("no answer in time", "the server is down or too slow; check the host, or raise the timeouts"),
    "tls": (
        "the TLS handshake failed",
        "set ca_file to the PEM of the CA that signed the directory's certificate, and use the host name "
        "the certificate names",
    ),
    "service_bind_refused": (
        "the service account was refused",
        "store its password with `kiosk secrets set directory`",
    ),
    "tls_required": ("the server wants TLS", "use ldaps://, or start_tls = true"),
}


def probe_directory_url(settings: LdapSettings, url: str, password: str, *, is_ad: bool, clock: Clock) -> Probe:
    """Connect to one directory server with TLS, bind as the service account, read the base DNs (blocking).

    Active Directory also tells its time (the root DSE's currentTime), which the clock check uses.
    """
    import ldap3
    import ldap3.core.exceptions as ldap_errors

    from kiosk.services.backend.directory.errors import DirectoryUnavailable, unavailability_of
    from kiosk.services.backend.directory.ldap_connection import LdapConnector

    probe = Probe()
    where = host_port(url, 636 if url.lower().startswith("ldaps") else 389)
    connector = LdapConnector(settings.model_copy(update={"urls": (url,)}), password)
    started = time.perf_counter()
    try:
        connection = connector.connect(url)
    except DirectoryUnavailable as error:
        text, hint = _UNAVAILABLE_TEXT.get(error.reason.value, ("unavailable", ""))
        if error.reason.value == "timeout":
            text = f"no answer within {settings.connect_timeout_seconds:g} s"
        detail = f"{url}: {text}{': ' + error.detail if error.detail else ''}"
        probe.add(f"directory TLS {where}", CheckStatus.FAIL, detail, hint)
        return probe
    try:
        lead = f"{url}: connected in {(time.perf_counter() - started) * 1000:.0f} ms; "
        probe.results.append(
            tls_result(
                f"directory TLS {where}",
                connection.socket,
                clock(),
                verified=not settings.insecure_skip_tls_verify,
                lead=lead + ("StartTLS, " if not connection.server.ssl else ""),
            )
        )
        try:
            connection.bind()
        except ldap_errors.LDAPInvalidCredentialsResult:
            text, hint = _UNAVAILABLE_TEXT["service_bind_refused"]
            probe.add(f"directory bind {where}", CheckStatus.FAIL, f"{text}: {settings.bind_dn}", hint)
            return probe
        except (ldap_errors.LDAPException, OSError) as error:
            text, hint = _UNAVAILABLE_TEXT.get(unavailability_of(error).value, ("unavailable", ""))
            probe.add(f"directory bind {where}", CheckStatus.FAIL, f"bind as {settings.bind_dn}: {text}", hint)
            return probe
        probe.add(f"directory bind {where}", CheckStatus.OK, f"bound as the service account {settings.bind_dn}")
        bases = dict.fromkeys(b for b in (settings.base_dn, settings.user_search_base, settings.group_search_base) if b)
        missing: list[str] = []
        for base in bases:
            try:
                connection.search(base, "(objectClass=*)", search_scope=ldap3.BASE, attributes=["1.1"])
            except ldap_errors.LDAPNoSuchObjectResult:
                missing.append(base)
            except (ldap_errors.LDAPException, OSError) as error:
                text, hint = _UNAVAILABLE_TEXT.get(unavailability_of(error).value, ("unavailable", ""))
                probe.add(f"directory base DN {where}", CheckStatus.FAIL, f"reading {base}: {text}", hint)
                return probe
        if missing:
            probe.add(
                f"directory base DN {where}",
                CheckStatus.FAIL,
                f"not found (or not readable by the service account): {'; '.join(missing)}",
                "check base_dn, user_search_base and group_search_base, and the service account's read rights",
            )
        else:
            probe.add(f"directory base DN {where}", CheckStatus.OK, f"found: {'; '.join(bases)}")
        if is_ad:
            sample = _ad_current_time(connection, url, clock)
            if sample is not None:
                probe.times.append(sample)
    finally:
        with contextlib.suppress(Exception):  # closing a dead connection may fail in many ways
            connection.unbind()
    return probe


def _ad_current_time(connection: Any, url: str, clock: Clock) -> TimeSample | None:
    """Active Directory's own clock: the root DSE's currentTime (GeneralizedTime, whole seconds)."""
    import ldap3
    import ldap3.core.exceptions as ldap_errors

    before = clock()
    try:
        connection.search("", "(objectClass=*)", search_scope=ldap3.BASE, attributes=["currentTime"])
    except (ldap_errors.LDAPException, OSError):
        return None
    after = clock()
    for entry in connection.response or ():
        values = (entry.get("raw_attributes") or {}).get("currentTime") or []
        if values:
            text = values[0].decode("ascii", "replace") if isinstance(values[0], bytes) else str(values[0])
            try:
                server = datetime.strptime(text[:14], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
            except ValueError:
                return None
            return TimeSample(f"the directory's currentTime ({url})", server, _midpoint(before, after))
    return None


# ----------------------------------------------------------------------------------------------- SMTP

_SMTP_FAILURE = {
    DeliveryFailure.UNREACHABLE: ("cannot connect", "check delivery.smtp.host and port, and the firewall"),
    DeliveryFailure.TLS: (
        "the TLS handshake failed",
        "set delivery.smtp.ca_file to the CA that signed its certificate",
    ),
    DeliveryFailure.AUTH: ("the login was refused", "store the right password with `kiosk secrets set smtp`"),
    DeliveryFailure.REFUSED: ("the server refused", "ask the mail administrators"),
    DeliveryFailure.ERROR: ("the server answered an error", "check delivery.smtp.security and port"),
}
_RFC5322_DATE = re.compile(r"(?:[A-Z][a-z]{2}, )?\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} [+-]\d{4}")


def _smtp_failure(error: BaseException, timeout: float) -> tuple[str, str]:
    from kiosk.services.backend.delivery.smtp import classify

    reason = classify(error)
    if reason is DeliveryFailure.TIMEOUT:
        return f"no answer within {timeout:g} s", "the server is down or too slow; check host and port"
    text, hint = _SMTP_FAILURE.get(reason, ("failed", ""))
    verify = _verify_phrase(error)
    return (f"{text}: {verify}" if verify else text), hint


def _verify_phrase(error: BaseException) -> str:
    from kiosk.services.backend.directory.errors import tls_failure

    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError) and current.verify_message:
            return f"certificate verify failed: {current.verify_message}"
        phrase = tls_failure(current) if isinstance(current, Exception) else ""
        if phrase:
            return phrase
        current = current.__cause__ or current.__context__
    return ""


async def probe_smtp(settings: SmtpSettings, password: str | None, clock: Clock) -> Probe:
    """Connect, EHLO, STARTTLS or TLS as configured, AUTH when a username is set, QUIT: no mail is sent.

    `password` is the SMTP user's password from the keyring (None: not stored).
    """
    import aiosmtplib

    probe = Probe()
    where = f"{settings.host}:{settings.port}"
    context: ssl.SSLContext | None = None
    if settings.security is not SmtpSecurity.NONE:
        try:
            context = ssl.create_default_context(cafile=settings.ca_file or None)
        except (OSError, ssl.SSLError) as error:
            probe.add(
                f"SMTP TLS {where}",
                CheckStatus.FAIL,
                f"ca_file {settings.ca_file} cannot be used ({type(error).__name__})",
                "point delivery.smtp.ca_file at a readable PEM file",
            )
            return probe
    client = aiosmtplib.SMTP(
        hostname=settings.host,
        port=settings.port,
        use_tls=settings.security is SmtpSecurity.TLS,
        start_tls=False,
        tls_context=context,
        timeout=settings.timeout_seconds,
    )
    step = f"SMTP connection {where}"
    try:
        before, started = clock(), time.perf_counter()
        greeting = await client.connect()
        after = clock()
        await client.ehlo()
        banner = greeting.message.splitlines()[0][:100] if greeting.message else ""
        probe.add(
            step, CheckStatus.OK, f"greeting and EHLO in {(time.perf_counter() - started) * 1000:.0f} ms: {banner}"
        )
        found = _RFC5322_DATE.search(greeting.message or "")
        if found:
            try:
                server_time = parsedate_to_datetime(found.group(0))
                probe.times.append(TimeSample(f"the SMTP greeting ({where})", server_time, _midpoint(before, after)))
            except (TypeError, ValueError):
                pass
        step = f"SMTP TLS {where}"
        if settings.security is SmtpSecurity.STARTTLS:
            if not client.supports_extension("starttls"):
                probe.add(
                    step,
                    CheckStatus.FAIL,
                    "the server does not offer STARTTLS",
                    'use security = "tls" (usually port 465), or a server that offers STARTTLS',
                )
                return probe
            await client.starttls()
        if settings.security is SmtpSecurity.NONE:
            probe.add(step, CheckStatus.SKIP, 'security = "none": unencrypted, to a loopback relay only')
        else:
            how = "STARTTLS, " if settings.security is SmtpSecurity.STARTTLS else "implicit TLS, "
            probe.results.append(
                tls_result(step, client.get_transport_info("ssl_object"), clock(), verified=True, lead=how)
            )
        step = f"SMTP login {where}"
        if not settings.username:
            probe.add(step, CheckStatus.SKIP, "no delivery.smtp.username: the server is used without a login")
        elif password is None:
            probe.add(
                step,
                CheckStatus.FAIL,
                f"no password for {settings.username} in the OS keyring",
                "store it with `kiosk secrets set smtp`",
            )
        else:
            await client.login(settings.username, password)
            probe.add(step, CheckStatus.OK, f"AUTH accepted for {settings.username} (no mail was sent)")
    except aiosmtplib.SMTPNotSupported:
        probe.add(step, CheckStatus.FAIL, "the server offers no AUTH here", "check delivery.smtp.security and port")
    except Exception as error:  # noqa: BLE001 - every failure becomes a stable reason for the report
        text, hint = _smtp_failure(error, settings.timeout_seconds)
        probe.add(step, CheckStatus.FAIL, text, hint)
    finally:
        if client.is_connected:
            try:
                await client.quit()
            except Exception:  # noqa: BLE001 - a server that drops the line at QUIT changes nothing
                client.close()
    return probe


# ------------------------------------------------------------------------------- gateway and backend


def _is_address(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _loopback(host: str) -> bool:
    return host.lower() == "localhost" or (_is_address(host) and ipaddress.ip_address(host).is_loopback)


def _http_failure(error: BaseException, timeout: float) -> tuple[str, str]:
    from kiosk.services.backend.delivery.gateway import classify

    reason = classify(error)
    if reason is DeliveryFailure.TIMEOUT:
        return f"no answer within {timeout:g} s", "the server is down or too slow"
    if reason is DeliveryFailure.TLS:
        verify = _verify_phrase(error)
        return (
            f"the TLS handshake failed{': ' + verify if verify else ''}",
            "set ca_file to the CA that signed the server's certificate (or install that CA on this machine)",
        )
    if reason is DeliveryFailure.UNREACHABLE:
        return "cannot connect", "check the URL's host and port, proxies (HTTPS_PROXY, NO_PROXY) and the firewall"
    return f"the request failed ({type(error).__name__})", ""


def _date_sample(response: Any, source: str, before: datetime, after: datetime) -> TimeSample | None:
    header = response.headers.get("date")
    if not header:
        return None
    try:
        return TimeSample(source, parsedate_to_datetime(header), _midpoint(before, after))
    except (TypeError, ValueError):
        return None


def _ssl_object(response: Any) -> Any:
    stream = response.extensions.get("network_stream")
    return stream.get_extra_info("ssl_object") if stream is not None else None


async def probe_gateway(settings: GatewaySettings, token: str | None, clock: Clock) -> Probe:
    """DNS, TLS and one harmless request to the SMS/voice gateway; never a message.

    A webhook gets an unauthenticated HEAD (any HTTP answer means it is reachable; the token can
    only be checked by a real send). Twilio gets a read of the account (`GET .../Accounts/{sid}.json`
    with the token), which checks the token too.
    """
    import asyncio

    import httpx

    probe = Probe()
    url = settings.base_url
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    where = f"{host}:{port}"
    if _is_address(host):
        probe.add(f"gateway DNS {where}", CheckStatus.OK, f"{host} is an address: no lookup needed")
    else:
        try:
            infos = await asyncio.wait_for(
                asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM), settings.timeout_seconds
            )
        except TimeoutError:
            probe.add(
                f"gateway DNS {where}", CheckStatus.FAIL, f"no answer from DNS within {settings.timeout_seconds:g} s"
            )
            return probe
        except OSError:
            probe.add(
                f"gateway DNS {where}", CheckStatus.FAIL, f"{host} does not resolve", "check delivery.gateway.url"
            )
            return probe
        addresses = ", ".join(dict.fromkeys(str(info[4][0]) for info in infos))
        probe.add(f"gateway DNS {where}", CheckStatus.OK, f"{host} resolves to {addresses}")
    try:
        context = ssl.create_default_context(cafile=settings.ca_file or None)
    except (OSError, ssl.SSLError) as error:
        probe.add(
            f"gateway TLS {where}",
            CheckStatus.FAIL,
            f"ca_file {settings.ca_file} cannot be used ({type(error).__name__})",
            "point delivery.gateway.ca_file at a readable PEM file",
        )
        return probe
    check_token = settings.kind is GatewayKind.TWILIO and token is not None
    async with httpx.AsyncClient(verify=context, timeout=settings.timeout_seconds, follow_redirects=False) as client:
        before = clock()
        try:
            if check_token:
                assert token is not None
                account = quote(settings.account, safe="")
                response = await client.get(f"{url}/2010-04-01/Accounts/{account}.json", auth=(settings.account, token))
            else:
                response = await client.head(url)
        except Exception as error:  # noqa: BLE001 - every failure becomes a stable reason for the report
            text, hint = _http_failure(error, settings.timeout_seconds)
            probe.add(f"gateway request {where}", CheckStatus.FAIL, text, hint)
            return probe
        after = clock()
        ssl_object = _ssl_object(response)
    if parts.scheme == "https":
        probe.results.append(tls_result(f"gateway TLS {where}", ssl_object, clock(), verified=True))
    else:
        probe.add(f"gateway TLS {where}", CheckStatus.SKIP, "http:// to a loopback host: no TLS")
    sample = _date_sample(response, f"the gateway's Date header ({where})", before, after)
    if sample is not None:
        probe.times.append(sample)
    status = response.status_code
    name = f"gateway request {where}"
    if check_token:
        if response.is_success:
            probe.add(
                name,
                CheckStatus.OK,
                f"Twilio account {settings.account} read with the token (HTTP {status}); no message was sent",
            )
        elif status in (401, 403):
            probe.add(
                name,
                CheckStatus.FAIL,
                f"the token was refused (HTTP {status})",
                "store the right auth token with `kiosk secrets set gateway`, and check delivery.gateway.account",
            )
        else:
            probe.add(
                name, CheckStatus.WARN, f"the account read answered HTTP {status}; the token could not be checked"
            )
    elif settings.kind is GatewayKind.TWILIO:
        probe.add(
            name,
            CheckStatus.FAIL,
            f"reachable (HTTP {status} to HEAD), but no token in the OS keyring",
            "store it with `kiosk secrets set gateway`",
        )
    elif status >= 500:
        probe.add(
            name,
            CheckStatus.WARN,
            f"reachable, but it answered HEAD with HTTP {status} (a server error)",
            "ask the gateway's operators; codes may fail to send",
        )
    else:
        probe.add(
            name,
            CheckStatus.OK,
            f"reachable: HTTP {status} to an unauthenticated HEAD (nothing was sent; "
            "a webhook's token is only checked by a real send)",
        )
    return probe


async def probe_shared_backend(
    base_url: str, timeout: float, version: str, clock: Clock, *, ca_file: str = "", credential: str | None = None
) -> Probe:
    """`GET /v1/health` of a shared backend: reachable, TLS (verified against `ca_file`, '' = the OS trust
    store, as the kiosk does), the answer, its version, the round trip; with the kiosk's `credential`,
    whether the backend accepts it (`GET /v1/openapi.json`, which needs one and changes nothing)."""
    import httpx

    from kiosk.services.api import API_PREFIX, KIOSK_CREDENTIAL_HEADER, Health

    probe = Probe()
    parts = urlsplit(base_url)
    host = parts.hostname or ""
    url = f"{base_url.rstrip('/')}{API_PREFIX}/health"
    try:
        context = ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as error:
        probe.add(
            "backend",
            CheckStatus.FAIL,
            f"backend.ca_file {ca_file} cannot be used ({type(error).__name__})",
            "point backend.ca_file at a readable PEM file of the CA that signed the backend's certificate",
        )
        return probe
    async with httpx.AsyncClient(verify=context, timeout=timeout, follow_redirects=False) as client:
        before, started = clock(), time.perf_counter()
        try:
            response = await client.get(url)
        except Exception as error:  # noqa: BLE001 - every failure becomes a stable reason for the report
            text, hint = _http_failure(error, timeout)
            probe.add(
                "backend", CheckStatus.FAIL, f"shared backend {url}: {text}", hint or "is `kiosk serve` running there?"
            )
            return probe
        milliseconds = (time.perf_counter() - started) * 1000
        after = clock()
        ssl_object = _ssl_object(response)
        checked: httpx.Response | None = None
        if credential and response.status_code == 200:
            with contextlib.suppress(Exception):  # the health answer already told how the backend is reached
                headers = {KIOSK_CREDENTIAL_HEADER: credential}
                checked = await client.get(f"{base_url.rstrip('/')}{API_PREFIX}/openapi.json", headers=headers)
    if parts.scheme == "https":
        probe.results.append(tls_result("backend TLS", ssl_object, clock(), verified=True))
    elif _loopback(host):
        probe.add("backend TLS", CheckStatus.SKIP, "http:// to this machine: no TLS needed")
    else:
        probe.add(
            "backend TLS",
            CheckStatus.WARN,
            f"http:// to {host}: requests, user IDs and passwords cross the network unencrypted",
            "put the shared backend behind https:// (a TLS-terminating proxy) and use that URL",
        )
    try:
        health = Health.model_validate_json(response.content) if response.status_code == 200 else None
    except ValueError:
        health = None
    if health is None:
        probe.add(
            "backend",
            CheckStatus.FAIL,
            f"shared backend {url}: HTTP {response.status_code}, not a kiosk backend's health answer",
            "check backend.url: it is the address `kiosk serve` listens on",
        )
        return probe
    detail = f"shared backend {url}: {health.status}, version {health.version}, {milliseconds:.0f} ms round trip"
    if health.version != version:
        probe.add(
            "backend",
            CheckStatus.WARN,
            f"{detail}; this kiosk is version {version}",
            "run the same version on the kiosks and the shared backend",
        )
    else:
        probe.add("backend", CheckStatus.OK, detail)
    if credential:
        probe.results.append(_credential_result(checked, credential.partition(":")[0]))
    sample = _date_sample(response, "the shared backend's Date header", before, after)
    if sample is not None:
        probe.times.append(sample)
    return probe


def _credential_result(answer: Any, name: str) -> CheckResult:
    """Whether the shared backend took this kiosk's credential (named by its kiosk, never its secret)."""
    if answer is not None and answer.status_code == 200:
        return CheckResult("backend credential", CheckStatus.OK, f"accepted: this kiosk calls as {name}")
    if answer is not None and answer.status_code == 401:
        return CheckResult(
            "backend credential",
            CheckStatus.FAIL,
            f"the shared backend refuses this kiosk's credential (kiosk {name}): not enrolled, mistyped or revoked",
            "on the server, `kiosk kiosks list` shows the kiosks; enrol this one with `kiosk kiosks add NAME` and "
            "store what it prints here with `kiosk secrets set backend`",
        )
    status = f"HTTP {answer.status_code}" if answer is not None else "no answer"
    return CheckResult("backend credential", CheckStatus.WARN, f"could not be checked ({status})")


def skew_of(sample: TimeSample) -> timedelta:
    """How far the server's clock is ahead of ours (negative: behind)."""
    return sample.server_time - sample.local_time
