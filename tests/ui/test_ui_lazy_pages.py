"""Start-up builds and imports the start page alone: every other page's module loads on first use."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from kiosk.flows.steps import StepKind
from kiosk.ui.pages import PAGES

REPO = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, sys
from PySide6.QtWidgets import QApplication
from kiosk.policy.loader import load_policy
from kiosk.cli.main import DEMO_POLICY
from kiosk.ui.app import build_window
app = QApplication([])
window = build_window(load_policy(DEMO_POLICY), demo=True, kiosk_mode=False)
app.processEvents()
print(json.dumps(sorted(name for name in sys.modules if name.startswith("kiosk.ui.pages."))))
"""


def test_the_start_window_imports_no_page_but_the_start_page() -> None:
    environment = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    result = subprocess.run(  # noqa: S603 - this interpreter with a fixed script
        [sys.executable, "-c", SCRIPT], cwd=REPO, env=environment, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    imported = set(json.loads(result.stdout.splitlines()[-1]))
    assert "kiosk.ui.pages.start" in imported
    assert imported <= {"kiosk.ui.pages.base", "kiosk.ui.pages.start"}, imported


def test_every_step_kind_has_its_page_class_on_demand() -> None:
    assert set(PAGES) == set(StepKind) and len(PAGES) == len(StepKind)
    for kind in StepKind:
        assert PAGES[kind].kind is kind
