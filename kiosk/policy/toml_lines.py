"""Where each key of a TOML document is written: a small scanner, because `tomllib` gives no positions.

The scanner only runs on text that `tomllib` has already accepted, so it can assume valid TOML and
stay small. It understands table headers (`[a.b]`, `[[a]]`), dotted and quoted keys, inline
tables, multi-line arrays and all four string forms, and records the line where every key path is
first written. A table defined only implicitly (by `[a.b]` or `a.b = 1`) maps to the first line
that mentions it, unless it also has a header or key of its own, which wins.
"""

from __future__ import annotations

import tomllib
from bisect import bisect_right

KeyPath = tuple[str, ...]

_BARE_KEY_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_SCALAR_END = frozenset(",]}#\r\n")


def key_lines(text: str) -> dict[KeyPath, int]:
    """Map every key path of a valid TOML document to the 1-based line where it is first written."""
    return _Scanner(text).scan()


class _Scanner:
    """A one-pass reader of valid TOML that records key positions and skips values."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._newlines = [i for i, char in enumerate(text) if char == "\n"]
        self._lines: dict[KeyPath, int] = {}
        self._explicit: set[KeyPath] = set()

    def scan(self) -> dict[KeyPath, int]:
        """Read the whole document; return the key paths and their lines."""
        table: KeyPath = ()
        while True:
            self._skip_blank(newlines=True)
            if self._at_end():
                return self._lines
            if self._peek() == "[":
                table = self._header()
            else:
                self._key_value(table)

    # ------------------------------------------------------------------ recording

    def _line(self, pos: int) -> int:
        return bisect_right(self._newlines, pos - 1) + 1

    def _record(self, path: KeyPath, line: int) -> None:
        """Record `path` as written here, and each of its parent tables as implicitly mentioned here."""
        for depth in range(1, len(path)):
            self._lines.setdefault(path[:depth], line)
        if path not in self._explicit:
            self._lines[path] = line
            self._explicit.add(path)

    # ------------------------------------------------------------------ structure

    def _header(self) -> KeyPath:
        line = self._line(self._pos)
        double = self._text.startswith("[[", self._pos)
        self._pos += 2 if double else 1
        path = self._key()
        self._skip_blank(newlines=False)
        self._pos += 2 if double else 1
        self._record(path, line)
        return path

    def _key_value(self, table: KeyPath | None) -> None:
        """Read `key = value`; record it under `table` (None: inside an array, not recorded)."""
        line = self._line(self._pos)
        key = self._key()
        self._skip_blank(newlines=False)
        self._pos += 1  # "="
        self._skip_blank(newlines=False)
        path = None if table is None else table + key
        if path is not None:
            self._record(path, line)
        self._value(path)

    def _key(self) -> KeyPath:
        parts: list[str] = []
        while True:
            self._skip_blank(newlines=False)
            parts.append(self._simple_key())
            self._skip_blank(newlines=False)
            if self._peek() != ".":
                return tuple(parts)
            self._pos += 1

    def _simple_key(self) -> str:
        start = self._pos
        if self._peek() in ('"', "'"):
            self._string()
            # Reuse tomllib to decode the quoted key, escapes and all.
            decoded = tomllib.loads("k = " + self._text[start : self._pos])["k"]
            assert isinstance(decoded, str)
            return decoded
        while not self._at_end() and self._peek() in _BARE_KEY_CHARS:
            self._pos += 1
        return self._text[start : self._pos]

    def _value(self, path: KeyPath | None) -> None:
        char = self._peek()
        if char in ('"', "'"):
            self._string()
        elif char == "[":
            self._array()
        elif char == "{":
            self._inline_table(path)
        else:
            while not self._at_end() and self._peek() not in _SCALAR_END:
                self._pos += 1

    def _array(self) -> None:
        self._pos += 1
        while True:
            self._skip_blank(newlines=True)
            if self._peek() == "]":
                self._pos += 1
                return
            if self._peek() == ",":
                self._pos += 1
                continue
            self._value(None)

    def _inline_table(self, path: KeyPath | None) -> None:
        self._pos += 1
        while True:
            self._skip_blank(newlines=False)
            if self._peek() == "}":
                self._pos += 1
                return
            if self._peek() == ",":
                self._pos += 1
                continue
            self._key_value(path)

    # ------------------------------------------------------------------ lexing

    def _string(self) -> None:
        quote = self._peek()
        if self._text.startswith(quote * 3, self._pos):
            self._pos += 3
            end = self._find_closing(quote * 3, escapes=quote == '"')
            self._pos = end + 3
            # A closing delimiter may be preceded by up to two quotes that belong to the content.
            for _ in range(2):
                if self._peek() == quote:
                    self._pos += 1
            return
        self._pos += 1
        self._pos = self._find_closing(quote, escapes=quote == '"') + 1

    def _find_closing(self, delimiter: str, *, escapes: bool) -> int:
        pos = self._pos
        while not self._text.startswith(delimiter, pos):
            pos += 2 if escapes and self._text[pos] == "\\" else 1
        return pos

    def _skip_blank(self, *, newlines: bool) -> None:
        """Skip spaces, tabs and comments, and also line breaks when `newlines`."""
        blank = " \t\r\n" if newlines else " \t"
        while not self._at_end():
            char = self._peek()
            if char in blank:
                self._pos += 1
            elif char == "#":
                while not self._at_end() and self._peek() != "\n":
                    self._pos += 1
            else:
                return

    def _peek(self) -> str:
        return self._text[self._pos] if self._pos < len(self._text) else ""

    def _at_end(self) -> bool:
        return self._pos >= len(self._text)
