"""Qt follows the kiosk's language: its default QLocale, the layout direction and its own stock strings.

Our strings come from `kiosk.i18n`; Qt's own (context menus of line edits, standard buttons, …)
come from the `qtbase_*.qm` catalogs that PySide6 bundles, loaded here for the active language.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, Qt, QTranslator
from PySide6.QtGui import QGuiApplication

from kiosk.i18n import current_language, is_right_to_left

TRANSLATOR_NAME = "kioskQtTranslator"
"""Object name of the installed QTranslator (a child of the application), so a switch replaces it."""


def layout_direction() -> Qt.LayoutDirection:
    """The layout direction of the active language."""
    return Qt.LayoutDirection.RightToLeft if is_right_to_left() else Qt.LayoutDirection.LeftToRight


def qt_locale() -> QLocale:
    """The active language as a QLocale (`de-AT` → de_AT, `zh-Hant` → Chinese, Traditional)."""
    return QLocale(current_language())


def follow_language(app: QCoreApplication | None = None) -> bool:
    """Make Qt follow the active language; True when Qt's own catalog for it was found and installed.

    Safe to call again on every language switch: the previous Qt translator is removed first. A
    missing `qtbase_*.qm` is no error (Qt's stock strings then stay in English).
    """
    app = app or QCoreApplication.instance()
    locale = qt_locale()
    QLocale.setDefault(locale)
    if app is None:
        return False
    if isinstance(app, QGuiApplication):
        app.setLayoutDirection(layout_direction())
    for previous in app.findChildren(QTranslator, TRANSLATOR_NAME):
        app.removeTranslator(previous)
        previous.setObjectName("")  # deleted later: never found (and "removed") again meanwhile
        previous.deleteLater()
    translator = QTranslator(app)
    translator.setObjectName(TRANSLATOR_NAME)
    directory = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if translator.load(locale, "qtbase", "_", directory):
        app.installTranslator(translator)
        return True
    translator.deleteLater()
    return False
