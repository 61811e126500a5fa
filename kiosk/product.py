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
