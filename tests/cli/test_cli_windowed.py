"""The windowed AccountRecoveryKiosk.exe has no console (sys.stdout and sys.stderr are None) and still ends cleanly.

PyInstaller's windowed programs (console=False, packaging/kiosk.spec) start Python without standard
streams; an exception on the way out would end every kiosk session with an error dialog on Windows.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WINDOWED = "import sys; sys.stdout = sys.stderr = None; from kiosk.cli.main import main; raise SystemExit(main({args}))"


def test_the_kiosk_without_standard_streams_exits_0() -> None:
    # Python exits 1 on an uncaught exception even when it cannot print the traceback.
    done = subprocess.run(  # noqa: S603 - this interpreter, fixed arguments
        [sys.executable, "-c", WINDOWED.format(args=["--demo", "--self-test"])],
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        cwd=REPO,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == ""  # nothing reached the (missing) standard output
