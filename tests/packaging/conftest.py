"""The bundle and the MSI the packaging tests inspect: `make bundle` / `make msi` output, rebuilt here when stale.

`make test` builds both before pytest runs, so these fixtures only find them fresh. Run on their
own (plain `pytest`), they build what is missing or older than its sources, as the Makefile does.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from packaging_build import (
    BUNDLE_DIR,
    BUNDLE_LOCK,
    MSI,
    MSI_LOCK,
    PROGRAM,
    REPO,
    built_and_held,
    bundle_sources,
    run,
    stale,
)


def _build_bundle() -> None:
    if stale(PROGRAM, bundle_sources()):
        run([sys.executable, "-m", "babel.messages.frontend", "-q", "compile", "-d", "translations", "-D", "messages"])
        run([
            sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
            "--distpath", "dist", "--workpath", "build/pyinstaller", "packaging/kiosk.spec",
        ])  # fmt: skip
        PROGRAM.touch()


def _build_msi() -> None:
    missing = [tool for tool in ("wixl", "msiinfo", "msibuild", "msiextract") if shutil.which(tool) is None]
    assert not missing, f"{', '.join(missing)} not installed: run `make packaging-deps` (Debian: msitools, wixl)"
    sources = [PROGRAM, *(REPO / "packaging").glob("*.py"), REPO / "packaging" / "kiosk.wxs", REPO / "kiosk/product.py"]
    if stale(MSI, sources):
        run([sys.executable, "packaging/build_msi.py", "dist/kiosk", "--out", str(MSI.relative_to(REPO))])


@pytest.fixture(scope="session")
def bundle() -> Iterator[Path]:
    """dist/kiosk/, built from the current sources (as `make bundle`)."""
    with built_and_held(BUNDLE_LOCK, _build_bundle):
        yield BUNDLE_DIR


@pytest.fixture(scope="session")
def msi(bundle: Path) -> Iterator[Path]:
    """The MSI built from the bundle (as `make msi`; needs wixl and msitools: `make packaging-deps`)."""
    with built_and_held(MSI_LOCK, _build_msi):
        yield MSI
