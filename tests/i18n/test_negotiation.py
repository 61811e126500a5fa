"""Locale choice: negotiation against the shipped catalogs, the offered list and the order of preferences."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.i18n import choose_language, negotiate, offered_languages, shipped_languages

SHIPPED = ("en", "ar", "de", "pt", "zh-Hans", "zh-Hant", "es", "fr-CA", "fr")


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("de", "de"),
        ("de-AT", "de"),
        ("de_CH", "de"),
        ("pt-BR", "pt"),
        ("zh-TW", "zh-Hant"),
        ("zh-HK", "zh-Hant"),
        ("zh-Hant", "zh-Hant"),
        ("zh-CN", "zh-Hans"),
        ("zh", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("fr-CA", "fr-CA"),
        ("fr-BE", "fr"),
        ("AR-eg", "ar"),
        ("es-419", "es"),
    ],
)
def test_negotiate_falls_back_along_the_tag(tag: str, expected: str) -> None:
    assert negotiate(tag, SHIPPED) == expected


@pytest.mark.parametrize("tag", ["ja", "xx-YY", "", "not a tag", "sr-Latn"])
def test_negotiate_finds_nothing_for_a_language_not_shipped(tag: str) -> None:
    assert negotiate(tag, SHIPPED) is None


def test_a_bare_language_finds_its_only_regional_catalog() -> None:
    assert negotiate("pt", ("en", "pt-BR")) == "pt-BR"
    assert negotiate("zh-TW", ("en", "zh-Hans")) is None  # scripts never mix


@pytest.mark.parametrize(
    ("preferences", "expected"),
    [
        (("es-US", "de", "fr"), "es-US"),  # --locale wins, and keeps its region for dates and numbers
        ((None, "de", "fr-FR"), "de"),  # then the policy's default language
        ((None, "", "fr-FR"), "fr-FR"),  # then the OS locale
        (("xx", "", "pt-BR"), "pt-BR"),  # an unusable --locale falls through to the next preference
        (("zh-TW", None, None), "zh-Hant"),  # a script catalog is kept as is
        ((None, None, "ja-JP"), "en"),  # nothing shipped for it: English
        ((), "en"),
    ],
)
def test_choose_language_order_and_fallback(preferences: tuple[str | None, ...], expected: str) -> None:
    assert choose_language(preferences, SHIPPED) == expected


def test_choose_language_is_restricted_to_the_offered_languages() -> None:
    assert choose_language(["fr-FR"], ["en", "de"]) == "en"
    assert choose_language(["fr-FR"], ["de", "ar"]) == "de"  # no English offered: the first offer
    assert choose_language(["ar-SA"], ["de", "ar"]) == "ar-SA"


def _catalog(directory: Path, locale: str, suffix: str = "po") -> None:
    folder = directory / locale / "LC_MESSAGES"
    folder.mkdir(parents=True)
    (folder / f"messages.{suffix}").write_text("")


def test_shipped_languages_are_english_and_every_catalog(tmp_path: Path) -> None:
    _catalog(tmp_path, "de")
    _catalog(tmp_path, "zh_Hant", suffix="mo")  # a bundle may ship compiled catalogs only
    _catalog(tmp_path, "pt_BR")
    (tmp_path / "not-a-locale" / "LC_MESSAGES").mkdir(parents=True)
    assert shipped_languages(tmp_path) == ("en", "de", "pt-BR", "zh-Hant")


def test_offered_languages_keep_the_policy_order_and_drop_what_no_catalog_serves(tmp_path: Path) -> None:
    _catalog(tmp_path, "de")
    _catalog(tmp_path, "ar")
    assert offered_languages((), tmp_path) == ("en", "ar", "de")
    assert offered_languages(("de-AT", "nl", "en", "ar", "de-AT"), tmp_path) == ("de-AT", "en", "ar")
    assert offered_languages(("nl",), tmp_path) == ("en",)


def test_the_repository_ships_german_and_arabic() -> None:
    assert {"en", "de", "ar"} <= set(shipped_languages())
