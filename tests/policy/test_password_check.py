"""`check_password`: any length the policy allows, banned words as Azure AD matches them, NFC.

The one function the backend (authoritative), the flow engine and the live checklist share.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.policy.password import (
    FUZZY_MIN_LENGTH,
    STRENGTH_INPUT_LIMIT,
    PasswordRule,
    PasswordRules,
    check_password,
    normalize_password,
    strength_score,
)
from kiosk.policy.schema import BrandingSettings, KioskSettings, PasswordSettings, Policy

DEMO_RULES = PasswordRules.from_settings(PasswordSettings(banned_words=("contoso", "password", "welcome")))
"""The demo policy's rules: 10–256 characters, 3 classes, strength 2, history 5, three banned words."""
EMMA = ("emma", "Emma Jansen")
_WORDS = (
    "Quartz lantern 97 Orbit meadow Falcon tundra Ginger harbor Violet canyon Maple ember Juniper cobalt "
    "Saffron glacier Nimbus pebble Thistle 48 Marble sparrow Cedar lagoon Tango willow Amber rocket"
).split()


def organisation_policy(name: str) -> Policy:
    """A policy for an organisation called `name`."""
    return Policy(kiosk=KioskSettings(branding=BrandingSettings(organisation=name)))


def passphrase(length: int) -> str:
    """A varied passphrase of exactly `length` characters (words joined by '-', cut to length)."""
    text = "-".join(_WORDS)
    while len(text) < length:
        text += "-" + "-".join(reversed(_WORDS))
    return text[:length]


# --- finding 5: any length the policy allows ------------------------------------------------------


@pytest.mark.parametrize("length", [72, 73, 128, 256])
def test_a_passphrase_of_any_allowed_length_is_checked(length: int) -> None:
    password = passphrase(length)
    assert len(password) == length
    check = check_password(password, DEMO_RULES, EMMA)
    assert check.ok, check.failed
    assert check.strength >= 3  # a varied passphrase is strong, at every length


@pytest.mark.parametrize("length", [257, 300, 1000])
def test_longer_than_the_policy_is_a_failed_rule_not_an_error(length: int) -> None:
    check = check_password(passphrase(length), DEMO_RULES, EMMA)
    assert check.failed == (PasswordRule.MAX_LENGTH,)


def test_the_strength_of_a_long_password_is_the_strength_of_its_first_72_characters() -> None:
    # A long run of one letter does not become strong by its length, nor by a good tail.
    weak_head = "a" * 100 + "-Quartz-Lantern-97"
    assert strength_score(weak_head) == strength_score(weak_head[:STRENGTH_INPUT_LIMIT]) == 0
    check = check_password(weak_head, DEMO_RULES, EMMA)
    assert PasswordRule.STRENGTH in check.failed
    strong = passphrase(200)
    assert strength_score(strong) == strength_score(strong[:STRENGTH_INPUT_LIMIT]) == 4


# Any printable text: no control characters (Cc) and no lone surrogates (Cs): what the API lets through.
PRINTABLE = st.text(st.characters(blacklist_categories=("Cc", "Cs")), min_size=1, max_size=256)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(password=PRINTABLE, names=st.tuples(st.text(max_size=20), st.text(max_size=40)))
def test_any_printable_password_up_to_the_maximum_never_raises(password: str, names: tuple[str, str]) -> None:
    rules = PasswordRules.from_policy(organisation_policy("Contoso Ltd."))
    check = check_password(password, DEMO_RULES, names)
    assert 0 <= check.strength <= 4
    assert (PasswordRule.MAX_LENGTH in check.failed) == (len(normalize_password(password)) > 256)
    assert check_password(password, rules, names).strength == check.strength


@settings(max_examples=40, deadline=None)
@given(length=st.integers(min_value=10, max_value=256))
def test_every_length_from_min_to_max_of_a_good_passphrase_passes(length: int) -> None:
    assert check_password(passphrase(length), DEMO_RULES, EMMA).ok


# --- finding 6: banned words after normalization, within one edit ---------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "C0nt0so-Kiosk-2025",  # 0 → o
        "P@ssw0rd-Lobby-99",  # @ → a, 0 → o
        "W3lcome-Lobby-99",  # 3 → e
        "PA$$W0RD-Lobby-99",  # case, $ → s
        "We1come-Lobby-99",  # 1 → l
        "W€lc0m€-Lobby-99",  # € → e
        "Welcom-Lobby-99",  # one deletion
        "Wellcome-Lobby-99",  # one insertion
        "Passwerd-Lobby-99",  # one substitution
        "K0ntoso-Lobby-99",  # a substitution and a mapped digit
        "Lobby-99-pAsSwOrD",  # anywhere, any case
        "Ｃｏｎｔｏｓｏ-Lobby-99",  # full-width letters (NFKC)
        "Wélcömé-Lobby-99",  # accents
    ],
)
def test_a_disguised_banned_word_is_refused(password: str) -> None:
    assert PasswordRule.NO_BANNED_WORDS in check_password(password, DEMO_RULES, EMMA).failed


