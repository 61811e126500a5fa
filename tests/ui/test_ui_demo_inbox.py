"""The demo inbox polls the feed in the background and lists messages and authenticator codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import show_window, wait_until
from hypothesis import given
from hypothesis import strategies as st
from PySide6.QtCore import QMargins, QRect, QSize
from pytestqt.qtbot import QtBot
from ui_engine_double import RecordingDemoFeed

from kiosk.policy.schema import Method
from kiosk.services.api import Authenticator, AuthenticatorCode, Outbox, OutboxMessage
from kiosk.ui.controls import label
from kiosk.ui.demo_inbox import GAP_PX, INBOX_MIN_WIDTH, KIOSK_MIN_WIDTH, DemoInboxWindow, side_by_side

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


# --- where the inbox goes -----------------------------------------------------------------------------

# A newcomer's screens: the available area (a 40-pixel task bar below) and a window manager's frame.
SCREENS = {
    "1366x768": QRect(0, 0, 1366, 728),
    "1920x1080": QRect(0, 0, 1920, 1040),
    "1280x1024": QRect(0, 0, 1280, 984),
}
FRAMES = {"no frame": QMargins(), "title bar": QMargins(1, 30, 1, 1), "thick": QMargins(8, 32, 8, 8)}
KIOSK, INBOX = QSize(1024, 768), QSize(720, 760)


def outer(rect: QRect, frame: QMargins) -> QRect:
    """A window's frame rectangle from its client geometry."""
    return rect.marginsAdded(frame)


@pytest.mark.parametrize("frame", FRAMES.values(), ids=FRAMES.keys())
@pytest.mark.parametrize("screen", SCREENS.values(), ids=SCREENS.keys())
def test_kiosk_and_inbox_sit_side_by_side_on_common_screens(screen: QRect, frame: QMargins) -> None:
    placed = side_by_side(screen, KIOSK, INBOX, frame)
    assert placed is not None
    kiosk, inbox = placed
    assert not outer(kiosk, frame).intersects(outer(inbox, frame))
    assert outer(inbox, frame).left() - outer(kiosk, frame).right() - 1 == GAP_PX
    assert screen.contains(outer(kiosk, frame)) and screen.contains(outer(inbox, frame))
    assert kiosk.width() >= KIOSK_MIN_WIDTH and inbox.width() >= INBOX_MIN_WIDTH
    assert kiosk.width() <= KIOSK.width() and inbox.width() <= INBOX.width()


def test_a_wide_screen_keeps_both_sizes_and_centres_the_pair() -> None:
    placed = side_by_side(SCREENS["1920x1080"], KIOSK, INBOX, QMargins())
    assert placed is not None
    kiosk, inbox = placed
    assert (kiosk.size(), inbox.size()) == (KIOSK, INBOX)
    assert kiosk.left() - 0 == 1920 - 1 - inbox.right()  # the same margin either side


def test_on_a_1366_screen_the_inbox_gives_way_first() -> None:
    placed = side_by_side(SCREENS["1366x768"], KIOSK, INBOX, QMargins())
    assert placed is not None
    kiosk, inbox = placed
    assert inbox.width() == INBOX_MIN_WIDTH and kiosk.width() == 1366 - GAP_PX - INBOX_MIN_WIDTH
    assert kiosk.height() == inbox.height() == 728  # no taller than the screen above the task bar


def test_a_screen_too_narrow_for_both_places_nothing() -> None:
    narrowest = KIOSK_MIN_WIDTH + INBOX_MIN_WIDTH + GAP_PX
    assert side_by_side(QRect(0, 0, 1024, 728), KIOSK, INBOX, QMargins()) is None
    assert side_by_side(QRect(0, 0, narrowest - 1, 728), KIOSK, INBOX, QMargins()) is None
    assert side_by_side(QRect(0, 0, narrowest, 728), KIOSK, INBOX, QMargins()) is not None


