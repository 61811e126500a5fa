"""Start the kiosk: QApplication, qasync loop, the window at once, then the services in the background."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from kiosk.i18n import _
from kiosk.policy.schema import Policy
from kiosk.services.diagnosis import DiagnosticReport
from kiosk.ui.first_paint import FirstPaint
from kiosk.ui.gc_guard import MainThreadGarbageCollector
from kiosk.ui.protocols import KioskServices
from kiosk.ui.qt_language import follow_language
from kiosk.ui.theme import apply_theme
from kiosk.ui.window import KioskWindow

if TYPE_CHECKING:
    from kiosk.ui.demo_inbox import DemoInboxWindow

__all__ = ["KioskServices", "build_window", "open_demo_inbox", "run_app"]

log = logging.getLogger(__name__)

FIRST_PAINT_WAIT_SECONDS = 2.0
"""How long the services wait for the window's first paint (a window that is not exposed may never paint)."""


def build_window(
    policy: Policy,
    *,
    demo: bool,
    kiosk_mode: bool,
    admin_secret: Callable[[], str] | None = None,
    diagnose: Callable[[], Awaitable[DiagnosticReport]] | None = None,
) -> KioskWindow:
    """The themed kiosk window, shown full screen and locked in kiosk mode (`--kiosk` or the policy's
    `kiosk.lockdown`); `admin_secret` reads the administrator secret, `diagnose` runs the checks of the
    diagnostics page (needs a QApplication)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication), "create a QApplication first"
    apply_theme(app, policy.kiosk.branding.accent_color, policy.kiosk.theme)
    follow_language(app)  # before the widgets exist, so they are built in the language's direction
    window = KioskWindow(policy, demo=demo, admin_secret=admin_secret, diagnose=diagnose)
    if kiosk_mode or policy.kiosk.lockdown:
        window.lock_down()
        window.showFullScreen()
    else:
        window.show()
    return window


def open_demo_inbox(services: KioskServices, window: KioskWindow) -> DemoInboxWindow | None:
    """In demo mode, the separate demo inbox window next to the kiosk (None without a feed)."""
    if services.demo_feed is None:
        return None
    from kiosk.ui.demo_inbox import DemoInboxWindow, place_beside  # demo only: not on the start-up path

    inbox = DemoInboxWindow(services.demo_feed)
    place_beside(window, inbox)
    inbox.show()
    return inbox


async def _self_test(window: KioskWindow, connect: Callable[[], Awaitable[KioskServices]], started: float) -> int:
    """Start, paint the start page against the connected backend, print READY and the time, and stop."""
    services = await window.start(connect)
    window.repaint()
    if services is None:
        print("FAILED: the kiosk services did not start", flush=True)
        return 1
    print(f"READY {(time.perf_counter() - started) * 1000:.0f} ms", flush=True)
    await window.wait_idle()
    await services.close()
    window.release()
    window.close()
    return 0


async def _serve(
    window: KioskWindow, connect: Callable[[], Awaitable[KioskServices]], *, demo: bool, closed: asyncio.Event
) -> int:
    services = await window.start(connect)
    while services is None and not closed.is_set():
        # The error page's "Try again" reconnects; wait for it (or for the window to close).
        await asyncio.sleep(0.2)
        services = window.services
    inbox = open_demo_inbox(services, window) if (demo and services is not None) else None
    try:
        await closed.wait()
    finally:
        if inbox is not None:
            inbox.close()
            inbox.deleteLater()
        await window.wait_idle()
        if services is not None:
            await services.close()
    return 0


def run_app(
    policy: Policy,
    connect: Callable[[], Awaitable[KioskServices]],
    *,
    kiosk_mode: bool,
    demo: bool,
    argv: list[str],
    self_test: bool = False,
    admin_secret: Callable[[], str] | None = None,
    diagnose: Callable[[], Awaitable[DiagnosticReport]] | None = None,
) -> int:
    """Run the kiosk until its window closes (or SIGINT/SIGTERM); returns the process exit code.

    With `self_test`, stop as soon as the start page is usable and print `READY <ms>` (start-up benchmark);
    the start page's first paint, earlier, prints `PAINTED <ms>` to standard error.
    In kiosk mode only the administrator exit (secret from `admin_secret`) or a signal ends it; the same
    secret opens the diagnostics page, whose checks `diagnose` runs.
    """
    started = time.perf_counter()
    app = QApplication.instance() or QApplication(argv)
    assert isinstance(app, QApplication)
    app.setApplicationName(_("Account recovery"))
    app.setQuitOnLastWindowClosed(False)
    collector = MainThreadGarbageCollector(app)
    window = build_window(policy, demo=demo, kiosk_mode=kiosk_mode, admin_secret=admin_secret, diagnose=diagnose)
    first_paint = FirstPaint(window, started, announce=self_test)  # a child of the window
    window.settled.connect(collector.freeze)
    window.expect_services()  # the start page's first paint takes clicks already
    # Paint first: the start page is on screen before the asyncio glue is imported and the services
    # (their imports, the embedded backend) start; a click meanwhile waits in Qt's queue.
    first_paint.wait_blocking(FIRST_PAINT_WAIT_SECONDS)
    import qasync

    loop = qasync.QEventLoop(app)
    # qasync's own default executor logs every call's arguments and result at DEBUG level, and the
    # embedded backend hashes passwords, codes and answers there (asyncio.to_thread): a plain pool
    # logs nothing.
    workers = ThreadPoolExecutor(thread_name_prefix="kiosk-worker")
    loop.set_default_executor(workers)
    asyncio.set_event_loop(loop)

    async def connect_after_paint() -> KioskServices:
        await first_paint.wait(0)  # painted above (or it timed out: a window that is not exposed)
        return await connect()

    closed = asyncio.Event()
    window.closed.connect(closed.set)

    def stop(*_args: object) -> None:
        window.release()
        window.close()
        closed.set()

    previous_handlers = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    # Python runs signal handlers only between bytecodes: wake the interpreter now and then.
    wake = QTimer()
    wake.start(250)
    wake.timeout.connect(lambda: None)
    try:
        with loop:
            if self_test:
                return int(loop.run_until_complete(_self_test(window, connect_after_paint, started)))
            return int(loop.run_until_complete(_serve(window, connect_after_paint, demo=demo, closed=closed)))
    finally:
        wake.stop()
        for sig, handler in previous_handlers.items():
            signal.signal(sig, handler)
        asyncio.set_event_loop(None)
        workers.shutdown(wait=False)
        window.deleteLater()
        collector.stop()
