"""A private desktop for the screen-reader test: Xvfb, a D-Bus session bus, the AT-SPI accessibility bus,
the kiosk (tests/a11y/kiosk_side.py, venv Python) and the reader (tests/a11y/reader.py, system Python).

Nothing is shared with the machine's own desktop or other tests: the display number is chosen by Xvfb
(`-displayfd`), the buses live in a temporary folder, and everything started is stopped again.
"""

from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import IO, Any

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
SYSTEM_PYTHON = "/usr/bin/python3"
"""The reader runs on the system's Python, where Debian's python3-pyatspi lives (as Orca does)."""
BUS_LAUNCHER = "/usr/libexec/at-spi-bus-launcher"
REPLY_SECONDS = 30.0
INSTALL_HINT = "run `make test-deps` as root (Debian packages xvfb, dbus-daemon, at-spi2-core, python3-pyatspi)"


class DesktopError(AssertionError):
    """Something the screen-reader test needs is missing or did not start: the test fails, never skips."""


def require_tools() -> None:
    """Fail, saying what to install, when Xvfb, D-Bus, the accessibility bus or the reader is missing."""
    missing = [tool for tool in ("Xvfb", "dbus-daemon") if shutil.which(tool) is None]
    missing += [path for path in (BUS_LAUNCHER, SYSTEM_PYTHON) if not Path(path).exists()]
    if missing:
        raise DesktopError(f"the screen-reader test needs {', '.join(missing)}: {INSTALL_HINT}")
    probe = subprocess.run(  # noqa: S603 - fixed arguments
        [SYSTEM_PYTHON, "-c", "import pyatspi"], capture_output=True, text=True, timeout=30, check=False
    )
    if probe.returncode != 0:
        raise DesktopError(f"the system Python cannot import pyatspi ({probe.stderr.strip()[-200:]}): {INSTALL_HINT}")


class Peer:
    """A process spoken to in JSON lines: one command out, one reply back (with a deadline)."""

    def __init__(self, name: str, process: subprocess.Popen[str], log: Path) -> None:
        self.name = name
        self.process = process
        self.log = log

    def _line(self, seconds: float) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + seconds
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stdout], [], [], left)[0]:
                raise DesktopError(f"{self.name} did not answer in {seconds:.0f} s; its log:\n{self.tail()}")
            line = stdout.readline()
            if not line:
                raise DesktopError(f"{self.name} exited ({self.process.poll()}); its log:\n{self.tail()}")
            if line.startswith("{"):
                reply: dict[str, Any] = json.loads(line)
                if "error" in reply:
                    raise DesktopError(f"{self.name}: {reply['error']}\n{self.tail()}")
                return reply

    def ready(self) -> dict[str, Any]:
        """The first line: the process is up."""
        return self._line(REPLY_SECONDS)

    def __call__(self, cmd: str, **arguments: Any) -> dict[str, Any]:
        """Send one command, return its reply."""
        stdin = self.process.stdin
        assert stdin is not None
        stdin.write(json.dumps({"cmd": cmd, **arguments}) + "\n")
        stdin.flush()
        return self._line(REPLY_SECONDS)

    def tail(self) -> str:
        """The end of the process's standard error."""
        return self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""

    def stop(self) -> None:
        """Ask it to quit, then make sure it is gone."""
        if self.process.poll() is None:
            try:
                assert self.process.stdin is not None
                self.process.stdin.write(json.dumps({"cmd": "quit"}) + "\n")
                self.process.stdin.close()
                self.process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.process.kill()
                self.process.wait()


def _start(argv: list[str], env: dict[str, str], log: Path, stdout: int | IO[str] = subprocess.DEVNULL,
           stdin: int | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own fixed programs
        argv, env=env, stdin=stdin, stdout=stdout, stderr=log.open("w"), text=True, cwd=REPO
    )


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _first_line(process: subprocess.Popen[str], what: str, log: Path) -> str:
    stdout = process.stdout
    assert stdout is not None
    if not select.select([stdout], [], [], REPLY_SECONDS)[0]:
        raise DesktopError(f"{what} did not start: {log.read_text(errors='replace')[-1000:]}")
    line = stdout.readline().strip()
    if not line:
        raise DesktopError(f"{what} did not start: {log.read_text(errors='replace')[-1000:]}")
    return line


@contextmanager
def desktop(folder: Path) -> Iterator[tuple[Peer, Peer]]:
    """Start Xvfb, a session bus, the accessibility bus, the kiosk and the reader; yield (kiosk, reader)."""
    require_tools()
    runtime = folder / "runtime"
    runtime.mkdir(mode=0o700)
    with ExitStack() as stack:
        xvfb = _start(["Xvfb", "-displayfd", "1", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                      dict(os.environ), folder / "xvfb.log", stdout=subprocess.PIPE)
        stack.callback(_stop, xvfb)
        display = ":" + _first_line(xvfb, "Xvfb", folder / "xvfb.log")
        bus = _start(["dbus-daemon", "--session", "--nofork", "--print-address=1"], dict(os.environ),
                     folder / "dbus.log", stdout=subprocess.PIPE)
        stack.callback(_stop, bus)
        address = _first_line(bus, "dbus-daemon", folder / "dbus.log")
        env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(folder),
            "XDG_RUNTIME_DIR": str(runtime),
            "DISPLAY": display,
            "DBUS_SESSION_BUS_ADDRESS": address,
            "LANG": "C.UTF-8",
            "NO_AT_BRIDGE": "0",
        }
        launcher = _start([BUS_LAUNCHER, "--launch-immediately"], env, folder / "launcher.log")
        stack.callback(_stop, launcher)
        kiosk_env = env | {
            "QT_QPA_PLATFORM": "xcb",
            "QT_LINUX_ACCESSIBILITY_ALWAYS_ON": "1",
            "PYTHONPATH": str(REPO),
        }
        kiosk = Peer("the kiosk", _start([sys.executable, str(HERE / "kiosk_side.py")], kiosk_env,
                                         folder / "kiosk.log", stdout=subprocess.PIPE, stdin=subprocess.PIPE),
                     folder / "kiosk.log")
        stack.callback(kiosk.stop)
        app_name = kiosk.ready()["ready"]
        reader = Peer("the reader", _start([SYSTEM_PYTHON, str(HERE / "reader.py"), app_name], env,
                                           folder / "reader.log", stdout=subprocess.PIPE, stdin=subprocess.PIPE),
                      folder / "reader.log")
        stack.callback(reader.stop)
        reader.ready()
        yield kiosk, reader
