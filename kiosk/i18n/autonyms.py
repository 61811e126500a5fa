"""Every shipped language's name in that language (its autonym), for the language picker.

Looking a name up in babel loads that locale's data, about 5 ms a language: for the picker's 40+
languages that would be a quarter of a second of kiosk start-up. So the names are kept here; a test
checks them against babel for every shipped catalog. After adding a catalog, print the table anew
with `python -m kiosk.i18n.autonyms` and paste it here.
"""

from __future__ import annotations

AUTONYMS: dict[str, str] = {
    "en": "English",
    "ar": "العربية",
    "bg": "Български",
    "ca": "Català",
    "cs": "Čeština",
    "da": "Dansk",
    "de": "Deutsch",
    "el": "Ελληνικά",
    "es": "Español",
    "et": "Eesti",
    "eu": "Euskara",
    "fi": "Suomi",
    "fr": "Français",
    "gl": "Galego",
    "he": "עברית",
    "hi": "हिन्दी",
    "hr": "Hrvatski",
    "hu": "Magyar",
    "id": "Indonesia",
    "it": "Italiano",
    "ja": "日本語",
    "kk": "Қазақ тілі",
    "ko": "한국어",
    "lt": "Lietuvių",
    "lv": "Latviešu",
    "ms": "Melayu",
    "nb": "Norsk bokmål",
    "nl": "Nederlands",
    "pl": "Polski",
    "pt-BR": "Português (Brasil)",
    "pt-PT": "Português (Portugal)",
    "ro": "Română",
    "ru": "Русский",
    "sk": "Slovenčina",
    "sl": "Slovenščina",
    "sr-Latn": "Srpski (latinica)",
    "sv": "Svenska",
    "th": "ไทย",
    "tr": "Türkçe",
    "uk": "Українська",
    "vi": "Tiếng Việt",
    "zh-Hans": "中文 (简体)",
    "zh-Hant": "中文 (繁體)",
}
"""BCP 47 tag (as `shipped_languages` spells it) → the language's own name, capitalised."""


def babel_autonym(tag: str) -> str:
    """The name babel gives a language in that language, capitalised (slow: loads the locale's data)."""
    from kiosk.i18n import parse_tag

    locale = parse_tag(tag)
    name = locale.get_display_name(locale) or tag
    return name[:1].upper() + name[1:]


def autonym(tag: str) -> str:
    """A language's own name: from the table, else (a regional tag such as `es-US`) from babel."""
    return AUTONYMS.get(tag) or babel_autonym(tag)


if __name__ == "__main__":
    from kiosk.i18n import shipped_languages

    for shipped in shipped_languages():
        print(f'    "{shipped}": "{babel_autonym(shipped)}",')
