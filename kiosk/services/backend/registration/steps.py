"""The registration steps: contacts confirmed by a code, security questions, the authenticator app,
reconfirmation, and finishing."""

from __future__ import annotations

from kiosk.services.api import ContactRequest, QuestionsRegistrationRequest, ReconfirmRequest, VerifyCodeRequest
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.runtime import Runtime


async def add_contact(rt: Runtime, state: SessionState, request: ContactRequest) -> None:
    """Send a code to a new authentication e-mail or phone (REGISTER → REGISTER_VERIFY)."""
    raise NotImplementedError


async def verify_contact(rt: Runtime, state: SessionState, request: VerifyCodeRequest) -> None:
    """The code sent to the new contact: right registers it (→ REGISTER)."""
    raise NotImplementedError


async def resend_contact_code(rt: Runtime, state: SessionState) -> None:
    """A new code to the pending contact (the old one stops working)."""
    raise NotImplementedError


async def set_questions(rt: Runtime, state: SessionState, request: QuestionsRegistrationRequest) -> None:
    """Replace the security questions (answers hashed slowly, never stored as given)."""
    raise NotImplementedError


async def start_app(rt: Runtime, state: SessionState) -> None:
    """A new authenticator secret, shown until confirmed (REGISTER → REGISTER_APP)."""
    raise NotImplementedError


async def confirm_app(rt: Runtime, state: SessionState, request: VerifyCodeRequest) -> None:
    """One current code from the app registers the new secret (→ REGISTER)."""
    raise NotImplementedError


async def cancel_pending(rt: Runtime, state: SessionState) -> None:
    """Drop a pending contact or app secret, back to the hub."""
    raise NotImplementedError


async def finish(rt: Runtime, state: SessionState) -> None:
    """Done registering (→ DONE): the user is e-mailed that their security info changed."""
    raise NotImplementedError


async def reconfirm(rt: Runtime, state: SessionState, request: ReconfirmRequest) -> None:
    """Keep (the registration is confirmed now, → DONE) or update (→ REGISTER)."""
    raise NotImplementedError
