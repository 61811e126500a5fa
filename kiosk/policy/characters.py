"""Characters that no identifier may carry: control characters and the invisible direction controls.

Shared by the policy (the kiosk id, language tags), the API's request models and the flow engine's
local checks, so all three refuse the same characters.
"""

from __future__ import annotations

import re

CONTROLS = r"\x00-\x1f\x7f-\x9f"
"""C0 and C1 control characters (NUL, escape, tab, newline, DEL …) as the body of a regex class."""

BIDI_CONTROLS = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
"""The invisible bidirectional controls: ARABIC LETTER MARK, LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK, the
embeddings and overrides (U+202A–U+202E) and the isolates (U+2066–U+2069). Nobody sees or can retype
them, and they reorder what a reader sees: `admin<U+202E>amme` reads as `adminemma` in an audit row."""

BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
"""`BIDI_CONTROLS` as the body of a regex class (Python's `re` and pydantic's Rust regex both read it)."""

PLAIN = rf"^[^{CONTROLS}{BIDI}]*$"
"""Identifiers (user IDs, kiosk ids, language tags): no control character and no bidi control."""

PLAIN_ERROR = "must not contain control characters or invisible direction marks (such as U+202E)"
"""Why a value fails `PLAIN`, in an administrator's words (the policy's validation message)."""

_PLAIN = re.compile(PLAIN)


def is_plain(value: str) -> bool:
    """Whether `value` passes `PLAIN`."""
    return _PLAIN.fullmatch(value) is not None


def check_plain(value: str) -> str:
    """`value` unchanged if it passes `PLAIN`; else a ValueError saying why (for pydantic validators)."""
    if not is_plain(value):
        raise ValueError(PLAIN_ERROR)
    return value
