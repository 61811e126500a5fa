"""Data files are found in the checkout, and in a frozen bundle's data folder (sys._MEIPASS)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kiosk import locations

REPO = Path(__file__).resolve().parents[1]


def test_in_a_checkout_the_data_files_are_the_repository_s() -> None:
    assert not locations.is_frozen()
    assert locations.data_root() == REPO
    assert (locations.RESOURCES / "demo-policy.toml").is_file()
    assert (locations.RESOURCES / "demo" / "directory.toml").is_file()
    assert any(locations.TRANSLATIONS.glob("*/LC_MESSAGES/messages.po"))


def test_frozen_the_data_files_are_the_bundle_s(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    assert locations.is_frozen()
    assert locations.data_root() == tmp_path


def test_frozen_without_a_data_folder_is_not_taken_for_a_bundle(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # other freezers set only this
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    assert not locations.is_frozen()
    assert locations.data_root() == REPO


def test_the_kiosk_s_paths_all_come_from_here() -> None:
    import kiosk.i18n
    from kiosk.cli import main
    from kiosk.services.backend.directory import demo_seed

    assert main.DEMO_POLICY == locations.RESOURCES / "demo-policy.toml"
    assert kiosk.i18n.TRANSLATIONS_DIR == locations.TRANSLATIONS
    assert demo_seed.DEMO_DIRECTORY == locations.RESOURCES / "demo" / "directory.toml"
