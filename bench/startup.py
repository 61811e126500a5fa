"""Start-up benchmark: a bare PySide6 window's first paint against the kiosk's start page and backend.

Each is timed from process spawn to the lines the child prints. The bare window prints `READY` once
it has painted. The kiosk (`--demo --self-test`) prints two moments: `PAINTED` (standard error) once
its start page has painted, and `READY` once the embedded backend answers too. Runs alternate so
machine noise hits all alike. Prints the medians and the ratios to the bare window (issue 14's
targets: start page painted <= 1.3x, backend ready <= 2x), and each one's peak memory: the peak
resident set of the whole process (`wait4`'s ru_maxrss; of a child process it waited for, the larger
of the two, not their sum), target <= 1.6x the bare window's.

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
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Run:
    """One start: seconds to the first paint (None: not reported) and to READY, peak memory in MiB."""

    painted: float | None
    ready: float
    peak_mib: float | None


def time_to_ready(command: list[str]) -> Run:
    """Spawn `command`; time its PAINTED and READY lines (the bare window's READY is its paint)."""
    env = dict(os.environ, QT_QPA_PLATFORM=os.environ.get("QT_QPA_PLATFORM", "offscreen"))
    started = time.perf_counter()
    painted: float | None = None
    ready: float | None = None
    with subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env) as child:
        assert child.stdout is not None
        for line in child.stdout:
            if painted is None and line.startswith("PAINTED"):
                painted = time.perf_counter() - started
            elif ready is None and line.startswith("READY"):
                ready = time.perf_counter() - started
        peak_mib = None
        if hasattr(os, "wait4"):  # POSIX: the child's own peak resident set (KiB on Linux)
            _pid, status, usage = os.wait4(child.pid, 0)
            child.returncode = os.waitstatus_to_exitcode(status)
            peak_mib = usage.ru_maxrss / 1024
        exit_code = child.wait(timeout=30)
    if ready is None:
        raise RuntimeError(f"{command[:3]} exited without READY (exit code {exit_code})")
    return Run(painted=painted, ready=ready, peak_mib=peak_mib)


def median(values: list[float | None]) -> float | None:
    """The median of the values, None when any run did not report one."""
    known = [value for value in values if value is not None]
    return statistics.median(known) if known and len(known) == len(values) else None


def shown(value: float | None, unit: str, scale: float = 1.0) -> str:
    """A figure for the table ("n/a" when not reported)."""
    return f"{value * scale:8.1f} {unit}" if value is not None else "     n/a   "


def ratio(value: float | None, bare: float | None) -> str:
    """value / bare, or n/a."""
    return f"{value / bare:.2f}" if value is not None and bare else "n/a"


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
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for _ in range(args.runs):
        for name, command in commands.items():
            runs[name].append(time_to_ready(command))
    painted = {name: median([run.painted for run in values]) for name, values in runs.items()}
    painted["bare"] = median([run.ready for run in runs["bare"]])  # the bare window's READY is its paint
    ready = {name: median([run.ready for run in values]) for name, values in runs.items()}
    peak = {name: median([run.peak_mib for run in values]) for name, values in runs.items()}
    labels = {"bare": "bare PySide6 window", "kiosk": "kiosk --demo (source)", "frozen": f"frozen {args.frozen}"}
    print(f"medians of {args.runs} runs, from process spawn")
    print(f"{'':34} {'start page painted':>18} {'backend ready':>16} {'peak memory':>15}")
    for name in commands:
        backend = shown(ready[name], "ms", 1000) if name != "bare" else "        -  "
        print(f"{labels[name]:34} {shown(painted[name], 'ms', 1000):>18} {backend:>16} {shown(peak[name], 'MiB'):>15}")
    for name in commands:
        if name == "bare":
            continue
        print(
            f"ratio {name} / bare: painted {ratio(painted[name], painted['bare'])} (target <= 1.3), "
            f"backend ready {ratio(ready[name], painted['bare'])} (target <= 2), "
            f"peak memory {ratio(peak[name], peak['bare'])} (target <= 1.6)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
