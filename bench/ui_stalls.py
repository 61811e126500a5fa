"""UI-thread stall benchmark: how long the kiosk's Qt thread stops answering during whole flows.

The real window (offscreen) on the embedded demo backend, started in the kiosk's own order (run_app:
window shown and painted, then the backend opened), is driven through whole flows the way a person would: an e-mail
reset with a 100-character password typed key by key first, security questions, two gates, an
unlock, and a language switch (to Arabic and back, the picker's own signal) on every page. Every
field is typed one key at a time at a steady typist's pace (`--key-ms`), the event loop running
between keys.

Meanwhile a watchdog QTimer on the UI thread is due every few milliseconds; each time it fires it
notes how late it is (the time since its previous firing minus the interval). From the first paint
of the start page on, the script prints the longest stall and the p99 of the lateness, and for the
worst stalls the step they happened in. Target (issue 14): no stall over 50 ms after the first paint.

    QT_QPA_PLATFORM=offscreen python bench/ui_stalls.py [--interval-ms 5] [--top 10]

The moves and readings (the CAPTCHA text from the backend's test hook, e-mailed codes from the dev
outbox, app codes from the dev endpoint) come from the end-to-end tests' driver, tests/e2e/kiosk_driver.py.
That driver imports the backend, so the services' imports are paid before the window here: the stall
they cause after the first paint in the kiosk shows in bench/startup.py, between painted and ready.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "e2e"))

import qasync  # noqa: E402
from kiosk_driver import NEW_PASSWORD, QUINN_ANSWERS, KioskDriver, SessionTap  # noqa: E402
from PySide6.QtCore import (  # noqa: E402
    QElapsedTimer,
    QEvent,
    QMessageLogContext,
    QObject,
    Qt,
    QTimer,
    QtMsgType,
    qInstallMessageHandler,
)
from PySide6.QtTest import QTest  # noqa: E402
from PySide6.QtWidgets import QApplication, QLineEdit  # noqa: E402

from kiosk.flows.engine import RecoveryFlow  # noqa: E402
from kiosk.flows.steps import AnswerQuestionsData, StepKind  # noqa: E402
from kiosk.i18n import set_language  # noqa: E402
from kiosk.policy.loader import load_policy  # noqa: E402
from kiosk.policy.schema import Method  # noqa: E402
from kiosk.services.backend import Backend  # noqa: E402
from kiosk.services.client import BackendClient  # noqa: E402
from kiosk.services.client.backend_thread import BackendThread  # noqa: E402
from kiosk.ui.app import FIRST_PAINT_WAIT_SECONDS, build_window  # noqa: E402
from kiosk.ui.first_paint import FirstPaint as KioskFirstPaint  # noqa: E402
from kiosk.ui.gc_guard import MainThreadGarbageCollector  # noqa: E402
from kiosk.ui.pages.answer_questions import AnswerQuestionsPage  # noqa: E402
from kiosk.ui.pages.choose_method import ChooseMethodPage  # noqa: E402
from kiosk.ui.pages.done import DonePage  # noqa: E402
from kiosk.ui.pages.enter_code import EnterCodePage  # noqa: E402
from kiosk.ui.pages.identify import IdentifyPage  # noqa: E402
from kiosk.ui.pages.new_password import NewPasswordPage  # noqa: E402
from kiosk.ui.pages.reset_or_unlock import ResetOrUnlockPage  # noqa: E402
from kiosk.ui.pages.start import StartPage  # noqa: E402
from kiosk.ui.protocols import KioskServices  # noqa: E402
from kiosk.ui.window import KioskWindow  # noqa: E402

DEMO_POLICY = ROOT / "resources" / "demo-policy.toml"
LONG_PASSWORD = ("Tulip-Harbor-93!Quiet-Meadow-47?" * 4)[:100]
"""The 100-character password typed key by key (then replaced by NEW_PASSWORD, which is saved)."""
SWITCH_TO = "ar"
"""The language switched to (and back from) on every page: right to left, so the whole layout flips."""


OFFSCREEN_NOISE = "This plugin does not support propagateSizeHints()"
"""The offscreen platform plugin's warning on every size-constraint change: not the kiosk's."""


def quiet_offscreen_noise(kind: QtMsgType, context: QMessageLogContext, message: str) -> None:
    """Qt's messages to standard error, but for the offscreen plugin's noise."""
    if message != OFFSCREEN_NOISE:
        print(message, file=sys.stderr)


class Hands:
    """What KioskDriver needs of pytest-qt's qtbot (clicks and keys), straight from QTest."""

    mouseClick = staticmethod(QTest.mouseClick)
    keyClick = staticmethod(QTest.keyClick)
    keyClicks = staticmethod(QTest.keyClicks)


