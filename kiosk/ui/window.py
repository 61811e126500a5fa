"""The kiosk window: header, one page per StepKind in a stack, and the async glue to the flow engine.

Pages are built on first use (the start page at once), so start-up pays for one page, not ten.

Pages render Steps and emit answers; the window alone calls the engine, one call at a time, as an
asyncio task on the qasync loop, and shows a busy state meanwhile so the window never freezes and
double submits are ignored.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from PySide6.QtCore import QEvent, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from kiosk.flows.mapping import local_reference
from kiosk.flows.steps import Answer, ErrorData, Helpdesk, StartData, Step, StepKind
from kiosk.i18n import _, current_language, offered_languages, set_language
from kiosk.policy.password import PasswordCheck
from kiosk.policy.schema import Policy
from kiosk.services.api import Flow
from kiosk.ui import texts
from kiosk.ui.admin_exit import AdminExitGate, AdminExitPrompt
from kiosk.ui.audio import CaptchaAudioPlayer
from kiosk.ui.controls import button, clear_clipboard, label, wipe_line_edit
from kiosk.ui.header import Header
from kiosk.ui.idle import IdleMonitor, IdleWarning
from kiosk.ui.lockdown import KIOSK_WINDOW_FLAGS, KioskKeyFilter
from kiosk.ui.pages import PAGES, Page, PageContext, Request, import_pages
from kiosk.ui.pages.start import StartPage
from kiosk.ui.protocols import FlowEngine, KioskServices
from kiosk.ui.qt_language import follow_language, layout_direction

if TYPE_CHECKING:
    from kiosk.ui.diagnostics_page import Diagnose, DiagnosticsPanel
    from kiosk.ui.keyboard import OnScreenKeyboard

log = logging.getLogger(__name__)

CARD_MAX_WIDTH = 900


@runtime_checkable
class LanguageAwareEngine(Protocol):
    """An engine that can tell its backend session about a language switch (the recovery flow can)."""

    async def language_changed(self) -> None:
        """The user switched language: codes and notices sent from now on use the new one."""
        ...


@runtime_checkable
class RetryAwareEngine(Protocol):
    """An engine that says when a call waits to try again because the backend is busy (the recovery flow can)."""

    def on_retrying(self, listener: Callable[[bool], None] | None) -> None:
        """Call `listener(True)` while a call waits to try again, `listener(False)` when it is over."""
        ...


def offered_flows(policy: Policy) -> tuple[Flow, ...]:
    """The ways in the policy offers on the start page (`kiosk.offer_*`), shown until the engine says."""
    kiosk = policy.kiosk
    offers = {
        Flow.RECOVER: kiosk.offer_recovery,
        Flow.CHANGE: kiosk.offer_change,
        Flow.REGISTER: kiosk.offer_registration,
    }
    return tuple(flow for flow, offered in offers.items() if offered)


def utc_now() -> datetime:
    """The current time, timezone-aware (the pages' default clock)."""
    return datetime.now(UTC)


class PageStack(QStackedWidget):
    """The pages, sized by the page on show: a plain QStackedWidget asks for room for its tallest page
    built so far (size hints and height-for-width), which would make every page scroll once a tall
    one has been shown."""

    def sizeHint(self) -> QSize:
        """The current page's size hint."""
        page = self.currentWidget()
        return page.sizeHint() if page is not None else super().sizeHint()

    def minimumSizeHint(self) -> QSize:
        """The current page's minimum size hint."""
        page = self.currentWidget()
        return page.minimumSizeHint() if page is not None else super().minimumSizeHint()

    def hasHeightForWidth(self) -> bool:
        """Whether the current page's height depends on its width (wrapped text)."""
        page = self.currentWidget()
        return page.hasHeightForWidth() if page is not None else super().hasHeightForWidth()

    def heightForWidth(self, width: int) -> int:
        """The current page's height at `width` (QStackedLayout would answer its tallest page's)."""
        page = self.currentWidget()
        return page.heightForWidth(width) if page is not None else super().heightForWidth(width)


class KioskWindow(QMainWindow):
    """The wizard window. Build it, show it, then `attach` the services (or `await start(connect)`)."""

    closed = Signal()
    settled = Signal()
    """Start-up is over: the services are attached and every page's module is imported."""

    def __init__(
        self,
        policy: Policy,
        *,
        demo: bool = False,
        now: Callable[[], datetime] = utc_now,
        admin_secret: Callable[[], str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        parent: QWidget | None = None,
        diagnose: Diagnose | None = None,
    ) -> None:
        """`admin_secret` reads the administrator-exit secret (from the OS keyring, wired by the CLI);
        `diagnose` runs the checks of the administrator's diagnostics page (also wired by the CLI);
        `clock` is the monotonic clock of the idle timeout and the exit lock-out (tests move it)."""
        super().__init__(parent)
        self.policy = policy
        self.services: KioskServices | None = None
        self._connect: Callable[[], Awaitable[KioskServices]] | None = None
        self._services_up: asyncio.Event | None = None
        """Set once `start` has attached the services: a click made while it connects waits for it, busy."""
        self._task: asyncio.Task[None] | None = None
        self._pages_imported: asyncio.Future[None] | None = None
        self._before_loop: Awaitable[None] | None = None
        self._language_tasks: set[asyncio.Task[None]] = set()
        self._step = Step(
            StepKind.START, StartData(organisation=policy.kiosk.branding.organisation, flows=offered_flows(policy))
        )
        self._home_language = current_language()
        """The language the kiosk started in: every new person starts in it again."""
        self._notice = ""
        self._retrying = False
        """The running call waits to try again (the backend is busy): the footer says so, calmly."""
        self._locked_down = False
        self.audio = CaptchaAudioPlayer(self)
        self.audio.failed.connect(lambda: self._set_notice("audio_unavailable"))

        self.languages = offered_languages(policy.kiosk.languages)
        """The languages the picker offers: the policy's `kiosk.languages` that a shipped catalog serves."""
        # The header lists `kiosk.languages`: give it the negotiated list, not the raw policy one.
        header_policy = policy.model_copy(
            update={"kiosk": policy.kiosk.model_copy(update={"languages": self.languages})}
        )
        self.header = Header(header_policy, demo=demo)
        self.header.language_chosen.connect(self.set_language)
        desk = policy.kiosk.helpdesk
        self._context = PageContext(
            check_password=self._check_password,
            now=now,
            helpdesk=Helpdesk(text=desk.text, phone=desk.phone, url=desk.url, email=desk.email),
        )
        self._reset_pending = False
        self.idle = IdleMonitor(
            policy.kiosk.idle_timeout_seconds, policy.kiosk.idle_warning_seconds, clock=clock, parent=self
        )
        self.admin_gate = AdminExitGate(admin_secret, clock=clock)
        self.key_filter = KioskKeyFilter(self)
        self._diagnose = diagnose
        self.diagnostics: DiagnosticsPanel | None = None
        """The diagnostics page, built the first time an administrator opens it."""
        self.stack = PageStack()
        self.pages: dict[StepKind, Page] = {}
        """The pages built so far: only the start page at first, each other one on first use."""
        self._page(StepKind.START)
        self._build_layout()
        self.idle.warning.connect(self.idle_warning.show_seconds)
        self.idle.resumed.connect(self.idle_warning.dismiss)
        self.idle.expired.connect(self.reset_to_start)
        self.idle_warning.more_time.connect(self.idle.poke)
        self.admin_prompt.accepted.connect(self._admin_exit)
        self.admin_prompt.diagnostics_requested.connect(self.open_diagnostics)
        self.key_filter.close_requested.connect(self.reset_to_start)
        self.key_filter.admin_requested.connect(self.open_admin_prompt)
        self.render_step(self._step)
        self._start_page.set_ready(False)
        if diagnose is not None:
            # The chord also works in a plain window, for the diagnostics page (Alt+F4 stays alone).
            self.key_filter.install(catch_close=False)

    # --- layout -------------------------------------------------------------------------------

    def _build_layout(self) -> None:
        self.back = button("link")
        self.back.clicked.connect(lambda: self._on_request(Request.BACK))
        self.cancel = button("link")
        self.cancel.clicked.connect(lambda: self._on_request(Request.CANCEL))
        self.spinner = QProgressBar()
        self.spinner.setRange(0, 0)
        self.spinner.setFixedWidth(120)
        self.busy_text = label("busyText", wrap=False)
        self.notice = label("notice")
        footer = QHBoxLayout()
        footer.setSpacing(12)
        footer.addWidget(self.back)
        footer.addWidget(self.notice, 1)
        footer.addWidget(self.spinner)
        footer.addWidget(self.busy_text)
        footer.addWidget(self.cancel)

        card = QFrame()
        card.setObjectName("card")
        card.setMaximumWidth(CARD_MAX_WIDTH)
        inner = QVBoxLayout(card)
        inner.setContentsMargins(48, 28, 48, 20)
        inner.setSpacing(20)
        # Large system text on a small screen can make a page taller than the window: it scrolls
        # inside the card (Back/Cancel stay in view) rather than being squashed.
        scroller = QScrollArea()
        scroller.setObjectName("pageScroller")
        scroller.setWidgetResizable(True)
        scroller.setFrameShape(QFrame.Shape.NoFrame)
        scroller.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroller.setWidget(self.stack)
        inner.addWidget(scroller, 1)
        inner.addLayout(footer)

        canvas = QWidget()
        canvas.setObjectName("canvas")
        centred = QHBoxLayout(canvas)
        centred.setContentsMargins(32, 28, 32, 28)
        centred.addStretch(0)
        centred.addWidget(card, 1)
        centred.addStretch(0)

        root = QWidget()
        column = QVBoxLayout(root)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(0)
        column.addWidget(self.header)
        column.addWidget(canvas, 1)
        self.keyboard: OnScreenKeyboard | None = None
        if self.policy.kiosk.on_screen_keyboard:
            from kiosk.ui.keyboard import OnScreenKeyboard  # only touch kiosks pay for it at start-up

            self.keyboard = OnScreenKeyboard()
            self.keyboard.set_language(current_language())
            column.addWidget(self.keyboard)
        self.setCentralWidget(root)
        self.idle_warning = IdleWarning(root)
        self.admin_prompt = AdminExitPrompt(root, self.admin_gate)
        self.resize(1024, 768)
        self._show_busy(False)

    # --- public API ---------------------------------------------------------------------------

    @property
    def step(self) -> Step:
        """The Step on show."""
        return self._step

    @property
    def current_page(self) -> Page:
        """The page widget on show."""
        return self._page(self._step.kind)

    @property
    def busy(self) -> bool:
        """True while an engine call is running (or waits for the event loop to start)."""
        return self._task is not None or self._before_loop is not None

    def expect_services(self) -> None:
        """The services are on their way: the start page takes clicks from its first paint on, before
        `start` (and even the asyncio loop) runs; such a click waits, busy, and runs once they are up."""
        if self._services_up is None and self.services is None:
            self._services_up = asyncio.Event()
        self._start_page.set_ready(True)

    def attach(self, services: KioskServices) -> None:
        """Use the connected services: show the engine's current Step and enable the start button."""
        self.services = services
        if self._services_up is not None:
            self._services_up.set()  # a click that came while connecting runs now
            self._services_up = None
        if isinstance(services.flow, RetryAwareEngine):
            services.flow.on_retrying(self.show_retrying)
        self._start_page.set_ready(True)
        self.render_step(services.flow.step)

    async def start(self, connect: Callable[[], Awaitable[KioskServices]]) -> KioskServices | None:
        """Connect and attach; on failure show a retryable error. The start page takes clicks at once:
        one made while connecting waits, with the usual busy state, and runs once the services are up."""
        self._connect = connect
        self.expect_services()
        if self._before_loop is not None:  # a click from before the event loop ran
            work, self._before_loop = self._before_loop, None
            self._task = asyncio.get_running_loop().create_task(self._guarded(work))
        try:
            services = await connect()
        except Exception:
            self._services_up = None
            if self._task is not None:
                self._task.cancel()  # the click that waited for these services: its busy state ends
            reference = local_reference()
            log.exception("could not start the kiosk services [reference %s]", reference)
            self.render_step(Step(StepKind.ERROR, ErrorData(code="service_unavailable", correlation_id=reference)))
            return None
        self.attach(services)
        if self._pages_imported is None:
            # The other pages' modules, beside the user's first moves instead of at each page's first showing.
            self._pages_imported = asyncio.ensure_future(asyncio.to_thread(import_pages))
            self._pages_imported.add_done_callback(self._settle)
        return services

    def _settle(self, imported: asyncio.Future[None]) -> None:
        if not imported.cancelled() and imported.exception() is not None:
            log.error("could not import the pages (%s)", type(imported.exception()).__name__)
        self.settled.emit()

    def render_step(self, step: Step) -> None:
        """Show a Step from the engine on its page (inputs reset)."""
        previous = self.current_page
        previous_kind = self._step.kind
        self._step = step
        page = self.current_page
        if previous is not page:
            previous.leave()
        if step.kind is StepKind.START:
            self.idle.stop()  # nobody is using the kiosk: the start page never times out
            if previous_kind is not StepKind.START:
                self.wipe()
                if current_language() != self._home_language:
                    self.set_language(self._home_language)  # the next person starts in the kiosk's language
        else:
            self.idle.start()
        self._notice = ""
        page.show_step(step, fresh=True)
        self.stack.setCurrentWidget(page)
        self.stack.updateGeometry()  # the scroller sizes the stack to this page, not the tallest one
        self._retranslate_chrome()
        # Reading order: the page's controls, then Back and Cancel, then the header's language picker.
        QWidget.setTabOrder(self.back, self.cancel)
        QWidget.setTabOrder(self.cancel, self.header.languages)
        if not self.busy:
            page.focus_first()

    def set_language(self, tag: str) -> None:
        """Switch language and re-render the current Step in it, keeping what was typed."""
        set_language(tag)
        follow_language()  # Qt's default locale, layout direction and stock strings
        self.setLayoutDirection(layout_direction())
        self.header.retranslate()
        if self.keyboard is not None:
            self.keyboard.set_language(tag)
        self.current_page.show_step(self._step, fresh=False)
        self._start_page.retranslate()
        self._retranslate_chrome()
        self._tell_engine_language()

    def lock_down(self) -> None:
        """Kiosk mode: frameless, on top, no close or minimise; closing or Alt+F4 restarts the wizard,
        and only the administrator exit (when the policy allows one) closes the window."""
        self._locked_down = True
        self.setWindowFlags(KIOSK_WINDOW_FLAGS)
        self.key_filter.install()

    @property
    def locked_down(self) -> bool:
        """True in kiosk mode (until `release`)."""
        return self._locked_down

    def release(self) -> None:
        """Allow the window to close again (shutting down)."""
        self._locked_down = False
        self.key_filter.remove()

    def wipe(self) -> None:
        """Forget everything the last person left: every field and its undo history, the clipboard,
        the prompts on show."""
        for page in self.pages.values():
            page.leave()
        for edit in self.findChildren(QLineEdit):
            wipe_line_edit(edit)
        clear_clipboard()
        self.idle_warning.dismiss()
        self.admin_prompt.close_prompt()
        if self.diagnostics is not None:
            self.diagnostics.close_panel()

    def reset_to_start(self) -> None:
        """Idle timeout, Alt+F4 or a close in kiosk mode: wipe now, close the backend session (the
        engine's cancel) and show the start page; a running engine call finishes first."""
        self.idle.stop()
        self.wipe()
        if self.services is None:
            return  # not connected: the error page's "Try again" stays, nothing to forget
        if self.busy:
            self._reset_pending = True
            return
        self._call_engine(lambda flow: flow.cancel())

    def open_admin_prompt(self) -> None:
        """The administrator chord: the secret prompt, offering the exit (in kiosk mode, when the policy
        allows one) and the diagnostics page (when the kiosk was given the checks)."""
        can_exit = self._locked_down and self.policy.kiosk.admin_exit
        can_diagnose = self._diagnose is not None
        if not can_exit and not can_diagnose:
            return
        if self.diagnostics is not None and self.diagnostics.isVisible():
            return
        self.admin_prompt.open_prompt(can_exit=can_exit, can_diagnose=can_diagnose)

    def open_diagnostics(self) -> None:
        """The diagnostics page (after the administrator secret), built on first use; the checks start."""
        if self._diagnose is None:
            return
        if self.diagnostics is None:
            from kiosk.ui.diagnostics_page import DiagnosticsPanel  # administrators only: not on the start-up path

            root = self.centralWidget()
            assert root is not None
            self.diagnostics = DiagnosticsPanel(root, self._diagnose)
            self.diagnostics.closed.connect(self._diagnostics_closed)
        # Watched like any page: an administrator who walks away does not leave the report on show.
        self.idle.start()
        self.diagnostics.open_panel()

    def _diagnostics_closed(self) -> None:
        if self._step.kind is StepKind.START:
            self.idle.stop()  # back to the start page, which never times out
        self.current_page.focus_first()

    def _admin_exit(self) -> None:
        # The app shuts down on `closed` and closes the backend (and its session) on the way out.
        log.info("kiosk mode left by the administrator exit")
        self.release()
        self.close()

    async def wait_idle(self) -> None:
        """Wait until no engine call is running and start-up's page imports are done (tests, shutdown)."""
        while self._task is not None or self._language_tasks:
            await asyncio.wait({self._task} if self._task is not None else set(self._language_tasks))
        if self._pages_imported is not None and not self._pages_imported.done():
            await asyncio.wait({self._pages_imported})

    # --- engine calls -------------------------------------------------------------------------

    def _page(self, kind: StepKind) -> Page:
        """The page of a StepKind, built on first use: a user who never reaches a page never pays
        for it, and start-up builds the start page alone (bench/startup.py)."""
        page = self.pages.get(kind)
        if page is None:
            page = PAGES[kind](self._context)
            page.answered.connect(self._on_answer)
            page.requested.connect(self._on_request)
            self.stack.addWidget(page)
            self.pages[kind] = page
        return page

    @property
    def _start_page(self) -> StartPage:
        page = self._page(StepKind.START)
        assert isinstance(page, StartPage)
        return page

    def _check_password(self, password: str) -> PasswordCheck:
        if self.services is None:
            return PasswordCheck(results=(), strength=0)
        return self.services.flow.check_password(password)

    def _on_answer(self, answer: object) -> None:
        if isinstance(answer, Answer):
            self._call_engine(lambda flow: flow.submit(answer))

    def _on_request(self, request: object) -> None:
        if self.busy:
            return
        match request:
            case Request.BACK | Request.CHOOSE_OTHER_METHOD:
                self._call_engine(lambda flow: flow.back())
            case Request.CANCEL:
                self._call_engine(lambda flow: flow.cancel())
            case Request.RESTART:
                self._call_engine(lambda flow: flow.restart())
            case Request.RETRY if self.services is None and self._connect is not None:
                self._run(self._reconnect())
            case Request.RETRY:
                self._call_engine(lambda flow: flow.retry())
            case Request.REFRESH_CAPTCHA:
                self._call_engine(lambda flow: flow.refresh_captcha())
            case Request.RESEND_CODE:
                self._call_engine(lambda flow: flow.resend_code())
            case Request.PLAY_CAPTCHA_AUDIO:
                self._play_audio()

    def _call_engine(self, call: Callable[[FlowEngine], Awaitable[Step]]) -> None:
        services = self.services
        if self.busy:
            return
        if services is None:
            services_up = self._services_up
            if services_up is None:
                return  # not started, or the start failed: nothing to wait for

            async def run_when_up() -> None:
                await services_up.wait()
                assert self.services is not None
                step = await call(self.services.flow)
                self._finish(lambda: self.render_step(step))

            self._run(run_when_up())
            return

        async def run() -> None:
            step = await call(services.flow)
            self._finish(lambda: self.render_step(step))

        self._run(run())

    def _tell_engine_language(self) -> None:
        """Let the engine tell the backend session about the switch, in the background: the page
        re-rendered already and stays usable (the engine orders this call among the others)."""
        flow = self.services.flow if self.services is not None else None
        if not isinstance(flow, LanguageAwareEngine):
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no event loop (rendering screenshots): there is no session to tell either

        async def tell() -> None:
            try:
                await flow.language_changed()
            except Exception:
                log.exception("could not tell the engine about the language switch")

        task = loop.create_task(tell())
        self._language_tasks.add(task)
        task.add_done_callback(self._language_tasks.discard)

    def _play_audio(self) -> None:
        services = self.services
        if services is None:
            return

        async def run() -> None:
            wav = await services.flow.captcha_audio()
            self._finish(lambda: self._set_notice("audio_playing" if self.audio.play(wav) else "audio_unavailable"))

        self._run(run())

    async def _reconnect(self) -> None:
        assert self._connect is not None
        try:
            services = await self._connect()
        except Exception:
            log.exception("could not start the kiosk services")
            self._finish(lambda: self.render_step(self._step))
            return
        self._finish(lambda: self.attach(services))

    def _run(self, work: Awaitable[None]) -> None:
        """Run one engine call as a task; while it runs the window is busy and ignores new calls."""
        if self.busy:
            return
        self._show_busy(True)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            # Between the first paint and the event loop's start (kiosk.ui.app): `start` runs it.
            self._before_loop = work
            return
        self._task = loop.create_task(self._guarded(work))

    async def _guarded(self, work: Awaitable[None]) -> None:
        try:
            await work
        except asyncio.CancelledError:
            self._finish(lambda: None)
            raise
        except Exception:
            # The engine maps every expected failure to an ERROR Step; this is a bug, so log it (no
            # secrets: answers never reach exception messages) and offer a way forward.
            reference = local_reference()
            log.exception("engine call failed [reference %s]", reference)
            self._finish(lambda: self.render_step(Step(StepKind.ERROR, ErrorData("internal", reference))))

    def _finish(self, then: Callable[[], None]) -> None:
        self._task = None
        self._retrying = False
        self._show_busy(False)
        then()
        self.current_page.focus_first()
        if self._reset_pending:
            self._reset_pending = False
            self.reset_to_start()

    # --- chrome -------------------------------------------------------------------------------

    def _show_busy(self, busy: bool) -> None:
        self.stack.setEnabled(not busy)
        self.back.setEnabled(not busy)
        self.cancel.setEnabled(not busy)
        self.header.languages.setEnabled(not busy)
        self.spinner.setVisible(busy)
        self.busy_text.setVisible(busy)
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
        self._retranslate_chrome()

    def show_retrying(self, retrying: bool) -> None:
        """While the engine's call waits to try again, the busy footer says "busy, trying again"."""
        self._retrying = retrying
        self._retranslate_chrome()

    def _set_notice(self, code: str) -> None:
        self._notice = code
        self._retranslate_chrome()

    def _retranslate_chrome(self) -> None:
        page = self.current_page
        self.setWindowTitle(
            _("{organisation} account recovery").format(organisation=self.policy.kiosk.branding.organisation)
        )
        self.back.setText(("‹ " if self.layoutDirection() == Qt.LayoutDirection.LeftToRight else "› ") + _("Back"))
        self.back.setAccessibleName(_("Back"))
        self.back.setVisible(self._step.can_go_back)
        self.cancel.setText(_("Cancel"))
        self.cancel.setAccessibleName(_("Cancel"))
        self.cancel.setVisible(page.shows_cancel)
        waiting = _("The service is busy, trying again…") if self._retrying else _("Please wait…")
        self.busy_text.setText(waiting)
        self.spinner.setAccessibleName(waiting)
        self.notice.setText(texts.notice(self._notice) if self._notice else "")

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc goes back when the page allows it, else cancels; Enter on Back or Cancel presses it."""
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self.focusWidget() in (self.back, self.cancel):
            event.accept()
            focused = self.focusWidget()
            assert isinstance(focused, QPushButton)
            focused.click()
            return
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            if self._step.can_go_back:
                self._on_request(Request.BACK)
            elif self.current_page.shows_cancel:
                self._on_request(Request.CANCEL)
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        """In kiosk mode a minimised window (a window-manager shortcut) comes straight back, full screen."""
        super().changeEvent(event)
        if (
            self._locked_down
            and event.type() == QEvent.Type.WindowStateChange
            and self.windowState() & Qt.WindowState.WindowMinimized
        ):
            QTimer.singleShot(0, self, self.showFullScreen)

    def closeEvent(self, event: QCloseEvent) -> None:
        """In kiosk mode a close (Alt+F4, the window manager) restarts the wizard instead; otherwise
        stop any running call and wipe the page."""
        if self._locked_down:
            event.ignore()
            self.reset_to_start()
            return
        self.idle.stop()
        self.key_filter.remove()
        if self.diagnostics is not None:
            self.diagnostics.close_panel()
        if self._task is not None:
            self._task.cancel()
        for task in self._language_tasks:
            task.cancel()
        self.audio.stop()
        self.current_page.leave()
        self.wipe()
        super().closeEvent(event)
        self.closed.emit()
