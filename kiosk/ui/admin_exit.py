"""The administrator exit from kiosk mode: a secret prompt behind a key chord, checked against the keyring.

The UI never reads the keyring itself (it may not import the backend): the composition root hands
it a callable that returns the stored secret ('' when there is none, or no keyring). The secret is
read on each try, compared in constant time, never kept, never logged; five wrong tries lock the
prompt for five minutes.
"""

from __future__ import annotations

import hmac
import logging
import math
import time
from collections.abc import Callable
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
"""Ctrl+Alt+Shift+X opens the administrator prompt (in kiosk mode, when the policy allows an exit)."""

MAX_FAILURES = 5
LOCKOUT_SECONDS = 300.0


class ExitVerdict(StrEnum):
    """What a try at the administrator exit came to."""

    OPEN = "open"
    WRONG = "wrong"
    LOCKED = "locked"
    UNAVAILABLE = "unavailable"


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

    def check(self, typed: str) -> ExitResult:
        """OPEN for the right secret; WRONG (with tries left), LOCKED or UNAVAILABLE otherwise."""
        now = self._clock()
        if now < self._locked_until:
            return ExitResult(ExitVerdict.LOCKED, 0, math.ceil(self._locked_until - now))
        stored = self._read_secret() if self._read_secret is not None else ""
        if not stored:
            log.warning("administrator exit: no secret is set up (kiosk secrets set admin-exit)")
            return ExitResult(ExitVerdict.UNAVAILABLE)
        if hmac.compare_digest(typed.encode("utf-8"), stored.encode("utf-8")):
            self._failures = 0
            log.info("administrator exit: accepted")
            return ExitResult(ExitVerdict.OPEN)
        self._failures += 1
        log.warning("administrator exit: wrong secret (%d of %d)", self._failures, MAX_FAILURES)
        if self._failures >= MAX_FAILURES:
            self._failures = 0
            self._locked_until = now + LOCKOUT_SECONDS
            return ExitResult(ExitVerdict.LOCKED, 0, math.ceil(LOCKOUT_SECONDS))
        return ExitResult(ExitVerdict.WRONG, MAX_FAILURES - self._failures)


def is_exit_chord(event: QKeyEvent) -> bool:
    """True for the administrator chord (Ctrl+Alt+Shift+X), whatever the keypad modifier."""
    modifiers = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
    return event.key() == EXIT_CHORD.key() and modifiers == EXIT_CHORD.keyboardModifiers()


class AdminExitPrompt(Overlay):
    """A small prompt for the administrator secret: Exit leaves the kiosk, Cancel returns to it."""

    accepted = Signal()

    def __init__(self, parent: QWidget, gate: AdminExitGate) -> None:
        super().__init__(parent, "adminExit")
        self.gate = gate
        self.heading = label("title")
        self.caption = label("fieldLabel")
        self.secret = SecretLineEdit()
        self.secret.setObjectName("adminSecret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.caption.setBuddy(self.secret)
        self.error = label("fieldError")
        self.error.hide()
        self.exit_button = button("primary")
        self.exit_button.clicked.connect(self.submit)
        self.cancel_button = button()
        self.cancel_button.clicked.connect(self.close_prompt)
        self.secret.returnPressed.connect(self.submit)
        self.column.addWidget(self.heading)
        self.column.addWidget(self.caption)
        self.column.addWidget(self.secret)
        self.column.addWidget(self.error)
        self.column.addWidget(self.exit_button)
        self.column.addWidget(self.cancel_button)
        self.retranslate()

    def open_prompt(self) -> None:
        """Show the prompt, empty, with the focus in the secret field."""
        wipe_line_edit(self.secret)
        self.error.hide()
        self.retranslate()
        self.open()
        self.secret.setFocus()

    def close_prompt(self) -> None:
        """Hide the prompt and forget what was typed."""
        wipe_line_edit(self.secret)
        self.error.hide()
        self.hide()

    def submit(self) -> None:
        """Check the secret (then wipe it): accept, or say why not."""
        result = self.gate.check(self.secret.text())
        wipe_line_edit(self.secret)
        if result.verdict is ExitVerdict.OPEN:
            self.hide()
            self.accepted.emit()
            return
        self._show_error(result)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc closes the prompt."""
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            self.close_prompt()
            return
        super().keyPressEvent(event)

    def retranslate(self) -> None:
        """Texts of the prompt."""
        self.heading.setText(_("Administrator exit"))
        self.heading.setAccessibleName(_("Administrator exit"))
        self.caption.setText(_("Administrator secret"))
        self.secret.setAccessibleName(_("Administrator secret"))
        self.exit_button.setText(_("Exit kiosk"))
        self.exit_button.setAccessibleName(_("Exit kiosk"))
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
