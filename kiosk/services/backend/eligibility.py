"""Who may use self-service, how many gates they need, and which methods they may verify with.

`app_notification` is never offered: there is no push service yet, so offering it would strand the
user on a prompt that never arrives.
"""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.policy.schema import EnabledFor, Method, Policy
from kiosk.services.api import ErrorCode
from kiosk.services.backend.directory import DirectoryUser
from kiosk.services.backend.masking import mask_email, mask_phone

CODE_METHODS = frozenset({Method.EMAIL, Method.MOBILE_SMS, Method.MOBILE_CALL, Method.OFFICE_CALL})
"""Methods that send a one-time code to a contact address or number."""


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The verdict on one user: a refusal code, or the gates required and the methods offered."""

    refusal: ErrorCode | None
    gates_required: int = 0
    methods: tuple[Method, ...] = ()


def target_of(user: DirectoryUser, method: Method) -> str:
    """The address or number a code for `method` goes to ('' if none is registered)."""
    if method is Method.EMAIL:
        return user.auth_email or user.alt_email
    if method in (Method.MOBILE_SMS, Method.MOBILE_CALL):
        return user.auth_phone or user.mobile_phone
    if method is Method.OFFICE_CALL:
        return user.office_phone
    return ""


def masked_target(user: DirectoryUser, method: Method) -> str | None:
    """The masked address or number of a code method, None for other methods."""
    target = target_of(user, method)
    if not target:
        return None
    return mask_email(target) if method is Method.EMAIL else mask_phone(target)


def registered_methods(user: DirectoryUser, policy: Policy) -> set[Method]:
    """The methods the user has registered data for."""
    registered = {method for method in CODE_METHODS if target_of(user, method)}
    if len(user.questions) >= policy.security_questions.number_to_reset:
        registered.add(Method.SECURITY_QUESTIONS)
    if user.totp_secret:
        registered.add(Method.APP_CODE)
    return registered


def gates_required(user: DirectoryUser, policy: Policy) -> int:
    """1 or 2: administrators and members of the two-gate groups always need 2."""
    two_gate = {group.casefold() for group in policy.methods.two_gate_groups}
    if user.is_admin or any(group.casefold() in two_gate for group in user.groups):
        return 2
    return policy.methods.required


def offered_methods(user: DirectoryUser, policy: Policy) -> tuple[Method, ...]:
    """The enabled methods the user registered and may use, in the policy's order."""
    registered = registered_methods(user, policy)
    offered = []
    for method in policy.methods.enabled:
        if method is Method.APP_NOTIFICATION:
            continue  # no push service yet (see the module docstring)
        if method is Method.SECURITY_QUESTIONS and user.is_admin:
            continue  # administrators may not use security questions
        if method in registered:
            offered.append(method)
    return tuple(offered)


def _enabled_for(user: DirectoryUser, policy: Policy) -> bool:
    if policy.reset.enabled_for is EnabledFor.ALL:
        return True
    if policy.reset.enabled_for is EnabledFor.NONE:
        return False
    allowed = {group.casefold() for group in policy.reset.groups}
    return any(group.casefold() in allowed for group in user.groups)


def assess(user: DirectoryUser | None, policy: Policy) -> Eligibility:
    """Decide whether `user` may reset, checked in the order the helpdesk would explain it."""
    if user is None:
        return Eligibility(ErrorCode.UNKNOWN_USER)
    if not user.enabled:
        return Eligibility(ErrorCode.ACCOUNT_DISABLED)
    if not _enabled_for(user, policy):
        return Eligibility(ErrorCode.NOT_ENABLED)
    if user.password_managed_on_premises and not policy.on_premises.writeback:
        return Eligibility(ErrorCode.WRITEBACK_DISABLED)
    required = gates_required(user, policy)
    methods = offered_methods(user, policy)
    if len(methods) < required:
        return Eligibility(ErrorCode.TOO_FEW_METHODS)
    return Eligibility(None, required, methods)
