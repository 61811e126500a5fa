"""Compiled gettext catalogs: lookup after set_language, fallback from region to language, plurals."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.pofile import read_po

from kiosk.i18n import _, ngettext, set_language
from kiosk.policy.questions import PREDEFINED_QUESTIONS

ROOT = Path(__file__).resolve().parents[2]

CompileCatalog = Callable[[str, str], Path]

PT = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"

msgid "Can't access your account?"
msgstr "Não consegue acessar sua conta?"
"""

PT_BR = PT.replace("Não consegue acessar sua conta?", "Não consegue entrar na sua conta?")

PL = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"

msgid "{count} minute"
msgid_plural "{count} minutes"
msgstr[0] "{count} minuta"
msgstr[1] "{count} minuty"
msgstr[2] "{count} minut"
"""


def test_compiled_catalog_translates_after_set_language(compile_catalog: CompileCatalog) -> None:
    directory = compile_catalog("pt", PT)
    set_language("pt", directory=directory)
    assert _("Can't access your account?") == "Não consegue acessar sua conta?"
    assert _("Not in the catalog") == "Not in the catalog"


def test_regional_tag_uses_the_language_catalog(compile_catalog: CompileCatalog) -> None:
    directory = compile_catalog("pt", PT)
    set_language("pt-BR", directory=directory)
    assert _("Can't access your account?") == "Não consegue acessar sua conta?"


def test_regional_catalog_wins_over_the_language_catalog(compile_catalog: CompileCatalog) -> None:
    compile_catalog("pt", PT)
    directory = compile_catalog("pt_BR", PT_BR)
    set_language("pt-BR", directory=directory)
    assert _("Can't access your account?") == "Não consegue entrar na sua conta?"
    set_language("pt-PT", directory=directory)
    assert _("Can't access your account?") == "Não consegue acessar sua conta?"


def test_switching_back_to_english_drops_the_catalog(compile_catalog: CompileCatalog) -> None:
    directory = compile_catalog("pt", PT)
    set_language("pt", directory=directory)
    set_language("en", directory=directory)
    assert _("Can't access your account?") == "Can't access your account?"


def test_catalog_plural_rules_are_the_languages(compile_catalog: CompileCatalog) -> None:
    directory = compile_catalog("pl", PL)
    set_language("pl", directory=directory)
    forms = {count: ngettext("{count} minute", "{count} minutes", count).format(count=count) for count in (1, 2, 5, 22)}
    assert forms == {1: "1 minuta", 2: "2 minuty", 5: "5 minut", 22: "22 minuty"}


def test_babel_cfg_extracts_gettext_and_n_underscore_strings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pot = tmp_path / "messages.pot"
    # babel.cfg's patterns are relative to the input directory: extract from the project root, as documented.
    monkeypatch.chdir(ROOT)
    CommandLineInterface().run(  # type: ignore[no-untyped-call]
        ["pybabel", "-q", "extract", "-F", "babel.cfg", "-o", str(pot), "."]
    )
    with pot.open("rb") as file:
        ids = {message.id for message in read_po(file) if message.id}
    # N_ (the predefined questions) is only a keyword because babel.cfg says so.
    assert set(PREDEFINED_QUESTIONS.values()) <= ids


def test_committed_template_has_every_predefined_question() -> None:
    with (ROOT / "translations" / "messages.pot").open("rb") as file:
        catalog = read_po(io.BytesIO(file.read()))
    ids = {message.id for message in catalog if message.id}
    assert set(PREDEFINED_QUESTIONS.values()) <= ids
