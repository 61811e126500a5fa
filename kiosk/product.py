"""Names of the product that installers, Group Policy and the keyring share (one place, never retyped)."""

from __future__ import annotations

from kiosk import __version__

VENDOR = "Contoso"
"""The publisher shown in Programs and Features and the vendor part of the Group Policy key."""

PRODUCT = "AccountRecoveryKiosk"
"""The product's name without spaces: registry keys, ADMX namespace, install folder."""

DISPLAY_NAME = "Account Recovery Kiosk"
"""The product's name as people read it: Start menu, Programs and Features, ADMX category."""

VERSION = __version__
"""The package version (pyproject.toml); the MSI's ProductVersion is derived from it."""

GROUP_POLICY_KEY = rf"Software\Policies\{VENDOR}\{PRODUCT}"
"""Under HKEY_LOCAL_MACHINE: Group Policy values here override the policy file."""

MSI_UPGRADE_CODE = "C04C7597-D8D9-4DDF-9605-CF3B1EFC573D"
"""The MSI's UpgradeCode: fixed for the product's life, so each new version's MSI replaces the old one."""

INSTALL_KEY = rf"Software\{VENDOR}\{PRODUCT}"
"""Under HKEY_LOCAL_MACHINE: where the MSI records InstallDir, PolicyFile and Version."""
