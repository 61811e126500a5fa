"""`language(tag)`: a per-task language for the backend's messages that never touches the window's language."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import kiosk.i18n
from kiosk.i18n import (
    _,
    current_language,
    format_duration,
    format_time,
    is_right_to_left,
    language,
    ngettext,
    regional_language,
    set_language,
)

CompileCatalog = Callable[[str, str], Path]

DE = """
msgid ""
msgstr ""
"Content-Type: text/plain; charset=utf-8\\n"
"Plural-Forms: nplurals=2; plural=(n != 1);\\n"

msgid "Your verification code"
msgstr "Ihr Bestätigungscode"

msgid "{count} minute"
msgid_plural "{count} minutes"
msgstr[0] "{count} Minute"
msgstr[1] "{count} Minuten"
"""

MOMENT = datetime(2025, 3, 3, 15, 30, tzinfo=UTC)


def test_the_override_applies_inside_the_block_only(compile_catalog: CompileCatalog) -> None:
    directory = compile_catalog("de", DE)
    with language("de-DE", directory=directory) as locale:
        assert str(locale) == "de_DE"
        assert current_language() == "de-DE" and regional_language() == "de-DE"
        assert _("Your verification code") == "Ihr Bestätigungscode"
        assert ngettext("{count} minute", "{count} minutes", 4) == "{count} Minuten"
        assert format_duration(timedelta(minutes=4)) == "4 Minuten"
        assert format_time(MOMENT) == "15:30"
    assert current_language() == "en"
    assert _("Your verification code") == "Your verification code"
    assert format_time(MOMENT) == "3:30\u202fPM"


def test_blocks_nest_and_restore_the_outer_language(compile_catalog: CompileCatalog) -> None:
    directory = compile_catalog("de", DE)
    with language("de", directory=directory):
        with language("ar"):
            assert current_language() == "ar" and is_right_to_left()
        assert current_language() == "de" and not is_right_to_left()
    assert current_language() == "en"


def test_the_process_wide_language_is_untouched_even_when_it_is_not_english(compile_catalog: CompileCatalog) -> None:
    directory = compile_catalog("de", DE)
    set_language("de", directory=directory)
    with language("en"):
        assert _("Your verification code") == "Your verification code"
    assert _("Your verification code") == "Ihr Bestätigungscode"


def test_the_default_directory_is_read_when_the_block_starts(
    compile_catalog: CompileCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kiosk.i18n, "TRANSLATIONS_DIR", compile_catalog("de", DE))
    with language("de-AT"):  # falls back from de_AT to de
        assert _("Your verification code") == "Ihr Bestätigungscode"
        assert regional_language() == "de-AT"


async def test_other_tasks_keep_the_process_wide_language(compile_catalog: CompileCatalog) -> None:
    directory = compile_catalog("de", DE)
    entered, checked = asyncio.Event(), asyncio.Event()
    seen: dict[str, str] = {}

    async def backend_request() -> None:
        with language("de", directory=directory):
            entered.set()
            await checked.wait()  # the other task looks while this one is inside its block
            seen["backend"] = _("Your verification code")

    async def window() -> None:
        await entered.wait()
        seen["window"] = f"{current_language()}: {_('Your verification code')}"
        checked.set()

    await asyncio.gather(backend_request(), window())
    assert seen == {"backend": "Ihr Bestätigungscode", "window": "en: Your verification code"}


def test_an_unknown_tag_is_english() -> None:
    with language("xx-invalid"):
        assert current_language() == "en" and regional_language() == "en-US"


@pytest.mark.parametrize(
    ("tag", "regional"),
    [("de", "de-DE"), ("pt-BR", "pt-BR"), ("zh-Hant", "zh-TW"), ("fr-CA", "fr-CA"), ("ar", "ar-EG")],
)
def test_regional_language_adds_the_likely_region(tag: str, regional: str) -> None:
    with language(tag):
        assert regional_language() == regional
