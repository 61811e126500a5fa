"""The administrator's policy: one pydantic schema that is the single source of truth for every setting.

Defaults, validation messages and (later) the JSON schema and Group Policy templates all come from
these models. Every model forbids unknown keys, so a typo in the policy file is an error, not a
silently ignored setting.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from kiosk.policy.audit_schema import AuditSettings
from kiosk.policy.characters import check_plain
from kiosk.policy.directory_schema import ActiveDirectorySettings, OpenLdapSettings
from kiosk.policy.loopback import is_loopback_host
from kiosk.policy.questions import PREDEFINED_QUESTION_IDS
from kiosk.policy.section import PolicySection
from kiosk.policy.store_schema import StoreSettings


class Method(StrEnum):
    """A verification method a user can prove their identity with (SPEC §3)."""

    EMAIL = "email"
    MOBILE_SMS = "mobile_sms"
    MOBILE_CALL = "mobile_call"
    OFFICE_CALL = "office_call"
    SECURITY_QUESTIONS = "security_questions"
    APP_CODE = "app_code"
    APP_NOTIFICATION = "app_notification"


PHONE_METHODS = frozenset({Method.MOBILE_SMS, Method.MOBILE_CALL, Method.OFFICE_CALL})
"""Methods whose codes go by SMS or voice call: through `[delivery.gateway]` (or the demo's dev outbox)."""


class EnabledFor(StrEnum):
    """Who may use self-service reset."""

    NONE = "none"
    GROUP = "group"
    ALL = "all"


class ResetSettings(PolicySection):
    """Who may use self-service password reset."""

    enabled_for: EnabledFor = Field(
        default=EnabledFor.ALL, description="Who may use self-service: none, group (see groups) or all."
    )
    groups: tuple[Annotated[str, Field(min_length=1, max_length=256)], ...] = Field(
        default=(), description="Groups whose members may use self-service when enabled_for = 'group'."
    )
    early_refusals: bool = Field(
        default=False,
        description="true tells why an account may not reset right after the user ID (friendlier, but a "
        "stranger learns which accounts exist and which can reset); false, the default, tells it only "
        "after a first verification, so every user ID looks alike until then.",
    )

    @model_validator(mode="after")
    def _groups_given_for_group_mode(self) -> ResetSettings:
        if self.enabled_for is EnabledFor.GROUP and not self.groups:
            raise ValueError("enabled_for = 'group' needs at least one group in 'groups'")
        return self


class MethodSettings(PolicySection):
    """Which verification methods are offered and how many gates a user must pass."""

    enabled: tuple[Method, ...] = Field(
        default=(Method.EMAIL, Method.SECURITY_QUESTIONS, Method.APP_CODE),
        min_length=1,
        description="Methods users may verify with.",
    )
    required: Literal[1, 2] = Field(default=1, description="Number of gates (different methods) to pass: 1 or 2.")
    two_gate_groups: tuple[Annotated[str, Field(min_length=1, max_length=256)], ...] = Field(
        default=(), description="Members of these groups always need 2 gates (administrators always do)."
    )
    code_length: int = Field(default=8, ge=6, le=10, description="Digits in a one-time code (6 to 10).")
    code_lifetime_minutes: int = Field(default=5, ge=1, le=5, description="Minutes a one-time code lives (1 to 5).")
    code_attempts: int = Field(default=5, ge=1, le=5, description="Wrong tries before a code is burned (1 to 5).")

    @model_validator(mode="after")
    def _methods_make_sense(self) -> MethodSettings:
        if len(set(self.enabled)) != len(self.enabled):
            raise ValueError("a method is listed twice in 'enabled'")
        if self.required == 2 and len(self.enabled) < 2:
            raise ValueError("required = 2 needs at least two enabled methods")
        if self.enabled == (Method.APP_NOTIFICATION,):
            raise ValueError("app_notification may never be the only enabled method")
        return self


_CUSTOM_QUESTION = Annotated[str, Field(min_length=1, max_length=200)]


class SecurityQuestionSettings(PolicySection):
    """The security questions users register and answer."""

    predefined: tuple[str, ...] = Field(
        default=PREDEFINED_QUESTION_IDS, description="Ids of the predefined questions offered."
    )
    custom: tuple[_CUSTOM_QUESTION, ...] = Field(
        default=(), max_length=20, description="Custom questions (at most 20, up to 200 characters, shown as written)."
    )
    number_to_register: int = Field(default=3, ge=3, le=5, description="Questions a user registers (3 to 5).")
    number_to_reset: int = Field(default=3, ge=3, le=5, description="Questions asked on reset (3 to 5).")

    @model_validator(mode="after")
    def _counts_make_sense(self) -> SecurityQuestionSettings:
        unknown = [q for q in self.predefined if q not in PREDEFINED_QUESTION_IDS]
        if unknown:
            raise ValueError(f"unknown predefined question id(s): {', '.join(unknown)}")
        if self.number_to_reset > self.number_to_register:
            raise ValueError("number_to_reset may not exceed number_to_register")
        # Count distinct questions: a repeated id or custom text does not give the user another choice.
        if len(set(self.predefined)) + len(set(self.custom)) < self.number_to_register:
            raise ValueError("fewer questions are offered than number_to_register")
        return self


class RegistrationSettings(PolicySection):
    """Registration and reconfirmation of verification data."""

    require_on_sign_in: bool = Field(
        default=False,
        description="After a password change (or reset), take a user with fewer registered methods than "
        "self-service needs to registration.",
    )
    reconfirm_days: int = Field(
        default=180,
        ge=0,
        le=730,
        description="Days after which a user who just reset or changed is asked whether their security info "
        "is still up to date (0 = never).",
    )
    write_to_directory: bool = Field(
        default=False,
        description="Also write a registered authentication e-mail and phone to the directory attributes "
        "directory.attributes.auth_email and auth_phone (the service account needs write access); false keeps "
        "them in the backend's store only.",
    )


class NotificationSettings(PolicySection):
    """Who is told when a password is reset."""

    notify_user_on_reset: bool = Field(default=True, description="E-mail the user when their password changes.")
    notify_admins_on_admin_reset: bool = Field(
        default=True, description="E-mail all other administrators when an administrator resets."
    )


class OnPremisesSettings(PolicySection):
    """Writeback to the directory where passwords are managed."""

    writeback: bool = Field(default=True, description="Write new passwords back to the on-premises directory.")
    allow_unlock_without_reset: bool = Field(
        default=True, description="Let a locked-out user unlock their account without a new password."
    )


class PasswordSettings(PolicySection):
    """What a new password must satisfy."""

    min_length: int = Field(default=10, ge=8, le=256, description="Minimum length (8 to 256).")
    max_length: int = Field(default=256, ge=8, le=256, description="Maximum length (8 to 256).")
    required_classes: int = Field(
        default=3, ge=1, le=4, description="Character classes (lower, upper, digit, symbol) needed (1 to 4)."
    )
    history: int = Field(default=5, ge=0, le=24, description="Previous passwords that may not be reused (0 to 24).")
    banned_words: tuple[Annotated[str, Field(min_length=3, max_length=64)], ...] = Field(
        default=(),
        description="Words a password may not contain, in any case and with look-alikes (P@ssw0rd), and for "
        "words of 5+ letters within one typo (Passwerd); the organisation's name is banned too.",
    )
    disallow_user_name: bool = Field(default=True, description="Refuse passwords containing the user's name.")
    min_strength: int = Field(default=2, ge=0, le=4, description="Minimum zxcvbn strength score (0 to 4).")

    @model_validator(mode="after")
    def _lengths_make_sense(self) -> PasswordSettings:
        if self.max_length < self.min_length:
            raise ValueError("max_length must be at least min_length")
        return self


_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


class BrandingSettings(PolicySection):
    """How the kiosk presents the organisation."""

    organisation: str = Field(default="Contoso", min_length=1, max_length=80, description="Organisation name.")
    logo: str = Field(default="", max_length=1024, description="Path to a PNG/SVG logo ('' = none).")
    accent_color: str = Field(default="#0067b8", description="Accent colour as #RRGGBB.")

    @field_validator("accent_color")
    @classmethod
    def _colour_is_hex(cls, value: str) -> str:
        # A field validator (not a model validator) so the error names accent_color, not the table.
        if not _COLOUR.match(value):
            raise ValueError("must look like #RRGGBB, e.g. #0067b8")
        return value


class HelpdeskSettings(PolicySection):
    """Where a refused user is sent."""

    text: str = Field(
        default="",
        max_length=300,
        description="Text shown on refusal ('' = the built-in text, translated into every shipped language).",
    )
    phone: str = Field(default="", max_length=40, description="Helpdesk phone number.")
    url: str = Field(default="", max_length=300, description="Helpdesk web address.")
    email: str = Field(default="", max_length=254, description="Helpdesk e-mail address.")


class KioskTheme(StrEnum):
    """How the kiosk looks: the standard theme, the high-contrast one, or whichever the OS asks for."""

    STANDARD = "standard"
    HIGH_CONTRAST = "high_contrast"
    SYSTEM = "system"


class KioskSettings(PolicySection):
    """The kiosk application itself."""

    idle_timeout_seconds: int = Field(default=120, ge=30, le=3600, description="Idle seconds before a reset.")
    done_countdown_seconds: int = Field(default=15, ge=3, le=120, description="Seconds the done page stays.")
    languages: tuple[Annotated[str, Field(min_length=2, max_length=35)], ...] = Field(
        default=(),
        description="Languages offered in the picker (BCP 47 tags); empty = every language the kiosk ships.",
    )
    default_language: str = Field(default="", max_length=35, description="Default language ('' = the OS locale).")
    branding: BrandingSettings = Field(default=BrandingSettings(), description="How the organisation is presented.")
    helpdesk: HelpdeskSettings = Field(default=HelpdeskSettings(), description="Where a refused user is sent.")
    theme: KioskTheme = Field(
        default=KioskTheme.SYSTEM,
        description="standard, high_contrast, or system (high contrast when the OS asks for it).",
    )
    lockdown: bool = Field(
        default=False,
        description="Kiosk mode: full screen, frameless, on top, no close or minimise (also `kiosk --kiosk`).",
    )
    idle_warning_seconds: int = Field(
        default=30, ge=20, le=120, description="Seconds of visible countdown before an idle reset (20 to 120)."
    )
    on_screen_keyboard: bool = Field(
        default=False, description="Show an on-screen keyboard/keypad for touch kiosks without a physical keyboard."
    )
    admin_exit: bool = Field(
        default=True,
        description="Allow an administrator to leave kiosk mode (a key chord plus the secret set with "
        "`kiosk secrets set admin-exit`); false: no exit from the app at all.",
    )
    offer_recovery: bool = Field(
        default=True,
        description="Offer \"Can't access your account?\" (self-service reset and unlock) on the start page.",
    )
    offer_change: bool = Field(
        default=True, description="Offer \"Change my password\" (with the current password) on the start page."
    )
    offer_registration: bool = Field(
        default=True, description="Offer \"Set up my security info\" (registration) on the start page."
    )

    @model_validator(mode="after")
    def _one_way_in(self) -> KioskSettings:
        if not (self.offer_recovery or self.offer_change or self.offer_registration):
            raise ValueError("offer_recovery, offer_change and offer_registration are all false: nothing to offer")
        return self

    @field_validator("default_language")
    @classmethod
    def _language_is_plain(cls, value: str) -> str:
        # Language tags end up in sessions and logs: no control characters, no invisible direction marks.
        return check_plain(value)

    @field_validator("languages")
    @classmethod
    def _languages_are_plain(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for number, tag in enumerate(value, start=1):
            try:
                check_plain(tag)
            except ValueError as error:
                raise ValueError(f"item {number} {error}") from None
        return value


class BackendMode(StrEnum):
    """Where the service backend runs."""

    EMBEDDED = "embedded"
    SHARED = "shared"


class BackendSettings(PolicySection):
    """Which backend the kiosk talks to."""

    mode: BackendMode = Field(default=BackendMode.EMBEDDED, description="embedded (in-process) or shared (URL).")
    url: str = Field(
        default="",
        max_length=2048,
        description="Base URL of the shared backend (mode = 'shared'): https://; http:// only to a loopback host.",
    )
    ca_file: str = Field(
        default="",
        max_length=1024,
        description="PEM file of the CA that signed the shared backend's certificate ('' = the OS trust store).",
    )
    kiosk_id: str = Field(
        default="",
        max_length=64,
        description="This kiosk's id in audit ('' = host name); a shared backend uses the name in the kiosk's "
        "credential instead (`kiosk secrets set backend`).",
    )
    timeout_seconds: float = Field(default=10.0, gt=0, le=120, description="Request timeout in seconds.")
    session_minutes: int = Field(default=15, ge=1, le=15, description="Minutes a reset session lives (1 to 15).")
    trusted_proxies: tuple[str, ...] = Field(
        default=(),
        max_length=64,
        description=(
            "Addresses (10.0.0.5) or networks (10.1.0.0/16) of reverse proxies whose X-Forwarded-For "
            "header `kiosk serve` believes; from any other peer the header is ignored."
        ),
    )

    @field_validator("kiosk_id")
    @classmethod
    def _kiosk_id_is_plain(cls, value: str) -> str:
        # Written into every audit row: an invisible direction mark would make it read as another id.
        return check_plain(value)

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=True)
            except ValueError:
                raise ValueError(
                    f"{entry[:64]!r} is not an IP address or a network in CIDR form (e.g. '10.0.0.5', "
                    "'10.1.0.0/16', 'fd00::/8'; a network's host bits must be 0)"
                ) from None
        return value

    @model_validator(mode="after")
    def _url_for_shared(self) -> BackendSettings:
        if self.mode is BackendMode.SHARED and not self.url.startswith(("https://", "http://")):
            raise ValueError("mode = 'shared' needs url = 'https://…'")
        return self

    @field_validator("url")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        # A field validator, so the error names backend.url and its line.
        try:
            parts = urlsplit(value.strip())
            host = parts.hostname or ""
        except ValueError:  # an unclosed [IPv6 bracket
            return value  # the mode check above refuses what is no URL at all
        if parts.scheme.lower() == "http" and host and not is_loopback_host(host):
            raise ValueError(
                "http:// sends user IDs, codes and new passwords unencrypted: it is only allowed to a loopback "
                "host (127.0.0.0/8, ::1, localhost); use https:// (kiosk serve --certificate FILE --key FILE) "
                "and set backend.ca_file to the CA that signed the server's certificate"
            )
        return value


class DirectoryKind(StrEnum):
    """Where passwords live."""

    EMBEDDED = "embedded"
    ACTIVE_DIRECTORY = "active_directory"
    OPENLDAP = "openldap"


class EmbeddedDirectorySettings(PolicySection):
    """The embedded directory: a SQLite store inside the backend."""

    database: str = Field(default="", max_length=1024, description="SQLite file ('' = a fresh temporary file).")
    seed_demo_users: bool = Field(default=False, description="Fill an empty store with the demo users.")


class DirectorySettings(PolicySection):
    """The directory the backend reads users from and writes passwords to."""

    kind: DirectoryKind = Field(
        default=DirectoryKind.EMBEDDED, description="Directory kind: embedded, active_directory or openldap."
    )
    embedded: EmbeddedDirectorySettings = Field(
        default=EmbeddedDirectorySettings(),
        description="Settings of the embedded directory (kind = 'embedded'; it also keeps registered questions).",
    )
    active_directory: ActiveDirectorySettings | None = Field(
        default=None, description="Settings of Active Directory (kind = 'active_directory')."
    )
    openldap: OpenLdapSettings | None = Field(default=None, description="Settings of OpenLDAP (kind = 'openldap').")

    @model_validator(mode="after")
    def _settings_for_kind(self) -> DirectorySettings:
        if self.kind is DirectoryKind.ACTIVE_DIRECTORY and self.active_directory is None:
            raise ValueError("kind = 'active_directory' needs a [directory.active_directory] section")
        if self.kind is DirectoryKind.OPENLDAP and self.openldap is None:
            raise ValueError("kind = 'openldap' needs a [directory.openldap] section")
        return self


class DeliveryKind(StrEnum):
    """How codes and notifications are delivered."""

    DEV_OUTBOX = "dev_outbox"
    SMTP = "smtp"


class SmtpSecurity(StrEnum):
    """How the SMTP connection is protected."""

    STARTTLS = "starttls"
    TLS = "tls"
    NONE = "none"


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
"""Hosts an unencrypted connection (SMTP `security = "none"`, a gateway's http://) is allowed to."""


class SmtpSettings(PolicySection):
    """The SMTP server codes and notifications are sent through (`delivery.kind = "smtp"`)."""

    host: str = Field(default="", max_length=253, description="Host name of the SMTP server (required for smtp).")
    port: int = Field(
        default=587, ge=1, le=65535, description="Port of the SMTP server: 587 for starttls, 465 for tls."
    )
    security: SmtpSecurity = Field(
        default=SmtpSecurity.STARTTLS,
        description="starttls upgrades a plain connection, tls connects with TLS; none only to a loopback host.",
    )
    username: str = Field(
        default="",
        max_length=256,
        description="User to authenticate as ('' = no authentication); the password is in the OS keyring "
        "(`kiosk secrets set smtp`).",
    )
    ca_file: str = Field(
        default="", description="PEM file of the CA that signed the server's certificate ('' = system CAs)."
    )
    timeout_seconds: float = Field(
        default=15.0, gt=0, le=120, description="Seconds to wait for the SMTP server before a send fails."
    )
    from_address: str = Field(
        default="", max_length=254, description="From address of the messages ('' = delivery.sender_address)."
    )

    @model_validator(mode="after")
    def _plain_only_to_loopback(self) -> SmtpSettings:
        if self.security is SmtpSecurity.NONE and self.host.strip().lower() not in LOOPBACK_HOSTS:
            raise ValueError(
                'security = "none" sends codes unencrypted: it is only allowed to a loopback host '
                f"({', '.join(sorted(LOOPBACK_HOSTS))}); use starttls or tls"
            )
        return self


class GatewayKind(StrEnum):
    """The HTTP gateway SMS codes and voice calls go through."""

    NONE = "none"
    WEBHOOK = "webhook"
    TWILIO = "twilio"


TWILIO_API_URL = "https://api.twilio.com"
"""Where `kind = "twilio"` sends to when `url` is empty."""


class GatewaySettings(PolicySection):
    """The HTTP gateway for SMS codes and voice calls (`[delivery.gateway]`, with `delivery.kind = "smtp"`)."""

    kind: GatewayKind = Field(
        default=GatewayKind.NONE,
        description="none (SMS and voice methods cannot be delivered), webhook (JSON POST to url) or "
        "twilio (the Twilio REST API, or a service compatible with it).",
    )
    url: str = Field(
        default="",
        max_length=2048,
        description="https:// address: the webhook itself, or the base of the Twilio-compatible API "
        f"('' = {TWILIO_API_URL} for twilio); http:// only to a loopback host.",
    )
    account: str = Field(
        default="",
        max_length=64,
        description="Twilio Account SID (required for twilio; '' for webhook); the auth token is in the OS "
        "keyring (`kiosk secrets set gateway`), as is the webhook's bearer token.",
    )
    from_number: str = Field(
        default="",
        max_length=40,
        description="Number (E.164, e.g. +15551234567) or sender ID that SMS and calls come from "
        "(required for twilio; sent as 'from' to a webhook when set).",
    )
    timeout_seconds: float = Field(
        default=15.0, gt=0, le=120, description="Seconds to wait for the gateway before a send fails."
    )
    ca_file: str = Field(
        default="", description="PEM file of the CA that signed the gateway's certificate ('' = system CAs)."
    )

    @field_validator("url")
    @classmethod
    def _https_unless_loopback(cls, value: str) -> str:
        # A field validator, so the error names delivery.gateway.url and its line.
        url = value.strip()
        if not url:
            return value
        example = "must be an address like https://sms.contoso.com/send"
        try:
            parts = urlsplit(url)
            host = (parts.hostname or "").lower()
            parts.port  # noqa: B018 - raises ValueError for a port out of range
        except ValueError:  # an unclosed [IPv6 bracket, a port out of range
            raise ValueError(example) from None
        if parts.scheme.lower() not in ("https", "http") or not host:
            raise ValueError(example)
        if parts.username is not None or parts.password is not None:
            raise ValueError(
                "may not hold a user or password: the token goes in the OS keyring (kiosk secrets set gateway)"
            )
        if parts.scheme.lower() == "http" and host not in LOOPBACK_HOSTS:
            raise ValueError(
                "http:// sends codes and the gateway token unencrypted: it is only allowed to a loopback "
                f"host ({', '.join(sorted(LOOPBACK_HOSTS))}); use https://"
            )
        return value

    @model_validator(mode="after")
    def _settings_for_kind(self) -> GatewaySettings:
        if self.kind is GatewayKind.WEBHOOK and not self.url.strip():
            raise ValueError('kind = "webhook" needs url, the address codes are POSTed to')
        if self.kind is GatewayKind.TWILIO:
            missing = [name for name in ("account", "from_number") if not getattr(self, name).strip()]
            if missing:
                raise ValueError(
                    f'kind = "twilio" needs {" and ".join(missing)} (the Account SID and the number messages come from)'
                )
        return self

    @property
    def base_url(self) -> str:
        """The address to send to: `url`, or Twilio's own API for twilio when `url` is empty."""
        url = self.url.strip()
        if not url and self.kind is GatewayKind.TWILIO:
            return TWILIO_API_URL
        return url.rstrip("/") if self.kind is GatewayKind.TWILIO else url


class DeliverySettings(PolicySection):
    """How the backend sends codes and notifications."""

    kind: DeliveryKind = Field(
        default=DeliveryKind.DEV_OUTBOX,
        description="dev_outbox keeps messages for the demo inbox (demo only); smtp sends e-mail ([delivery.smtp]) "
        "and SMS/voice through [delivery.gateway].",
    )
    sender_address: str = Field(default="no-reply@contoso.example", max_length=254, description="From address.")
    smtp: SmtpSettings = Field(default=SmtpSettings(), description="The SMTP server, for kind = smtp.")
    gateway: GatewaySettings = Field(
        default=GatewaySettings(),
        description="The HTTP gateway SMS codes and voice calls go through, for kind = smtp (e-mail stays on SMTP).",
    )

    @model_validator(mode="after")
    def _smtp_host_for_smtp(self) -> DeliverySettings:
        if self.kind is DeliveryKind.SMTP and not self.smtp.host.strip():
            raise ValueError('delivery.kind = "smtp" needs delivery.smtp.host')
        if self.kind is DeliveryKind.DEV_OUTBOX and self.gateway.kind is not GatewayKind.NONE:
            raise ValueError(
                'delivery.gateway is used with delivery.kind = "smtp" only; the dev outbox keeps every '
                'message for the demo inbox (set delivery.gateway.kind = "none" or delivery.kind = "smtp")'
            )
        return self


class CaptchaSettings(PolicySection):
    """The human check before the user ID is looked up."""

    audio: bool = Field(
        default=True, description="Offer the CAPTCHA read aloud, in the user's language where a voice exists."
    )
    no_transcription_alternative: bool = Field(
        default=False,
        description="Also offer a check that needs no typing of distorted characters (WCAG 2.2 SC 3.3.8); the "
        "abuse limits apply to it unchanged.",
    )


class LimitSettings(PolicySection):
    """Abuse limits (SPEC §4). The per-user ones may only be stricter than the anchor's, never looser."""

    failed_proofs_per_day: int = Field(
        default=5, ge=1, le=5, description="Failed identity proofs (wrong code, app code or answers) in 24 h "
        "before the user is blocked (1 to 5)."
    )
    attempts_per_hour: int = Field(
        default=5, ge=1, le=5, description="SMS/voice codes sent, app codes and answer sets checked per user "
        "in 1 h; one more blocks (1 to 5)."
    )
    emails_per_10_minutes: int = Field(
        default=10, ge=1, le=10, description="E-mailed codes per user in 10 min; one more blocks (1 to 10)."
    )
    resets_per_hour: int = Field(
        default=5, ge=1, le=5, description="Resets or unlocks of one account in 1 h; one more blocks (1 to 5)."
    )
    block_hours: int = Field(
        default=24, ge=24, le=168, description="How long a user stays blocked once a limit trips (24 to 168 h)."
    )
    kiosk_distinct_accounts: int = Field(
        default=20, ge=1, le=10_000, description="Different accounts one kiosk (and one source address) may "
        "identify within kiosk_window_minutes; raise it for a busy lobby kiosk."
    )
    kiosk_window_minutes: int = Field(
        default=10, ge=1, le=1440, description="The window of kiosk_distinct_accounts, in minutes."
    )
    kiosk_sessions_per_10_minutes: int = Field(
        default=30, ge=1, le=10_000, description="Sessions one kiosk (and one source address) may open in 10 min "
        "(each draws a CAPTCHA); one more is refused until the oldest leaves the 10 minutes. Raise it for a "
        "busy lobby kiosk, or for several kiosks behind one address."
    )
    captchas_per_session: int = Field(
        default=20, ge=1, le=1000, description="New CAPTCHAs (a new picture, a picture check, the CAPTCHA read "
        "aloud) one session may ask for; one more is refused until the session ends (1 to 1000)."
    )


class Policy(PolicySection):
    """The whole policy file."""

    reset: ResetSettings = Field(default=ResetSettings(), description="Who may use self-service password reset.")
    methods: MethodSettings = Field(default=MethodSettings(), description="Verification methods and gates.")
    security_questions: SecurityQuestionSettings = Field(
        default=SecurityQuestionSettings(), description="Security questions users register and answer."
    )
    registration: RegistrationSettings = Field(
        default=RegistrationSettings(), description="Registration and reconfirmation of verification data."
    )
    notifications: NotificationSettings = Field(
        default=NotificationSettings(), description="Who is e-mailed when a password is reset."
    )
    on_premises: OnPremisesSettings = Field(
        default=OnPremisesSettings(), description="Writeback to the on-premises directory, and unlock."
    )
    password: PasswordSettings = Field(default=PasswordSettings(), description="What a new password must satisfy.")
    kiosk: KioskSettings = Field(default=KioskSettings(), description="The kiosk application: timeouts, languages.")
    backend: BackendSettings = Field(default=BackendSettings(), description="Which service backend the kiosk uses.")
    directory: DirectorySettings = Field(default=DirectorySettings(), description="Where passwords live.")
    delivery: DeliverySettings = Field(
        default=DeliverySettings(), description="How codes and notifications are delivered."
    )
    captcha: CaptchaSettings = Field(default=CaptchaSettings(), description="The human check at the user ID.")
    limits: LimitSettings = Field(
        default=LimitSettings(), description="Abuse limits: per user (stricter only) and per kiosk/address."
    )
    audit: AuditSettings = Field(
        default=AuditSettings(), description="The audit trail: copies of its events sent to a syslog server."
    )
    store: StoreSettings = Field(
        default=StoreSettings(), description="Where the backend keeps its state: SQLite, or PostgreSQL for replicas."
    )

    @model_validator(mode="after")
    def _every_method_can_be_delivered(self) -> Policy:
        # Across two sections, so raised with the location itself: the problem is reported at
        # methods.enabled (its line, or its Group Policy value), where the administrator fixes it.
        unreachable = [method.value for method in self.methods.enabled if method in PHONE_METHODS]
        if (
            unreachable
            and self.delivery.kind is DeliveryKind.SMTP
            and self.delivery.gateway.kind is GatewayKind.NONE
        ):
            them = "it" if len(unreachable) == 1 else "them"
            message = (
                f"{', '.join(unreachable)} cannot be delivered: there is no gateway for SMS and voice calls "
                '(delivery.kind = "smtp" carries e-mail only); configure [delivery.gateway] (kind = "webhook" '
                f'or "twilio") or remove {them} from methods.enabled'
            )
            raise ValidationError.from_exception_data(
                "Policy",
                [
                    InitErrorDetails(
                        type=PydanticCustomError("undeliverable_method", message),
                        loc=("methods", "enabled"),
                        input=[method.value for method in self.methods.enabled],
                    )
                ],
            )
        return self

    @property
    def demo(self) -> bool:
        """True when the policy runs the demo: dev outbox delivery (messages readable by anyone at the kiosk)."""
        return self.delivery.kind is DeliveryKind.DEV_OUTBOX
