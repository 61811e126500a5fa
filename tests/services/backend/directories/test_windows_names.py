"""`windows_names` and the effective-rights reading of the AD adapter, without a server: what filter each typed ID
becomes, that no typed character ever escapes its filter value, and which missing writes refuse a reset."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.services.api import ErrorCode
from kiosk.services.backend.directory.active_directory import missing_writes
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.directory.ldap import has_control_character
from kiosk.services.backend.directory.windows_names import DomainNames, dns_name_of, identifier_condition
from kiosk.services.backend.recovery.eligibility import evaluate

from ..conftest import demo_policy

DOMAIN = DomainNames(netbios="CONTOSO", dns="contoso.com")
ATTRIBUTES = ("userPrincipalName", "sAMAccountName", "mail")


def condition(typed: str, domain: DomainNames = DOMAIN) -> str | None:
    return identifier_condition(typed, ATTRIBUTES, "sAMAccountName", domain)


def test_a_plain_id_is_matched_against_every_identifier_attribute() -> None:
    assert condition("alice") == "(|(userPrincipalName=alice)(sAMAccountName=alice)(mail=alice))"


@pytest.mark.parametrize("typed", ["CONTOSO\\alice", "contoso\\alice", "Contoso\\alice"])
def test_netbios_domain_backslash_user_is_the_account_name_only(typed: str) -> None:
    assert condition(typed) == "(sAMAccountName=alice)"


@pytest.mark.parametrize(
    "typed", ["FABRIKAM\\alice", "contoso.com\\alice", "\\alice", "CONTOSO\\", "CONTOSO\\a\\b", "CONTOSO\\\\alice"]
)
def test_any_other_backslash_form_finds_nobody(typed: str) -> None:
    assert condition(typed) is None


def test_without_a_known_netbios_name_domain_backslash_finds_nobody() -> None:
    assert condition("CONTOSO\\alice", DomainNames(netbios="", dns="contoso.com")) is None
    assert condition("\\alice", DomainNames(netbios="", dns="contoso.com")) is None


def test_the_implicit_upn_adds_the_account_name_at_the_domains_dns_name() -> None:
    assert condition("alice@Contoso.COM") == (
        "(|(userPrincipalName=alice@Contoso.COM)(sAMAccountName=alice@Contoso.COM)(mail=alice@Contoso.COM)"
        "(sAMAccountName=alice))"
    )
    assert "(sAMAccountName=alice)" not in (condition("alice@fabrikam.com") or "")
    assert "(sAMAccountName=)" not in (condition("@contoso.com") or "")


def test_metacharacters_stay_inside_their_filter_values() -> None:
    assert condition("CONTOSO\\*)(cn=*") == "(sAMAccountName=\\2a\\29\\28cn=\\2a)"
    assert condition("a*)(x@contoso.com") == (
        "(|(userPrincipalName=a\\2a\\29\\28x@contoso.com)(sAMAccountName=a\\2a\\29\\28x@contoso.com)"
        "(mail=a\\2a\\29\\28x@contoso.com)(sAMAccountName=a\\2a\\29\\28x))"
    )


def _values(filter_text: str) -> list[str]:
    """The assertion values of a filter built of `(name=value)` items inside at most one `(|…)`."""
    inner = filter_text[2:-1] if filter_text.startswith("(|") else filter_text
    return [item.split("=", 1)[1] for item in inner[1:-1].split(")(")]


@given(st.text(max_size=40))
def test_no_typed_text_adds_a_filter_item(typed: str) -> None:
    built = condition(typed)
    if built is None:
        return
    # Every value is escaped: no raw parenthesis, asterisk or backslash other than `\xx` escapes.
    for value in _values(built):
        assert "(" not in value and ")" not in value and "*" not in value
        assert all(part[:2].isalnum() and len(part) >= 2 for part in value.split("\\")[1:])
    local, at, suffix = typed.rpartition("@")
    implicit = bool(at and local) and suffix.casefold() == DOMAIN.dns
    assert len(_values(built)) == (1 if "\\" in typed else len(ATTRIBUTES) + implicit)


def test_dns_name_of_a_naming_context() -> None:
    assert dns_name_of("DC=Contoso,DC=com") == "contoso.com"
    assert dns_name_of("OU=x,DC=corp, dc=contoso ,DC=com") == "corp.contoso.com"
    assert dns_name_of("") == ""


@pytest.mark.parametrize(("value", "control"), [("alice", False), ("alice\x00", True), ("a\x1fb", True),
                                                 ("a\x85b", True), ("Zoë O'Brien", False), ("a\tb", True)])  # fmt: skip
def test_control_characters_are_recognised(value: str, control: bool) -> None:
    assert has_control_character(value) is control


def test_missing_writes_are_the_reset_attributes_the_account_may_not_write() -> None:
    assert missing_writes(["lockoutTime", "pwdLastSet", "mail"]) == ()
    assert missing_writes(["LOCKOUTTIME", "pwdlastset"]) == ()
    assert missing_writes(["lockoutTime"]) == ("write pwdLastSet",)
    assert missing_writes([]) == ("write lockoutTime", "write pwdLastSet")


def test_a_missing_right_refuses_before_any_gate_unless_writeback_is_off_anyway() -> None:
    policy = demo_policy()
    policy = policy.model_copy(update={"on_premises": policy.on_premises.model_copy(update={"writeback": True})})
    kim = DirectoryUser(login="kim", display_name="Kim", groups=("SSPR-Users",), auth_email="kim@contoso.com",
                        password_managed_on_premises=True)  # fmt: skip
    assert evaluate(kim, policy).refusals == ()
    protected = replace(kim, missing_rights=("write pwdLastSet",))
    assert evaluate(protected, policy).refusals == (ErrorCode.WRITEBACK_NOT_PERMITTED,)
    assert evaluate(replace(protected, auth_email=""), policy).refusals == (
        ErrorCode.WRITEBACK_NOT_PERMITTED,
        ErrorCode.TOO_FEW_METHODS,
    )
    no_writeback = demo_policy()  # writeback off: that is the reason, the rights do not matter
    assert evaluate(protected, no_writeback).refusals == (ErrorCode.WRITEBACK_DISABLED,)
    embedded = replace(protected, password_managed_on_premises=False)  # the kiosk writes its own store
    assert evaluate(embedded, policy).refusals == ()
