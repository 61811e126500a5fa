"""Pure parts of the LDAP adapters: filter escaping, refusal reasons, ppolicy control decoding, the schema."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from kiosk.policy.directory_schema import OpenLdapSettings
from kiosk.policy.password import PasswordRule
from kiosk.services.backend.directory.active_directory import unicode_pwd
from kiosk.services.backend.directory.errors import (
    is_password_policy_refusal,
    password_rule_from_message,
    ppolicy_error,
)
from kiosk.services.backend.directory.ldap import escape_filter_value


def test_filter_values_are_escaped_per_rfc_4515() -> None:
    assert escape_filter_value("*)(uid=*") == "\\2a\\29\\28uid=\\2a"
    assert escape_filter_value("a\\b\x00") == "a\\5cb\\00"
    assert escape_filter_value("O'Brien, Pat") == "O'Brien, Pat"


@pytest.mark.parametrize(
    ("message", "rule"),
    [
        ("0000052D: Constraint violation - check_password_restrictions: the password is too short. It should be "
         "equal or longer than 7 characters!", PasswordRule.DIRECTORY_TOO_SHORT),
        ("0000052D: check_password_restrictions: the password does not meet the complexity criteria!",
         PasswordRule.DIRECTORY_COMPLEXITY),
        ("0000052D: check_password_restrictions: the password was already used (in history)!",
         PasswordRule.DIRECTORY_HISTORY),
        ("0000052D: check_password_restrictions: password is too young to change!", PasswordRule.DIRECTORY_TOO_YOUNG),
        ("Password is in history of old passwords", PasswordRule.DIRECTORY_HISTORY),
        ("Password fails quality checking policy", PasswordRule.DIRECTORY_COMPLEXITY),
        ("0000052D: SvcErr: DSID-031A12D2, problem 5003 (WILL_NOT_PERFORM)", PasswordRule.DIRECTORY_POLICY),
    ],
)  # fmt: skip
def test_directory_messages_name_the_reason(message: str, rule: PasswordRule) -> None:
    assert password_rule_from_message(message) is rule


def test_policy_refusals_are_told_from_access_errors() -> None:
    assert is_password_policy_refusal("unwillingToPerform", "0000052D: SvcErr")
    assert is_password_policy_refusal("constraintViolation", "Password fails quality checking policy")
    assert not is_password_policy_refusal("insufficientAccessRights", "no write access")


def test_ppolicy_response_control_is_decoded() -> None:
    assert ppolicy_error(bytes.fromhex("3003810101")) == 1  # accountLocked
    assert ppolicy_error(bytes.fromhex("3003810108")) == 8  # passwordInHistory
    assert ppolicy_error(bytes.fromhex("3008a003800100810106")) == 6  # warning, then passwordTooShort
    assert ppolicy_error(b"") is None
    assert ppolicy_error(b"\x04\x00") is None


def test_unicode_pwd_is_quoted_utf16le() -> None:
    assert unicode_pwd("Ab1!") == '"Ab1!"'.encode("utf-16-le")


def test_plain_ldap_without_start_tls_is_refused() -> None:
    base = {"base_dn": "dc=example,dc=test", "bind_dn": "cn=svc,dc=example,dc=test"}
    with pytest.raises(ValidationError, match="plain LDAP"):
        OpenLdapSettings.model_validate({**base, "urls": ["ldap://127.0.0.1:389"]})
    assert OpenLdapSettings.model_validate({**base, "urls": ["ldap://127.0.0.1:389"], "start_tls": True}).start_tls
    with pytest.raises(ValidationError, match="not an LDAP URL"):
        OpenLdapSettings.model_validate({**base, "urls": ["http://127.0.0.1"]})


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        # a silent ldaps:// server: the timeout happens inside the TLS handshake
        ("socket ssl wrapping error: _ssl.c:989: The handshake operation timed out", "timeout"),
        ("error receiving data: timed out", "timeout"),
        ("socket ssl wrapping error: [SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed", "tls"),
        ("socket connection error while opening: [Errno 111] Connection refused", "unreachable"),
    ],
)
def test_a_slow_server_is_a_timeout_and_a_bad_certificate_is_tls(message: str, reason: str) -> None:
    from ldap3.core.exceptions import LDAPSocketOpenError

    from kiosk.services.backend.directory.errors import unavailability_of

    assert unavailability_of(LDAPSocketOpenError(message)).value == reason
