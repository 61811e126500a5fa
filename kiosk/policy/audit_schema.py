"""The `[audit]` section of the policy: forwarding every audit event to a syslog server (off by default)."""

from __future__ import annotations

import re
from enum import StrEnum

from pydantic import Field, field_validator, model_validator

from kiosk.policy.section import PolicySection
from kiosk.product import PRODUCT

DOCUMENTATION_ENTERPRISE_NUMBER = 32473
"""The IANA Private Enterprise Number RFC 5612 reserves for documentation and examples."""

_APP_NAME = re.compile(r"[\x21-\x7e]{1,48}")  # RFC 5424 APP-NAME: 1*48 PRINTUSASCII
_HOST = re.compile(r"[A-Za-z0-9._:\-\[\]%]{1,253}")



class SyslogProtocol(StrEnum):
    """How messages travel to the syslog server."""

    UDP = "udp"
    TCP = "tcp"
    TLS = "tls"


class SyslogFacility(StrEnum):
    """The RFC 5424 facility the messages are filed under (the usual ones for an authentication service)."""

    AUTH = "auth"
    AUTHPRIV = "authpriv"
    USER = "user"
    DAEMON = "daemon"
    LOCAL0 = "local0"
    LOCAL1 = "local1"
    LOCAL2 = "local2"
    LOCAL3 = "local3"
    LOCAL4 = "local4"
    LOCAL5 = "local5"
    LOCAL6 = "local6"
    LOCAL7 = "local7"


DEFAULT_PORTS = {SyslogProtocol.UDP: 514, SyslogProtocol.TCP: 514, SyslogProtocol.TLS: 6514}
"""The IANA ports: syslog (RFC 5426, RFC 6587) and syslog-tls (RFC 5425)."""


class SyslogSettings(PolicySection):
    """Send each audit event, with its chain hash, to a syslog server as it is written (RFC 5424)."""

    host: str = Field(
        default="", max_length=253, description="Host name or address of the syslog server ('' = no forwarding)."
    )
    port: int = Field(
        default=0, ge=0, le=65535, description="Port (0 = the protocol's own: 514 for udp and tcp, 6514 for tls)."
    )
    protocol: SyslogProtocol = Field(
        default=SyslogProtocol.TLS,
        description="tls (RFC 5425, the server's certificate verified), tcp (RFC 6587, octet counting) or udp "
        "(RFC 5426; lost messages are not noticed).",
    )
    ca_file: str = Field(
        default="",
        max_length=1024,
        description="PEM file of the CA that signed the server's certificate, for "
        "protocol = tls ('' = the system's CAs).",
    )
    facility: SyslogFacility = Field(
        default=SyslogFacility.AUTHPRIV, description="Facility: auth, authpriv, user, daemon or local0 to local7."
    )
    app_name: str = Field(
        default=PRODUCT, max_length=48, description="APP-NAME of every message (1 to 48 printable ASCII characters)."
    )
    enterprise_number: int = Field(
        default=DOCUMENTATION_ENTERPRISE_NUMBER,
        ge=1,
        le=4_294_967_295,
        description="IANA Private Enterprise Number in the structured-data id audit@NUMBER (default 32473, the "
        "number reserved for examples; use your organisation's own if it has one).",
    )
    timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Seconds to connect or send before a message counts as not forwarded."
    )

    @field_validator("host")
    @classmethod
    def _plain_host(cls, value: str) -> str:
        host = value.strip()
        if host and not _HOST.fullmatch(host):
            raise ValueError("must be a host name or an address, e.g. syslog.contoso.com (no scheme, path or port)")
        return host

    @field_validator("app_name")
    @classmethod
    def _printable_app_name(cls, value: str) -> str:
        if not _APP_NAME.fullmatch(value):
            raise ValueError("must be 1 to 48 printable ASCII characters without spaces")
        return value

    @model_validator(mode="after")
    def _ca_file_for_tls(self) -> SyslogSettings:
        if self.ca_file.strip() and self.protocol is not SyslogProtocol.TLS:
            raise ValueError('ca_file is used with protocol = "tls" only')
        return self

    @property
    def enabled(self) -> bool:
        """True when a server is configured."""
        return bool(self.host)

    @property
    def effective_port(self) -> int:
        """The port to send to: `port`, or the protocol's default."""
        return self.port or DEFAULT_PORTS[self.protocol]


class AuditSettings(PolicySection):
    """The audit trail: where copies of its events go besides the backend's own database."""

    syslog: SyslogSettings = Field(
        default=SyslogSettings(), description="Forward every audit event to a syslog server (off while host is '')."
    )
