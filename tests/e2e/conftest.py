"""End-to-end harness: the real window, flow, client and backend on one qasync loop; Qt warnings fail tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from pathlib import Path

import pytest
from kiosk_driver import DEMO_POLICY, START, KioskDriver, SessionTap
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from qt_harness import fail_on_qt_warnings, no_leaked_windows, qasync_loop

from kiosk.flows.engine import RecoveryFlow
from kiosk.policy.loader import load_policy
from kiosk.policy.schema import Policy
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.client import BackendClient
from kiosk.ui.protocols import KioskServices
from kiosk.ui.window import KioskWindow

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every end-to-end test fails on any Qt warning (except the offscreen plugin's noise)."""
    fail_on_qt_warnings(items, HERE)


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], object]]:
    """Async end-to-end tests run on a qasync loop, so Qt events and asyncio tasks interleave as in the kiosk."""
    return {"qasync": qasync_loop}


@pytest.fixture(autouse=True)
def _no_leaked_windows(qapp: QApplication) -> Iterator[None]:
    """Fail a test that leaves a top-level widget behind (pytest-qt closes qtbot's widgets first)."""
    yield from no_leaked_windows(qapp)


@pytest.fixture
def policy() -> Policy:
    """The demo policy file, loaded as the kiosk loads it."""
    return load_policy(DEMO_POLICY)


@pytest.fixture
async def kiosk(qtbot: QtBot, qapp: QApplication, policy: Policy) -> AsyncIterator[KioskDriver]:
    """The real KioskWindow on the real RecoveryFlow, BackendClient.embedded and Backend (manual clock)."""
    # As in run_app: closing the window must not quit the Qt loop that the qasync loop runs on.
    quit_on_close = qapp.quitOnLastWindowClosed()
    qapp.setQuitOnLastWindowClosed(False)
    clock = ManualClock(START)
    backend = await Backend.open(policy, clock=clock, kiosk_id="e2e-kiosk")
    tap = SessionTap(backend.asgi)
    client = BackendClient.embedded(tap, timeout=policy.backend.timeout_seconds)
    flow = RecoveryFlow(client, policy, kiosk_id="e2e-kiosk", locale=lambda: "en")

    async def close_services() -> None:
        await client.aclose()
        await backend.close()

    window = KioskWindow(policy, demo=True, now=clock.now)
    window.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
    window.show()
    window.attach(KioskServices(flow=flow, demo_feed=client, close=close_services))
    yield KioskDriver(qtbot=qtbot, window=window, client=client, backend=backend, clock=clock, tap=tap)
    # Close first so no page timer (done countdown, code expiry) can call a closed backend.
    window.close()
    await window.wait_idle()
    await close_services()
    window.deleteLater()
    qapp.setQuitOnLastWindowClosed(quit_on_close)
