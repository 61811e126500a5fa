"""Write the WiX fragment that lists every file of the one-folder bundle (thousands: not kept by hand).

    python packaging/make_wxs.py dist/kiosk build/msi      # writes build/msi/bundle.wxs and product.wxi

The fragment fills INSTALLDIR (declared in packaging/kiosk.wxs) and defines the component group
`BundleFiles`: one component per file (Windows Installer's rule for files that are not a
versioned assembly), the file as its key path. Ids and component GUIDs are derived from the file's
path inside the bundle (uuid5), so the same file keeps the same component across builds and
versions. The program the Start-menu shortcut starts is AccountRecoveryKiosk.exe when the bundle
has it (a Windows build: windowed, no console), else `kiosk.exe` / `kiosk`. A Linux bundle holds
symbolic links (PyInstaller links each library into `_internal/`); an MSI cannot, and the program
finds its libraries without them (their RPATHs), so a link to a file of the bundle is left out
rather than copied (it doubled Qt's and ICU's 97 MB); a link pointing elsewhere becomes a copy.
Beside it, `product.wxi` defines the names, version and UpgradeCode from kiosk/product.py (one
place) for packaging/kiosk.wxs. Works with wixl (msitools) and the WiX Toolset v3 (candle/light).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import uuid
from pathlib import Path, PurePosixPath
from xml.sax.saxutils import quoteattr

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.product import DISPLAY_NAME, INSTALL_KEY, MSI_UPGRADE_CODE, PRODUCT, VENDOR, VERSION  # noqa: E402

NAMESPACE = uuid.UUID("5b0e6a0c-2f4d-4f9e-9a57-6d1c3b1e8f21")
"""Fixed for the product's lifetime: component GUIDs are uuid5(NAMESPACE, path in the bundle)."""

PROGRAMS = (f"{PRODUCT}.exe", "kiosk.exe", "kiosk")
"""The Start-menu shortcut's target, first one present (see the module docstring)."""


def _id(prefix: str, relative: PurePosixPath) -> str:
    """An MSI identifier for a path: a letter, then hex (identifiers allow 72 characters, paths run longer)."""
    return prefix + hashlib.sha256(relative.as_posix().encode("utf-8")).hexdigest()[:32]


def component_guid(relative: PurePosixPath) -> str:
    """The component GUID of the file at `relative` (stable across builds and versions)."""
    return str(uuid.uuid5(NAMESPACE, relative.as_posix().casefold())).upper()


def bundle_files(bundle: Path) -> list[PurePosixPath]:
    """Every file of the bundle, as sorted paths relative to it (no links to its own files: see the module)."""
    inside = bundle.resolve()
    files = sorted(
        PurePosixPath(path.relative_to(bundle).as_posix())
        for path in bundle.rglob("*")
        if path.is_file() and not (path.is_symlink() and path.resolve().is_relative_to(inside))
    )
    seen: dict[str, PurePosixPath] = {}
    for relative in files:
        clash = seen.setdefault(relative.as_posix().casefold(), relative)
        if clash != relative:
            raise SystemExit(f"make_wxs: {clash} and {relative} differ only in case; Windows would keep one")
    return files


def shortcut_target(files: list[PurePosixPath]) -> PurePosixPath:
    """The program the shortcut starts (see PROGRAMS)."""
    top = {relative.name: relative for relative in files if len(relative.parts) == 1}
    for name in PROGRAMS:
        if name in top:
            return top[name]
    raise SystemExit(f"make_wxs: none of {', '.join(PROGRAMS)} at the top of the bundle: is it a kiosk bundle?")


def _component(relative: PurePosixPath, target: PurePosixPath, source_var: str, pad: str) -> str:
    """One file's component (with the Start-menu shortcut if it is the program)."""
    source = f"$({source_var})/{relative.as_posix()}"  # '/' works for wixl and Windows' WiX alike
    file_id = _id("f", relative)
    shortcut = ""
    if relative == target:
        # A plain (not advertised) shortcut to the file: it starts the program, nothing else.
        shortcut = (
            f'{pad}  <Shortcut Id="StartMenuShortcut" Directory="ProgramMenuFolder" Name={quoteattr(DISPLAY_NAME)}'
            f' Description={quoteattr(DISPLAY_NAME)} Target="[#{file_id}]" WorkingDirectory="INSTALLDIR"'
            ' Arguments="--policy &quot;[POLICYFILE]&quot;" />\n'
        )
    return (
        f'{pad}<Component Id="{_id("c", relative)}" Guid="{component_guid(relative)}" Win64="$(var.Win64)">\n'
        f'{pad}  <File Id="{file_id}" Name={quoteattr(relative.name)} Source={quoteattr(source)} KeyPath="yes" />\n'
        f"{shortcut}{pad}</Component>\n"
    )


