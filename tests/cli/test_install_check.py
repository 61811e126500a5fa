"""`kiosk check-install`: every component passes in the checkout; a missing one is a FAIL naming it, exit 1."""

from __future__ import annotations

import io
from pathlib import Path

import captcha.image
import pytest

import kiosk.i18n
from kiosk.cli.install_check_cmd import CHECKS, check_install
from kiosk.cli.main import main
from kiosk.services.backend import credentials


def report(out: io.StringIO) -> dict[str, str]:
    """Check name → its OK/FAIL line."""
    lines = out.getvalue().splitlines()
    return {name: next(line for line in lines if line[6:].startswith(f"{name}:")) for name, _ in CHECKS}


def test_the_source_install_is_complete(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-install"]) == 0
    out = capsys.readouterr().out
    assert out.count("\nOK    ") + out.startswith("OK    ") == len(CHECKS)
    assert "catalogs: 42 compiled catalogs" in out
    assert "locale data: dates formatted in 43 languages" in out
    assert out.rstrip().endswith("source install: complete")


def test_missing_catalogs_fail_and_the_other_checks_still_run(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(kiosk.i18n, "TRANSLATIONS_DIR", tmp_path)
    out = io.StringIO()
    assert check_install(out) == 1
    lines = report(out)
    assert lines["catalogs"] == f"FAIL  catalogs: CheckFailed: no compiled catalog (messages.mo) under {tmp_path}"
    assert lines["hashing"].startswith("OK")
    assert out.getvalue().rstrip().endswith(f"1 of {len(CHECKS)} checks failed")


def test_a_corrupt_catalog_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    broken = tmp_path / "de" / "LC_MESSAGES" / "messages.mo"
    broken.parent.mkdir(parents=True)
    broken.write_bytes(b"not a catalog")
    monkeypatch.setattr(kiosk.i18n, "TRANSLATIONS_DIR", tmp_path)
    out = io.StringIO()
    assert check_install(out) == 1
    assert report(out)["catalogs"].startswith("FAIL  catalogs: OSError")


def test_a_missing_captcha_font_fails(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(captcha.image, "DEFAULT_FONTS", [str(tmp_path / "DroidSansMono.ttf")])
    out = io.StringIO()
    assert check_install(out) == 1
    assert report(out)["captcha"].startswith("FAIL  captcha: ")


def test_missing_keyring_modules_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    for platform in (*credentials.PLATFORM_BACKENDS, "linux", "win32", "darwin"):
        monkeypatch.setitem(credentials.PLATFORM_BACKENDS, platform, ("keyring.backends.left_out.Keyring",))
    out = io.StringIO()
    assert check_install(out) == 1
    assert report(out)["keyring"] == (
        "FAIL  keyring: ModuleNotFoundError: No module named 'keyring.backends.left_out'"
    )
