"""The catalog check CI runs on every `translations/<locale>/LC_MESSAGES/messages.po`.

A catalog passes when it is complete (every message of `messages.pot` translated, every plural form
the locale's plural rule needs), has no fuzzy entries, keeps the `{name}` placeholders of the source
in every translation and plural form, and compiles. `python -m kiosk.i18n.catalogs [DIR]` (or
`make check-catalogs`) prints one line per problem, `file:line: msgid: what is wrong`, and exits 1
if there is any.
"""

from __future__ import annotations

import io
import sys
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Formatter

from babel import Locale, UnknownLocaleError
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.plurals import get_plural
from babel.messages.pofile import PoFileError, read_po

import kiosk.i18n
from kiosk.i18n import DOMAIN

TEMPLATE = f"{DOMAIN}.pot"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a catalog, where it is and which message."""

    path: Path
    line: int
    msgid: str
    text: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {_short(self.msgid)}: {self.text}"


def _short(msgid: str, width: int = 60) -> str:
    one_line = msgid.replace("\n", " ")
    return repr(one_line if len(one_line) <= width else one_line[: width - 1] + "…")


def catalog_paths(directory: Path | None = None) -> list[Path]:
    """Every catalog under `directory` (default: the shipped ones), as `<locale>/LC_MESSAGES/messages.po`, sorted."""
    return sorted((directory or kiosk.i18n.TRANSLATIONS_DIR).glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def placeholders(text: str) -> Counter[str]:
    """The `{...}` replacement fields of a format string, each with its conversion and spec, counted."""
    try:
        fields = [
            f"{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}"
            for _literal, name, spec, conversion in Formatter().parse(text)
            if name is not None
        ]
    except ValueError:
        return Counter({"<broken braces>": 1})
    return Counter(fields)


def _read(path: Path, locale: str | None = None) -> Catalog:
    with path.open("rb") as file:
        return read_po(file, locale=locale, abort_invalid=True)


def _strings(value: str | tuple[str, ...] | list[str] | None) -> tuple[str, ...]:
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def _message_problems(path: Path, source: Message, translated: Message | None, plurals: int) -> Iterator[Problem]:
    msgid = _strings(source.id)[0]
    if translated is None:
        yield Problem(path, 0, msgid, "missing: run `make update-catalogs`, then translate it")
        return
    line = translated.lineno or 0
    if translated.fuzzy:
        yield Problem(path, line, msgid, "fuzzy: check the translation, then remove the fuzzy flag")
    strings = _strings(translated.string)
    expected = plurals if source.pluralizable else 1
    if source.pluralizable and len(strings) != expected:
        yield Problem(path, line, msgid, f"has {len(strings)} plural forms; the locale's plural rule needs {expected}")
    # A plural form may follow either source form (English "Not your last password" has no {count}).
    wanted = [placeholders(text) for text in _strings(source.id)]
    for index, text in enumerate(strings):
        form = f"plural form {index}" if source.pluralizable else "translation"
        if not text:
            yield Problem(path, line, msgid, f"{form} is empty")
            continue
        found = placeholders(text)
        if found not in wanted:
            source_fields = " or ".join(dict.fromkeys(str(sorted(fields.elements())) for fields in wanted))
            found_fields = sorted(found.elements())
            yield Problem(path, line, msgid, f"{form} has placeholders {found_fields}, the source has {source_fields}")


def check_catalog(path: Path, template: Catalog) -> list[Problem]:
    """Everything wrong with the catalog at `path` against the template; empty when it is good."""
    locale_name = path.parent.parent.name
    try:
        Locale.parse(locale_name)
    except (ValueError, UnknownLocaleError):
        return [Problem(path, 0, "", f"{locale_name!r} is not a locale babel knows (name the folder like pt_BR)")]
    try:
        catalog = _read(path, locale_name)
    except (PoFileError, OSError, UnicodeDecodeError) as error:
        return [Problem(path, 0, "", f"cannot be read: {error}")]
    problems: list[Problem] = []
    rule = get_plural(locale_name)
    if catalog.num_plurals != rule.num_plurals or catalog.plural_expr.replace(" ", "") != rule.plural_expr.replace(
        " ", ""
    ):
        problems.append(
            Problem(path, 0, "", f"Plural-Forms header must be {rule.plural_forms!r} (the locale's plural rule)")
        )
    if catalog.fuzzy:
        problems.append(Problem(path, 0, "", "the catalog header is fuzzy: remove the fuzzy flag"))
    for source in template:
        if source.id:
            problems += _message_problems(path, source, catalog.get(source.id, source.context), rule.num_plurals)
    for message in catalog:
        if message.id and template.get(message.id, message.context) is None:
            text = "not in the template: run `make update-catalogs`"
            problems.append(Problem(path, message.lineno or 0, _strings(message.id)[0], text))
    try:
        write_mo(io.BytesIO(), catalog)
        for message, errors in catalog.check():
            problems += [Problem(path, message.lineno or 0, _strings(message.id)[0], str(error)) for error in errors]
    except Exception as error:  # noqa: BLE001 - any failure to compile is the finding itself
        problems.append(Problem(path, 0, "", f"does not compile: {error}"))
    return problems


def check_directory(directory: Path | None = None) -> list[Problem]:
    """Every problem of every catalog under `directory` (default: the shipped ones) against its `messages.pot`."""
    directory = directory or kiosk.i18n.TRANSLATIONS_DIR
    template_path = directory / TEMPLATE
    try:
        template = _read(template_path)
    except (PoFileError, OSError) as error:
        return [Problem(template_path, 0, "", f"cannot read the template: {error}")]
    problems: list[Problem] = []
    for path in catalog_paths(directory):
        problems += check_catalog(path, template)
    return problems


def compile_catalogs(directory: Path | None = None, target: Path | None = None) -> list[Path]:
    """Compile every catalog under `directory` (default: the shipped ones) to
    `<target>/<locale>/LC_MESSAGES/messages.mo` (as `pybabel compile` does; `target` defaults to
    `directory`); returns the files written."""
    directory = directory or kiosk.i18n.TRANSLATIONS_DIR
    written: list[Path] = []
    for path in catalog_paths(directory):
        locale = path.parent.parent.name
        out = (target or directory) / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
        out.parent.mkdir(parents=True, exist_ok=True)
        with out.open("wb") as file:
            write_mo(file, _read(path, locale))
        written.append(out)
    return written


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m kiosk.i18n.catalogs [DIR]`: 0 when every catalog passes, else 1 and one line per problem."""
    args = list(sys.argv[1:] if argv is None else argv)
    directory = Path(args[0]) if args else kiosk.i18n.TRANSLATIONS_DIR
    problems = check_directory(directory)
    for problem in problems:
        print(problem, file=sys.stderr)
    paths = catalog_paths(directory)
    if problems:
        print(f"{len(problems)} problem(s) in {len(paths)} catalog(s)", file=sys.stderr)
        return 1
    print(f"{len(paths)} catalog(s) OK: {', '.join(path.parent.parent.name for path in paths)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
