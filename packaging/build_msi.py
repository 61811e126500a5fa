"""Build the per-machine MSI from a one-folder bundle with wixl (msitools): `make msi`.

    python packaging/build_msi.py dist/kiosk [--out dist/AccountRecoveryKiosk-<version>-x64.msi]

Three steps: packaging/make_wxs.py writes build/msi/bundle.wxs and product.wxi; `wixl -a x64`
compiles them with packaging/kiosk.wxs; then the tables get what wixl ignores (it warns and drops
these WiX attributes, which the WiX Toolset on Windows honours as written): the policy file's
component is NeverOverwrite and Permanent, and POLICYFILE is a secure property (passed from the
msiexec command line to the elevated install). Run from the repository root.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "packaging"))

import make_wxs  # noqa: E402 - beside this script, found through the path set above

from kiosk.product import PRODUCT, VERSION  # noqa: E402

NEVER_OVERWRITE = 128
PERMANENT = 16
SECURE_PROPERTIES = ("POLICYFILE",)
"""Public properties the elevated (server-side) install must receive from the command line."""


def msi_name(arch: str = "x64") -> str:
    """The MSI's file name: AccountRecoveryKiosk-<version>-<arch>.msi."""
    return f"{PRODUCT}-{VERSION}-{arch}.msi"


def _run(*command: str) -> str:
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603 - fixed tools
    if result.returncode != 0:
        raise SystemExit(f"build_msi: {command[0]} failed (exit {result.returncode}):\n{result.stderr.strip()}")
    return result.stdout


def table(msi: Path, name: str) -> list[list[str]]:
    """The rows of one table (`msiinfo export`: three header lines, then tab-separated rows)."""
    return [line.split("\t") for line in _run("msiinfo", "export", str(msi), name).splitlines()[3:]]


def fix_up(msi: Path) -> None:
    """Write into the tables what wixl drops: NeverOverwrite + Permanent policy file, secure POLICYFILE."""
    attributes = {row[0]: int(row[3]) for row in table(msi, "Component")}
    policy = attributes["PolicyFile"] | NEVER_OVERWRITE | PERMANENT
    # The queries hold only numbers and property names from this module, never outside text.
    _run("msibuild", str(msi), "-q", f"UPDATE Component SET Attributes = {policy} WHERE Component = 'PolicyFile'")  # noqa: S608
    properties = {row[0]: row[1] for row in table(msi, "Property")}
    secure = [name for name in properties.get("SecureCustomProperties", "").split(";") if name]
    secure = sorted({*secure, *SECURE_PROPERTIES})
    value = ";".join(secure)
    if "SecureCustomProperties" in properties:
        query = f"UPDATE Property SET Value = '{value}' WHERE Property = 'SecureCustomProperties'"  # noqa: S608
    else:
        query = f"INSERT INTO Property (Property, Value) VALUES ('SecureCustomProperties', '{value}')"  # noqa: S608
    _run("msibuild", str(msi), "-q", query)


def main(argv: list[str] | None = None) -> int:
    """Generate the WiX sources, compile them with wixl and fix the tables up."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, help="the one-folder bundle (dist/kiosk)")
    parser.add_argument("--out", type=Path, help="the MSI to write (default: dist/" + msi_name() + ")")
    parser.add_argument("--work", type=Path, default=Path("build/msi"), help="where the generated sources go")
    args = parser.parse_args(argv)
    out = args.out or Path("dist") / msi_name()
    make_wxs.main([str(args.bundle), str(args.work), "--arch", "x64"])
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    wxs = str(Path(__file__).resolve().parent.relative_to(Path.cwd().resolve()) / "kiosk.wxs")
    _run("wixl", "-a", "x64", "-I", str(args.work), "-o", str(out), wxs, str(args.work / "bundle.wxs"))
    fix_up(out)
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
