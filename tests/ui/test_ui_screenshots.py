"""render_all writes one PNG per StepKind and per variant (and the demo inbox), left-to-right and right-to-left."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from kiosk.flows.steps import StepKind
from kiosk.policy.schema import Policy
from kiosk.ui import screenshots
from kiosk.ui.screenshots import SIZE, render_all, sample_variants


@pytest.mark.parametrize("language", ["en", "ar"])
def test_render_all_writes_one_png_per_kind(tmp_path: Path, policy: Policy, language: str) -> None:
    paths = render_all(tmp_path, policy, language=language)
    extras = ["idle_warning.png", "admin_prompt.png", "diagnostics.png", "keyboard.png", "keyboard_phone.png"]
    extras += ["demo_inbox.png"]
    extras += ["busy_retrying.png", "error_change_unconfirmed.png"]
    variants = [f"{name}.png" for name in sample_variants(policy)]
    assert "sign_in_register.png" in variants and "done_changed.png" in variants
    expected = [f"{kind.value}.png" for kind in StepKind] + variants + extras
    assert sorted(path.name for path in paths) == sorted(expected)
    for path in paths:
        image = QImage(str(path))
        assert not image.isNull(), path
    assert QImage(str(tmp_path / "start.png")).size().toTuple() == SIZE


def test_every_page_of_a_right_to_left_render_is_right_to_left(
    tmp_path: Path, policy: Policy, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A start page among the samples puts the kiosk back in its own language; the render goes on in Arabic."""
    seen: dict[str, Qt.LayoutDirection] = {}
    grab = screenshots._grab

    def recording(widget: QWidget, path: Path) -> Path:
        seen[path.stem] = widget.layoutDirection()
        return grab(widget, path)

    monkeypatch.setattr(screenshots, "_grab", recording)
    render_all(tmp_path, policy, language="ar")
    assert next(iter(sample_variants(policy))) == "start_recover_only"  # the sample that used to switch back
    wrong = [name for name, direction in seen.items() if direction is not Qt.LayoutDirection.RightToLeft]
    assert seen and wrong == []
