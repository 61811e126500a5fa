"""The TOML key-line scanner: every key tomllib sees is found, on the line where it is written."""

from __future__ import annotations

import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

from kiosk.policy.toml_lines import KeyPath, key_lines

RESOURCES = Path(__file__).resolve().parents[2] / "resources"

TRICKY = '''\
# a comment with [brackets] and "quotes" and key = value
title = "x" # trailing comment

[reset]
enabled_for = "group"
groups = [
  "a",  # a comment ] with a bracket
  "b]",
  'c, d',
]
"quoted.key" = 1
'literal key' = 2

[methods]
text = """a multi-line string
not_a_key = "x"
[not_a_table]
ends with quotes"""""
raw = \'\'\'literal \'' text\'\'\'
escaped = "a \\" quote # not a comment"
inline = { a = 1, b.c = [1, { x = 2 }], "d e" = 'x' }
when = 1979-05-27 07:32:00Z
nested = [[1, 2], [3, [4]]]

[kiosk.branding]
accent_color = "#ffffff"

[kiosk]
x.y.z = true
  indented = 1

[[rows]]
k = 1

[[rows]]
k = 2
later = 3
'''

EXPECTED = {
    ("title",): 2,
    ("reset",): 4,
    ("reset", "enabled_for"): 5,
    ("reset", "groups"): 6,
    ("reset", "quoted.key"): 11,
    ("reset", "literal key"): 12,
    ("methods",): 14,
    ("methods", "text"): 15,
    ("methods", "raw"): 19,
    ("methods", "escaped"): 20,
    ("methods", "inline"): 21,
    ("methods", "inline", "b", "c"): 21,
    ("methods", "inline", "d e"): 21,
    ("methods", "when"): 22,
    ("methods", "nested"): 23,
    ("kiosk", "branding"): 25,
    ("kiosk", "branding", "accent_color"): 26,
    ("kiosk",): 28,  # its own header wins over the first implicit mention on line 25
    ("kiosk", "x", "y", "z"): 29,
    ("kiosk", "indented"): 30,
    ("rows",): 32,
    ("rows", "k"): 33,
    ("rows", "later"): 37,
}


def table_paths(data: object, path: KeyPath = ()) -> Iterator[KeyPath]:
    """Every key path in parsed TOML, not descending into lists."""
    if isinstance(data, dict):
        for key, value in data.items():
            yield (*path, key)
            yield from table_paths(value, (*path, key))


def test_tricky_document_lines() -> None:
    lines = key_lines(TRICKY)
    for path, line in EXPECTED.items():
        assert lines.get(path) == line, path
    assert ("methods", "not_a_key") not in lines
    assert ("not_a_table",) not in lines


@pytest.mark.parametrize(
    "text",
    [TRICKY, (RESOURCES / "demo-policy.toml").read_text(encoding="utf-8"), "", "\n\n# only a comment"],
)
def test_every_key_tomllib_sees_is_found(text: str) -> None:
    data = tomllib.loads(text)
    lines = key_lines(text)
    missing = [path for path in table_paths(data) if path not in lines]
    assert not missing
    assert all(1 <= line <= text.count("\n") + 1 for line in lines.values())


def test_array_of_tables_indices_are_not_recorded() -> None:
    lines = key_lines("[[a]]\nx = 1\n[[a]]\ny = 2\n")
    assert lines == {("a",): 1, ("a", "x"): 2, ("a", "y"): 4}


def test_windows_line_endings() -> None:
    assert key_lines("[a]\r\nb = 1\r\n\r\nc = 2\r\n") == {("a",): 1, ("a", "b"): 2, ("a", "c"): 4}
