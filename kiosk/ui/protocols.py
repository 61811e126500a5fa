"""What the UI needs from the rest of the kiosk: the flow engine, the demo feed and the started services."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from kiosk.flows.steps import Answer, Step
from kiosk.policy.password import PasswordCheck
from kiosk.services.api import Authenticator, Outbox


class FlowEngine(Protocol):
    """The recovery flow the window drives: every call answers with the next Step to show."""

    @property
    def step(self) -> Step:
        """The Step currently shown."""
        ...

    async def submit(self, answer: Answer) -> Step:
        """Send what the user entered on the current page."""
        ...

    async def back(self) -> Step:
        """Go back one page (only when `Step.can_go_back`)."""
        ...

    async def cancel(self) -> Step:
        """Abandon the attempt and return to the start."""
        ...

    async def restart(self) -> Step:
        """Forget everything and return to the start (after the done page)."""
        ...

    async def retry(self) -> Step:
        """Try again after an error page."""
        ...

    async def refresh_captcha(self) -> Step:
        """Show a new CAPTCHA picture."""
        ...

    async def captcha_audio(self) -> bytes:
        """The audio alternative of the current CAPTCHA as WAV bytes."""
        ...

    async def resend_code(self) -> Step:
        """Send a new one-time code."""
        ...

    def check_password(self, password: str) -> PasswordCheck:
        """Check a candidate password against the rules for the live checklist (no network)."""
        ...


class DemoFeed(Protocol):
    """Demo-only feed of the messages the dev outbox kept and the demo users' authenticator codes."""

    async def dev_outbox(self) -> Outbox:
        """Messages the kiosk would have sent."""
        ...

    async def dev_authenticator(self) -> Authenticator:
        """Current authenticator-app codes of the demo users."""
        ...


@dataclass(frozen=True, slots=True)
class KioskServices:
    """What `connect()` hands the window once the backend is up."""

    flow: FlowEngine
    demo_feed: DemoFeed | None
    close: Callable[[], Awaitable[None]]
