"""Work off the UI thread whose newest result alone matters (the live password checklist's estimate)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Generic, TypeVar

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

Argument = TypeVar("Argument")
Result = TypeVar("Result")

_WORKER: ThreadPoolExecutor | None = None


def _worker() -> ThreadPoolExecutor:
    # One thread for every such job in the window: the jobs are short, and one at a time keeps the
    # second core for the embedded backend (and hashing) instead of piling estimates on it.
    global _WORKER
    if _WORKER is None:
        _WORKER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-ui-work")
    return _WORKER


class LatestOnly(QObject, Generic[Argument, Result]):
    """Runs `work(argument)` on a worker thread, one call at a time, and emits `ready(argument, result)`
    on the UI thread for the newest request only: requests made while one runs collapse into the last,
    and a result that is no longer wanted (`forget`) is dropped."""

    ready = Signal(object, object)
    """(argument, result) of the newest request, on the UI thread."""
    _finished = Signal(int, object, object)  # emitted on the worker; Qt queues it to the UI thread

    def __init__(self, work: Callable[[Argument], Result], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._work = work
        self._generation = 0
        self._running = False
        self._waiting: tuple[int, Argument] | None = None
        self._finished.connect(self._on_finished)

    @property
    def idle(self) -> bool:
        """True when no request runs or waits."""
        return not self._running and self._waiting is None

    def request(self, argument: Argument) -> None:
        """Ask for `work(argument)`; an older request's result will not be emitted."""
        self._generation += 1
        if self._running:
            self._waiting = (self._generation, argument)
        else:
            self._start(self._generation, argument)

    def forget(self) -> None:
        """Drop every request made so far (the page shows something else now)."""
        self._generation += 1
        self._waiting = None

    def _start(self, generation: int, argument: Argument) -> None:
        self._running = True
        future = _worker().submit(self._work, argument)
        future.add_done_callback(lambda done: self._deliver(generation, argument, done))

    def _deliver(self, generation: int, argument: Argument, done: Future[Result]) -> None:
        try:
            self._finished.emit(generation, argument, done)
        except RuntimeError:  # the page was deleted while its work ran: nobody is left to tell
            pass

    def _on_finished(self, generation: int, argument: Argument, done: Future[Result]) -> None:
        self._running = False
        if self._waiting is not None:
            self._start(*self._waiting)
            self._waiting = None
        if generation != self._generation:
            return
        error = done.exception()
        if error is not None:
            # The type only: the argument (a typed password) may be in the message.
            log.error("background work failed (%s)", type(error).__name__)
            return
        self.ready.emit(argument, done.result())
