"""`kiosk` on a machine without a display says what to do instead of Qt's "xcb-cursor0 is needed" (issue 14).

The real console script runs as a subprocess with no DISPLAY, no WAYLAND_DISPLAY and no QT_QPA_PLATFORM,
as on a fresh server or over plain ssh.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kiosk.cli.main import no_display

REPO = Path(__file__).resolve().parents[2]
KIOSK = REPO / ".venv" / "bin" / "kiosk"
HEADLESS = {name: value for name, value in os.environ.items()
            if name not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}


def kiosk(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """Run the `kiosk` console script."""
    return subprocess.run(  # noqa: S603 - the project's own script, fixed arguments
        [str(KIOSK), *args], env=env, capture_output=True, text=True, timeout=120, check=False, cwd=REPO
    )


@pytest.mark.parametrize("args", [("--demo",), ("--demo", "--self-test"), ("--demo", "--kiosk")])
def test_the_kiosk_without_a_display_says_what_to_do(args: tuple[str, ...]) -> None:
    done = kiosk(*args, env=HEADLESS)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.startswith("kiosk: no display to show the kiosk on (neither DISPLAY nor WAYLAND_DISPLAY")
    assert "desktop session" in done.stderr
    assert f"QT_QPA_PLATFORM=offscreen {KIOSK} --demo --self-test" in done.stderr  # the command as typed
    assert "xcb" not in done.stderr and "Traceback" not in done.stderr  # Qt never started


def test_screenshots_without_a_display_say_what_to_do_and_write_nothing(tmp_path: Path) -> None:
    done = kiosk("screenshots", "--out", str(tmp_path / "shots"), env=HEADLESS)
    assert done.returncode == 2, done.stderr
    assert f"QT_QPA_PLATFORM=offscreen {KIOSK} screenshots --out DIR" in done.stderr and "xcb" not in done.stderr
    assert not (tmp_path / "shots").exists()


def test_the_advice_works_the_self_test_runs_offscreen() -> None:
    done = kiosk("--demo", "--self-test", env={**HEADLESS, "QT_QPA_PLATFORM": "offscreen"})
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("READY ")


def test_commands_without_a_window_need_no_display() -> None:
    done = kiosk("policy", "check", "resources/demo-policy.toml", env=HEADLESS)
    assert done.returncode == 0, done.stderr
    assert "display" not in done.stderr


@pytest.mark.parametrize(
    ("environ", "platform", "missing"),
    [
        ({}, "linux", True),
        ({"DISPLAY": ""}, "linux", True),  # set but empty is no display either
        ({"DISPLAY": "", "WAYLAND_DISPLAY": ""}, "freebsd14", True),
        ({"DISPLAY": ":0"}, "linux", False),
        ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", False),
        ({"QT_QPA_PLATFORM": "offscreen"}, "linux", False),
        ({"QT_QPA_PLATFORM": "eglfs"}, "linux", False),  # a kiosk drawing straight to the framebuffer
        ({}, "win32", False),
        ({}, "darwin", False),
    ],
)
def test_no_display_is_told_from_the_environment(environ: dict[str, str], platform: str, missing: bool) -> None:
    assert (no_display(environ, platform) is not None) is missing


def make_run_dry(env: dict[str, str]) -> str:
    """The command `make run` would start (a dry run: nothing is set up or started)."""
    env = {name: value for name, value in env.items() if name not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    command = ["make", "--dry-run", "--no-print-directory", "run"]
    dry = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=True, cwd=REPO)  # noqa: S603
    return dry.stdout.splitlines()[-1]


def test_make_run_without_a_display_says_what_to_do_too() -> None:
    # The Makefile defaults QT_QPA_PLATFORM to offscreen without a display (for the tests): `make run`
    # must not inherit it, or the demo would run in a window nobody sees.
    assert make_run_dry(HEADLESS) == "env -u QT_QPA_PLATFORM .venv/bin/kiosk --demo"
    assert make_run_dry({**HEADLESS, "QT_QPA_PLATFORM": "eglfs"}) == ".venv/bin/kiosk --demo"  # the user's own kept
