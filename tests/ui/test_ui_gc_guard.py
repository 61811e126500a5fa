"""The kiosk collects garbage on the GUI thread only, so Qt objects never die on a worker thread."""

from __future__ import annotations

import gc
import threading
import weakref

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication

from kiosk.ui.gc_guard import MainThreadGarbageCollector, collect_due_generations


class Cycle(QObject):
    """A Qt object in a reference cycle: only the cyclic collector can free it."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self
        self.freed_on: list[int] = []


def test_the_guard_switches_automatic_collection_off_and_restores_it(qapp: QApplication) -> None:
    gc.enable()
    try:
        guard = MainThreadGarbageCollector(qapp, interval_ms=10)
        assert not gc.isenabled()
        guard.stop()
        assert gc.isenabled()
        guard.deleteLater()
    finally:
        gc.disable()  # the test harness runs with automatic collection off


def test_a_qt_object_in_a_cycle_is_freed_by_the_guard_on_the_gui_thread(qapp: QApplication) -> None:
    guard = MainThreadGarbageCollector(qapp, interval_ms=10)
    try:
        cycle = Cycle()
        alive = weakref.ref(cycle)
        del cycle
        assert alive() is not None  # a cycle: reference counting alone cannot free it
        allocations = [[] for _ in range(2 * gc.get_threshold()[0])]  # make generation 0 due
        assert guard.collect() > 0  # what the guard's GUI-thread timer calls
        assert alive() is None and len(allocations) > 0
        assert threading.current_thread() is threading.main_thread()
    finally:
        guard.stop()
        gc.disable()
        guard.deleteLater()


def test_only_due_generations_are_collected() -> None:
    gc.collect()
    assert collect_due_generations((1_000_000, 10, 10)) == 0  # nothing is due: nothing collected
    Cycle()  # garbage, but generation 0 is far from its threshold
    garbage = [[] for _ in range(5)]
    for item in garbage:
        item.append(item)
    del garbage
    assert collect_due_generations((1, 1_000_000, 1_000_000)) >= 5  # generation 0 due: its cycles go
