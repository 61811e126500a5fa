"""The directory adapters' own errors, and the mapping of ldap3's exceptions and server messages onto them.

ldap3's exceptions can quote the request (a DN, a filter, even an attribute value), so they are
classified here and re-raised as our errors `from None`: nothing of theirs reaches a log or a page.
"""

from __future__ import annotations

import re
from enum import StrEnum

from kiosk.policy.password import PasswordRule


class Unavailability(StrEnum):
    """Why the directory could not be used; the value is audited."""

    UNREACHABLE = "unreachable"
    TIMEOUT = "timeout"
    TLS = "tls"
    SERVICE_BIND_REFUSED = "service_bind_refused"
    TLS_REQUIRED = "tls_required"
    NO_CREDENTIAL = "no_credential"


class DirectoryError(Exception):
    """Base of every directory adapter failure; the message never holds request content."""


class DirectoryUnavailable(DirectoryError):
    """The directory is down, too slow, refuses TLS or the service account: nothing was changed."""

    def __init__(self, reason: Unavailability, detail: str = "") -> None:
        super().__init__(f"directory unavailable: {reason.value}{': ' + detail if detail else ''}")
        self.reason = reason
        self.detail = detail


class PasswordRefused(DirectoryError):
    """The directory's own password policy refused a new password: nothing was changed."""

    def __init__(self, rule: PasswordRule) -> None:
        super().__init__(f"the directory refused the password: {rule.value}")
        self.rule = rule


class AmbiguousUser(DirectoryError):
    """A user ID matched more than one entry: the kiosk never guesses which one was meant."""

    def __init__(self) -> None:
        super().__init__("the user ID matches more than one directory entry")


class WrongCurrentPassword(DirectoryError):
    """The user's own password change was refused: the current password they typed is wrong."""

    def __init__(self) -> None:
        super().__init__("the current password is wrong")


class PasswordChangeRequired(DirectoryError):
    """A bind with the user's right password was refused until the password is changed (Active Directory:
    "must change password at next logon", or expired): right for a sign-in to change it, no use for more."""

    def __init__(self) -> None:
        super().__init__("the password is right but must be changed before it can be used")


class WriteFailed(DirectoryError):
    """The directory refused a write for another reason (access rights, missing entry): nothing was changed.

    `result` is the directory's reason as a stable short code (`write_reason`): the LDAP result name
    (`insufficientAccessRights`, `noSuchObject`, `unwillingToPerform` …) or the adapter's own
    (`administrator_lock`). It is audited and logged, so it never holds a request value.
    """

    def __init__(self, result: str) -> None:
        self.result = write_reason(result)
        super().__init__(f"the directory refused the change: {self.result}")


_NOT_A_CODE = re.compile(r"[^A-Za-z0-9_]+")


def write_reason(result: str) -> str:
    """`result` as a short code of letters, digits and `_` (at most 64), 'unknown' when nothing is left."""
    return _NOT_A_CODE.sub("_", result).strip("_")[:64] or "unknown"


_REASONS: tuple[tuple[tuple[str, ...], PasswordRule], ...] = (
    (("too short", "passwordtooshort"), PasswordRule.DIRECTORY_TOO_SHORT),
    (("too young", "passwordtooyoung"), PasswordRule.DIRECTORY_TOO_YOUNG),
    (("history", "already used", "not being changed"), PasswordRule.DIRECTORY_HISTORY),
    (("complexity", "quality"), PasswordRule.DIRECTORY_COMPLEXITY),
)

PPOLICY_ERRORS: dict[int, PasswordRule] = {
    5: PasswordRule.DIRECTORY_COMPLEXITY,  # insufficientPasswordQuality
    6: PasswordRule.DIRECTORY_TOO_SHORT,  # passwordTooShort
    7: PasswordRule.DIRECTORY_TOO_YOUNG,  # passwordTooYoung
    8: PasswordRule.DIRECTORY_HISTORY,  # passwordInHistory
}
"""draft-behera-ldap-password-policy error codes that say why a new password was refused."""

