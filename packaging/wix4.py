"""Build the Windows MSI with the WiX Toolset v4/v5 (`wix build`) from the same sources wixl builds.

    python packaging/wix4.py dist/kiosk [--out dist/AccountRecoveryKiosk-<version>-x64.msi] [--sources-only]

wixl (Linux, `make msi`) reads only WiX v3 source; `wix build` (the .NET tool: `dotnet tool install
--global wix`) reads only v4 source. So packaging/kiosk.wxs and the fragment packaging/make_wxs.py
generates stay the one source, and this script converts them into build/wix/ for `wix build`: the v4
namespace; Product and Package become one Package (Description moves to SummaryInformation,
InstallScope becomes Scope, the ProductCode is generated); a Custom action's condition text becomes
its Condition attribute; the standard folders under TARGETDIR become StandardDirectory elements;
Win64 goes (the package's `-arch x64` makes every component 64-bit). An element or attribute it
does not know stops it with a message, so a v3 edit never reaches `wix build` half converted.
The WiX Toolset honours what build_msi.py has to write into wixl's tables (NeverOverwrite,
Permanent, Secure), so there is nothing to fix up afterwards. `.github/workflows/windows.yml` runs it.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "packaging"))

import build_msi  # noqa: E402 - beside this script, found through the path set above
import make_wxs  # noqa: E402

V3 = "http://schemas.microsoft.com/wix/2006/wi"
V4 = "http://wixtoolset.org/schemas/v4/wxs"

STANDARD_DIRECTORIES = frozenset(
    {"ProgramFiles64Folder", "ProgramFilesFolder", "CommonAppDataFolder", "ProgramMenuFolder"}
)
"""Windows Installer's predefined folders the sources use: v4 names them with StandardDirectory."""

SAME_IN_V4: dict[str, frozenset[str]] = {
    "Wix": frozenset(),
    "Fragment": frozenset(),
    "Media": frozenset({"Id", "Cabinet", "EmbedCab"}),
    "MajorUpgrade": frozenset({"DowngradeErrorMessage"}),
    "Property": frozenset({"Id", "Value", "Secure"}),
    "CustomAction": frozenset({"Id", "Property", "Value"}),
    "InstallExecuteSequence": frozenset(),
    "InstallUISequence": frozenset(),
    "Directory": frozenset({"Id", "Name"}),
    "DirectoryRef": frozenset({"Id"}),
    "Component": frozenset({"Id", "Guid", "NeverOverwrite", "Permanent"}),
    "File": frozenset({"Id", "Name", "Source", "KeyPath"}),
    "Shortcut": frozenset({"Id", "Directory", "Name", "Description", "Target", "WorkingDirectory", "Arguments"}),
    "RegistryKey": frozenset({"Root", "Key"}),
    "RegistryValue": frozenset({"Name", "Type", "Value", "KeyPath"}),
    "Feature": frozenset({"Id", "Title", "Level"}),
    "ComponentGroup": frozenset({"Id"}),
    "ComponentGroupRef": frozenset({"Id"}),
    "ComponentRef": frozenset({"Id"}),
}
"""The v3 elements the sources use whose v4 form is the same, with the attributes that carry over as they are."""

DROPPED = frozenset({"Win64"})
"""v3 attributes v4 no longer has (the architecture comes from `wix build -arch`)."""


class ConversionError(SystemExit):
    """A v3 construct this converter does not know: convert it by hand here first."""


def _is_markup(node: ET.Element) -> bool:
    """True for a comment or processing instruction (ElementTree gives them a function as their tag)."""
    return not isinstance(node.tag, str)


def _local(tag: str) -> str:
    """The element's name without its namespace, or SystemExit for an element outside WiX v3."""
    if not tag.startswith("{" + V3 + "}"):
        raise ConversionError(f"wix4: {tag} is not a WiX v3 element")
    return tag[len(V3) + 2 :]