def fragment(bundle: Path, files: list[PurePosixPath], source_var: str = "var.BundleDir") -> str:
    """The WiX source of the fragment (see the module docstring)."""
    target = shortcut_target(files)
    folders = sorted({parent for relative in files for parent in relative.parents})

    def directory(folder: PurePosixPath, pad: str) -> str:
        inner = "".join(_component(f, target, source_var, pad) for f in files if f.parent == folder)
        for sub in (f for f in folders if f.parent == folder and f != folder):
            inner += f'{pad}<Directory Id="{_id("d", sub)}" Name={quoteattr(sub.name)}>\n'
            inner += directory(sub, pad + "  ") + f"{pad}</Directory>\n"
        return inner

    references = "".join(f'      <ComponentRef Id="{_id("c", relative)}" />\n' for relative in files)
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        f"<!-- Generated by packaging/make_wxs.py from {bundle.name}/ ({len(files)} files); do not edit. -->\n"
        '<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">\n'
        "  <?include product.wxi ?>\n"
        "  <Fragment>\n"
        '    <DirectoryRef Id="INSTALLDIR">\n'
        f"{directory(PurePosixPath('.'), '      ')}"
        "    </DirectoryRef>\n"
        '    <ComponentGroup Id="BundleFiles">\n'
        f"{references}"
        "    </ComponentGroup>\n"
        "  </Fragment>\n"
        "</Wix>\n"
    )


def msi_version(version: str) -> str:
    """The package version as an MSI ProductVersion (major.minor.build, numbers only), or SystemExit saying why not."""
    parts = version.split(".")
    if not (len(parts) == 3 and all(part.isdigit() for part in parts)):
        raise SystemExit(f"make_wxs: version {version!r} is no MSI ProductVersion: use major.minor.patch, digits only")
    major, minor, build = (int(part) for part in parts)
    if major > 255 or minor > 255 or build > 65535:
        raise SystemExit(f"make_wxs: version {version!r} is out of range for an MSI (at most 255.255.65535)")
    return version


def _relative(path: Path) -> str:
    """`path` relative to the working directory, with '/' (wixl and Windows' WiX both read it)."""
    return Path(os.path.relpath(path.resolve(), Path.cwd())).as_posix()


def product_include(bundle: Path, arch: str, absolute: bool = False) -> str:
    """The WiX include (`product.wxi`) with the product's names and version from kiosk/product.py.

    Paths are relative to the working folder (wixl cannot open absolute Source paths), or absolute
    for the WiX Toolset (packaging/wix4.py), which then builds from any folder.
    """
    where = (lambda path: path.resolve().as_posix()) if absolute else _relative
    defines = {
        "Version": msi_version(VERSION),
        "Vendor": VENDOR,
        "Product": PRODUCT,
        "DisplayName": DISPLAY_NAME,
        "UpgradeCode": MSI_UPGRADE_CODE,
        "InstallKey": INSTALL_KEY,
        "BundleDir": where(bundle),
        "PolicySource": where(ROOT / "resources" / "installed-policy.toml"),
        "Win64": "yes" if arch == "x64" else "no",
    }
    lines = "".join(f'  <?define {name} = "{value}" ?>\n' for name, value in defines.items())
    header = '<?xml version="1.0" encoding="utf-8"?>\n<!-- Generated by packaging/make_wxs.py. -->\n'
    return f"{header}<Include>\n{lines}</Include>\n"


def main(argv: list[str] | None = None) -> int:
    """Write bundle.wxs (the files) and product.wxi (names, version) for BUNDLE into OUT_DIR."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the one-folder bundle (dist/kiosk)")
    parser.add_argument("out_dir", type=Path, help="where to write bundle.wxs and product.wxi (build/msi)")
    parser.add_argument("--arch", choices=["x64", "x86"], default="x64")
    args = parser.parse_args(argv)
    if not args.bundle.is_dir():
        parser.error(f"{args.bundle} is not a folder: build the bundle first (make bundle)")
    files = bundle_files(args.bundle)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    (args.out_dir / "bundle.wxs").write_text(fragment(args.bundle, files), encoding="utf-8")
    (args.out_dir / "product.wxi").write_text(product_include(args.bundle, args.arch), encoding="utf-8")
    print(f"{args.out_dir}: bundle.wxs ({len(files)} files, shortcut to {shortcut_target(files)}), product.wxi")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
