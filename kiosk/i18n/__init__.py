"""The one i18n module: the active language, gettext (`_`, `ngettext`), locale formatting, text direction.

Every user-visible string goes through `_()` at display time (not import time), so switching the
language re-renders the current page in the new language. Catalogs are compiled gettext files
under `translations/<locale>/LC_MESSAGES/messages.mo`; a missing catalog falls back to the source
English text.
"""

from __future__ import annotations

import gettext as _gettext
import locale as _system_locale
import os
from datetime import datetime, timedelta
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_datetime as _format_datetime
from babel.dates import format_time as _format_time
from babel.dates import format_timedelta
from babel.support import Translations

DOMAIN = "messages"
SOURCE_LANGUAGE = "en"
TRANSLATIONS_DIR = Path(__file__).resolve().parent.parent.parent / "translations"

_state: dict[str, object] = {
    "locale": Locale.parse(SOURCE_LANGUAGE),
    "translations": _gettext.NullTranslations(),
}


def _locale() -> Locale:
    locale = _state["locale"]
    assert isinstance(locale, Locale)
    return locale


def _translations() -> _gettext.NullTranslations:
    translations = _state["translations"]
    assert isinstance(translations, _gettext.NullTranslations)
    return translations


def parse_tag(tag: str) -> Locale:
    """Parse a BCP 47 / POSIX tag (`es-US`, `pt_BR`, `zh-Hant`) into a babel Locale; English if unknown."""
    try:
        return Locale.parse(tag.replace("-", "_"))
    except (ValueError, UnknownLocaleError):
        return Locale.parse(SOURCE_LANGUAGE)


def set_language(tag: str, directory: Path = TRANSLATIONS_DIR) -> Locale:
    """Make `tag` the active language; falls back along the tag (`pt_BR` → `pt`) to English."""
    locale = parse_tag(tag)
    _state["locale"] = locale
    _state["translations"] = Translations.load(str(directory), [str(locale), locale.language], DOMAIN)
    return locale


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