def _convert_children(source: ET.Element, target: ET.Element) -> None:
    """Append the v4 form of each child of `source` (comments and processing instructions as they are)."""
    for child in source:
        if _is_markup(child):
            target.append(child)
        else:
            target.append(_convert(child))
    target.text, target.tail = source.text, source.tail


def _convert(element: ET.Element) -> ET.Element:
    """The v4 form of one v3 element and everything in it."""
    name = _local(element.tag)
    attributes = {key: value for key, value in element.attrib.items() if key not in DROPPED}
    if name == "Product":
        return _package(element)
    if name == "Custom":
        return _custom(element, attributes)
    if name == "Directory" and attributes.get("Id") == "TARGETDIR":
        raise ConversionError("wix4: TARGETDIR is only converted at the top of the Product")
    if name == "Directory" and attributes.get("Id") in STANDARD_DIRECTORIES:
        converted = ET.Element(f"{{{V4}}}StandardDirectory", {"Id": attributes["Id"]})
        _convert_children(element, converted)
        return converted
    if name not in SAME_IN_V4:
        raise ConversionError(f"wix4: no v4 form known for <{name}>: add it to packaging/wix4.py")
    unknown = sorted(set(attributes) - SAME_IN_V4[name])
    if unknown:
        raise ConversionError(f"wix4: no v4 form known for <{name}> {', '.join(unknown)}: add it to packaging/wix4.py")
    converted = ET.Element(f"{{{V4}}}{name}", attributes)
    _convert_children(element, converted)
    return converted


def _custom(element: ET.Element, attributes: dict[str, str]) -> ET.Element:
    """<Custom Action Sequence>condition</Custom> -> <Custom Action Sequence Condition="condition" />."""
    unknown = sorted(set(attributes) - {"Action", "Sequence", "After", "Before"})
    if unknown or len(element):
        raise ConversionError(f"wix4: no v4 form known for this <Custom> ({', '.join(unknown) or 'child elements'})")
    condition = (element.text or "").strip()
    converted = ET.Element(f"{{{V4}}}Custom", {**attributes, **({"Condition": condition} if condition else {})})
    converted.tail = element.tail
    return converted


PRODUCT_TO_PACKAGE = {"Name": "Name", "Manufacturer": "Manufacturer", "Version": "Version", "Language": "Language",
                      "UpgradeCode": "UpgradeCode"}  # fmt: skip
PACKAGE_TO_PACKAGE = {"InstallerVersion": "InstallerVersion", "Compressed": "Compressed", "InstallScope": "Scope"}
PACKAGE_TO_SUMMARY = {"Description": "Description", "Manufacturer": "Manufacturer"}


def _package(product: ET.Element) -> ET.Element:
    """v3's Product with its Package child -> v4's Package (+ SummaryInformation), TARGETDIR's folders hoisted."""
    if product.get("Id") != "*":
        raise ConversionError('wix4: only Product Id="*" (a new ProductCode every build) is converted')
    packages = [child for child in product if child.tag == f"{{{V3}}}Package"]
    if len(packages) != 1:
        raise ConversionError("wix4: a Product needs exactly one Package")
    v3_package = packages[0]
    for element, known in (
        (product, {"Id", *PRODUCT_TO_PACKAGE}),
        (v3_package, {*PACKAGE_TO_PACKAGE, *PACKAGE_TO_SUMMARY}),
    ):
        unknown = sorted(set(element.attrib) - known)
        if unknown:
            raise ConversionError(f"wix4: no v4 form known for <{_local(element.tag)}> {', '.join(unknown)}")
    attributes = {new: product.attrib[old] for old, new in PRODUCT_TO_PACKAGE.items() if old in product.attrib}
    attributes |= {new: v3_package.attrib[old] for old, new in PACKAGE_TO_PACKAGE.items() if old in v3_package.attrib}
    package = ET.Element(f"{{{V4}}}Package", attributes)
    summary = {new: v3_package.attrib[old] for old, new in PACKAGE_TO_SUMMARY.items() if old in v3_package.attrib}
    package.text = product.text
    for child in product:
        if child is v3_package:
            converted = ET.Element(f"{{{V4}}}SummaryInformation", summary)
            converted.tail = child.tail
            package.append(converted)
        elif child.tag == f"{{{V3}}}Directory" and child.get("Id") == "TARGETDIR":
            # v4 makes TARGETDIR itself; the standard folders under it stand at the top of the Package.
            for folder in child:
                if _is_markup(folder):
                    package.append(folder)
                elif folder.get("Id") not in STANDARD_DIRECTORIES:
                    raise ConversionError(f"wix4: {folder.get('Id')} under TARGETDIR is no standard folder")
                else:
                    package.append(_convert(folder))
        elif _is_markup(child):
            package.append(child)
        else:
            package.append(_convert(child))
    package.tail = product.tail
    return package


