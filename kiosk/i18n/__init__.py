"""The one i18n module: the active language, gettext (`_`, `ngettext`), locale formatting, text direction.

Every user-visible string goes through `_()` at display time (not import time), so switching the
language re-renders the current page in the new language. Catalogs are compiled gettext files
under `translations/<locale>/LC_MESSAGES/messages.mo`; a missing catalog falls back to the source
English text.

The active language is process-wide (the UI's), but a task can override it for itself with
`with language(tag):` (a context variable). The in-process backend builds each session's messages
that way, in the user's language, and never changes the language the window shows.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import locale as _system_locale
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.core import get_global
from babel.dates import format_datetime as _format_datetime
from babel.dates import format_time as _format_time
from babel.dates import format_timedelta
from babel.support import Translations

from kiosk import locations

DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
TRANSLATIONS_DIR = locations.TRANSLATIONS  # the checkout's translations/, or the frozen bundle's copy

_state: dict[str, object] = {
    "locale": Locale.parse(SOURCE_LANGUAGE),
    "translations": _gettext.NullTranslations(),
}

_override: ContextVar[tuple[Locale, _gettext.NullTranslations] | None] = ContextVar("kiosk_language", default=None)
"""The language of the current task when it differs from the process-wide one (see `language`)."""


def _locale() -> Locale:
    override = _override.get()
    if override is not None:
        return override[0]
    locale = _state["locale"]
    assert isinstance(locale, Locale)
    return locale


def _translations() -> _gettext.NullTranslations:
    override = _override.get()
    if override is not None:
        return override[1]
    translations = _state["translations"]
    assert isinstance(translations, _gettext.NullTranslations)
    return translations


def _fallbacks(locale: Locale) -> list[str]:
    """Catalog names to try for `locale`, most specific first: `zh_Hant_TW`, `zh_Hant`, `zh_TW`, `zh`."""
    names = [str(locale)]
    if locale.script:
        names.append(f"{locale.language}_{locale.script}")
    if locale.territory:
        names.append(f"{locale.language}_{locale.territory}")
    names.append(locale.language)
    return list(dict.fromkeys(names))


def _load(locale: Locale, directory: Path) -> _gettext.NullTranslations:
    """The catalog of `locale` (falling back along the tag to its language), or the source text when there is none.

    A missing or unreadable compiled catalog is never an error: the kiosk then shows the English source.
    """
    try:
        return Translations.load(str(directory), _fallbacks(locale), DOMAIN)
    except OSError:
        return _gettext.NullTranslations()


def parse_tag(tag: str) -> Locale:
    """Parse a BCP 47 / POSIX tag (`es-US`, `pt_BR`, `zh-Hant`) into a babel Locale; English if unknown."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(SOURCE_LANGUAGE)


def set_language(tag: str, directory: Path | None = None) -> Locale:
    """Make `tag` the active language; falls back along the tag (`pt_BR` → `pt`) to English.

    `directory` defaults to `TRANSLATIONS_DIR` as it is at the call.
    """
    locale = parse_tag(tag)
    _state["locale"] = locale
    _state["translations"] = _load(locale, directory or TRANSLATIONS_DIR)
    return locale


@functools.lru_cache(maxsize=64)
def _cached_load(locale: Locale, directory: Path) -> _gettext.NullTranslations:
    # A backend enters a session's language on every request: read each catalog once per process.
    return _load(locale, directory)


@contextmanager
def language(tag: str, directory: Path | None = None) -> Iterator[Locale]:
    """Use `tag` for `_`, `ngettext`, `current_language` and formatting in this task (or thread) only.

    The process-wide language (`set_language`, the window's) is untouched, also while the block runs:
    other asyncio tasks keep seeing it, because each task has its own copy of the context.
    `directory` defaults to `TRANSLATIONS_DIR` as it is when the block starts.
    """
    locale = parse_tag(tag)
    token = _override.set((locale, _cached_load(locale, directory or TRANSLATIONS_DIR)))
    try:
        yield locale
    finally:
        _override.reset(token)


def _parse_or_none(tag: str) -> Locale | None:
    try:
        return Locale.parse(tag.strip().replace("-", "_")) if tag.strip() else None
    except (ValueError, UnknownLocaleError):
        return None


def _tag(locale: Locale) -> str:
    return str(locale).replace("_", "-")


def shipped_languages(directory: Path | None = None) -> tuple[str, ...]:
    """The source language and every language with a catalog under `directory` (default `TRANSLATIONS_DIR`)."""
    catalogs = (directory or TRANSLATIONS_DIR).glob(f"*/LC_MESSAGES/{DOMAIN}.[mp]o")
    folders = {path.parent.parent.name for path in catalogs}
    tags = sorted(_tag(locale) for folder in folders if (locale := _parse_or_none(folder)) is not None)
    return tuple(dict.fromkeys([SOURCE_LANGUAGE, *tags]))