class Watchdog(QObject):
    """A timer on the UI thread that records how late it fires, and in which step."""

    def __init__(self, interval_ms: int, started: float) -> None:
        super().__init__()
        self.interval_ms = interval_ms
        self.started = started
        """perf_counter() at the script's start (before the QApplication)."""
        self.moments: dict[str, float] = {}
        """Milliseconds from `started` to each moment noted (first paint, backend ready)."""
        self.step = "start page: before the first paint"
        self.lateness: list[tuple[float, str]] = []
        """(ms late, step) for every firing after the first paint."""
        self._ticked: asyncio.Event | None = None
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._fire)

    def note(self, moment: str) -> None:
        """Note the time of `moment`."""
        self.moments[moment] = (time.perf_counter() - self.started) * 1000

    def start(self) -> None:
        """Start watching (at the first paint)."""
        self._clock.start()
        self._last = 0.0
        self._timer.start()

    def _fire(self) -> None:
        now = self._clock.nsecsElapsed() / 1e6
        self.lateness.append((max(0.0, now - self._last - self.interval_ms), self.step))
        self._last = now
        if self._ticked is not None:
            self._ticked.set()

    async def tick(self) -> None:
        """Wait until the watchdog has fired once more (so a stall is charged to the step that caused it)."""
        self._ticked = asyncio.Event()
        await self._ticked.wait()

    def stop(self) -> None:
        """Stop watching."""
        self._timer.stop()


class FirstPaint(QObject):
    """Starts the watchdog when the window paints for the first time."""

    def __init__(self, window: KioskWindow, watchdog: Watchdog) -> None:
        super().__init__()
        self._window = window
        self._watchdog = watchdog
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """On the window's first Paint event, start the watchdog."""
        if event.type() == QEvent.Type.Paint and "first paint" not in self._watchdog.moments:
            self._watchdog.note("first paint")
            self._window.removeEventFilter(self)
            self._watchdog.step = "start page: painted, backend not yet ready"
            self._watchdog.start()
        return False


class StallDriver(KioskDriver):
    """The end-to-end driver, typing one key at a time with the event loop running between keys."""

    watchdog: Watchdog
    key_seconds: float

    @contextmanager
    def stepping(self, step: str) -> Iterator[None]:
        """Charge the stalls of what runs inside to `step`."""
        self.watchdog.step = step
        yield

    async def type_keys(self, edit: QLineEdit, text: str) -> None:
        """Select what is in the field, delete it and type `text`, one key every `key_seconds`."""
        edit.setFocus()
        edit.selectAll()
        self.qtbot.keyClick(edit, Qt.Key.Key_Backspace)
        await self.watchdog.tick()
        for character in text:
            self.qtbot.keyClicks(edit, character)
            await asyncio.sleep(self.key_seconds)
            await self.watchdog.tick()

    async def settle(self) -> None:
        """Wait for the window (and any language task) to be idle, then one watchdog tick."""
        await self.window.wait_idle()
        await self.wait_idle()
        await self.watchdog.tick()

    async def act(self, step: str, move: Callable[[], Awaitable[None]]) -> None:
        """Do a move (a click and the engine call it starts) as `step`, and wait until it is done."""
        with self.stepping(step):
            await move()
            await self.settle()

    async def switch_language(self) -> None:
        """On the page on show: pick SWITCH_TO in the header's picker, then English again."""
        page = self.step.kind.value.replace("_", "-")
        picker = self.window.header.languages
        for tag in (SWITCH_TO, "en"):
            with self.stepping(f"{page} page: language switch to {tag}"):
                index = picker.findData(tag)
                assert index >= 0, f"{tag} is not offered"
                picker.setCurrentIndex(index)
                picker.activated.emit(index)
                await self.settle()

    async def identify_keyed(self, user_id: str) -> None:
        """Identify page, keyed: the user ID and the CAPTCHA, then Enter."""
        await self.switch_language()
        page = self.page(IdentifyPage)
        with self.stepping("identify page: typing the user ID"):
            await self.type_keys(page.user_id.edit, user_id)
        captcha = await self.captcha_text()
        with self.stepping("identify page: typing the CAPTCHA"):
            await self.type_keys(page.captcha.edit, captcha)
        await self.act("identify page: Enter (identify call)", self._enter(page.captcha.edit))

    def _enter(self, edit: QLineEdit) -> Callable[[], Awaitable[None]]:
        async def press() -> None:
            self.press_enter(edit)

        return press

    def _click(self, widget: object) -> Callable[[], Awaitable[None]]:
        async def press() -> None:
            self.click(widget)

        return press

    async def choose_keyed(self, method: Method) -> None:
        """Choose-method page: switch language, then pick `method`."""
        await self.switch_language()
        buttons = dict(self.page_choices())
        await self.act(f"choose-method page: choosing {method.value}", self._click(buttons[method]))

    def page_choices(self) -> list[tuple[Method, object]]:
        """The method buttons of the choose-method page."""
        return list(self.page(ChooseMethodPage).choices)

    async def code_keyed(self, code: Callable[[], Awaitable[str]]) -> None:
        """Enter-code page: switch language, type the code, click Verify."""
        await self.switch_language()
        page = self.page(EnterCodePage)
        text = await code()
        with self.stepping("enter-code page: typing the code"):
            await self.type_keys(page.code.edit, text)
        await self.act("enter-code page: Verify (code call)", self._click(page.verify))

    async def answers_keyed(self, answers: dict[str, str]) -> None:
        """Questions page: switch language, type each answer, click Verify."""
        await self.switch_language()
        page = self.page(AnswerQuestionsPage)
        data = self.step.data
        assert isinstance(data, AnswerQuestionsData)
        predefined = {question.id: question.predefined_id or "" for question in data.questions}
        with self.stepping("questions page: typing the answers"):
            for question_id, row in page.rows:
                await self.type_keys(row.edit, answers[predefined[question_id]])
        await self.act("questions page: Verify (answers call)", self._click(page.verify))

    async def password_keyed(self, *, long_first: bool) -> None:
        """New-password page: switch language, (type the 100-character password,) type and save NEW_PASSWORD."""
        await self.switch_language()
        page = self.page(NewPasswordPage)
        if long_first:
            with self.stepping("new-password page: typing a 100-character password key by key"):
                await self.type_keys(page.password.edit, LONG_PASSWORD)
        with self.stepping("new-password page: typing the password"):
            await self.type_keys(page.password.edit, NEW_PASSWORD)
        with self.stepping("new-password page: typing the confirmation"):
            await self.type_keys(page.confirm.edit, NEW_PASSWORD)
        await self.act("new-password page: Save (reset call)", self._click(page.save))

    async def done_keyed(self) -> None:
        """Done page: switch language, then Finish (back to the start page)."""
        assert self.step.kind is StepKind.DONE, f"expected the done page, got {self.step}"
        await self.switch_language()
        await self.act("done page: Finish", self._click(self.page(DonePage).finish))
        assert self.step.kind is StepKind.START

    async def begin_keyed(self) -> None:
        """Start page: switch language, then "Can't access your account?"."""
        await self.switch_language()
        await self.act("start page: begin (open session call)", self._click(self.page(StartPage).begin))


