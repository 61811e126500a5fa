"""Who may use self-service, how many gates they need, and which methods they may verify with.

`evaluate` is the one place this is decided: the session routes (through `assess`) and the policy
simulator (`kiosk policy explain` / `kiosk policy diff`) both call it, so an explanation can never
disagree with what the kiosk does. It is pure: no directory, store or clock.

`app_notification` is never offered: there is no push service yet, so offering it would strand the
user on a prompt that never arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from kiosk.policy.schema import EnabledFor, Method, Policy
from kiosk.services.api import ErrorCode
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.recovery.masking import mask_email, mask_phone

CODE_METHODS = frozenset({Method.EMAIL, Method.MOBILE_SMS, Method.MOBILE_CALL, Method.OFFICE_CALL})
"""Methods that send a one-time code to a contact address or number."""


class Factor(StrEnum):
    """What a gate proves the person holds. Two gates must be two different factors (SPEC §2.4)."""

    EMAIL = "email"
    MOBILE_PHONE = "mobile_phone"
    """An SMS and a call to the same phone are one factor, as in the anchor (Azure AD SSPR)."""
    OFFICE_PHONE = "office_phone"
    SECURITY_QUESTIONS = "security_questions"
    AUTHENTICATOR_APP = "authenticator_app"


_FACTOR_OF_METHOD: dict[Method, Factor] = {
    Method.EMAIL: Factor.EMAIL,
    Method.MOBILE_SMS: Factor.MOBILE_PHONE,
    Method.MOBILE_CALL: Factor.MOBILE_PHONE,
    Method.OFFICE_CALL: Factor.OFFICE_PHONE,
    Method.SECURITY_QUESTIONS: Factor.SECURITY_QUESTIONS,
    Method.APP_CODE: Factor.AUTHENTICATOR_APP,
    Method.APP_NOTIFICATION: Factor.AUTHENTICATOR_APP,
}


def _digits(number: str) -> str:
    return "".join(character for character in number if character.isdigit())


def factor_of(user: DirectoryUser, method: Method) -> Factor:
    """The factor a gate by `method` proves for `user`.

    An office phone with the same number as the mobile phone is that one phone: a call to it proves
    nothing an SMS to the mobile did not.
    """
    factor = _FACTOR_OF_METHOD[method]
    if factor is Factor.OFFICE_PHONE:
        mobile = _digits(user.auth_phone or user.mobile_phone)
        if mobile and mobile == _digits(user.office_phone):
            return Factor.MOBILE_PHONE
    return factor


def factors_of(user: DirectoryUser, methods: Iterable[Method]) -> frozenset[Factor]:
    """The distinct factors a set of methods stands for."""
    return frozenset(factor_of(user, method) for method in methods)


@dataclass(frozen=True, slots=True)
class Eligibility:
    """The verdict on one user: a refusal code, or the gates required and the methods offered."""

    refusal: ErrorCode | None
    gates_required: int = 0
    methods: tuple[Method, ...] = ()


class MethodStatus(StrEnum):
    """Why a method is, or is not, offered to one user."""

    OFFERED = "offered"
    NOT_REGISTERED = "not_registered"
    """Enabled by the policy, but the user has no data for it."""
    TOO_FEW_QUESTIONS = "too_few_questions"
    """Some security questions registered, fewer than `security_questions.number_to_reset`."""
    NOT_ENABLED = "not_enabled"
    """The user has data for it, but the policy does not enable it."""
    ADMIN_NO_QUESTIONS = "admin_no_questions"
    """Administrators may not use security questions."""
    NO_PUSH_SERVICE = "no_push_service"
    """app_notification: never offered (see the module docstring)."""


class GateReason(StrEnum):
    """Why a user needs the number of gates they need."""

    POLICY = "policy"
    """`methods.required`."""
    ADMINISTRATOR = "administrator"
    TWO_GATE_GROUP = "two_gate_group"
    """A member of one of `methods.two_gate_groups`."""


@dataclass(frozen=True, slots=True)
class MethodVerdict:
    """One method and what it is for this user."""

    method: Method
    status: MethodStatus


@dataclass(frozen=True, slots=True)
class Decision:
    """Everything the backend decides about one user under one policy, with the reasons."""

    refusals: tuple[ErrorCode, ...]
    """Every check the user fails, in the order the helpdesk would explain them; the first is told."""
    gates_required: int
    gate_reason: GateReason
    two_gate_groups: tuple[str, ...]
    """The user's groups that are `methods.two_gate_groups`."""
    access_groups: tuple[str, ...]
    """The user's groups that are `reset.groups` (when `reset.enabled_for = "group"`)."""
    methods: tuple[MethodVerdict, ...]
    """The policy's enabled methods in its order, then the ones the user has data for but the policy lacks."""
    questions_registered: int
    questions_needed: int
    unlock_offered: bool
    """Locked, and the policy lets a locked user unlock without a new password."""

    @property
    def refusal(self) -> ErrorCode | None:
        """The refusal the kiosk tells, None when the user may reset."""
        return self.refusals[0] if self.refusals else None

    factors: tuple[Factor, ...] = ()
    """The distinct factors of the offered methods (what the gate count is measured against)."""

    @property
    def offered(self) -> tuple[Method, ...]:
        """The methods the user may verify with, in the policy's order."""
        return tuple(verdict.method for verdict in self.methods if verdict.status is MethodStatus.OFFERED)


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


