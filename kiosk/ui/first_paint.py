"""The moment the window first paints: the kiosk connects its services only after it (paint first),
and `--self-test` reports it for the start-up benchmark (bench/startup.py)."""

from __future__ import annotations

import asyncio
import sys
import time

from PySide6.QtCore import QEvent, QEventLoop, QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget


class FirstPaint(QObject):
    """Watches `window` for its first paint; `await wait(timeout)` returns once it is done.

    With `announce`, prints `PAINTED <ms>` (since `started`, a perf_counter() value) to standard
    error, so the self-test's standard output still starts with its `READY <ms>` line. Both happen
    on the event loop's next turn after the Paint event, once the paint is on screen: the same moment
    the benchmark's bare PySide6 window reports.
    """

    finished = Signal()
    """Emitted once, when the first paint is done."""

    def __init__(self, window: QWidget, started: float, *, announce: bool = False) -> None:
        """Start watching `window` (before it paints: install it right after `show`)."""
        super().__init__(window)
        self._started = started
        self._announce = announce
        self._done: asyncio.Event | None = None
        self.painted = False
        """True once the first paint is done."""
        self._seen = False
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the first Paint event, stop watching and finish on the next turn of the loop."""
        if event.type() == QEvent.Type.Paint and not self._seen:
            self._seen = True
            watched.removeEventFilter(self)
            QTimer.singleShot(0, self, self._finish)
        return False

    def _finish(self) -> None:
        self.painted = True
        # A windowed build (no console) may have no standard error: print(file=None) would write to stdout.
        if self._announce and sys.stderr is not None:
            print(f"PAINTED {(time.perf_counter() - self._started) * 1000:.0f} ms", file=sys.stderr, flush=True)
        if self._done is not None:
            self._done.set()
        self.finished.emit()

    def wait_blocking(self, timeout: float) -> None:
        """Run Qt's own event loop until the first paint is done, or for `timeout` seconds: the start page
        reaches the screen before the asyncio glue (qasync) is even imported."""
        if self.painted:
            return
        loop = QEventLoop()
        self.finished.connect(loop.quit)
        QTimer.singleShot(round(timeout * 1000), loop.quit)
        loop.exec()
        self.finished.disconnect(loop.quit)

    async def wait(self, timeout: float) -> None:
        """Return once the first paint is done, or after `timeout` seconds (a window that is not
        exposed, e.g. started minimised, may not paint: the kiosk must start anyway)."""
        if self.painted:
            return
        self._done = asyncio.Event()
        try:
            await asyncio.wait_for(self._done.wait(), timeout)
        except TimeoutError:
            pass
