"""Signing in with the current password (flows change and register): user ID + password + CAPTCHA.

A wrong current password and an unknown user ID look the same (`sign_in_failed`, the same work and
time) and count toward the same limits as a failed proof.
"""

from __future__ import annotations

from kiosk.services.api import SignInRequest
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.runtime import Runtime


async def sign_in(rt: Runtime, state: SessionState, request: SignInRequest) -> None:
    """Check the CAPTCHA, find the account, check its current password; then the flow's next stage."""
    raise NotImplementedError