@given(
    left=st.integers(-3000, 3000), top=st.integers(-1000, 1000),
    width=st.integers(200, 8000), height=st.integers(200, 5000),
    kiosk=st.tuples(st.integers(300, 3000), st.integers(200, 2000)),
    inbox=st.tuples(st.integers(200, 2000), st.integers(200, 2000)),
    frame=st.tuples(*[st.integers(0, 40)] * 4),
)
def test_placed_windows_never_overlap_nor_leave_the_screen(
    left: int, top: int, width: int, height: int,
    kiosk: tuple[int, int], inbox: tuple[int, int], frame: tuple[int, int, int, int],
) -> None:
    screen, margins = QRect(left, top, width, height), QMargins(*frame)
    placed = side_by_side(screen, QSize(*kiosk), QSize(*inbox), margins)
    if placed is None:
        # Only when not even the minimum widths fit beside each other.
        narrowest = min(KIOSK_MIN_WIDTH, kiosk[0]) + min(INBOX_MIN_WIDTH, inbox[0])
        assert width < 2 * (frame[0] + frame[2]) + GAP_PX + narrowest
        return
    kiosk_rect, inbox_rect = placed
    assert not outer(kiosk_rect, margins).intersects(outer(inbox_rect, margins))
    assert kiosk_rect.width() >= min(KIOSK_MIN_WIDTH, kiosk[0]) and inbox_rect.width() >= min(INBOX_MIN_WIDTH, inbox[0])
    assert kiosk_rect.width() <= kiosk[0] and inbox_rect.width() <= inbox[0]
    if height >= frame[1] + frame[3] + 1:
        assert screen.contains(outer(kiosk_rect, margins)) and screen.contains(outer(inbox_rect, margins))


# Run in a child process: Qt's offscreen platform takes its screen's size only when the application starts.
PLACE_ON_SCREEN = """
import asyncio, json, sys
import qasync
from PySide6.QtWidgets import QApplication
from ui_engine_double import RecordingDemoFeed, RecordingEngine
from kiosk.flows.steps import StepKind
from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Policy
from kiosk.services.api import Authenticator, Outbox
from kiosk.ui.app import build_window, open_demo_inbox
from kiosk.ui.protocols import KioskServices
from kiosk.ui.screenshots import sample_steps

app = QApplication(sys.argv)
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
policy = Policy.model_validate({"kiosk": {"languages": ["en", "de", "ar"]}})

async def nothing() -> None:
    return None

def global_rect(widget):
    return [widget.mapToGlobal(widget.rect().topLeft()).x(), widget.mapToGlobal(widget.rect().topLeft()).y(),
            widget.width(), widget.height(), widget.isVisible()]

def frame(widget):
    rect = widget.frameGeometry()
    return [rect.x(), rect.y(), rect.width(), rect.height()]

async def main() -> dict[str, object]:
    window = build_window(policy, demo=True, kiosk_mode=False)
    engine = RecordingEngine(rules=PasswordRules.from_settings(policy.password))
    window.attach(KioskServices(flow=engine, demo_feed=None, close=nothing))
    window.render_step(sample_steps(policy)[StepKind.IDENTIFY])
    feed = RecordingDemoFeed(Outbox(messages=()), Authenticator(codes=()))
    inbox = open_demo_inbox(KioskServices(flow=engine, demo_feed=feed, close=nothing), window)
    await asyncio.sleep(0.2)
    screen = window.screen().availableGeometry()
    seen = {"screen": [screen.x(), screen.y(), screen.width(), screen.height()], "kiosk": frame(window),
            "inbox": frame(inbox), "languages": global_rect(window.header.languages),
            "cancel": global_rect(window.cancel), "polled": feed.polls}
    inbox.close()
    window.close()
    return seen

with loop:
    print(json.dumps(loop.run_until_complete(main())))
"""


@pytest.mark.parametrize("size", [(1366, 768), (1920, 1080), (1280, 1024)], ids=lambda size: f"{size[0]}x{size[1]}")
def test_the_demo_inbox_hides_neither_language_picker_nor_cancel(tmp_path: Path, size: tuple[int, int]) -> None:
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "newcomer", "x": 0, "y": 0, "width": size[0],
                                               "height": size[1], "logicalDpi": 96}]}))
    env = {**os.environ, "QT_QPA_PLATFORM": f"offscreen:configfile={config}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parent), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run(  # noqa: S603 - this interpreter, a fixed script
        [sys.executable, "-c", PLACE_ON_SCREEN], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    screen, kiosk, inbox = (QRect(*seen[name]) for name in ("screen", "kiosk", "inbox"))
    assert screen == QRect(0, 0, *size) and seen["polled"] >= 1
    assert screen.contains(kiosk) and screen.contains(inbox)
    assert not kiosk.intersects(inbox)
    for control in ("languages", "cancel"):
        *rect, visible = seen[control]
        assert visible, control
        assert kiosk.contains(QRect(*rect)) and not inbox.intersects(QRect(*rect)), control
