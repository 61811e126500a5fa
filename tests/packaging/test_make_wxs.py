"""packaging/make_wxs.py: stable component GUIDs, the shortcut's program, versions an MSI accepts, bad bundles."""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path, PurePosixPath

import pytest
from packaging_build import REPO

sys.path.insert(0, str(REPO / "packaging"))

import make_wxs  # a script beside the spec, not a package

WIX = "{http://schemas.microsoft.com/wix/2006/wi}"


def fake_bundle(root: Path, *names: str) -> Path:
    """A folder shaped like a bundle: the given files, each holding its own name."""
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def test_a_file_keeps_its_component_guid_across_builds_and_case() -> None:
    path = PurePosixPath("_internal/PySide6/QtCore.pyd")
    assert make_wxs.component_guid(path) == make_wxs.component_guid(PurePosixPath("_internal/pyside6/QtCore.PYD"))
    assert make_wxs.component_guid(path) != make_wxs.component_guid(PurePosixPath("_internal/PySide6/QtGui.pyd"))
    assert make_wxs.component_guid(path) == make_wxs.component_guid(path).upper()


def test_the_shortcut_starts_the_windowed_program_when_there_is_one(tmp_path: Path) -> None:
    windows = fake_bundle(tmp_path / "w", "kiosk.exe", "AccountRecoveryKiosk.exe", "_internal/base_library.zip")
    assert make_wxs.shortcut_target(make_wxs.bundle_files(windows)) == PurePosixPath("AccountRecoveryKiosk.exe")
    linux = fake_bundle(tmp_path / "l", "kiosk", "_internal/kiosk.exe")
    assert make_wxs.shortcut_target(make_wxs.bundle_files(linux)) == PurePosixPath("kiosk")


def test_a_folder_without_the_program_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SystemExit, match=re.escape("none of AccountRecoveryKiosk.exe, kiosk.exe, kiosk")):
        make_wxs.main([str(fake_bundle(tmp_path / "b", "_internal/kiosk")), str(tmp_path / "out")])


def test_names_that_differ_only_in_case_are_refused(tmp_path: Path) -> None:
    bundle = fake_bundle(tmp_path / "b", "kiosk", "_internal/Data.txt", "_internal/data.txt")
    with pytest.raises(SystemExit, match="differ only in case"):
        make_wxs.bundle_files(bundle)


def test_a_missing_bundle_says_how_to_build_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        make_wxs.main([str(tmp_path / "nothing"), str(tmp_path / "out")])
    assert "build the bundle first (make bundle)" in capsys.readouterr().err


@pytest.mark.parametrize("version", ["0.1.0", "2.14.1", "255.255.65535"])
def test_plain_versions_are_msi_versions(version: str) -> None:
    assert make_wxs.msi_version(version) == version


@pytest.mark.parametrize(
    ("version", "why"),
    [("1.2", "major.minor.patch"), ("1.2.3.4", "major.minor.patch"), ("1.2.0rc1", "digits only"),
     ("256.0.0", "out of range"), ("1.0.70000", "out of range")],
)  # fmt: skip
def test_other_versions_are_refused_with_the_reason(version: str, why: str) -> None:
    with pytest.raises(SystemExit, match=why):
        make_wxs.msi_version(version)


def test_the_fragment_lists_every_file_once_in_its_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = fake_bundle(tmp_path / "dist" / "kiosk", "kiosk", "_internal/a.txt", "_internal/sub/b & c.txt")
    (bundle / "_internal" / "link.txt").symlink_to("a.txt")  # a link to the bundle's own file is left out
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("x", encoding="utf-8")
    (bundle / "_internal" / "copy.txt").symlink_to(outside)  # a link out of the bundle becomes a copy
    monkeypatch.chdir(tmp_path)
    assert make_wxs.main([str(bundle), "build"]) == 0
    text = (tmp_path / "build" / "bundle.wxs").read_text(encoding="utf-8")
    root = ET.fromstring(text.replace("<?include product.wxi ?>", ""))  # noqa: S314 - our own output
    files = root.findall(f".//{WIX}File")
    assert sorted(file.get("Source") or "" for file in files) == [
        "$(var.BundleDir)/_internal/a.txt", "$(var.BundleDir)/_internal/copy.txt",
        "$(var.BundleDir)/_internal/sub/b & c.txt", "$(var.BundleDir)/kiosk",
    ]  # fmt: skip
    group = [ref.get("Id") for ref in root.findall(f".//{WIX}ComponentGroup/{WIX}ComponentRef")]
    assert sorted(group) == sorted(component.get("Id") for component in root.findall(f".//{WIX}Component"))
    sub = next(d for d in root.iter(f"{WIX}Directory") if d.get("Name") == "sub")
    assert [file.get("Name") for file in sub.iter(f"{WIX}File")] == ["b & c.txt"]
    include = (tmp_path / "build" / "product.wxi").read_text(encoding="utf-8")
    assert '<?define BundleDir = "dist/kiosk" ?>' in include  # relative: wixl cannot open absolute paths
    assert '<?define Win64 = "yes" ?>' in include
