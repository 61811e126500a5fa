"""The catalog check: every shipped catalog passes, and broken catalogs are caught (so the check can fail)."""

from __future__ import annotations

import gettext
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from kiosk.i18n import TRANSLATIONS_DIR, _, language, ngettext
from kiosk.i18n.catalogs import catalog_paths, check_directory, compile_catalogs, main, placeholders
from kiosk.policy.questions import PREDEFINED_QUESTIONS

TEMPLATE = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"

msgid "Welcome"
msgstr ""

msgid "Hello {name},"
msgstr ""

msgid "{count} attempt left."
msgid_plural "{count} attempts left."
msgstr[0] ""
msgstr[1] ""
"""

GOOD_DE = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Language: de\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Welcome"
msgstr "Willkommen"

msgid "Hello {name},"
msgstr "Hallo {name},"

msgid "{count} attempt left."
msgid_plural "{count} attempts left."
msgstr[0] "Noch {count} Versuch."
msgstr[1] "Noch {count} Versuche."
"""


def _tree(tmp_path: Path, locale: str, po_text: str) -> Path:
    (tmp_path / "messages.pot").write_text(TEMPLATE, encoding="utf-8")
    folder = tmp_path / locale / "LC_MESSAGES"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "messages.po").write_text(po_text, encoding="utf-8")
    return tmp_path


def _texts(directory: Path) -> list[str]:
    return [problem.text for problem in check_directory(directory)]


def test_a_good_catalog_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    directory = _tree(tmp_path, "de", GOOD_DE)
    assert check_directory(directory) == []
    assert main([str(directory)]) == 0
    assert "1 catalog(s) OK: de" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("broken", "finding"),
    [
        (GOOD_DE.replace('msgid "Welcome"\nmsgstr "Willkommen"\n', ""), "missing"),
        (GOOD_DE.replace('msgstr "Willkommen"', 'msgstr ""'), "translation is empty"),
        (GOOD_DE.replace('msgid "Welcome"', '#, fuzzy\nmsgid "Welcome"'), "fuzzy"),
        (GOOD_DE.replace('"Hallo {name},"', '"Hallo {Name},"'), "placeholders ['Name']"),
        (GOOD_DE.replace('"Hallo {name},"', '"Hallo,"'), "placeholders []"),
        (GOOD_DE.replace('"Noch {count} Versuche."', '"Noch {anzahl} Versuche."'), "plural form 1 has placeholders"),
        (GOOD_DE.replace('msgstr[1] "Noch {count} Versuche."\n', ""), "plural form 1 is empty"),
        (GOOD_DE.replace("plural=(n != 1)", "plural=(n > 1)"), "Plural-Forms header must be"),
        (GOOD_DE + '\nmsgid "Gone"\nmsgstr "Weg"\n', "not in the template"),
    ],
)
def test_a_broken_catalog_fails(tmp_path: Path, broken: str, finding: str, capsys: pytest.CaptureFixture[str]) -> None:
    directory = _tree(tmp_path, "de", broken)
    assert any(finding in text for text in _texts(directory)), _texts(directory)
    assert main([str(directory)]) == 1
    assert "de/LC_MESSAGES/messages.po:" in capsys.readouterr().err


def test_arabic_needs_six_plural_forms(tmp_path: Path) -> None:
    arabic = (
        GOOD_DE.replace('"Language: de\\n"', '"Language: ar\\n"')
        .replace(
            "nplurals=2; plural=(n != 1)",
            "nplurals=6; plural=(n==0 ? 0 : n==1 ? 1 : n==2 ? 2 : n%100>=3 && n%100<=10 ? 3 : "
            "n%100>=0 && n%100<=2 ? 4 : 5)",
        )
        .replace("Willkommen", "مرحبًا")
        .replace("Hallo {name},", "مرحبًا {name}،")
    )
    directory = _tree(tmp_path, "ar", arabic)
    assert {"plural form 2 is empty", "plural form 5 is empty"} <= set(_texts(directory))
    forms = "".join(f'msgstr[{index}] "تبقّت {{count}} محاولة."\n' for index in range(6))
    fixed = arabic.replace('msgstr[0] "Noch {count} Versuch."\nmsgstr[1] "Noch {count} Versuche."\n', forms)
    assert check_directory(_tree(tmp_path, "ar", fixed)) == []


def test_a_plural_form_may_follow_the_singular_source() -> None:
    assert placeholders("Not your last password") == placeholders("Nicht Ihr letztes Kennwort")
    assert placeholders("{count!r:>3} and {name}") == {"count!r:>3": 1, "name": 1}
    assert placeholders("broken {") == {"<broken braces>": 1}


def test_an_unreadable_catalog_fails(tmp_path: Path) -> None:
    directory = _tree(tmp_path, "de", "not a PO file\n")
    assert any("cannot be read" in text for text in _texts(directory))


def test_every_shipped_catalog_passes() -> None:
    paths = catalog_paths()
    assert {path.parent.parent.name for path in paths} >= {"de", "ar"}
    assert [str(problem) for problem in check_directory()] == []


@pytest.mark.parametrize("locale", ["de", "ar"])
def test_the_shipped_catalogs_really_translate(locale: str) -> None:
    """Not copies of English: every message differs from its source, placeholders and names aside."""
    with (TRANSLATIONS_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as file:
        catalog = read_po(file)
    same = [
        message.id
        for message in catalog
        if message.id
        and message.string == message.id
        and message.id not in ("{caption}: {value}", "Code", "Demo", "Web")
    ]
    assert same == []


def test_compiled_catalogs_serve_the_predefined_questions_and_plurals(tmp_path: Path) -> None:
    written = compile_catalogs(target=tmp_path)
    assert {path.parent.parent.name for path in written} >= {"de", "ar"}
    for path in written:
        with path.open("rb") as file:
            gettext.GNUTranslations(file)  # a valid .mo
    with language("de", directory=tmp_path):
        assert _("What was the name of your first pet?") == "Wie hieß Ihr erstes Haustier?"
        assert ngettext("{count} attempt left.", "{count} attempts left.", 1) == "Noch {count} Versuch."
        untranslated = [question for question in PREDEFINED_QUESTIONS.values() if _(question) == question]
        assert untranslated == []
    with language("ar", directory=tmp_path):
        forms = {
            n: ngettext("{count} attempt left.", "{count} attempts left.", n).format(count=n)
            for n in (0, 1, 2, 3, 11, 100)
        }
        assert forms == {
            0: "لم تتبقَّ أي محاولة (0).",
            1: "تبقّت محاولة واحدة (1).",
            2: "تبقّت محاولتان (2).",
            3: "تبقّت 3 محاولات.",
            11: "تبقّت 11 محاولة.",
            100: "تبقّت 100 محاولة.",
        }
        untranslated = [question for question in PREDEFINED_QUESTIONS.values() if _(question) == question]
        assert untranslated == []


def test_a_missing_compiled_catalog_falls_back_to_english(tmp_path: Path) -> None:
    with language("de", directory=tmp_path):  # nothing compiled here
        assert _("Welcome") == "Welcome"