async def flows(driver: StallDriver) -> None:
    """The whole flows: e-mail reset (with the long password), questions, two gates, unlock."""
    await driver.begin_keyed()  # Emma: e-mail reset
    await driver.identify_keyed("emma")
    await driver.choose_keyed(Method.EMAIL)
    await driver.code_keyed(lambda: driver.emailed_code("emma.jansen@contoso.com"))
    await driver.password_keyed(long_first=True)
    await driver.done_keyed()

    await driver.begin_keyed()  # Quinn: security questions
    await driver.identify_keyed("quinn")
    await driver.choose_keyed(Method.SECURITY_QUESTIONS)
    await driver.answers_keyed(QUINN_ANSWERS)
    await driver.password_keyed(long_first=False)
    await driver.done_keyed()

    await driver.begin_keyed()  # Tara: two gates, e-mail then app
    await driver.identify_keyed("tara")
    await driver.choose_keyed(Method.EMAIL)
    await driver.code_keyed(lambda: driver.emailed_code("tara.visser@contoso.com"))
    await driver.choose_keyed(Method.APP_CODE)
    await driver.code_keyed(lambda: driver.app_code("tara"))
    await driver.password_keyed(long_first=False)
    await driver.done_keyed()

    await driver.begin_keyed()  # Luke: locked out, unlocks only
    await driver.identify_keyed("luke")
    await driver.choose_keyed(Method.EMAIL)
    await driver.code_keyed(lambda: driver.emailed_code("luke.devries@contoso.com"))
    await driver.switch_language()
    await driver.act("locked-account page: Unlock (unlock call)", driver._click(driver.page(ResetOrUnlockPage).unlock))
    await driver.done_keyed()


class BackendHooks:
    """The backend's test hooks the driver reads (CAPTCHA text, audit), each run on the backend's own loop."""

    def __init__(self, backend: Backend, thread: BackendThread) -> None:
        self._backend = backend
        self._thread = thread

    async def captcha_text_for_test(self, token: str) -> str:
        """The CAPTCHA's text of the session `token`."""
        return await self._thread.run(self._backend.captcha_text_for_test(token))


