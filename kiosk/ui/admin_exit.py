"""The administrator prompt behind a key chord: the secret, checked against the keyring, opens the exit
from kiosk mode or the diagnostics page.

The UI never reads the keyring itself (it may not import the backend): the composition root hands
it a callable that returns the stored secret ('' when there is none, or no keyring). The secret is
read on each try, on a worker thread (a keyring may be slow, or wait on D-Bus: never on the UI
thread), compared in constant time, never kept, never logged; five wrong tries lock the prompt for
five minutes.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import math
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QKeyCombination, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget

from kiosk.i18n import _, ngettext
from kiosk.ui.controls import SecretLineEdit, button, label, wipe_line_edit
from kiosk.ui.overlay import Overlay

log = logging.getLogger(__name__)

EXIT_CHORD = QKeyCombination(
    Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.AltModifier | Qt.KeyboardModifier.ShiftModifier,
    Qt.Key.Key_X,
)
"""Ctrl+Alt+Shift+X opens the administrator prompt (the exit in kiosk mode, when the policy allows one; diagnostics)."""

MAX_FAILURES = 5
LOCKOUT_SECONDS = 300.0

# A plain thread pool, not the qasync loop's default executor: qasync's worker threads log every
# call's arguments and result at DEBUG level, and the result here is the secret.
_KEYRING_READER = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-keyring")


class ExitVerdict(StrEnum):
    """What a try at the administrator exit came to."""

    OPEN = "open"
    WRONG = "wrong"
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"


class AdminAction(StrEnum):
    """What the administrator asked for with the secret."""

    EXIT = "exit"
    DIAGNOSTICS = "diagnostics"


@dataclass(frozen=True, slots=True)
class ExitResult:
    """A verdict, the tries left before the lock-out, and the seconds the lock-out still lasts."""

    verdict: ExitVerdict
    tries_left: int = MAX_FAILURES
    locked_seconds: int = 0


class AdminExitGate:
    """Checks a typed secret against the stored one, with a lock-out after repeated failures."""

    def __init__(self, read_secret: Callable[[], str] | None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._read_secret = read_secret
        self._clock = clock
        self._failures = 0
        self._locked_until = 0.0

    def locked(self) -> ExitResult | None:
        """The LOCKED result while the lock-out lasts, else None."""
        now = self._clock()
        if now < self._locked_until:
            return ExitResult(ExitVerdict.LOCKED, 0, math.ceil(self._locked_until - now))
        return None

    async def check(self, typed: str) -> ExitResult:
        """OPEN for the right secret; WRONG (with tries left), LOCKED or UNAVAILABLE otherwise.

        The stored secret is read on a worker thread, so a slow keyring never freezes the window.
        """
        locked = self.locked()
        if locked is not None:
            return locked
        read = self._read_secret
        stored = await asyncio.get_running_loop().run_in_executor(_KEYRING_READER, read) if read is not None else ""
        return self.judge(typed, stored)

    def judge(self, typed: str, stored: str) -> ExitResult:
        """Compare in constant time and count failures (the lock-out starts at the fifth)."""
        locked = self.locked()
        if locked is not None:
            return locked
        if not stored:
            log.warning("administrator prompt: no secret is set up (kiosk secrets set admin-exit)")
            return ExitResult(ExitVerdict.UNAVAILABLE)
        if hmac.compare_digest(typed.encode("utf-8"), stored.encode("utf-8")):
            self._failures = 0
            log.info("administrator prompt: secret accepted")
            return ExitResult(ExitVerdict.OPEN)
        self._failures += 1
        log.warning("administrator prompt: wrong secret (%d of %d)", self._failures, MAX_FAILURES)
        if self._failures >= MAX_FAILURES:
            self._failures = 0
            self._locked_until = self._clock() + LOCKOUT_SECONDS
            return ExitResult(ExitVerdict.LOCKED, 0, math.ceil(LOCKOUT_SECONDS))
        return ExitResult(ExitVerdict.WRONG, MAX_FAILURES - self._failures)


def is_exit_chord(event: QKeyEvent) -> bool:
    """True for the administrator chord (Ctrl+Alt+Shift+X), whatever the keypad modifier."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return event.key() == EXIT_CHORD.key() and modifiers == EXIT_CHORD.keyboardModifiers()


