"""Where a session goes after a reset, unlock or password change went through: done, "is this still up
to date?" (`registration.reconfirm_days`), or registration (`registration.require_on_sign_in`)."""

from __future__ import annotations

from kiosk.services.api import Stage
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.runtime import Runtime


async def next_stage(rt: Runtime, state: SessionState, user: DirectoryUser) -> Stage:
    """The stage after the account's change: DONE, RECONFIRM or REGISTER (within the flow's plan)."""
    return Stage.DONE
