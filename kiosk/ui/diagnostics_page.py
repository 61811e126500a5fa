"""The administrator's diagnostics page: the `kiosk diagnose` report, opened from the administrator prompt.

The checks run as an asyncio task (they do their network and keyring work off the UI thread), so
the window never freezes: the page shows a busy state, then one row per check (status, name,
detail, and the fix for a warning or failure), with "Run again" and "Close".

The page's own words are translated; the report's (check names, details, fixes, the OK/WARN/FAIL/
SKIP codes) stay in English on purpose: they are administrator-facing, like the CLI output they
match, and an administrator can compare them with `kiosk diagnose` and the README word for word.
The report never holds a secret (see `kiosk.services.diagnosis`).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QProgressBar, QScrollArea, QVBoxLayout, QWidget

from kiosk.i18n import _
from kiosk.services.diagnosis import CheckResult, CheckStatus, DiagnosticReport
from kiosk.ui.controls import button, label
from kiosk.ui.overlay import Overlay

log = logging.getLogger(__name__)

Diagnose = Callable[[], Awaitable[DiagnosticReport]]
"""Runs every check and returns the report (wired by the CLI; the UI never imports the backend)."""

STATUS_MARKS = {
    CheckStatus.OK: ("✔ OK", "ruleOk"),
    CheckStatus.WARN: ("⚠ WARN", "gate"),
    CheckStatus.FAIL: ("✖ FAIL", "fieldError"),
    CheckStatus.SKIP: ("– SKIP", "muted"),
}
"""Each status as a glyph and its code (never colour alone), and the theme style of its label."""

PANEL_MIN_WIDTH = 720
PANEL_MAX_WIDTH = 900


class CheckRow(QFrame):
    """One check: status, name and detail on a line, the fix under a warning or a failure."""

    def __init__(self, check: CheckResult) -> None:
        super().__init__()
        self.setObjectName("diagnosticRow")
        self.check = check
        mark, style = STATUS_MARKS[check.status]
        self.status = label(wrap=False)
        self.status.setObjectName(style)  # after label(): a plain label, so a FAIL row is not announced as an alert
        self.status.setText(mark)
        self.status.setMinimumWidth(96)
        self.name = label("fieldLabel", selectable=True)
        self.name.setText(check.name)
        self.detail = label(selectable=True)
        self.detail.setText(check.detail)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 4, 0, 4)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        grid.addWidget(self.status, 0, 0, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.name, 0, 1)
        grid.addWidget(self.detail, 1, 1)
        self.hint = label("muted", selectable=True)
        if check.hint and check.status in (CheckStatus.FAIL, CheckStatus.WARN):
            self.hint.setText(f"fix: {check.hint}")
            grid.addWidget(self.hint, 2, 1)
        else:
            self.hint.hide()
        grid.setColumnStretch(1, 1)
        self.setAccessibleName(f"{check.status.value}: {check.name}")
        self.setAccessibleDescription(check.detail)


class ReportList(QWidget):
    """The rows, as tall as their wrapped text needs at the width they get (a scroll area gives a
    plain widget only its viewport's height, squashing wrapped rows into each other)."""

    def resizeEvent(self, event: QResizeEvent) -> None:
        """Ask for the height the rows need at the new width."""
        super().resizeEvent(event)
        self.fit()

    def fit(self) -> None:
        """Set the minimum height to what the layout needs at the current width."""
        layout = self.layout()
        if layout is None:
            return
        needed = layout.heightForWidth(self.width()) if layout.hasHeightForWidth() else layout.sizeHint().height()
        if needed > 0 and needed != self.minimumHeight():
            self.setMinimumHeight(needed)


class DiagnosticsPanel(Overlay):
    """The report over the kiosk, with Run again and Close; the checks run as a task, never on the UI thread."""

    closed = Signal()

    def __init__(self, parent: QWidget, diagnose: Diagnose) -> None:
        super().__init__(parent, "diagnostics")
        self._diagnose = diagnose
        self._task: asyncio.Task[None] | None = None
        self.report: DiagnosticReport | None = None
        self.panel.setMinimumWidth(PANEL_MIN_WIDTH)
        self.panel.setMaximumWidth(PANEL_MAX_WIDTH)
        self.heading = label("title")
        self.spinner = QProgressBar()
        self.spinner.setRange(0, 0)
        self.spinner.setFixedWidth(120)
        self.busy_text = label("busyText", wrap=False)
        busy = QHBoxLayout()
        busy.setSpacing(12)
        busy.addWidget(self.spinner)
        busy.addWidget(self.busy_text, 1)
        self.summary = label("muted", wrap=False)
        self.error = label("fieldError")
        self.error.hide()
        self.rows = ReportList()
        self.rows_layout = QVBoxLayout(self.rows)
        self.rows_layout.setContentsMargins(0, 0, 8, 0)
        self.rows_layout.setSpacing(6)
        self.scroller = QScrollArea()
        self.scroller.setWidgetResizable(True)
        self.scroller.setFrameShape(QFrame.Shape.NoFrame)
        self.scroller.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroller.setWidget(self.rows)
        self.scroller.setMinimumHeight(400)
        self.run_button = button("primary")
        self.run_button.clicked.connect(self.run)
        self.close_button = button()
        self.close_button.clicked.connect(self.close_panel)
        buttons = QHBoxLayout()
        buttons.addWidget(self.run_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        self.column.addWidget(self.heading)
        self.column.addLayout(busy)
        self.column.addWidget(self.summary)
        self.column.addWidget(self.error)
        self.column.addWidget(self.scroller, 1)
        self.column.addLayout(buttons)
        self.retranslate()
        self._show_busy(False)

    @property
    def running(self) -> bool:
        """True while the checks run."""
        return self._task is not None

    def open_panel(self) -> None:
        """Show the page and run the checks."""
        self.retranslate()
        self.open()
        self.run()

    def run(self) -> None:
        """Run every check again (ignored while a run is going on)."""
        if self.running:
            return
        self.error.hide()
        self._show_busy(True)
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def _run(self) -> None:
        try:
            report = await self._diagnose()
        except asyncio.CancelledError:
            raise
        except Exception:
            # The checks turn every expected failure into a FAIL row; this is a bug. Their
            # exceptions never carry a secret (kiosk.services.backend.diagnostics.checks).
            log.exception("the diagnostics could not run")
            self._task = None
            self._show_busy(False)
            self.error.setText(_("The checks could not run."))
            self.error.show()
            return
        self._task = None
        self._show_busy(False)
        self.show_report(report)

    def show_report(self, report: DiagnosticReport) -> None:
        """Replace the rows with the report's checks."""
        self.report = report
        while self.rows_layout.count():
            item = self.rows_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for check in report.checks:
            self.rows_layout.addWidget(CheckRow(check))
        self.rows_layout.addStretch(1)
        self.rows.fit()
        counts = " · ".join(f"{status.value} {report.count(status)}" for status in STATUS_MARKS)
        self.summary.setText(f"{counts} · {report.started_at:%Y-%m-%d %H:%M:%S} UTC · {report.seconds:.1f} s")
        self.summary.show()
        self.run_button.setFocus()

    def close_panel(self) -> None:
        """Hide the page, stop a run and forget the report (the next person must not find it)."""
        if self._task is not None:
            self._task.cancel()
            self._task = None
        self._show_busy(False)
        self.report = None
        while self.rows_layout.count():
            item = self.rows_layout.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        self.summary.clear()
        was_visible = self.isVisible()
        self.hide()
        if was_visible:
            self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        """Esc closes the page."""
        if event.key() == Qt.Key.Key_Escape:
            event.accept()
            self.close_panel()
            return
        super().keyPressEvent(event)

    def retranslate(self) -> None:
        """Texts of the page (the report itself stays in English, see the module docstring)."""
        self.heading.setText(_("Diagnostics"))
        self.heading.setAccessibleName(_("Diagnostics"))
        self.busy_text.setText(_("Running the checks…"))
        self.spinner.setAccessibleName(_("Running the checks…"))
        self.run_button.setText(_("Run again"))
        self.run_button.setAccessibleName(_("Run again"))
        self.close_button.setText(_("Close"))
        self.close_button.setAccessibleName(_("Close"))

    def _show_busy(self, busy: bool) -> None:
        self.spinner.setVisible(busy)
        self.busy_text.setVisible(busy)
        self.run_button.setEnabled(not busy)
        self.summary.setVisible(not busy and self.report is not None)
        if busy:
            self.setCursor(Qt.CursorShape.BusyCursor)
        else:
            self.unsetCursor()
