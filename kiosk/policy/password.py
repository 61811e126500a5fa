"""Password rules as data, and the one function that checks a password against them.

The backend checks authoritatively on reset; the flow engine runs the same function for the live
checklist, from the rules the backend sent. Rules that need server-side data (history) are only
checked by the backend.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from kiosk.policy.schema import PasswordSettings


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

    @classmethod
    def from_settings(cls, settings: PasswordSettings) -> PasswordRules:
        """Build the rules from the policy's password section."""
        return cls(**settings.model_dump())


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


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).casefold()


def _name_parts(user_names: tuple[str, ...]) -> list[str]:
    # AD's rule: a token of the account or display name of 3+ characters may not appear.
    parts: list[str] = []
    for name in user_names:
        for token in _fold(name).replace("@", " ").replace(".", " ").replace("_", " ").replace("-", " ").split():
            if len(token) >= 3:
                parts.append(token)
    return parts


def strength_score(password: str, user_names: tuple[str, ...] = ()) -> int:
    """The zxcvbn score (0 weakest … 4 strongest) of a password."""
    if not password:
        return 0
    from zxcvbn import zxcvbn  # imported lazily: its dictionaries cost start-up time

    # zxcvbn is quadratic in length; the first 100 characters decide the score in practice.
    result = zxcvbn(password[:100], user_inputs=list(user_names))
    return int(result["score"])


def check_password(
    password: str,
    rules: PasswordRules,
    user_names: tuple[str, ...] = (),
    *,
    recently_used: bool = False,
) -> PasswordCheck:
    """Check a password against the rules; `recently_used` comes from the directory's history."""
    folded = _fold(password)
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
    if rules.banned_words:
        results.append(
            RuleResult(PasswordRule.NO_BANNED_WORDS, not any(_fold(word) in folded for word in rules.banned_words))
        )
    if rules.min_strength > 0:
        results.append(RuleResult(PasswordRule.STRENGTH, strength >= rules.min_strength))
    if rules.history > 0:
        results.append(RuleResult(PasswordRule.NOT_RECENT, not recently_used))
    return PasswordCheck(results=tuple(results), strength=strength)
