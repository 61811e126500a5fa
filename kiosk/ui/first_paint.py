"""The moment the window first paints, for `--self-test` and the start-up benchmark (bench/startup.py)."""

from __future__ import annotations

import sys
import time

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QWidget


class FirstPaintAnnouncer(QObject):
    """Prints `PAINTED <ms>` to standard error once `window` has painted for the first time.

    Standard error, so the self-test's standard output still starts with its `READY <ms>` line.
    The line is printed from the next turn of the event loop, once the paint is done: the same
    moment the benchmark's bare PySide6 window reports.
    """

    def __init__(self, window: QWidget, started: float) -> None:
        """`started` is the perf_counter() value the milliseconds count from."""
        super().__init__(window)
        self._started = started
        self.announced = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the first Paint event, announce it (once) and stop watching."""
        if event.type() == QEvent.Type.Paint and not self.announced:
            self.announced = True
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self._announce)
        return False

    def _announce(self) -> None:
        print(f"PAINTED {(time.perf_counter() - self._started) * 1000:.0f} ms", file=sys.stderr, flush=True)
