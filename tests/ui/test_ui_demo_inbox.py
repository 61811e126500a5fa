"""The demo inbox polls the feed in the background and lists messages and authenticator codes."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import show_window, wait_until
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingDemoFeed

from kiosk.policy.schema import Method
from kiosk.services.api import Authenticator, AuthenticatorCode, Outbox, OutboxMessage
from kiosk.ui.controls import label
from kiosk.ui.demo_inbox import DemoInboxWindow

MESSAGE = OutboxMessage(
    id=7, channel=Method.EMAIL, to="adele.vance@contoso.com", subject="Your Contoso account code",
    body="Use 48302917 to verify it's you.", sent_at=datetime(2025, 3, 14, 9, 30, tzinfo=UTC),
)
CODES = Authenticator(codes=(AuthenticatorCode(user_id="adele.vance@contoso.com", code="492113", seconds_left=17),))


def shown_texts(inbox: DemoInboxWindow) -> str:
    """All label texts in the inbox."""
    return "\n".join(child.text() for child in inbox.findChildren(type(label())) if child.text())


async def test_inbox_polls_and_shows_messages_and_codes(qtbot: QtBot) -> None:
    feed = RecordingDemoFeed(Outbox(messages=(MESSAGE,)), CODES)
    inbox = DemoInboxWindow(feed)
    show_window(qtbot, inbox)
    assert inbox.windowTitle() == "Demo inbox — not part of the kiosk"
    await wait_until(lambda: inbox.codes.rowCount() == 1)
    texts = shown_texts(inbox)
    assert "Use 48302917 to verify it's you." in texts
    assert "Your Contoso account code" in texts and "To adele.vance@contoso.com" in texts
    row = [inbox.codes.item(0, column).text() for column in range(3)]
    assert row == ["adele.vance@contoso.com", "492113", "17"]
    inbox.timer.setInterval(20)
    polls = feed.polls
    await wait_until(lambda: feed.polls >= polls + 2)


async def test_inbox_survives_a_feed_failure(qtbot: QtBot) -> None:
    feed = RecordingDemoFeed(Outbox(messages=()), CODES, fail=True)
    inbox = DemoInboxWindow(feed)
    show_window(qtbot, inbox)
    await wait_until(lambda: inbox.status.text() != "")
    assert "can't be reached" in inbox.status.text()
    feed.fail = False
    inbox.poll()
    await wait_until(lambda: inbox.status.text() == "" and inbox.codes.rowCount() == 1)