async def run(window: KioskWindow, painted: KioskFirstPaint, watchdog: Watchdog, key_seconds: float) -> StallDriver:
    """Connect as the kiosk does (after the window's first paint), then drive the flows."""
    policy = window.policy
    opened: dict[str, object] = {}

    async def connect() -> KioskServices:
        # As the kiosk does (kiosk.cli.main.connect_services): the backend on a thread of its own.
        thread = BackendThread()
        backend = await thread.run(Backend.open(policy, kiosk_id="bench-kiosk"))
        tap = SessionTap(backend.asgi)
        client = BackendClient.embedded(tap, timeout=policy.backend.timeout_seconds, thread=thread)
        opened.update(backend=BackendHooks(backend, thread), tap=tap, client=client)

        async def close() -> None:
            await client.aclose()
            await thread.run(backend.close())
            thread.stop()

        return KioskServices(flow=RecoveryFlow(client, policy, kiosk_id="bench-kiosk"), demo_feed=client, close=close)

    await painted.wait(FIRST_PAINT_WAIT_SECONDS)  # as run_app: paint first
    services = await window.start(connect)
    assert services is not None, "the embedded backend did not start"
    watchdog.note("backend ready")
    watchdog.step = "start page: backend ready"
    driver = StallDriver(
        qtbot=Hands(),
        window=window,
        client=opened["client"],
        backend=opened["backend"],
        clock=None,  # the real clock, as in the kiosk
        tap=opened["tap"],
    )
    driver.watchdog = watchdog
    driver.key_seconds = key_seconds
    await driver.settle()
    try:
        await flows(driver)
    finally:
        watchdog.stop()
        window.release()
        window.close()
        await window.wait_idle()
        await services.close()
    return driver


def report(watchdog: Watchdog, top: int) -> None:
    """Print the longest stall, the p99, and the worst stalls with their step."""
    lateness = watchdog.lateness
    assert lateness, "the watchdog never fired"
    values = sorted(late for late, _step in lateness)
    p99 = values[min(len(values) - 1, int(len(values) * 0.99))]
    worst_late, worst_step = max(lateness)
    moments = ", ".join(f"{name} at {ms:.0f} ms" for name, ms in sorted(watchdog.moments.items(), key=lambda m: m[1]))
    print(f"from the script's start: {moments}")
    print(f"watchdog every {watchdog.interval_ms} ms, {len(lateness)} firings after the first paint")
    print(f"longest stall after the first paint: {worst_late:7.1f} ms  in: {worst_step}")
    print(f"p99 lateness:                        {p99:7.1f} ms  (median {statistics.median(values):.1f} ms)")
    print(f"stalls over 50 ms: {sum(late > 50 for late in values)}  (target: none)")
    per_step: dict[str, float] = {}
    for late, step in lateness:
        per_step[step] = max(per_step.get(step, 0.0), late)
    print(f"\nthe {top} steps with the longest stalls:")
    for step, late in sorted(per_step.items(), key=lambda item: -item[1])[:top]:
        print(f"  {late:7.1f} ms  {step}")


def main() -> int:
    """Start the window, drive the flows under the watchdog, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--interval-ms", type=int, default=5, help="the watchdog's interval (default 5 ms)")
    parser.add_argument(
        "--key-ms",
        type=int,
        default=180,
        help="time between two keys (default 180 ms: a steady typist, slower than the password checklist's "
        "150 ms pause, so it checks after every key as it would for most people)",
    )
    parser.add_argument("--top", type=int, default=10, help="how many steps to list (default 10)")
    args = parser.parse_args()

    qInstallMessageHandler(quiet_offscreen_noise)
    started = time.perf_counter()
    policy = load_policy(DEMO_POLICY)
    set_language("en")
    app = QApplication.instance() or QApplication([sys.argv[0]])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)
    collector = MainThreadGarbageCollector(app)  # as run_app: its collections are UI-thread pauses too
    loop = qasync.QEventLoop(app)
    workers = ThreadPoolExecutor(thread_name_prefix="kiosk-worker")  # as run_app: hashing runs there
    loop.set_default_executor(workers)
    asyncio.set_event_loop(loop)
    watchdog = Watchdog(args.interval_ms, started)
    window = build_window(policy, demo=True, kiosk_mode=False)
    first_paint = FirstPaint(window, watchdog)
    painted = KioskFirstPaint(window, started)  # the kiosk's own watcher, as run_app installs it
    window.settled.connect(collector.freeze)  # as run_app: start-up's objects out of later collections
    try:
        with loop:
            loop.run_until_complete(run(window, painted, watchdog, args.key_ms / 1000))
    finally:
        asyncio.set_event_loop(None)
        workers.shutdown(wait=True)
        # Qt objects go before the QApplication, in order, not in the interpreter's exit.
        first_paint.deleteLater()
        watchdog.deleteLater()
        window.deleteLater()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
        collector.stop()
    report(watchdog, args.top)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
