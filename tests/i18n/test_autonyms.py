"""The picker's language names: the table agrees with babel for every shipped catalog."""

from __future__ import annotations

import pytest

from kiosk.i18n import shipped_languages
from kiosk.i18n.autonyms import AUTONYMS, autonym, babel_autonym


@pytest.mark.parametrize("tag", shipped_languages())
def test_every_shipped_language_has_its_own_name_in_the_table(tag: str) -> None:
    # A new catalog without a row here: run `python -m kiosk.i18n.autonyms` and paste the table.
    assert AUTONYMS.get(tag) == babel_autonym(tag)


def test_the_table_has_no_language_that_is_not_shipped() -> None:
    assert set(AUTONYMS) == set(shipped_languages())


def test_a_regional_tag_falls_back_to_babel() -> None:
    assert autonym("es-US") == babel_autonym("es-US") and autonym("de") == "Deutsch"