def negotiate(tag: str, available: Iterable[str]) -> str | None:
    """The tag of `available` that serves `tag` best, or None when none speaks its language.

    Exact first, then along the tag (`pt-BR` → `pt`, `zh-TW` → `zh-Hant`, `de-AT` → `de`), then any
    regional variant of the same language and script (`pt` → `pt-BR`). Scripts never mix: `zh-CN`
    (Simplified) does not get `zh-Hant`.
    """
    wanted = _parse_or_none(tag)
    if wanted is None:
        return None
    script = wanted.script or _likely_script(wanted.language)
    candidates: dict[str, str] = {}
    for offer in available:
        locale = _parse_or_none(offer)
        if locale is not None and locale.language == wanted.language:
            candidates.setdefault(str(locale), offer)
    order = [str(wanted), *_fallbacks(wanted)]
    if script and not wanted.script:
        order += [f"{wanted.language}_{script}_{wanted.territory}", f"{wanted.language}_{script}"]
    for name in order:
        if name in candidates:
            return candidates[name]
    for name, offer in candidates.items():
        locale = Locale.parse(name)
        if (locale.script or _likely_script(locale.language)) == script:
            return offer
    return None


def _likely_script(language: str) -> str:
    """The script a language is written in when the tag does not say (`zh` → `Hans`, `sr` → `Cyrl`)."""
    likely = str(get_global("likely_subtags").get(language, "")).split("_")
    return next((part for part in likely[1:] if len(part) == 4 and part.istitle()), "")


def offered_languages(configured: Iterable[str] = (), directory: Path | None = None) -> tuple[str, ...]:
    """The languages the picker offers: the policy's list (those a shipped catalog serves), else every shipped one.

    A configured tag is kept as written (`es-US` stays `es-US` when `es` is shipped, so dates and
    numbers follow the region); a tag no catalog serves is left out rather than shown in English.
    """
    shipped = shipped_languages(directory)
    configured = [tag for tag in configured if tag.strip()]
    if not configured:
        return shipped
    served = [_tag(locale) for tag in configured if negotiate(tag, shipped) and (locale := _parse_or_none(tag))]
    return tuple(dict.fromkeys(served)) or (SOURCE_LANGUAGE,)


def choose_language(preferences: Iterable[str | None], offered: Iterable[str]) -> str:
    """The language to start in: the first preference an offered language serves, else English, else the first offer.

    `preferences` go strongest first: `--locale`, the policy's `kiosk.default_language`, the OS locale.
    The answer keeps the preference's region when the offer is a bare language (`es-US` with `es`
    offered stays `es-US`, so dates and numbers follow the region); a script offer is kept as is.
    """
    offers = tuple(offered) or (SOURCE_LANGUAGE,)
    for preference in preferences:
        if not preference:
            continue
        match = negotiate(preference, offers)
        wanted, offer = _parse_or_none(preference), _parse_or_none(match or "")
        if match is None or wanted is None or offer is None:
            continue
        if offer.territory is None and offer.script is None and wanted.territory:
            return f"{offer.language}-{wanted.territory}"  # the offered language in the preferred region
        return match
    return negotiate(SOURCE_LANGUAGE, offers) or offers[0]


def system_language() -> str:
    """The OS/display language as a tag (`LC_ALL`, `LC_MESSAGES`, `LANG`, then the C library), else English."""
    for variable in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(variable, "").split(".")[0]
        if value and value not in ("C", "POSIX"):
            return value.replace("_", "-")
    code = _system_locale.getlocale()[0]
    return code.replace("_", "-") if code and code not in ("C", "POSIX") else SOURCE_LANGUAGE


def current_language() -> str:
    """The active language as a BCP 47 tag, e.g. `en` or `pt-BR`."""
    return str(_locale()).replace("_", "-")


def regional_language() -> str:
    """The active language with a region, as voice services want it: `de` → `de-DE`, `pt-BR` stays."""
    locale = _locale()
    if locale.territory:
        return f"{locale.language}-{locale.territory}"
    likely_subtags = get_global("likely_subtags")
    key = f"{locale.language}_{locale.script}" if locale.script else locale.language
    likely = str(likely_subtags.get(key) or likely_subtags.get(locale.language, "")).split("_")
    territory = likely[-1] if len(likely) > 1 and likely[-1].isupper() else ""
    return f"{locale.language}-{territory}" if territory else locale.language


def is_right_to_left() -> bool:
    """True when the active language is written right to left."""
    return _locale().text_direction == "rtl"


def _(message: str) -> str:
    """Translate a message into the active language."""
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, count: int) -> str:
    """Translate a message with a count, using the active language's plural rules."""
    return _translations().ngettext(singular, plural, count)


def format_datetime(moment: datetime) -> str:
    """A date and time in the active locale's medium format."""
    return _format_datetime(moment, format="medium", locale=_locale())


def format_time(moment: datetime) -> str:
    """A time of day in the active locale's short format."""
    return _format_time(moment, format="short", locale=_locale())


def format_duration(duration: timedelta) -> str:
    """A duration in words in the active locale, e.g. "4 minutes"."""
    return format_timedelta(duration, threshold=1.1, locale=_locale())
