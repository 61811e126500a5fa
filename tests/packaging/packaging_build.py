"""Where the bundle and the MSI are, when they are older than their sources, and how the tests run them."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from kiosk.product import PRODUCT, VERSION

REPO = Path(__file__).resolve().parents[2]
BUNDLE_DIR = REPO / "dist" / "kiosk"
PROGRAM = BUNDLE_DIR / "kiosk"
MSI = REPO / "dist" / f"{PRODUCT}-{VERSION}-x64.msi"
BUNDLE_LOCK = REPO / "build" / ".bundle.lock"
MSI_LOCK = REPO / "build" / ".msi.lock"
"""flock files the Makefile's build recipes take too: a rebuild waits until no test run still uses the old one."""

SOURCE_SUFFIXES = {".py", ".toml", ".svg", ".po", ".spec"}
"""What the bundle is made of (the Makefile's BUNDLE_SOURCES); .po, not .mo: `make setup` rewrites every .mo."""


def newest(paths: Iterable[Path]) -> float:
    """The latest modification time among `paths` (0 when none exists)."""
    return max((path.stat().st_mtime for path in paths if path.is_file()), default=0.0)


def bundle_sources() -> Iterator[Path]:
    """Every file the bundle is built from."""
    for folder in ("kiosk", "resources", "packaging", "translations"):
        for path in (REPO / folder).rglob("*"):
            if path.suffix in SOURCE_SUFFIXES and "__pycache__" not in path.parts:
                yield path
    yield REPO / "pyproject.toml"


def stale(target: Path, sources: Iterable[Path]) -> bool:
    """True when `target` is missing or older than one of `sources`."""
    return not target.is_file() or target.stat().st_mtime < newest(sources)


@contextmanager
def built_and_held(lock: Path, build_if_stale: object) -> Iterator[None]:
    """Build under an exclusive lock if needed (`build_if_stale()`), then hold it shared while inside."""
    lock.parent.mkdir(parents=True, exist_ok=True)
    with lock.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            assert callable(build_if_stale)
            build_if_stale()
            fcntl.flock(handle, fcntl.LOCK_SH)  # others may use it too; nobody rebuilds it under us
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def run(command: list[str]) -> None:
    """Run a build command in the repository; fail the test with its output if it fails."""
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"


def frozen_env(**extra: str) -> dict[str, str]:
    """The environment the frozen program runs in: offscreen Qt, nothing from the test's Python."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.update(QT_QPA_PLATFORM="offscreen", **extra)
    return env
