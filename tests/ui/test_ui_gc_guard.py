"""The kiosk collects garbage on the GUI thread only, so Qt objects never die on a worker thread."""

from __future__ import annotations

import gc
import sys
import threading
import weakref

from conftest import wait_until
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingEngine

from kiosk.policy.schema import Policy
from kiosk.ui.gc_guard import MainThreadGarbageCollector, collect_due_generations
from kiosk.ui.protocols import KioskServices
from kiosk.ui.window import KioskWindow


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


def test_freezing_start_up_keeps_it_out_of_later_collections_and_stop_thaws_it(qapp: QApplication) -> None:
    guard = MainThreadGarbageCollector(qapp, interval_ms=10_000)
    try:
        start_up = [[] for _ in range(1000)]  # what start-up made, alive for good
        guard.freeze()
        assert gc.get_freeze_count() >= len(start_up)
        cycle = Cycle()  # made after start-up: still collected
        alive = weakref.ref(cycle)
        del cycle
        gc.collect()
        assert alive() is None
    finally:
        guard.stop()
        gc.disable()
        guard.deleteLater()
    assert gc.get_freeze_count() == 0  # stop thaws everything for the last full collection


async def test_the_window_settles_once_its_services_are_up_and_its_pages_imported(
    qtbot: QtBot, policy: Policy, engine: RecordingEngine
) -> None:
    window = KioskWindow(policy)
    qtbot.addWidget(window)
    settled: list[bool] = []
    window.settled.connect(
        lambda: settled.append(all(f"kiosk.ui.pages.{name}" in sys.modules for name in PAGE_MODULES))
    )

    async def nothing() -> None:
        return None

    assert await window.start(lambda: _ready(KioskServices(flow=engine, demo_feed=None, close=nothing))) is not None
    await wait_until(lambda: bool(settled), timeout=10)
    assert settled == [True]  # once, after every page's module is in


async def _ready(services: KioskServices) -> KioskServices:
    return services


PAGE_MODULES = ("done", "new_password", "register_app", "answer_questions", "error")
