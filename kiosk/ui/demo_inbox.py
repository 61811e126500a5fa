"""The demo inbox: a separate, clearly labelled window showing sent codes and authenticator codes.

Only opened in demo mode (dev outbox delivery), so a newcomer can finish the flow on a fresh
machine. It is not part of the kiosk: a real kiosk never shows anyone's codes.
"""

from __future__ import annotations

import asyncio
import logging

from PySide6.QtCore import QMargins, QRect, QSize, Qt, QTimer
from PySide6.QtGui import QCloseEvent, QFont, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from kiosk.i18n import _, format_time
from kiosk.policy.schema import Method
from kiosk.services.api import Authenticator, Outbox, OutboxMessage
from kiosk.ui.controls import label
from kiosk.ui.protocols import DemoFeed

log = logging.getLogger(__name__)

POLL_INTERVAL_MS = 1000
GAP_PX = 16
# Narrowest the kiosk's pages and header (language picker, Cancel) lay out without crowding, and the
# narrowest inbox whose code table still shows a whole e-mail address: both fit beside each other
# on a 1280-pixel screen.
KIOSK_MIN_WIDTH = 800
INBOX_MIN_WIDTH = 420

_STYLE = """
#demoBanner { background: #fff4ce; border-bottom: 3px solid #8a6d00; }
#demoBanner QLabel { color: #3b2f00; }
#demoTitle { font-size: 24px; font-weight: 700; }
#section { font-size: 19px; font-weight: 700; }
#message { background: #ffffff; border: 1px solid #d0d4da; border-radius: 8px; }
#messageMeta { color: #505050; font-size: 14px; }
#messageSubject { font-weight: 700; }
#messageBody { font-family: "DejaVu Sans Mono", monospace; font-size: 15px; }
QTableWidget { background: #ffffff; font-size: 17px; }
"""


def channel_name(channel: Method) -> str:
    """How a message travelled, in words."""
    match channel:
        case Method.EMAIL:
            return _("E-mail")
        case Method.MOBILE_SMS:
            return _("Text message")
        case Method.MOBILE_CALL | Method.OFFICE_CALL:
            return _("Voice call")
    return _("Authenticator app")


def _code_font() -> QFont:
    font = QFont("DejaVu Sans Mono")
    font.setPixelSize(20)
    font.setBold(True)
    return font


def side_by_side(screen: QRect, kiosk: QSize, inbox: QSize, frame: QMargins) -> tuple[QRect, QRect] | None:
    """Where the kiosk and the inbox go (client geometries), beside each other on `screen` (its available
    geometry), each window's frame `frame` thick; narrowed to fit, down to their minimum widths, and no
    taller than the screen. None when even the minimum widths do not fit."""
    frame_width, frame_height = frame.left() + frame.right(), frame.top() + frame.bottom()
    room = screen.width() - 2 * frame_width - GAP_PX
    if kiosk.width() + inbox.width() <= room:
        kiosk_width, inbox_width = kiosk.width(), inbox.width()
    else:
        # The inbox gives way first (down to its minimum width); the kiosk takes what is left.
        inbox_width = min(inbox.width(), max(INBOX_MIN_WIDTH, room - kiosk.width()))
        kiosk_width = room - inbox_width
    if kiosk_width < min(KIOSK_MIN_WIDTH, kiosk.width()):
        return None
    kiosk_height = min(kiosk.height(), screen.height() - frame_height)
    inbox_height = min(inbox.height(), screen.height() - frame_height)
    # The pair is centred on the screen: the kiosk stays the thing a newcomer looks at first.
    left = screen.left() + (room - kiosk_width - inbox_width) // 2
    top = screen.top() + (screen.height() - frame_height - max(kiosk_height, inbox_height)) // 2
    kiosk_rect = QRect(left + frame.left(), top + frame.top(), kiosk_width, kiosk_height)
    inbox_left = left + frame_width + kiosk_width + GAP_PX
    return kiosk_rect, QRect(inbox_left + frame.left(), top + frame.top(), inbox_width, inbox_height)


def place_beside(kiosk: QWidget, inbox: QWidget) -> None:
    """Put the kiosk and the inbox side by side on the kiosk's screen, narrowing both to fit, so the inbox
    hides neither the language picker nor Cancel. A full-screen or maximised kiosk is left alone, and on a
    screen too narrow for both the inbox goes to the screen's right edge, over the kiosk."""
    screen = (kiosk.screen() or QGuiApplication.primaryScreen()).availableGeometry()
    outer, inner = kiosk.frameGeometry(), kiosk.geometry()
    # The window manager's frame; the inbox gets the same one.
    frame = QMargins(inner.left() - outer.left(), inner.top() - outer.top(),
                     outer.right() - inner.right(), outer.bottom() - inner.bottom())
    fixed = kiosk.isFullScreen() or kiosk.isMaximized()
    placed = None if fixed else side_by_side(screen, kiosk.size(), inbox.size(), frame)
    if placed is None:
        left = min(kiosk.geometry().right() + GAP_PX, screen.right() - inbox.width())
        inbox.move(max(screen.left(), left), kiosk.geometry().top())
        return
    kiosk.setGeometry(placed[0])
    inbox.setGeometry(placed[1])


