"""The per-machine MSI built from the bundle, read back with msitools (nothing can install it here).

Windows Installer behaviour (install, upgrade, uninstall) needs Windows; what is checked here is
what decides it: the tables (msiinfo export), the summary, and the payload (msiextract).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from packaging_build import REPO, frozen_env

from kiosk.product import DISPLAY_NAME, INSTALL_KEY, MSI_UPGRADE_CODE, PRODUCT, VENDOR, VERSION

pytestmark = pytest.mark.timeout(900)  # the first test may build the bundle and the MSI

HKLM = "2"
NEVER_OVERWRITE, PERMANENT = 128, 16


def msiinfo(*args: str) -> str:
    """The output of `msiinfo ARGS` (it fails the test when msiinfo does)."""
    return subprocess.run(["msiinfo", *args], capture_output=True, text=True, check=True).stdout  # noqa: S603, S607


def rows(msi: Path, table: str) -> list[dict[str, str]]:
    """A table's rows as dicts (msiinfo export: column names, column types, table name, then rows)."""
    lines = msiinfo("export", str(msi), table).splitlines()
    columns = lines[0].split("\t")
    return [dict(zip(columns, line.split("\t"), strict=False)) for line in lines[3:]]


def keyed(msi: Path, table: str) -> dict[str, dict[str, str]]:
    """A table's rows by their first column."""
    return {next(iter(row.values())): row for row in rows(msi, table)}


def test_it_installs_per_machine_with_the_package_version(msi: Path) -> None:
    assert msi.name == f"{PRODUCT}-{VERSION}-x64.msi"
    properties = {row["Property"]: row["Value"] for row in rows(msi, "Property")}
    assert properties["ALLUSERS"] == "1"
    assert properties["ProductVersion"] == VERSION
    assert properties["ProductName"] == DISPLAY_NAME and properties["Manufacturer"] == VENDOR
    assert properties["UpgradeCode"] == "{" + MSI_UPGRADE_CODE + "}"
    assert "POLICYFILE" in properties["SecureCustomProperties"].split(";")
    summary = msiinfo("suminfo", str(msi))
    assert "Template: x64;1033" in summary


def test_a_new_version_replaces_the_old_one_and_never_the_reverse(msi: Path) -> None:
    upgrade = rows(msi, "Upgrade")
    assert {row["UpgradeCode"] for row in upgrade} == {"{" + MSI_UPGRADE_CODE + "}"}
    older = next(row for row in upgrade if row["ActionProperty"] == "WIX_UPGRADE_DETECTED")
    newer = next(row for row in upgrade if row["ActionProperty"] == "WIX_DOWNGRADE_DETECTED")
    assert older["VersionMax"] == VERSION and not older["VersionMin"]
    assert newer["VersionMin"] == VERSION and int(newer["Attributes"]) & 2  # OnlyDetect: a newer one stays
    sequence = {row["Action"]: int(row["Sequence"]) for row in rows(msi, "InstallExecuteSequence")}
    assert sequence["FindRelatedProducts"] < sequence["RemoveExistingProducts"] < sequence["InstallInitialize"]


def test_it_installs_under_program_files_64(msi: Path) -> None:
    directories = keyed(msi, "Directory")
    assert directories["INSTALLDIR"]["DefaultDir"] == DISPLAY_NAME
    vendor = directories[directories["INSTALLDIR"]["Directory_Parent"]]
    assert vendor["DefaultDir"] == VENDOR and vendor["Directory_Parent"] == "ProgramFiles64Folder"
    assert all(int(row["Attributes"]) & 256 for row in rows(msi, "Component"))  # every component 64-bit


def test_every_file_of_the_bundle_is_in_it_and_the_program_is_on_top(msi: Path, bundle: Path) -> None:
    files = rows(msi, "File")
    components = keyed(msi, "Component")
    in_bundle = [path for path in bundle.rglob("*") if path.is_file() and not path.is_symlink()]
    links = [path for path in bundle.rglob("*") if path.is_symlink()]
    assert all(path.resolve().is_relative_to(bundle.resolve()) for path in links)  # PyInstaller's, left out
    assert len(files) == len(in_bundle) + 1  # and the policy file
    program = next(row for row in files if row["FileName"] == "kiosk")
    assert components[program["Component_"]]["Directory_"] == "INSTALLDIR"
    assert int(program["FileSize"]) == (bundle / "kiosk").stat().st_size


