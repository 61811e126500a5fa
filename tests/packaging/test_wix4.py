"""packaging/wix4.py: the WiX v4 sources the Windows job builds say what the v3 sources wixl builds say.

No WiX Toolset runs here (it is a .NET tool for Windows): the job runs `wix build` on them. These
check the conversion against the real packaging/kiosk.wxs and make_wxs.py's fragment.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from packaging_build import REPO

sys.path.insert(0, str(REPO / "packaging"))

import make_wxs  # scripts beside the spec, not a package
import wix4

V3 = "{http://schemas.microsoft.com/wix/2006/wi}"
V4 = "{http://wixtoolset.org/schemas/v4/wxs}"
KIOSK_WXS = (REPO / "packaging" / "kiosk.wxs").read_text(encoding="utf-8")


def windows_bundle(root: Path) -> Path:
    """A folder shaped like a Windows bundle (the two programs, nested data)."""
    for name in ("kiosk.exe", "AccountRecoveryKiosk.exe", "_internal/python311.dll", "_internal/resources/x.toml"):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(name)
    return root


def parse(source: str) -> ET.Element:
    """The root element of a WiX source."""
    return ET.fromstring(source)  # noqa: S314 - the project's own sources


def facts(root: ET.Element, ns: str) -> dict[str, object]:
    """What an installer holds, namespace aside: components, files, registry, properties, actions, folders."""

    def rows(tag: str, *keys: str) -> list[tuple[str | None, ...]]:
        return sorted(tuple(element.get(key) for key in keys) for element in root.iter(ns + tag))

    return {
        "components": rows("Component", "Id", "Guid", "NeverOverwrite", "Permanent"),
        "files": rows("File", "Id", "Name", "Source", "KeyPath"),
        "shortcuts": rows("Shortcut", "Id", "Directory", "Name", "Target", "WorkingDirectory", "Arguments"),
        "registry": rows("RegistryValue", "Name", "Type", "Value", "KeyPath"),
        "properties": rows("Property", "Id", "Value", "Secure"),
        "actions": rows("CustomAction", "Id", "Property", "Value"),
        # v4 makes TARGETDIR itself and names the predefined folders (no Name) with StandardDirectory.
        "folders": sorted(
            [row for row in rows("Directory", "Id", "Name") if row[0] != "TARGETDIR"]
            + [(element.get("Id"), None) for element in root.iter(ns + "StandardDirectory")]
        ),
        "references": rows("ComponentRef", "Id") + rows("ComponentGroupRef", "Id"),
    }


def test_the_product_converts_to_one_v4_package_saying_the_same() -> None:
    v3, v4 = parse(KIOSK_WXS), parse(wix4.convert(KIOSK_WXS, "packaging/kiosk.wxs"))
    assert v4.tag == V4 + "Wix" and all(element.tag.startswith(V4) for element in v4.iter())
    (package,) = v4.findall(V4 + "Package")
    (product,), (v3_package,) = v3.findall(V3 + "Product"), v3.iter(V3 + "Package")
    for name in ("Name", "Manufacturer", "Version", "Language", "UpgradeCode"):
        assert package.get(name) == product.get(name)
    assert package.get("Scope") == v3_package.get("InstallScope") == "perMachine"
    assert package.get("InstallerVersion") == "500" and package.get("Compressed") == "yes"
    assert "Id" not in package.attrib and "ProductCode" not in package.attrib  # a new ProductCode every build
    (summary,) = package.findall(V4 + "SummaryInformation")
    assert summary.get("Description") == v3_package.get("Description")
    assert facts(v3, V3) == facts(v4, V4)
    assert not [element for element in v4.iter() if "Win64" in element.attrib]


def test_the_include_stays_before_the_package() -> None:
    source = wix4.convert(KIOSK_WXS, "packaging/kiosk.wxs")
    assert source.index("<?include product.wxi ?>") < source.index("<Package ")
    assert "$(var.Win64)" not in source


def test_custom_action_conditions_become_attributes() -> None:
    v4 = parse(wix4.convert(KIOSK_WXS, "packaging/kiosk.wxs"))
    customs = list(v4.iter(V4 + "Custom"))
    assert len(customs) == 2  # the execute and the UI sequence
    for custom in customs:
        assert custom.attrib == {"Action": "DefaultPolicyFile", "Sequence": "1001", "Condition": "NOT POLICYFILE"}
        assert not (custom.text or "").strip()


def test_the_standard_folders_stand_at_the_top_of_the_package() -> None:
    package = parse(wix4.convert(KIOSK_WXS, "packaging/kiosk.wxs")).find(V4 + "Package")
    assert package is not None
    standard = [element.get("Id") for element in package.findall(V4 + "StandardDirectory")]
    assert standard == ["ProgramFiles64Folder", "CommonAppDataFolder", "ProgramMenuFolder"]
    assert all(element.get("Id") != "TARGETDIR" for element in package.iter(V4 + "Directory"))
    install = package.find(f"{V4}StandardDirectory/{V4}Directory/{V4}Directory[@Id='INSTALLDIR']")
    assert install is not None and install.get("Name") == "$(var.DisplayName)"


def test_the_bundle_fragment_converts_file_for_file(tmp_path: Path) -> None:
    bundle = windows_bundle(tmp_path / "kiosk")
    v3_source = make_wxs.fragment(bundle, make_wxs.bundle_files(bundle))
    v4 = parse(wix4.convert(v3_source, "packaging/make_wxs.py"))
    assert facts(parse(v3_source), V3) == facts(v4, V4)
    (shortcut,) = v4.iter(V4 + "Shortcut")
    assert shortcut.get("Target", "").startswith("[#f") and shortcut.get("Arguments") == '--policy "[POLICYFILE]"'
    assert len(list(v4.iter(V4 + "File"))) == 4


def test_write_sources_gives_wix_absolute_paths_and_every_variable(tmp_path: Path) -> None:
    bundle = windows_bundle(tmp_path / "kiosk")
    main, fragment = wix4.write_sources(bundle, tmp_path / "wix")
    include = (tmp_path / "wix" / "product.wxi").read_text(encoding="utf-8")
    defined = set(re.findall(r'<\?define (\w+) = "([^"]*)" \?>', include))
    values = dict(defined)
    assert values["BundleDir"] == bundle.resolve().as_posix()
    assert values["PolicySource"] == (REPO / "resources" / "installed-policy.toml").as_posix()
    used = set(re.findall(r"\$\(var\.(\w+)\)", main.read_text(encoding="utf-8") + fragment.read_text(encoding="utf-8")))
    assert used and used <= set(values)
    # The Linux build keeps its relative paths (wixl cannot open absolute ones).
    assert 'BundleDir = "/' not in make_wxs.product_include(bundle, "x64")


def test_an_unknown_v3_element_or_attribute_stops_the_conversion() -> None:
    unknown_element = KIOSK_WXS.replace("<MajorUpgrade ", '<Upgrade Id="X" /><MajorUpgrade ')
    with pytest.raises(wix4.ConversionError, match="<Upgrade>"):
        wix4.convert(unknown_element, "test")
    unknown_attribute = KIOSK_WXS.replace('<Property Id="ARPNOMODIFY"', '<Property Admin="yes" Id="ARPNOMODIFY"')
    with pytest.raises(wix4.ConversionError, match="<Property> Admin"):
        wix4.convert(unknown_attribute, "test")
    fixed_product_code = KIOSK_WXS.replace('<Product Id="*"', '<Product Id="12345678-1234-1234-1234-123456789012"')
    with pytest.raises(wix4.ConversionError, match="ProductCode"):
        wix4.convert(fixed_product_code, "test")
    with pytest.raises(wix4.ConversionError, match="no WiX v3 source"):
        wix4.convert('<Wix xmlns="http://wixtoolset.org/schemas/v4/wxs" />', "test")


def test_without_wix_on_the_path_it_says_how_to_install_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    bundle = windows_bundle(tmp_path / "kiosk")
    with pytest.raises(SystemExit, match="dotnet tool install --global wix"):
        wix4.main([str(bundle), "--work", str(tmp_path / "wix"), "--out", str(tmp_path / "k.msi")])
    assert wix4.main([str(bundle), "--work", str(tmp_path / "w2"), "--sources-only"]) == 0
    assert sorted(path.name for path in (tmp_path / "w2").iterdir()) == ["bundle.wxs", "kiosk.wxs", "product.wxi"]