class DemoInboxWindow(QWidget):
    """Lists the dev outbox's messages and the demo users' authenticator codes, polling every second."""

    def __init__(self, feed: DemoFeed | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("demoInbox")
        self.setStyleSheet(_STYLE)
        self.feed: DemoFeed | None = None
        self._task: asyncio.Task[None] | None = None
        self._shown_ids: tuple[int, ...] | None = None

        banner = QFrame()
        banner.setObjectName("demoBanner")
        banner_layout = QVBoxLayout(banner)
        banner_layout.setContentsMargins(24, 16, 24, 16)
        self.heading = label("demoTitle")
        self.explanation = label()
        banner_layout.addWidget(self.heading)
        banner_layout.addWidget(self.explanation)

        self.codes_heading = label("section")
        self.codes = QTableWidget(0, 3)
        self.codes.verticalHeader().hide()
        self.codes.verticalHeader().setDefaultSectionSize(38)
        self.codes.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.codes.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.codes.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.codes.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.codes.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        self.codes.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.ResizeToContents)
        self.codes.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.messages_heading = label("section")
        self.empty = label("messageMeta")
        self.status = label("messageMeta")
        self.message_list = QVBoxLayout()
        self.message_list.setSpacing(10)
        holder = QWidget()
        column = QVBoxLayout(holder)
        column.setContentsMargins(0, 0, 6, 0)
        column.addWidget(self.empty)
        column.addLayout(self.message_list)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(holder)

        content = QVBoxLayout()
        content.setContentsMargins(24, 16, 24, 16)
        content.setSpacing(10)
        content.addWidget(self.codes_heading)
        content.addWidget(self.codes)
        content.addWidget(self.messages_heading)
        content.addWidget(scroll, 1)
        content.addWidget(self.status)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(banner)
        outer.addLayout(content, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(POLL_INTERVAL_MS)
        self.timer.timeout.connect(self.poll)
        self.resize(720, 760)
        self.retranslate()
        self.show_outbox(Outbox(messages=()))
        if feed is not None:
            self.set_feed(feed)

    def retranslate(self) -> None:
        """Texts of the demo inbox."""
        title = _("Demo inbox — not part of the kiosk")
        self.setWindowTitle(title)
        self.heading.setText(title)
        self.explanation.setText(_(
            "For demonstrations only: the codes the kiosk would have e-mailed, texted or read out, and the "
            "demo users' authenticator-app codes. A real kiosk never shows these."
        ))
        self.codes_heading.setText(_("Authenticator app codes"))
        self.codes.setHorizontalHeaderLabels([_("User"), _("Code"), _("Seconds left")])
        self.codes.setAccessibleName(_("Authenticator app codes"))
        self.messages_heading.setText(_("Messages, newest first"))
        self.empty.setText(_("No messages yet. Choose a method that sends a code."))

    def set_feed(self, feed: DemoFeed) -> None:
        """Start polling a feed every second."""
        self.feed = feed
        self.timer.start()
        self.poll()

    def poll(self) -> None:
        """Fetch the outbox and codes in the background, unless a fetch is still running."""
        if self.feed is None or self._task is not None:
            return
        self._task = asyncio.get_running_loop().create_task(self._fetch(self.feed))

    async def _fetch(self, feed: DemoFeed) -> None:
        try:
            outbox, authenticator = await asyncio.gather(feed.dev_outbox(), feed.dev_authenticator())
        except Exception:
            log.exception("demo feed unavailable")
            self.status.setText(_("The demo feed can't be reached; trying again…"))
            return
        finally:
            self._task = None
        self.status.setText("")
        self.show_outbox(outbox)
        self.show_authenticator(authenticator)

    def show_authenticator(self, authenticator: Authenticator) -> None:
        """Show each demo user's current code and the seconds it has left."""
        self.codes.setRowCount(len(authenticator.codes))
        for row, entry in enumerate(authenticator.codes):
            for column, text in enumerate((entry.user_id, entry.code, str(entry.seconds_left))):
                item = QTableWidgetItem(text)
                if column:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignCenter)
                if column == 1:
                    item.setFont(_code_font())
                self.codes.setItem(row, column, item)
        rows_height = sum(self.codes.rowHeight(row) for row in range(self.codes.rowCount()))
        self.codes.setFixedHeight(self.codes.horizontalHeader().height() + rows_height + 4)

    def show_outbox(self, outbox: Outbox) -> None:
        """List the messages, newest first (rebuilt only when the set of messages changed)."""
        messages = sorted(outbox.messages, key=lambda message: message.id, reverse=True)
        ids = tuple(message.id for message in messages)
        if ids == self._shown_ids:
            return
        self._shown_ids = ids
        while self.message_list.count():
            item = self.message_list.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        for message in messages:
            self.message_list.addWidget(self._card(message))
        self.empty.setVisible(not messages)

    def _card(self, message: OutboxMessage) -> QFrame:
        card = QFrame()
        card.setObjectName("message")
        layout = QVBoxLayout(card)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(4)
        meta = label("messageMeta", selectable=True)
        meta.setText(_("To {to} · {channel} · {time}").format(
            to=message.to, channel=channel_name(message.channel), time=format_time(message.sent_at)))
        subject = label("messageSubject", selectable=True)
        subject.setText(message.subject)
        body = label("messageBody", selectable=True)
        body.setText(message.body)
        for widget in (meta, subject, body):
            layout.addWidget(widget)
        card.setAccessibleName(message.subject)
        return card

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop polling when closed."""
        self.timer.stop()
        if self._task is not None:
            self._task.cancel()
        super().closeEvent(event)