def _gates(user: DirectoryUser, policy: Policy) -> tuple[int, GateReason, tuple[str, ...]]:
    two_gate = {group.casefold() for group in policy.methods.two_gate_groups}
    groups = tuple(group for group in user.groups if group.casefold() in two_gate)
    if user.is_admin:
        return 2, GateReason.ADMINISTRATOR, groups
    if groups:
        return 2, GateReason.TWO_GATE_GROUP, groups
    return policy.methods.required, GateReason.POLICY, groups


def gates_required(user: DirectoryUser, policy: Policy) -> int:
    """1 or 2: administrators and members of the two-gate groups always need 2."""
    return _gates(user, policy)[0]


def _method_status(method: Method, user: DirectoryUser, policy: Policy, registered: set[Method]) -> MethodStatus:
    if method not in policy.methods.enabled:
        return MethodStatus.NOT_ENABLED
    if method is Method.APP_NOTIFICATION:
        return MethodStatus.NO_PUSH_SERVICE
    if method is Method.SECURITY_QUESTIONS and user.is_admin and method in registered:
        return MethodStatus.ADMIN_NO_QUESTIONS
    if method in registered:
        return MethodStatus.OFFERED
    if method is Method.SECURITY_QUESTIONS and user.questions:
        return MethodStatus.TOO_FEW_QUESTIONS
    return MethodStatus.NOT_REGISTERED


def _method_verdicts(user: DirectoryUser, policy: Policy) -> tuple[MethodVerdict, ...]:
    registered = registered_methods(user, policy)
    extra = [method for method in Method if method in registered and method not in policy.methods.enabled]
    return tuple(
        MethodVerdict(method, _method_status(method, user, policy, registered))
        for method in (*policy.methods.enabled, *extra)
    )


def offered_methods(user: DirectoryUser, policy: Policy) -> tuple[Method, ...]:
    """The enabled methods the user registered and may use, in the policy's order."""
    return tuple(v.method for v in _method_verdicts(user, policy) if v.status is MethodStatus.OFFERED)


def _access_groups(user: DirectoryUser, policy: Policy) -> tuple[str, ...]:
    allowed = {group.casefold() for group in policy.reset.groups}
    return tuple(group for group in user.groups if group.casefold() in allowed)


def _enabled_for(user: DirectoryUser, policy: Policy) -> bool:
    if policy.reset.enabled_for is EnabledFor.ALL:
        return True
    if policy.reset.enabled_for is EnabledFor.NONE:
        return False
    return bool(_access_groups(user, policy))


def unlock_offered(locked: bool, policy: Policy) -> bool:
    """True when a verified user may choose "unlock only": the account is locked and the policy allows it."""
    return locked and policy.on_premises.allow_unlock_without_reset


def evaluate(user: DirectoryUser, policy: Policy) -> Decision:
    """Decide everything about `user` under `policy`, keeping every reason (pure: no I/O)."""
    required, reason, two_gate_groups = _gates(user, policy)
    methods = _method_verdicts(user, policy)
    refusals: list[ErrorCode] = []
    # The order the helpdesk would explain it; the kiosk tells the first.
    if not user.enabled:
        refusals.append(ErrorCode.ACCOUNT_DISABLED)
    if not _enabled_for(user, policy):
        refusals.append(ErrorCode.NOT_ENABLED)
    if user.password_managed_on_premises and not policy.on_premises.writeback:
        refusals.append(ErrorCode.WRITEBACK_DISABLED)
    elif user.password_managed_on_premises and user.missing_rights:
        # Known before any gate: a user who passed both would otherwise meet `writeback_failed`.
        refusals.append(ErrorCode.WRITEBACK_NOT_PERMITTED)
    offered = [verdict.method for verdict in methods if verdict.status is MethodStatus.OFFERED]
    if len(factors_of(user, offered)) < required:  # two gates need two factors, not two names of one
        refusals.append(ErrorCode.TOO_FEW_METHODS)
    return Decision(
        refusals=tuple(refusals),
        gates_required=required,
        gate_reason=reason,
        two_gate_groups=two_gate_groups,
        access_groups=_access_groups(user, policy) if policy.reset.enabled_for is EnabledFor.GROUP else (),
        methods=methods,
        questions_registered=len(user.questions),
        questions_needed=policy.security_questions.number_to_reset,
        unlock_offered=unlock_offered(user.locked, policy),
        factors=tuple(dict.fromkeys(factor_of(user, method) for method in offered)),
    )


def assess(user: DirectoryUser | None, policy: Policy) -> Eligibility:
    """Decide whether `user` may reset (the session's verdict, from `evaluate`)."""
    if user is None:
        return Eligibility(ErrorCode.UNKNOWN_USER)
    decision = evaluate(user, policy)
    if decision.refusal is not None:
        return Eligibility(decision.refusal)
    return Eligibility(None, decision.gates_required, decision.offered)