AD_PASSWORD_POLICY_CODE = "0000052d"  # noqa: S105 - an error code, not a password
"""AD's extended error for 'the password does not meet the policy' (ERROR_PASSWORD_RESTRICTION)."""


AD_WRONG_PASSWORD_CODE = "00000056"  # noqa: S105 - an error code, not a password
"""AD's extended error for "the old password of a user change is wrong" (ERROR_INVALID_PASSWORD), as in
Samba's "00000056: Constraint violation - check_password_restrictions: The old password specified doesn't
match!" (measured on Samba 4.17)."""
AD_CHANGE_REQUIRED = ("data 773", "data 532")
"""What AD (and Samba, measured) puts in a refused bind's message when the password was right but must be
changed first: ERROR_PASSWORD_MUST_CHANGE (pwdLastSet = 0) and ERROR_PASSWORD_EXPIRED. A wrong password is
`data 52e` whatever the account's state, so these never confirm a wrong password."""


def change_required(message: str) -> bool:
    """True when a refused bind's message (AD's AcceptSecurityContext text) says the password was right
    but must be changed before it can be used."""
    folded = message.casefold()
    return any(code in folded for code in AD_CHANGE_REQUIRED)


def password_rule_from_message(message: str) -> PasswordRule:
    """The refusal reason in a directory's diagnostic message (AD's 0000052D text, ppolicy's text)."""
    folded = message.casefold()
    for needles, rule in _REASONS:
        if any(needle in folded for needle in needles):
            return rule
    return PasswordRule.DIRECTORY_POLICY


def ppolicy_error(control_value: bytes | None) -> int | None:
    """The `error` of a password policy response control (BER `30 len [80 warning] [81 01 code]`)."""
    if not control_value or len(control_value) < 2 or control_value[0] != 0x30:
        return None
    position, end = 2, 2 + control_value[1]
    while position + 1 < min(end, len(control_value)):
        tag, length = control_value[position], control_value[position + 1]
        body = control_value[position + 2 : position + 2 + length]
        if tag == 0x81 and body:
            return int.from_bytes(body, "big")
        position += 2 + length
    return None


def is_password_policy_refusal(result: str, message: str) -> bool:
    """True when a failed password write was refused by the password policy (not by access rights)."""
    if AD_PASSWORD_POLICY_CODE in message.casefold():
        return True
    return result in ("constraintViolation", "unwillingToPerform") and "insufficient access" not in message.lower()


def unavailability_of(error: Exception) -> Unavailability:
    """Classify an ldap3 communication exception (its text is read here and never passed on)."""
    import ldap3.core.exceptions as ldap_errors

    text = str(error).casefold()
    # First: a server that accepts but never answers times out inside the TLS handshake on
    # ldaps:// ("socket ssl wrapping error: … handshake operation timed out"): that is a slow
    # server, not a TLS misconfiguration, and must not stop the backend at start-up.
    if "timed out" in text or "timeout" in text:
        return Unavailability.TIMEOUT
    if isinstance(error, ldap_errors.LDAPStartTLSError) or "ssl" in text or "certificate" in text:
        return Unavailability.TLS
    if isinstance(error, ldap_errors.LDAPInvalidCredentialsResult):
        return Unavailability.SERVICE_BIND_REFUSED
    if isinstance(error, ldap_errors.LDAPStrongerAuthRequiredResult | ldap_errors.LDAPConfidentialityRequiredResult):
        return Unavailability.TLS_REQUIRED
    return Unavailability.UNREACHABLE


_VERIFY_FAILURE = re.compile(r"certificate verify failed: ([^()\]\n]{1,200})", re.IGNORECASE)


def tls_failure(error: Exception) -> str:
    """What a failed TLS handshake says about the certificate ("unable to get local issuer certificate",
    "Hostname mismatch, …"), else ''; only that phrase of the exception's text is kept."""
    found = _VERIFY_FAILURE.search(str(error))
    return f"certificate verify failed: {found.group(1).strip().rstrip('.')}" if found else ""