def test_the_policy_file_is_machine_wide_and_survives_upgrades(msi: Path) -> None:
    policy = next(row for row in rows(msi, "File") if row["FileName"].endswith("policy.toml"))
    component = keyed(msi, "Component")[policy["Component_"]]
    assert int(component["Attributes"]) & NEVER_OVERWRITE and int(component["Attributes"]) & PERMANENT
    directories = keyed(msi, "Directory")
    folder = directories[component["Directory_"]]
    vendor = directories[folder["Directory_Parent"]]
    assert (folder["DefaultDir"], vendor["DefaultDir"], vendor["Directory_Parent"]) == (
        PRODUCT, VENDOR, "CommonAppDataFolder",
    )  # fmt: skip


def test_the_policy_path_defaults_to_the_machine_wide_file(msi: Path) -> None:
    action = keyed(msi, "CustomAction")["DefaultPolicyFile"]
    assert int(action["Type"]) & 0x3F == 51  # sets a property
    assert (action["Source"], action["Target"]) == ("POLICYFILE", "[POLICYDIR]policy.toml")
    for table in ("InstallExecuteSequence", "InstallUISequence"):
        sequence = keyed(msi, table)
        step = sequence["DefaultPolicyFile"]
        assert step["Condition"] == "NOT POLICYFILE"  # POLICYFILE=... on the command line wins
        assert int(sequence["CostFinalize"]["Sequence"]) < int(step["Sequence"])  # directories are known
    install = {action: int(row["Sequence"]) for action, row in keyed(msi, "InstallExecuteSequence").items()}
    assert install["DefaultPolicyFile"] < min(install["WriteRegistryValues"], install["CreateShortcuts"])


def test_the_registry_says_where_things_are(msi: Path) -> None:
    values = {row["Name"]: row for row in rows(msi, "Registry")}
    assert set(values) == {"InstallDir", "PolicyFile", "Version"}
    assert {(row["Root"], row["Key"].rstrip("\\")) for row in values.values()} == {(HKLM, INSTALL_KEY)}
    assert values["InstallDir"]["Value"] == "[INSTALLDIR]"
    assert values["PolicyFile"]["Value"] == "[POLICYFILE]"
    assert values["Version"]["Value"] == VERSION


def test_the_start_menu_shortcut_starts_the_program_with_the_policy(msi: Path) -> None:
    (shortcut,) = rows(msi, "Shortcut")
    program = next(row for row in rows(msi, "File") if row["FileName"] == "kiosk")
    assert shortcut["Directory_"] == "ProgramMenuFolder" and shortcut["Name"] == DISPLAY_NAME
    assert shortcut["Target"] == f"[#{program['File']}]"  # the file itself, not an advertised feature
    assert shortcut["Arguments"] == '--policy "[POLICYFILE]"'
    assert shortcut["WkDir"] == "INSTALLDIR"


def test_the_payload_is_the_bundle_and_it_runs(msi: Path, tmp_path: Path) -> None:
    subprocess.run(["msiextract", "-C", str(tmp_path), str(msi)], check=True, capture_output=True)  # noqa: S603, S607
    installed = tmp_path / VENDOR / DISPLAY_NAME
    policy = tmp_path / VENDOR / PRODUCT / "policy.toml"
    assert policy.read_bytes() == (REPO / "resources" / "installed-policy.toml").read_bytes()
    program = installed / "kiosk"
    program.chmod(0o755)  # an MSI keeps no Unix modes; on Windows the program is an .exe
    result = subprocess.run(  # noqa: S603 - the extracted program
        [str(program), "check-install"], cwd=tmp_path, env=frozen_env(), capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("frozen bundle: complete")
    assert f"in {installed / '_internal' / 'resources'}" in result.stdout
    # Without the bundle's symbolic links (an MSI has none) Qt and every library still load.
    assert not [path for path in installed.rglob("*") if path.is_symlink()]
    started = subprocess.run(  # noqa: S603 - the extracted program
        [str(program), "--demo", "--self-test"], cwd=tmp_path, env=frozen_env(), capture_output=True, text=True,
        timeout=120, start_new_session=True,
    )  # fmt: skip
    assert started.returncode == 0 and started.stdout.startswith("READY "), started.stderr


def test_the_installed_policy_is_valid_and_no_demo() -> None:
    from kiosk.policy.loader import load_policy
    from kiosk.policy.schema import DirectoryKind, EnabledFor

    policy = load_policy(REPO / "resources" / "installed-policy.toml")
    assert not policy.demo  # no dev outbox: codes are never shown on the kiosk
    assert policy.reset.enabled_for is EnabledFor.NONE  # nobody resets until an administrator says who
    assert policy.directory.kind is DirectoryKind.ACTIVE_DIRECTORY
    assert not policy.directory.embedded.seed_demo_users
    assert policy.directory.embedded.database  # the audit trail is kept