@pytest.mark.parametrize(
    "password",
    ["Tulip-Harbor-93!", "Lantern-Orbit-Meadow-42", "Quartz-lantern-97-Orbit", "Pass-the-Salt-and-Word-88"],
)
def test_ordinary_passwords_are_not_caught_by_the_fuzzy_match(password: str) -> None:
    rules = PasswordRules.from_policy(
        Policy(password=PasswordSettings(banned_words=("contoso", "password", "welcome")))
    )
    assert check_password(password, rules, EMMA).ok


def test_short_banned_words_are_matched_exactly_after_normalization_only() -> None:
    rules = PasswordRules.from_settings(PasswordSettings(banned_words=("acme", "zyx")))
    assert FUZZY_MIN_LENGTH == 5
    for banned in ("Acme-Harbor-93!", "4CME-Harbor-93!", "Harbor-zyx-93!", "Harbor-ZYX-93!"):
        assert PasswordRule.NO_BANNED_WORDS in check_password(banned, rules).failed, banned
    # One edit away from a 4-letter word is any 3-letter fragment of it: not banned.
    for fine in ("Place-Grace-2025!", "Acne-Harbor-93!", "Acre-Harbor-93!", "Xyz-Harbor-93!"):
        assert PasswordRule.NO_BANNED_WORDS not in check_password(fine, rules).failed, fine


def test_five_letter_words_are_matched_within_one_edit() -> None:
    rules = PasswordRules.from_settings(PasswordSettings(banned_words=("kiosk",)))
    for banned in ("Kiosc-Harbor-93!", "Kiosks-Harbor-93!", "Kisk-Harbor-93!", "K1osk-Harbor-93!"):
        assert PasswordRule.NO_BANNED_WORDS in check_password(banned, rules).failed, banned
    assert PasswordRule.NO_BANNED_WORDS not in check_password("Kit-Harbor-93!", rules).failed


def test_the_organisation_name_is_banned_without_being_listed() -> None:
    rules = PasswordRules.from_policy(organisation_policy("Fabrikam Inc."))
    assert rules.banned_words == ()
    for banned in ("Fabrikam-Lobby-99", "F4br1kam-Lobby-99", "Fabrikan-Lobby-99"):
        assert PasswordRule.NO_BANNED_WORDS in check_password(banned, rules).failed, banned
    # A short word of the name ("Inc") is no banned word: it would refuse "Incoming", "Zinc" …
    assert check_password("Zinc-Incoming-Tide-42", rules).ok


def test_a_name_of_several_words_is_banned_joined_too() -> None:
    rules = PasswordRules.from_policy(organisation_policy("Coca-Cola Company"))
    for banned in ("CocaCola-Lobby-99", "C0caC0la-Lobby-99", "Lobby-Cola-99-Tide", "The-Company-99-Tide"):
        assert PasswordRule.NO_BANNED_WORDS in check_password(banned, rules).failed, banned


def test_a_short_organisation_name_is_banned_as_a_whole() -> None:
    rules = PasswordRules.from_policy(organisation_policy("IBM"))
    assert PasswordRule.NO_BANNED_WORDS in check_password("1BM-Harbor-93!", rules).failed
    assert PasswordRule.NO_BANNED_WORDS not in check_password("IB-Harbor-93!", rules).failed


@pytest.mark.parametrize("password", ["3mma-Harbor-93!", "J4ns3n-Harbor-93!", "Harbor-93-EMMA!", "Harbor-93-j@nsen"])
def test_the_user_names_are_matched_after_normalization(password: str) -> None:
    assert PasswordRule.NOT_USER_NAME in check_password(password, DEMO_RULES, EMMA).failed


def test_user_names_are_not_fuzzy_matched() -> None:
    # "Gemma", "comma" and "dilemma" are one edit from "emma": a name is banned as written (mapped), like Azure AD.
    assert check_password("Comma-Harbor-93!", DEMO_RULES, EMMA).ok


# --- finding 7: Unicode normalization -------------------------------------------------------------


def test_passwords_are_normalized_to_nfc() -> None:
    composed = "Crème-Brûlée-Éclair-42"
    decomposed = unicodedata.normalize("NFD", composed)
    assert decomposed != composed
    assert normalize_password(decomposed) == composed
    assert normalize_password(composed) == composed


def test_the_nfd_form_is_checked_as_the_nfc_form() -> None:
    composed = "Crème-Brûlée-Éclair-42"
    decomposed = unicodedata.normalize("NFD", composed)
    # Exactly as long as the composed form allows; the decomposed form has 5 more code points.
    rules = PasswordRules.from_settings(PasswordSettings(min_length=len(composed), max_length=len(composed)))
    assert len(decomposed) > rules.max_length
    assert check_password(decomposed, rules) == check_password(composed, rules)
    assert check_password(decomposed, rules).ok
    # Combining marks are no "symbol": the decomposed form has no extra character class.
    four = PasswordRules.from_settings(PasswordSettings(required_classes=4))
    assert PasswordRule.CHARACTER_CLASSES in check_password(unicodedata.normalize("NFD", "CrèmeBrûlée42"), four).failed