def convert(v3_source: str, origin: str) -> str:
    """The WiX v4 source of a WiX v3 source (see the module docstring); `origin` names it in the header."""
    # The project's own sources (packaging/kiosk.wxs and make_wxs.py's fragment), never outside text.
    parser = ET.XMLParser(target=ET.TreeBuilder(insert_comments=True, insert_pis=True))  # noqa: S314
    root = ET.fromstring(v3_source, parser=parser)  # noqa: S314
    if root.tag != f"{{{V3}}}Wix":
        raise ConversionError(f"wix4: {origin} is no WiX v3 source")
    wix = ET.Element(f"{{{V4}}}Wix")
    _convert_children(root, wix)
    ET.register_namespace("", V4)
    body = ET.tostring(wix, encoding="unicode")
    header = f"<!-- WiX v4 source generated by packaging/wix4.py from {origin}; do not edit. -->"
    return f'<?xml version="1.0" encoding="utf-8"?>\n{header}\n{body}\n'


def write_sources(bundle: Path, work: Path) -> list[Path]:
    """Write product.wxi, kiosk.wxs and bundle.wxs (v4) into `work`; returns the two .wxs files."""
    files = make_wxs.bundle_files(bundle)
    work.mkdir(parents=True, exist_ok=True)
    include = make_wxs.product_include(bundle, "x64", absolute=True)
    (work / "product.wxi").write_text(include, encoding="utf-8")
    main = work / "kiosk.wxs"
    main.write_text(convert((ROOT / "packaging" / "kiosk.wxs").read_text(encoding="utf-8"), "packaging/kiosk.wxs"),
                    encoding="utf-8")  # fmt: skip
    fragment = work / "bundle.wxs"
    fragment.write_text(convert(make_wxs.fragment(bundle, files), "packaging/make_wxs.py"), encoding="utf-8")
    return [main, fragment]


def main(argv: list[str] | None = None) -> int:
    """Convert the sources into WORK and (unless --sources-only) build the MSI with `wix build -arch x64`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the one-folder bundle (dist/kiosk), built on Windows")
    parser.add_argument("--out", type=Path, help="the MSI to write (default: dist/" + build_msi.msi_name() + ")")
    parser.add_argument("--work", type=Path, default=Path("build/wix"), help="where the v4 sources go")
    parser.add_argument("--sources-only", action="store_true", help="write the v4 sources, do not run wix")
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        parser.error(f"{args.bundle} is not a folder: build the bundle first")
    sources = write_sources(args.bundle, args.work)
    print(f"{args.work}: {', '.join(path.name for path in sources)}, product.wxi (WiX v4)")
    if args.sources_only:
        return 0
    wix = shutil.which("wix")
    if wix is None:
        raise SystemExit("wix4: no `wix` on PATH: dotnet tool install --global wix --version 5.0.2")
    out = args.out or Path("dist") / build_msi.msi_name()
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    command = [wix, "build", "-arch", "x64", "-i", str(args.work), "-intermediatefolder", str(args.work / "obj"),
               "-o", str(out), *map(str, sources)]  # fmt: skip
    result = subprocess.run(command, check=False)  # noqa: S603 - the WiX tool found above, fixed arguments
    if result.returncode != 0:
        raise SystemExit(f"wix4: wix build failed (exit {result.returncode})")
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
