"""Start-up benchmark: a bare PySide6 window's first paint against the kiosk's first interactive page.

Both are measured the same way, from process spawn to a `READY` line the child prints once its
window has painted (for the kiosk: the start page is painted AND the embedded backend answers).
Runs alternate so machine noise hits both alike. Prints both medians and their ratio (target ≤ 1.3).

Before timing, the kiosk package is byte-compiled (`compileall`): an installed or frozen app ships
bytecode (pip and PyInstaller write it), while a source checkout run with PYTHONDONTWRITEBYTECODE=1
(as on our build machines) would recompile every kiosk module on every start and so measure a cost
no user ever pays. The bare PySide6 script and the libraries already load from bytecode.

    python bench/startup.py [--runs N] [--frozen dist/kiosk/kiosk]

With --frozen, the PyInstaller bundle's program (`make bundle`) is timed as a third contestant,
the same way (`--demo --self-test`): the cold start an installed kiosk pays.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

BARE_WINDOW = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QLabel

class Window(QLabel):
    painted = False
    def paintEvent(self, event):
        super().paintEvent(event)
        if not Window.painted:
            Window.painted = True
            QTimer.singleShot(0, lambda: (print("READY", flush=True), app.quit()))

app = QApplication(sys.argv)
window = Window("Hello")
window.resize(1024, 768)
window.show()
app.exec()
"""


def time_to_ready(command: list[str]) -> float:
    """Seconds from spawning `command` until it prints a line starting with READY."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    started = time.perf_counter()
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if line.startswith("READY"):
                elapsed = time.perf_counter() - started
                break
        else:
            raise RuntimeError(f"{command[:3]} exited without READY (exit code {child.wait()})")
        child.wait(timeout=30)
    return elapsed


def main() -> int:
    """Run the benchmark and print medians and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--frozen", metavar="PROGRAM", type=Path, help="also time the bundle's program")
    args = parser.parse_args()
    if args.frozen is not None and not args.frozen.is_file():
        parser.error(f"{args.frozen} is no file: build the bundle first (make bundle)")

    compileall.compile_dir(ROOT / "kiosk", quiet=1)  # see the module docstring: measure what ships
    bare_cmd = [sys.executable, "-c", BARE_WINDOW]
    kiosk_cmd = [sys.executable, "-m", "kiosk.cli.main", "--demo", "--self-test"]
    commands = {"bare": bare_cmd, "kiosk": kiosk_cmd}
    if args.frozen is not None:
        commands["frozen"] = [str(args.frozen.resolve()), "--demo", "--self-test"]
    for command in commands.values():
        time_to_ready(command)  # warm the OS file cache for each, untimed
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            times[name].append(time_to_ready(command))
    median = {name: statistics.median(values) for name, values in times.items()}
    print(f"bare PySide6 window, first paint:          median {median['bare'] * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"kiosk start page interactive + backend up: median {median['kiosk'] * 1000:7.1f} ms  ({args.runs} runs)")
    if "frozen" in median:
        print(f"the same, frozen bundle ({args.frozen}): median {median['frozen'] * 1000:7.1f} ms  ({args.runs} runs)")
    print(f"ratio kiosk / bare: {median['kiosk'] / median['bare']:.2f}  (target <= 1.3)")
    if "frozen" in median:
        print(f"ratio frozen / bare: {median['frozen'] / median['bare']:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
