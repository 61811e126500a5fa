"""The active language: fallback along the tag, text direction, plurals and locale formatting."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

import pytest

from kiosk.i18n import (
    _,
    current_language,
    format_datetime,
    format_duration,
    format_time,
    is_right_to_left,
    ngettext,
    parse_tag,
    set_language,
)


def test_regional_tag_falls_back_to_english_without_catalogs(tmp_path: Path) -> None:
    locale = set_language("pt-BR", directory=tmp_path)
    assert (locale.language, locale.territory) == ("pt", "BR")
    assert current_language() == "pt-BR"
    assert _("Can't access your account?") == "Can't access your account?"


@pytest.mark.parametrize("tag", ["xx-YY", "", "not a tag"])
def test_unknown_tag_becomes_english(tag: str, tmp_path: Path) -> None:
    set_language(tag, directory=tmp_path)
    assert current_language() == "en"
    assert not is_right_to_left()


@pytest.mark.parametrize(("tag", "parsed"), [("es-US", "es_US"), ("pt_BR", "pt_BR"), ("zh-Hant", "zh_Hant")])
def test_parse_tag_accepts_bcp47_and_posix(tag: str, parsed: str) -> None:
    assert str(parse_tag(tag)) == parsed


@pytest.mark.parametrize("tag", ["ar", "ar-EG", "he", "he-IL", "fa"])
def test_right_to_left_languages(tag: str, tmp_path: Path) -> None:
    set_language(tag, directory=tmp_path)
    assert is_right_to_left()


@pytest.mark.parametrize("tag", ["en", "nl", "pt-BR", "zh-Hant-TW"])
def test_left_to_right_languages(tag: str, tmp_path: Path) -> None:
    set_language(tag, directory=tmp_path)
    assert not is_right_to_left()


@pytest.mark.parametrize(("count", "expected"), [(0, "0 attempts left"), (1, "1 attempt left"), (2, "2 attempts left")])
def test_english_plural_without_a_catalog(count: int, expected: str) -> None:
    set_language("en")
    text = ngettext("{count} attempt left", "{count} attempts left", count)
    assert text.format(count=count) == expected


@pytest.mark.parametrize(
    ("tag", "duration", "expected"),
    [
        ("en", timedelta(minutes=4), "4 minutes"),
        ("en", timedelta(seconds=1), "1 second"),
        ("en", timedelta(seconds=90), "2 minutes"),
        ("en", timedelta(hours=24), "24 hours"),
        ("de", timedelta(minutes=4), "4 Minuten"),
        ("nl", timedelta(minutes=4), "4 minuten"),
        ("pt-BR", timedelta(minutes=4), "4 minutos"),
    ],
)
def test_duration_in_words(tag: str, duration: timedelta, expected: str, tmp_path: Path) -> None:
    set_language(tag, directory=tmp_path)
    assert format_duration(duration) == expected


def test_time_and_date_follow_the_locale(tmp_path: Path) -> None:
    moment = datetime(2024, 3, 5, 15, 4)
    set_language("en", directory=tmp_path)
    assert format_time(moment).replace("\u202f", " ") == "3:04 PM"
    assert format_datetime(moment).startswith("Mar 5, 2024")
    set_language("de", directory=tmp_path)
    assert format_time(moment) == "15:04"
    assert format_datetime(moment).startswith("05.03.2024")
