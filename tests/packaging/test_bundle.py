"""The frozen one-folder bundle: what it holds, and that it runs what the source install runs.

Each run starts the bundle's own program from a folder outside the checkout, with no PYTHON*
variables, so nothing can come from the source tree or the virtual environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from packaging_build import REPO, frozen_env
from PIL import Image, ImageChops

pytestmark = pytest.mark.timeout(900)  # the first test may build the bundle (about a minute)


def run_frozen(bundle: Path, *args: str, cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    """Run the bundle's program with `args` (no controlling terminal, so getpass reads `stdin`)."""
    return subprocess.run(  # noqa: S603 - the bundle's program with the test's arguments
        [str(bundle / "kiosk"), *args],
        cwd=cwd,
        env=frozen_env(**env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,
    )


def test_it_is_one_folder_with_the_program_and_its_data(bundle: Path) -> None:
    data = bundle / "_internal"
    assert (bundle / "kiosk").is_file() and (bundle / "kiosk").stat().st_mode & 0o111
    demo_policy = (REPO / "resources" / "demo-policy.toml").read_bytes()
    assert (data / "resources" / "demo-policy.toml").read_bytes() == demo_policy
    assert (data / "resources" / "demo" / "directory.toml").is_file()
    assert (data / "kiosk" / "ui" / "assets" / "chevron-down.svg").is_file()
    shipped = {path.parent.parent.name for path in (data / "translations").glob("*/LC_MESSAGES/messages.mo")}
    sources = {path.parent.parent.name for path in (REPO / "translations").glob("*/LC_MESSAGES/messages.po")}
    assert shipped == sources and len(shipped) == 42
    assert not list((data / "translations").rglob("*.po"))
    assert (data / "captcha" / "data" / "DroidSansMono.ttf").is_file()


def test_only_the_qt_the_kiosk_uses_is_in_it(bundle: Path) -> None:
    data = bundle / "_internal"
    bindings = {path.name.split(".")[0] for path in (data / "PySide6").glob("Qt*.so")}
    # QtSvg draws the authenticator app's QR code (kiosk/ui/qr.py); its library ships for the SVG image plugin
    # anyway, and the frozen screenshots (register_app.png included) must match the source install's.
    assert bindings == {"QtCore", "QtGui", "QtWidgets", "QtSvg"}
    libraries = " ".join(path.name for path in data.rglob("libQt6*"))
    for unused in ("Qml", "Quick", "Pdf", "WebEngine", "Multimedia", "Sql", "Designer", "3D", "Charts"):
        assert f"libQt6{unused}" not in libraries
    plugins = data / "PySide6" / "Qt" / "plugins"
    assert {path.name for path in (plugins / "platforms").iterdir()} == {
        "libqoffscreen.so", "libqxcb.so", "libqwayland.so",
    }  # fmt: skip
    assert (plugins / "imageformats" / "libqsvg.so").is_file()  # the chevron and SVG logos
    for unused in ("tls", "networkinformation", "egldeviceintegrations", "generic", "sqldrivers", "qmltooling"):
        assert not (plugins / unused).exists()
    qt_catalogs = {path.name for path in (data / "PySide6" / "Qt" / "translations").iterdir()}
    assert "qtbase_de.qm" in qt_catalogs and "qtbase_ar.qm" in qt_catalogs
    assert all(name.startswith("qtbase_") for name in qt_catalogs)


def test_the_frozen_kiosk_starts_against_its_embedded_backend(bundle: Path, tmp_path: Path) -> None:
    result = run_frozen(bundle, "--demo", "--self-test", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("READY ")


def test_the_frozen_kiosk_has_every_component(bundle: Path, tmp_path: Path) -> None:
    result = run_frozen(bundle, "check-install", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "frozen bundle: complete"
    assert all(line.startswith("OK    ") for line in lines[:-1]) and len(lines) == 9
    assert "OK    pages: all 17 pages' modules present" in lines  # imported by name, on first use
    assert f"in {bundle.resolve() / '_internal' / 'resources'}" in result.stdout  # the bundle's, not the checkout's
    assert "42 compiled catalogs" in result.stdout and "dates formatted in 43 languages" in result.stdout


def test_the_frozen_policy_check_validates_and_explains(bundle: Path, tmp_path: Path) -> None:
    good = run_frozen(bundle, "policy", "check", str(REPO / "resources" / "demo-policy.toml"), cwd=tmp_path)
    assert good.returncode == 0 and good.stdout.startswith("OK: ")
    bad_file = REPO / "resources" / "examples" / "out-of-range.toml"
    bad = run_frozen(bundle, "policy", "check", str(bad_file), cwd=tmp_path)
    assert bad.returncode == 1
    assert f"{bad_file}:7: methods.code_length: must be a whole number between 6 and 10" in bad.stderr


@pytest.mark.parametrize("language", ["de", "ar"])
def test_the_frozen_screenshots_are_the_source_install_s(bundle: Path, tmp_path: Path, language: str) -> None:
    frozen, source = tmp_path / "frozen", tmp_path / "source"
    result = run_frozen(bundle, "screenshots", "--out", str(frozen), "--locale", language, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-m", "kiosk.cli.main", "screenshots", "--out", str(source), "--locale", language],
        cwd=REPO, env=dict(os.environ, QT_QPA_PLATFORM="offscreen"), check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    pages = sorted(path.name for path in source.glob("*.png"))
    assert len(pages) >= 12 and sorted(path.name for path in frozen.glob("*.png")) == pages
    for page in pages:
        with Image.open(frozen / page) as ours, Image.open(source / page) as theirs:
            assert ours.size == theirs.size
            difference = ImageChops.difference(ours.convert("RGB"), theirs.convert("RGB")).getbbox()
            assert difference is None, f"{language}/{page} differs from the source install's in {difference}"


def test_the_frozen_kiosk_chooses_its_keyring_by_name(bundle: Path, tmp_path: Path) -> None:
    # No D-Bus session here, so the Secret Service is unusable: the explicit choice must say what it
    # tried and why; a bundle without the backend modules would say ModuleNotFoundError instead.
    typed = "Frozen-Secret-42"
    result = run_frozen(
        bundle, "secrets", "set", "admin-exit", cwd=tmp_path, stdin=f"{typed}\n{typed}\n", DBUS_SESSION_BUS_ADDRESS=""
    )
    assert result.returncode == 1
    assert "tried: keyring.backends.SecretService.Keyring: RuntimeError" in result.stderr
    assert "ModuleNotFoundError" not in result.stderr
    assert typed not in result.stdout + result.stderr


def test_an_environment_override_reaches_the_frozen_kiosk(bundle: Path, tmp_path: Path) -> None:
    result = run_frozen(
        bundle, "secrets", "set", "admin-exit", cwd=tmp_path, stdin="x1\nx1\n",
        PYTHON_KEYRING_BACKEND="keyring.backends.no_such.Keyring",
    )  # fmt: skip
    assert result.returncode == 1
    assert "PYTHON_KEYRING_BACKEND names a keyring backend that cannot be used" in result.stderr
