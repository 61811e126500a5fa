"""`kiosk check-install`: does this installation carry every data file and native part the kiosk loads at run time?

Aimed at frozen bundles (PyInstaller misses what no import names: package data, native
extensions, plugins found by entry points), and run by `make test` against the Linux bundle and by
hand on a Windows build machine before the MSI is made. Each check does the real work once (hash
and verify with argon2, draw a CAPTCHA with its font, score a password with zxcvbn's word lists,
format a date in every shipped language), so a missing piece is a FAIL here, not a crash in front
of a user. It uses no directory, no network and no secret; the keyring check only loads modules.
"""

from __future__ import annotations

import asyncio
import gettext
import secrets
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TextIO


class CheckFailed(Exception):
    """A component is missing or broken; the message says which and how it failed."""


def _resources() -> str:
    from kiosk.cli.main import DEMO_POLICY
    from kiosk.policy.loader import load_policy
    from kiosk.services.backend.directory.demo_seed import DEMO_DIRECTORY, load_demo_directory

    load_policy(DEMO_POLICY)
    users = load_demo_directory(DEMO_DIRECTORY).users
    return f"demo policy and {len(users)} demo users in {DEMO_POLICY.parent}"


def _catalogs() -> str:
    from kiosk.i18n import DOMAIN, TRANSLATIONS_DIR

    compiled = sorted(TRANSLATIONS_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.mo"))
    if not compiled:
        raise CheckFailed(f"no compiled catalog ({DOMAIN}.mo) under {TRANSLATIONS_DIR}")
    for path in compiled:
        with path.open("rb") as file:
            gettext.GNUTranslations(file)  # raises on a truncated or foreign file
    return f"{len(compiled)} compiled catalogs in {TRANSLATIONS_DIR}"


def _locale_data() -> str:
    from babel import Locale
    from babel.dates import format_datetime

    from kiosk.i18n import shipped_languages

    moment = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
    languages = shipped_languages()
    for tag in languages:
        format_datetime(moment, format="full", locale=Locale.parse(tag.replace("-", "_")))
    return f"dates formatted in {len(languages)} languages (babel locale data)"


def _password_strength() -> str:
    from kiosk.policy.password import strength_score

    weak, strong = strength_score("password1"), strength_score("Quartz-lantern-97-Orbit")
    if not weak < strong:
        raise CheckFailed(f"zxcvbn scored a common password {weak} and a strong one {strong}")
    return f"zxcvbn scores {weak} for a common password, {strong} for a strong one"


def _hashing() -> str:
    from kiosk.services.backend.hashing import Hashing

    sample = secrets.token_urlsafe(12)  # a throwaway value, never shown

    async def round_trip() -> bool:
        hashing = Hashing(workers=1)
        try:
            encoded = await hashing.hash_secret(sample)
            return await hashing.verify_secret(encoded, sample) and not await hashing.verify_secret(
                encoded, sample + "x"
            )
        finally:
            hashing.close()

    if not asyncio.run(round_trip()):
        raise CheckFailed("an argon2 hash did not verify its own input (or verified a different one)")
    return "argon2id hash and verify"


def _captcha() -> str:
    import base64

    from kiosk.services.backend.human_check.captcha import english_wav, new_challenge, render_image

    challenge = new_challenge()
    png = base64.b64decode(asyncio.run(render_image(challenge)).png_base64)
    if not png.startswith(b"\x89PNG"):
        raise CheckFailed("the CAPTCHA picture is not a PNG")
    wav = english_wav(challenge)
    if not (wav.startswith(b"RIFF") and len(wav) > 1000):
        raise CheckFailed("the CAPTCHA's English voice gave no WAV recording")
    return f"picture ({len(png)} bytes PNG, font found) and English voice ({len(wav)} bytes WAV)"


def _keyring() -> str:
    import importlib

    from kiosk.services.backend.credentials import CredentialError, backend_candidates, choose_backend

    names = backend_candidates(sys.platform, {})
    for name in names:
        importlib.import_module(name.rpartition(".")[0])  # the bundle must carry them (no entry points)
    try:
        usable = f"usable here: {type(choose_backend()).__module__}"
    except CredentialError:
        usable = "none usable in this session (no unlocked keyring), which `kiosk secrets set` would report"
    return f"{len(names)} backend module(s) for {sys.platform} present; {usable}"


def _pages() -> str:
    from kiosk.ui.pages import PAGES

    # Imported on first use, by name (kiosk.ui.pages): no import statement tells PyInstaller about them.
    classes = [PAGES[kind] for kind in PAGES]
    return f"all {len(classes)} pages' modules present"


CHECKS: tuple[tuple[str, Callable[[], str]], ...] = (
    ("resources", _resources),
    ("catalogs", _catalogs),
    ("locale data", _locale_data),
    ("password strength", _password_strength),
    ("hashing", _hashing),
    ("captcha", _captcha),
    ("keyring", _keyring),
    ("pages", _pages),
)
"""Each component: its name in the report and the check that does its real work once."""


def check_install(out: TextIO) -> int:
    """Run every check, one `OK`/`FAIL` line each on `out`; 0 when all pass, else 1."""
    failed = 0
    for name, check in CHECKS:
        try:
            detail = check()
        except Exception as error:  # noqa: BLE001 - any failure of a component is reported, then the next runs
            failed += 1
            print(f"FAIL  {name}: {type(error).__name__}: {error}"[:500], file=out)
        else:
            print(f"OK    {name}: {detail}", file=out)
    where = "frozen bundle" if getattr(sys, "frozen", False) else "source install"
    verdict = "complete" if not failed else f"{failed} of {len(CHECKS)} checks failed"
    print(f"{where}: {verdict}", file=out)
    return 1 if failed else 0