class AdminExitPrompt(Overlay):
    """A small prompt for the administrator secret: Exit leaves the kiosk, Diagnostics opens the report,
    Cancel returns to the kiosk. Enter does the first action offered (the exit, where there is one)."""

    accepted = Signal()
    """The right secret with Exit kiosk."""
    diagnostics_requested = Signal()
    """The right secret with Diagnostics."""

    def __init__(self, parent: QWidget, gate: AdminExitGate) -> None:
        super().__init__(parent, "adminExit")
        self.gate = gate
        self._checking: asyncio.Task[None] | None = None
        self.can_exit = True
        self.can_diagnose = False
        self.heading = label("title")
        self.caption = label("fieldLabel")
        self.secret = SecretLineEdit()
        self.secret.setObjectName("adminSecret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.caption.setBuddy(self.secret)
        self.error = label("fieldError")
        self.error.hide()
        self.exit_button = button("primary")
        self.exit_button.clicked.connect(lambda: self.submit(AdminAction.EXIT))
        self.diagnostics_button = button()
        self.diagnostics_button.clicked.connect(lambda: self.submit(AdminAction.DIAGNOSTICS))
        self.cancel_button = button()
        self.cancel_button.clicked.connect(self.close_prompt)
        self.secret.returnPressed.connect(lambda: self.submit(None))
        self.column.addWidget(self.heading)
        self.column.addWidget(self.caption)
        self.column.addWidget(self.secret)
        self.column.addWidget(self.error)
        self.column.addWidget(self.exit_button)
        self.column.addWidget(self.diagnostics_button)
        self.column.addWidget(self.cancel_button)
        self.retranslate()

    @property
    def checking(self) -> bool:
        """True while a typed secret is being checked."""
        return self._checking is not None

    def open_prompt(self, *, can_exit: bool = True, can_diagnose: bool = False) -> None:
        """Show the prompt, empty, with the focus in the secret field, offering the actions allowed."""
        self.can_exit, self.can_diagnose = can_exit, can_diagnose
        self.exit_button.setVisible(can_exit)
        self.diagnostics_button.setVisible(can_diagnose)
        # The first action offered is the primary one (Enter does it).
        self.diagnostics_button.setObjectName("" if can_exit else "primary")
        self.diagnostics_button.style().unpolish(self.diagnostics_button)
        self.diagnostics_button.style().polish(self.diagnostics_button)
        wipe_line_edit(self.secret)
        self.error.hide()
        self.retranslate()
        self.open()
        self.secret.setFocus()

    def close_prompt(self) -> None:
        """Hide the prompt and forget what was typed (a check under way is dropped)."""
        if self._checking is not None:
            self._checking.cancel()
            self._checking = None
            self._set_checking(False)
        wipe_line_edit(self.secret)
        self.error.hide()
        self.hide()

    def submit(self, action: AdminAction | None) -> None:
        """Check the secret (the field is wiped at once) off the UI thread, then act or say why not."""
        if self.checking:
            return
        if action is None:
            action = AdminAction.EXIT if self.can_exit else AdminAction.DIAGNOSTICS
        if (action is AdminAction.EXIT and not self.can_exit) or (
            action is AdminAction.DIAGNOSTICS and not self.can_diagnose
        ):
            return
        typed = self.secret.text()
        wipe_line_edit(self.secret)
        self._set_checking(True)
        self._checking = asyncio.get_running_loop().create_task(self._check(typed, action))

    async def _check(self, typed: str, action: AdminAction) -> None:
        try:
            result = await self.gate.check(typed)
        finally:
            self._checking = None
            self._set_checking(False)
        if result.verdict is not ExitVerdict.OPEN:
            self._show_error(result)
            self.secret.setFocus()
            return
        self.hide()
        if action is AdminAction.EXIT:
            self.accepted.emit()
        else:
            self.diagnostics_requested.emit()

    def _set_checking(self, checking: bool) -> None:
        for widget in (self.secret, self.exit_button, self.diagnostics_button):
            widget.setEnabled(not checking)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc closes the prompt."""
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            self.close_prompt()
            return
        super().keyPressEvent(event)

    def retranslate(self) -> None:
        """Texts of the prompt."""
        self.heading.setText(_("Administrator"))
        self.heading.setAccessibleName(_("Administrator"))
        self.caption.setText(_("Administrator secret"))
        self.secret.setAccessibleName(_("Administrator secret"))
        self.exit_button.setText(_("Exit kiosk"))
        self.exit_button.setAccessibleName(_("Exit kiosk"))
        self.diagnostics_button.setText(_("Diagnostics"))
        self.diagnostics_button.setAccessibleName(_("Diagnostics"))
        self.cancel_button.setText(_("Cancel"))
        self.cancel_button.setAccessibleName(_("Cancel"))

    def _show_error(self, result: ExitResult) -> None:
        if result.verdict is ExitVerdict.UNAVAILABLE:
            text = _("The administrator exit is not set up on this kiosk (kiosk secrets set admin-exit).")
        elif result.verdict is ExitVerdict.LOCKED:
            minutes = max(1, math.ceil(result.locked_seconds / 60))
            text = ngettext(
                "Too many wrong tries. Try again in {count} minute.",
                "Too many wrong tries. Try again in {count} minutes.",
                minutes,
            ).format(count=minutes)
        else:
            text = ngettext(
                "That is not the administrator secret. {count} try left.",
                "That is not the administrator secret. {count} tries left.",
                result.tries_left,
            ).format(count=result.tries_left)
        self.error.setText(text)
        self.error.show()
        self.secret.setAccessibleDescription(text)
