"""The key-line scanner against many generated TOML documents: every key's line is exactly where it was written."""

from __future__ import annotations

import random
import tomllib

import pytest

from kiosk.policy.toml_lines import KeyPath, key_lines

# Values whose text contains what could fool a naive scanner: brackets, braces, quotes, '=', '#'.
SCALARS = [
    "1",
    "-3.5",
    "true",
    "1979-05-27T07:32:00Z",
    '"a # not a comment"',
    '"] } = ["',
    '"escaped \\" quote = [1]"',
    "'literal \\ # ]'",
    '"""multi\nline = "x"\n[not_a_table]\nend"""',
    "'''raw\n# not a comment\n'''",
    '""""quoted" at the end""""',
]
SINGLE_LINE_SCALARS = [scalar for scalar in SCALARS if "\n" not in scalar]


class Document:
    """A random TOML document and the line each key path was written on."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.lines: list[str] = []
        self.expected: dict[KeyPath, int] = {}

    def emit(self, text: str) -> int:
        """Append text (possibly several lines); return the line number where it starts."""
        start = len(self.lines) + 1
        self.lines.extend(text.split("\n"))
        return start

    def key(self, index: int) -> str:
        choice = self.rng.randrange(3)
        return [f"k{index}", f'"q {index}.x"', f"'l{index}'"][choice]

    @staticmethod
    def name(key: str) -> str:
        return tomllib.loads(f"{key} = 1").popitem()[0]

    def value(self, path: KeyPath, line_of_key: int, depth: int = 0) -> str:
        # Inside an inline table (depth > 0) values stay on one line, so every key there is on the table's line.
        kind = self.rng.choice([0, 1, 2, 3] if depth == 0 else [0, 2, 3] if depth == 1 else [0])
        if kind == 0:
            return self.rng.choice(SCALARS if depth == 0 else SINGLE_LINE_SCALARS)
        if kind == 1:
            items = [self.rng.choice(SCALARS) for _ in range(self.rng.randrange(4))]
            return "[\n  " + ",  # c ]\n  ".join(items) + ("\n]" if items else "]")
        if kind == 2:
            return "[[1, 2], [" + self.rng.choice(SINGLE_LINE_SCALARS) + "]]"
        parts = []
        for index in range(self.rng.randrange(1, 4)):
            key = self.key(index)
            self.expected[(*path, self.name(key))] = line_of_key
            parts.append(f"{key} = {self.value((*path, self.name(key)), line_of_key, depth + 1)}")
        return "{ " + ", ".join(parts) + " }"

    def key_values(self, table: KeyPath) -> None:
        for index in range(self.rng.randrange(1, 5)):
            if self.rng.random() < 0.3:
                self.emit("# comment with [table] and key = 1")
            key = self.key(index)
            dotted = self.rng.random() < 0.3
            written = f"d{index} . {key}" if dotted else key
            path = (*table, *(("d" + str(index),) if dotted else ()), self.name(key))
            line = len(self.lines) + 1
            self.expected[path] = line
            value = self.value(path, line)
            self.emit(f"{'  ' * self.rng.randrange(2)}{written} = {value}  # trailing")

    def build(self) -> str:
        self.key_values(())
        for index in range(self.rng.randrange(1, 4)):
            table = (f"t{index}", "sub") if self.rng.random() < 0.4 else (f"t{index}",)
            self.emit("")
            self.expected[table] = self.emit("[ " + " . ".join(table) + " ]  # header")
            self.key_values(table)
        return "\n".join(self.lines) + "\n"


@pytest.mark.parametrize("seed", range(300))
def test_generated_document(seed: int) -> None:
    document = Document(random.Random(seed))
    text = document.build()
    tomllib.loads(text)  # the generator writes valid TOML
    lines = key_lines(text)
    wrong = {path: (lines.get(path), line) for path, line in document.expected.items() if lines.get(path) != line}
    assert not wrong, text
