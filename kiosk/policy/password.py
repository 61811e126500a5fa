"""Password rules as data, and the one function that checks a password against them.

The backend checks authoritatively on reset; the flow engine runs the same function for the live
checklist, from the rules the backend sent. Rules that need server-side data (history) are only
checked by the backend.

Every password is compared, counted, hashed and written in Unicode NFC (`normalize_password`): `é`
typed as one code point or as `e` + a combining accent is the same password.

Banned words are matched the way Azure AD Password Protection matches its banned list: on a folded
form of the password (NFKC, accents dropped, case-folded, common look-alike substitutions mapped back
to letters, `i` and `l` taken as one letter), and within one edit (one character inserted, deleted or
replaced) for words of at least `FUZZY_MIN_LENGTH` folded characters. Shorter words are matched exactly
after folding: one edit away from a 4-letter word is any 3-letter fragment of it (`acme` → `ace`), which
would refuse ordinary passwords. Unlike Azure AD, a match is never outweighed by the rest of the
password (Azure AD adds up points): the checklist promises "doesn't contain a banned word", so any
match fails the rule. The organisation's name (`branding.organisation`) is a banned word too; the
user's names are matched after folding, but exactly, as Azure AD does with names.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

from kiosk.policy.schema import PasswordSettings, Policy

STRENGTH_INPUT_LIMIT = 72
"""zxcvbn scores at most this many characters (it refuses longer input; its cost grows with length)."""
FUZZY_MIN_LENGTH = 5
"""Banned words of at least this many folded characters also match within one edit; shorter ones exactly."""
ORGANISATION_WORD_MIN_LENGTH = 4
"""A word of the organisation's name is banned from this length on ("Fabrikam Inc." bans `fabrikam`, not
`inc`); the whole name, separators removed, is banned from 3 characters (the banned words' minimum)."""


class PasswordRule(StrEnum):
    """One requirement a new password must meet; the value is a stable reason code."""

    MIN_LENGTH = "min_length"
    MAX_LENGTH = "max_length"
    CHARACTER_CLASSES = "character_classes"
    NOT_USER_NAME = "not_user_name"
    NO_BANNED_WORDS = "no_banned_words"
    STRENGTH = "strength"
    NOT_RECENT = "not_recent"
    # Reasons only the directory's own password policy gives, after the kiosk's rules passed.
    DIRECTORY_TOO_SHORT = "directory_too_short"
    DIRECTORY_COMPLEXITY = "directory_complexity"
    DIRECTORY_HISTORY = "directory_history"
    DIRECTORY_TOO_YOUNG = "directory_too_young"
    DIRECTORY_POLICY = "directory_policy"


class PasswordRules(BaseModel):
    """The rules a kiosk shows and checks live; sent by the backend with the new-password stage."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_length: int
    max_length: int
    required_classes: int
    history: int
    banned_words: tuple[str, ...] = ()
    disallow_user_name: bool = True
    min_strength: int = 0
    organisation: str = ""
    """The organisation's name: banned like `banned_words` (see `banned_terms`)."""

    @classmethod
    def from_settings(cls, settings: PasswordSettings, organisation: str = "") -> PasswordRules:
        """Build the rules from the policy's password section (and the organisation's name)."""
        return cls(**settings.model_dump(), organisation=organisation)

    @classmethod
    def from_policy(cls, policy: Policy) -> PasswordRules:
        """The rules a policy sets: its password section, and its organisation's name banned."""
        return cls.from_settings(policy.password, policy.kiosk.branding.organisation)


@dataclass(frozen=True, slots=True)
class RuleResult:
    """Whether one rule is met."""

    rule: PasswordRule
    passed: bool


@dataclass(frozen=True, slots=True)
class PasswordCheck:
    """The outcome of checking a password: one result per rule, plus a 0–4 strength score."""

    results: tuple[RuleResult, ...]
    strength: int

    @property
    def ok(self) -> bool:
        """True when every rule passed."""
        return all(result.passed for result in self.results)

    @property
    def failed(self) -> tuple[PasswordRule, ...]:
        """The rules that did not pass, in display order."""
        return tuple(result.rule for result in self.results if not result.passed)


def character_classes(password: str) -> int:
    """Count the classes (lower, upper, digit, other) present, Unicode-aware."""
    lower = upper = digit = other = False
    for char in password:
        category = unicodedata.category(char)
        if category == "Ll":
            lower = True
        elif category == "Lu":
            upper = True
        elif category == "Nd":
            digit = True
        else:
            other = True
    return sum((lower, upper, digit, other))


def normalize_password(password: str) -> str:
    """The one form of a password that is checked, hashed, kept in the history and written: NFC."""
    return unicodedata.normalize("NFC", password)


# Look-alikes mapped back to the letter they stand for. `i`, `l`, `1`, `!` and `|` are one letter: `1`
# stands for either, and `I` and `l` look the same in many fonts.
_LOOK_ALIKES = str.maketrans(
    {
        "0": "o",
        "1": "l",
        "!": "l",
        "|": "l",
        "i": "l",
        "3": "e",
        "€": "e",
        "4": "a",
        "@": "a",
        "5": "s",
        "$": "s",
        "7": "t",
        "+": "t",
        "8": "b",
        "9": "g",
    }
)


def fold(text: str) -> str:
    """The form banned words and names are compared in: NFKC, accents dropped, case-folded, look-alikes mapped.

    `P@ssw0rd`, `PASSW0RD` and `pässword` all fold to the folded `password`.
    """
    compatible = unicodedata.normalize("NFKD", text)
    plain = "".join(char for char in compatible if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", plain).casefold().translate(_LOOK_ALIKES)


_WORD_SEPARATORS = re.compile(r"[\s@._\-]+")


def _name_parts(user_names: tuple[str, ...]) -> list[str]:
    # AD's rule: a token of the account or display name of 3+ characters may not appear.
    parts: list[str] = []
    for name in user_names:
        # Split before folding: `@` and `.` separate the parts of `emma@contoso.com`, not letters.
        for token in _WORD_SEPARATORS.split(unicodedata.normalize("NFKC", name)):
            if len(token) >= 3:
                parts.append(fold(token))
    return parts


def banned_terms(rules: PasswordRules) -> tuple[str, ...]:
    """The folded words a password may not contain: the banned words and the organisation's name."""
    return _banned_terms(rules.banned_words, rules.organisation)


@lru_cache(maxsize=16)
def _banned_terms(banned_words: tuple[str, ...], organisation: str) -> tuple[str, ...]:
    terms = [fold(word) for word in banned_words]
    words = [word for word in re.split(r"\W+", unicodedata.normalize("NFKC", organisation)) if word]
    terms += [fold(word) for word in words if len(word) >= ORGANISATION_WORD_MIN_LENGTH]
    if len(whole := "".join(words)) >= 3:
        terms.append(fold(whole))
    return tuple(dict.fromkeys(term for term in terms if term))


def _within_one_edit(term: str) -> str:
    """A regex for `term` or anything one insertion, deletion or substitution away from it."""
    variants = [re.escape(term[:i]) + "." + re.escape(term[i:]) for i in range(len(term) + 1)]  # insertion
    variants += [re.escape(term[:i]) + ".?" + re.escape(term[i + 1 :]) for i in range(len(term))]  # other
    return "|".join(variants)


@lru_cache(maxsize=16)
def _banned_pattern(terms: tuple[str, ...]) -> re.Pattern[str]:
    # Compiled once per set of words: the live checklist runs this on every keystroke (a few µs).
    alternatives = [_within_one_edit(term) if len(term) >= FUZZY_MIN_LENGTH else re.escape(term) for term in terms]
    return re.compile("|".join(f"(?:{alternative})" for alternative in alternatives), re.DOTALL)


_ZXCVBN = threading.Lock()  # zxcvbn keeps the user inputs of a call in a module global


def strength_score(password: str, user_names: tuple[str, ...] = ()) -> int:
    """The zxcvbn score (0 weakest … 4 strongest) of a password's first `STRENGTH_INPUT_LIMIT` characters.

    zxcvbn refuses longer input, and its cost grows with the length. The score of a prefix is a lower
    bound: guessing the whole password takes at least as many guesses as guessing its first 72
    characters, so a long password is never rated stronger than it is; 72 varied characters reach
    the top score. A long run of one letter is weak whatever follows it.
    """
    if not password:
        return 0
    from zxcvbn import zxcvbn  # imported lazily: its dictionaries cost start-up time

    with _ZXCVBN:
        result = zxcvbn(password[:STRENGTH_INPUT_LIMIT], user_inputs=list(user_names))
    return int(result["score"])


def check_password(
    password: str,
    rules: PasswordRules,
    user_names: tuple[str, ...] = (),
    *,
    recently_used: bool = False,
) -> PasswordCheck:
    """Check a password (in NFC) against the rules; `recently_used` comes from the directory's history.

    Never raises for any string: a password longer than the policy allows fails MAX_LENGTH.
    """
    password = normalize_password(password)
    folded = fold(password)
    strength = strength_score(password, user_names)
    results = [
        RuleResult(PasswordRule.MIN_LENGTH, len(password) >= rules.min_length),
        RuleResult(PasswordRule.MAX_LENGTH, len(password) <= rules.max_length),
        RuleResult(PasswordRule.CHARACTER_CLASSES, character_classes(password) >= rules.required_classes),
    ]
    if rules.disallow_user_name:
        results.append(
            RuleResult(PasswordRule.NOT_USER_NAME, not any(part in folded for part in _name_parts(user_names)))
        )
    if terms := banned_terms(rules):
        banned = _banned_pattern(terms).search(folded) is not None
        results.append(RuleResult(PasswordRule.NO_BANNED_WORDS, not banned))
    if rules.min_strength > 0:
        results.append(RuleResult(PasswordRule.STRENGTH, strength >= rules.min_strength))
    if rules.history > 0:
        results.append(RuleResult(PasswordRule.NOT_RECENT, not recently_used))
    return PasswordCheck(results=tuple(results), strength=strength)
