"""Where the kiosk's data files are: the source checkout, or the folder a PyInstaller bundle unpacks them to.

The data files (`resources/`: demo policy, demo directory, examples; `translations/`: the compiled
catalogs) are not Python modules, so they sit beside the package, not inside it. In a checkout that
is the repository root; in a frozen one-folder bundle PyInstaller puts them under `sys._MEIPASS`
(`dist/kiosk/_internal/`), and `packaging/kiosk.spec` copies them there under the same names. A leaf
module (stdlib only), so the policy and i18n layers may use it too.
"""

from __future__ import annotations

import sys
from pathlib import Path


def is_frozen() -> bool:
    """True inside a PyInstaller bundle (it sets `sys.frozen` and `sys._MEIPASS`)."""
    return bool(getattr(sys, "frozen", False)) and isinstance(getattr(sys, "_MEIPASS", None), str)


def data_root() -> Path:
    """The folder holding `resources/` and `translations/`: the bundle's data folder, else the checkout."""
    if is_frozen():
        return Path(getattr(sys, "_MEIPASS"))  # noqa: B009 - mypy knows no sys._MEIPASS
    return Path(__file__).resolve().parent.parent


RESOURCES = data_root() / "resources"
"""The demo policy, the demo directory and the example policies."""

TRANSLATIONS = data_root() / "translations"
"""The gettext catalogs: `<locale>/LC_MESSAGES/messages.mo` (compiled by `make compile-catalogs`)."""
