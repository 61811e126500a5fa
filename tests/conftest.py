"""Harness for every test: Python's cyclic garbage collector runs on the main thread only.

Backend work runs on worker threads (SQLite, argon2, CAPTCHA). Were a collection triggered there,
it could destroy Qt objects left in reference cycles by a UI test off the GUI thread, which warns
or crashes (see kiosk/ui/gc_guard.py, which does the same for the running kiosk).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from kiosk.ui.gc_guard import collect_due_generations

THRESHOLDS = gc.get_threshold()


@pytest.fixture(autouse=True, scope="session")
def _no_automatic_garbage_collection() -> Iterator[None]:
    """Switch automatic collection off for the whole run, and collect everything at its end."""
    gc.disable()
    yield
    gc.collect()
    gc.enable()


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_main_thread() -> Iterator[None]:
    """After every test, collect what automatic collection would have, here on the main thread."""
    yield
    collect_due_generations(THRESHOLDS)
