"""Where a session goes after a reset, unlock or password change went through: done, "is this still up
to date?" (`registration.reconfirm_days`), or registration (`registration.require_on_sign_in`)."""

from __future__ import annotations

from datetime import datetime, timedelta

from kiosk.policy.schema import Policy
from kiosk.services.api import Stage
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.recovery import machine
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.registration.rules import can_register, has_registered, methods_needed, methods_registered
from kiosk.services.backend.runtime import Runtime


def reconfirmation_due(user: DirectoryUser, policy: Policy, now: datetime) -> bool:
    """True when `user`'s security info was never confirmed, or last more than `reconfirm_days` ago
    (never with `reconfirm_days = 0`, nor for an account with nothing registered to confirm)."""
    days = policy.registration.reconfirm_days
    if days == 0 or not has_registered(user):
        return False
    return user.confirmed_at is None or now - user.confirmed_at > timedelta(days=days)


def registration_required(user: DirectoryUser, policy: Policy) -> bool:
    """True when `registration.require_on_sign_in` and `user` has fewer registered methods than
    self-service needs for them, and there is something they may register."""
    return (
        policy.registration.require_on_sign_in
        and bool(can_register(user, policy))
        and methods_registered(user, policy) < methods_needed(user, policy)
    )


async def next_stage(rt: Runtime, state: SessionState, user: DirectoryUser) -> Stage:
    """The stage after the account's change: DONE, RECONFIRM or REGISTER (within the flow's plan)."""
    stages = machine.plan(state.flow, rt.policy).stages
    if Stage.REGISTER in stages and registration_required(user, rt.policy):
        return Stage.REGISTER
    if Stage.RECONFIRM in stages and reconfirmation_due(user, rt.policy, rt.clock.now()):
        return Stage.RECONFIRM
    return Stage.DONE
