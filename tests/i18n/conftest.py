"""i18n test fixtures: English restored after every test, and small catalogs compiled on the fly."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

from kiosk.i18n import SOURCE_LANGUAGE, set_language

CompileCatalog = Callable[[str, str], Path]


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """The active language is process-wide: put the source language back after each test."""
    yield
    set_language(SOURCE_LANGUAGE)


@pytest.fixture
def compile_catalog(tmp_path: Path) -> CompileCatalog:
    """Compile PO text for a locale into `<tmp>/<locale>/LC_MESSAGES/messages.mo`; returns `<tmp>`."""

    def compile_po(locale: str, po_text: str) -> Path:
        catalog = read_po(io.StringIO(po_text), locale=locale)
        target = tmp_path / locale / "LC_MESSAGES"
        target.mkdir(parents=True, exist_ok=True)
        with (target / "messages.mo").open("wb") as file:
            write_mo(file, catalog)
        return tmp_path

    return compile_po
