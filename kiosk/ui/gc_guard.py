"""Run Python's cyclic garbage collector on the GUI thread only.

A PySide object caught in a reference cycle is destroyed by whichever thread happens to trigger a
collection. In the kiosk that can be a backend worker thread (SQLite, argon2, CAPTCHA), and a Qt
object destroyed off the GUI thread warns ("QObject::~QObject: Timers cannot be stopped from
another thread") or crashes the process. So automatic collection is switched off while the kiosk
runs, and a timer on the GUI thread collects instead, generation by generation as Python would.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer


def collect_due_generations(thresholds: tuple[int, int, int]) -> int:
    """Collect the oldest generation whose count passed its threshold, as automatic collection would."""
    counts = gc.get_count()
    due = [gen for gen, (count, limit) in enumerate(zip(counts, thresholds, strict=True)) if limit and count > limit]
    return gc.collect(due[-1]) if due else 0


class MainThreadGarbageCollector(QObject):
    """Disables automatic garbage collection and collects from a GUI-thread timer instead."""

    def __init__(self, parent: QObject | None = None, *, interval_ms: int = 500) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        self._thresholds = gc.get_threshold()
        gc.disable()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)
        self._timer.start()

    def freeze(self) -> None:
        """Move every object alive now out of the collector's sight for good (`gc.freeze`): call it once
        start-up is over. What start-up made (modules, classes, the policy, the backend) lives as long
        as the kiosk, and scanning it took a full collection ~30 ms on the UI thread (bench/ui_stalls.py)."""
        gc.freeze()

    def collect(self) -> int:
        """Collect what is due, here on the GUI thread; returns the number of objects freed."""
        return collect_due_generations(self._thresholds)

    def stop(self) -> None:
        """Stop the timer, collect everything here on the GUI thread, and restore automatic collection."""
        self._timer.stop()
        gc.unfreeze()
        gc.collect()
        if self._was_enabled:
            gc.enable()
