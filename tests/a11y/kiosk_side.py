"""The kiosk's side of tests/a11y: the real KioskWindow on a real X display (Xvfb), accessibility on.

Run with the project's venv Python. It shows the pages the way the flow engine would (each page's
sample Step, as `kiosk screenshots` renders them, through `KioskWindow.render_step`), and answers
JSON commands, one a line on standard input, with one JSON line on standard output:

- `{"cmd": "show", "page": NAME, "errors": true}`: render a sample Step (`errors: false` without its
  errors, nor a new password's rejection); the reply names the page's title, its visible error texts,
  every text on screen and the text direction;
- `{"cmd": "language", "tag": "ar"}`: the header's language picker chooses a language;
- `{"cmd": "focus_secret", "index": 0}`: focus the page's n-th secret field (password, code, answer);
  `{"cmd": "secret_text", "index": 0}`: what that field holds (to prove typed keys arrived);
- `{"cmd": "idle", "seconds": N}`: the idle clock moves on N seconds and the idle monitor ticks, once;
- `{"cmd": "quit"}`.

Qt's warnings are collected and returned with every reply (`warnings`): the test fails on any.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from PySide6.QtCore import QEvent, QSocketNotifier, QtMsgType, qInstallMessageHandler
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from kiosk.flows.steps import DoneData, DoneOutcome, FieldError, NewPasswordData, Step, StepKind
from kiosk.i18n import _
from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Policy
from kiosk.ui.controls import SecretLineEdit
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import SAMPLE_NOW, ScreenshotFakeEngine, sample_steps, sample_variants
from kiosk.ui.theme import apply_theme
from kiosk.ui.window import KioskWindow

POLICY = {
    "kiosk": {
        "languages": ["en", "nl", "ar", "he"],
        "idle_timeout_seconds": 60,
        "idle_warning_seconds": 30,
        "done_countdown_seconds": 120,  # the done page stays while it is read
    }
}
warnings: list[str] = []


def collect_warnings(kind: QtMsgType, context: object, message: str) -> None:
    """Qt's warnings and worse are kept for the next reply."""
    if kind != QtMsgType.QtDebugMsg and kind != QtMsgType.QtInfoMsg:
        warnings.append(message)


async def _nothing_to_close() -> None:
    return None


class KioskSide:
    """The window and the sample Steps it shows on command."""

    def __init__(self, app: QApplication) -> None:
        self.policy = Policy.model_validate(POLICY)
        apply_theme(app, self.policy.kiosk.branding.accent_color, self.policy.kiosk.theme)
        self.clock = 1000.0
        self.window = KioskWindow(self.policy, demo=False, now=lambda: SAMPLE_NOW, clock=lambda: self.clock)
        self.window.resize(1024, 768)
        self.window.move(0, 0)
        self.window.show()
        self.window.activateWindow()
        steps = {kind.value: step for kind, step in sample_steps(self.policy).items()}
        unlocked = Step(StepKind.DONE, DoneData(outcome=DoneOutcome.UNLOCKED, countdown_seconds=120))
        # An error no field shows: the page's banner carries it.
        unchosen = replace(steps["choose_method"], errors=(FieldError("method", "required"),))
        self.steps: dict[str, Step] = (
            steps | sample_variants(self.policy) | {"done_unlocked": unlocked, "choose_method_unchosen": unchosen}
        )
        rules = PasswordRules.from_settings(self.policy.password)
        engine = ScreenshotFakeEngine(self.steps["start"], rules, ("adele.vance", "Adele Vance"))
        self.window.attach(KioskServices(flow=engine, demo_feed=None, close=_nothing_to_close))

    def page_facts(self) -> dict[str, Any]:
        """What the reader should find on the page on show: its title, its visible errors, its direction."""
        QApplication.processEvents()
        QApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)  # the rows a page just replaced
        page = self.window.current_page
        errors = [
            widget.text()
            for widget in page.findChildren(QLabel)
            if widget.isVisible() and widget.objectName() in ("fieldError", "banner") and widget.text()
        ]
        shown = [
            widget.text()
            for widget in self.window.findChildren(QLabel)
            if widget.isVisible() and widget.text().strip() and widget.pixmap().isNull()
        ]
        return {
            "page": page.objectName(),
            "texts": shown,
            "title": page.title.text(),
            "errors": errors,
            "rtl": self.window.isRightToLeft(),
            "secrets": len(self.secrets()),
            "focus": _name_of(QApplication.focusWidget()),
        }

    def secrets(self) -> list[SecretLineEdit]:
        """The page's visible secret fields, in the page's order."""
        page = self.window.current_page
        return [edit for edit in page.findChildren(SecretLineEdit) if edit.isVisible()]

    def run(self, command: dict[str, Any]) -> dict[str, Any]:
        """Do one command."""
        kind = command["cmd"]
        if kind == "show":
            step = self.steps[command["page"]]
            if not command.get("errors", True):
                step = replace(step, errors=())
                if isinstance(step.data, NewPasswordData):
                    step = replace(step, data=replace(step.data, rejected=()))
            self.window.activateWindow()
            self.window.render_step(step)
            return self.page_facts()
        if kind == "language":
            picker = self.window.header.languages
            index = picker.findData(command["tag"])
            picker.setCurrentIndex(index)
            picker.activated.emit(index)  # what a choice in the picker sends
            return self.page_facts()
        if kind == "focus_secret":
            self.secrets()[command["index"]].setFocus()
            return self.page_facts()
        if kind == "secret_text":
            return {"text": self.secrets()[command["index"]].text()}
        if kind == "idle":
            self.clock += command["seconds"]
            self.window.idle.tick()
            warning = self.window.idle_warning
            return {
                "shown": warning.isVisible(), "seconds_left": warning.seconds_left, "message": warning.message.text()
            }
        raise ValueError(f"unknown command {kind!r}")


def _name_of(widget: QWidget | None) -> str:
    return "" if widget is None else widget.accessibleName() or widget.objectName()


def main() -> int:
    """Show the window, then answer commands as they arrive, the Qt event loop running in between."""
    qInstallMessageHandler(collect_warnings)
    app = QApplication([sys.argv[0]])
    app.setApplicationName(_("Account recovery"))
    side = KioskSide(app)
    reply: Callable[[dict[str, Any]], None] = lambda data: print(json.dumps(data), flush=True)  # noqa: E731
    buffer = b""

    def on_input() -> None:
        nonlocal buffer
        chunk = os.read(sys.stdin.fileno(), 65536)
        if not chunk:
            app.quit()
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            command = json.loads(line)
            if command["cmd"] == "quit":
                app.quit()
                return
            try:
                result = side.run(command)
            except Exception as error:  # noqa: BLE001 - reported to the test, which fails on it
                result = {"error": f"{type(error).__name__}: {error}"}
            result["warnings"] = list(warnings)
            warnings.clear()
            reply(result)

    notifier = QSocketNotifier(sys.stdin.fileno(), QSocketNotifier.Type.Read)
    notifier.activated.connect(on_input)
    reply({"ready": app.applicationName(), **side.page_facts(), "warnings": list(warnings)})
    app.exec()
    side.window.current_page.leave()
    side.window.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
