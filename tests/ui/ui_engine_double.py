"""RecordingEngine: an in-test stand-in for RecoveryFlow that records every call and answers from a script."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.flows.steps import Answer, StartData, Step, StepKind
from kiosk.policy.password import PasswordCheck, PasswordRules, check_password
from kiosk.services.api import Authenticator, Outbox

START_STEP = Step(StepKind.START, StartData(organisation="Contoso"))


@dataclass
class RecordingEngine:
    """Records calls as (name, argument) and returns queued Steps (or the current one when none is queued).

    Set `hold` to make every async call wait until the test sets it: that is how busy states are tested.
    """

    step: Step = START_STEP
    rules: PasswordRules | None = None
    calls: list[tuple[str, object]] = field(default_factory=list)
    queued: list[Step] = field(default_factory=list)
    hold: asyncio.Event | None = None
    fail_with: Exception | None = None
    audio: bytes = b"RIFF....WAVE"
    password_checks: list[int] = field(default_factory=list)
    retrying: Callable[[bool], None] | None = None
    """What the window asked to hear when a call waits to try again (`on_retrying`)."""

    def on_retrying(self, listener: Callable[[bool], None] | None) -> None:
        """Keep the window's listener; the test calls it as a busy backend would make the engine."""
        self.retrying = listener

    async def _answer(self, name: str, argument: object = None) -> Step:
        self.calls.append((name, argument))
        if self.hold is not None:
            await self.hold.wait()
        if self.fail_with is not None:
            raise self.fail_with
        if self.queued:
            self.step = self.queued.pop(0)
        return self.step

    async def submit(self, answer: Answer) -> Step:
        """Record the answer."""
        return await self._answer("submit", answer)

    async def back(self) -> Step:
        """Record a back."""
        return await self._answer("back")

    async def cancel(self) -> Step:
        """Record a cancel."""
        return await self._answer("cancel")

    async def restart(self) -> Step:
        """Record a restart."""
        return await self._answer("restart")

    async def retry(self) -> Step:
        """Record a retry."""
        return await self._answer("retry")

    async def refresh_captcha(self) -> Step:
        """Record a CAPTCHA refresh."""
        return await self._answer("refresh_captcha")

    async def captcha_audio(self) -> bytes:
        """Record an audio request."""
        self.calls.append(("captcha_audio", None))
        return self.audio

    async def resend_code(self) -> Step:
        """Record a resend."""
        return await self._answer("resend_code")

    def check_password(self, password: str) -> PasswordCheck:
        """The real rule check (length of each checked password is recorded, never the password)."""
        self.password_checks.append(len(password))
        assert self.rules is not None, "give the RecordingEngine rules for the password page"
        return check_password(password, self.rules, ("adele.vance",))

    def names(self) -> list[str]:
        """Just the names of the calls made."""
        return [name for name, _argument in self.calls]


@dataclass
class RecordingDemoFeed:
    """Demo feed double: answers with fixed data and counts polls."""

    outbox: Outbox
    authenticator: Authenticator
    polls: int = 0
    fail: bool = False

    async def dev_outbox(self) -> Outbox:
        """The fixed outbox."""
        self.polls += 1
        if self.fail:
            raise ConnectionError("demo feed down")
        return self.outbox

    async def dev_authenticator(self) -> Authenticator:
        """The fixed codes."""
        return self.authenticator
