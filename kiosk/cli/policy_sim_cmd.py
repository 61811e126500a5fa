"""`kiosk policy explain` and `kiosk policy diff`: the policy simulator and the impact report.

Both read the policy's directory (`kiosk.services.backend.directory.inspection`, read-only: nothing is sent,
written, audited or stored) and decide with the backend's own `eligibility.evaluate`, the function
the session routes use, so what they print is what the kiosk would do.

Exit codes (for scripts): explain 0 = the user may use self-service, 3 = found but refused;
diff 0 = nobody loses self-service, 3 = somebody would; both 1 = a bad policy file, a user not found
or a directory that cannot be read, 2 = an unusable user ID.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from kiosk.policy.group_policy import system_registry_reader
from kiosk.policy.loader import PolicyError, format_problem, load_policy
from kiosk.policy.schema import BackendMode, DirectoryKind, EnabledFor, Method, Policy

if TYPE_CHECKING:
    from kiosk.services.backend.directory.embedded import DirectoryUser
    from kiosk.services.backend.recovery.eligibility import Decision

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_BAD_USER_ID = 2
EXIT_REFUSED = 3
"""explain: the user may not use self-service; diff: at least one user would lose it."""

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_SHOWN_ID = 80
"""A user ID longer than this is cut in messages."""


class CliFailure(Exception):
    """Stop with exit 1; the message (if any) goes to stderr as `kiosk: <message>`."""


# ------------------------------------------------------------------------------------------ loading


def load_in_effect(path: str, err: TextIO) -> Policy:
    """The policy at `path`, or every problem as `file:line: key: fix` (as `kiosk policy check` prints)."""
    try:
        # The policy in effect here: Group Policy (Windows) over the file, as the kiosk itself loads it.
        policy = load_policy(Path(path), system_registry_reader())
    except PolicyError as error:
        for problem in error.problems:
            print(format_problem(path, problem), file=err)
        raise CliFailure from None
    if policy.backend.mode is BackendMode.SHARED:
        raise CliFailure(
            f'{path}: backend.mode = "shared": the shared backend decides with its own policy and '
            "directory; give the file `kiosk serve --policy` runs with"
        )
    return policy


def directory_label(policy: Policy) -> str:
    """Which directory a policy reads users from, for the report's heading."""
    directory = policy.directory
    if directory.kind is DirectoryKind.EMBEDDED:
        if directory.embedded.database:
            return f"the embedded directory ({directory.embedded.database})"
        if directory.embedded.seed_demo_users:
            return "the embedded directory (the demo users, in a temporary store)"
        return "the embedded directory (a fresh, empty temporary store)"
    settings = directory.active_directory or directory.openldap
    url = settings.urls[0] if settings else ""
    return f"{directory.kind.value} at {url}"


def _check_user_id(user_id: str) -> str | None:
    """Why `user_id` cannot be looked up (the kiosk's own request rules), None when it can."""
    from kiosk.services.api import MAX_USER_ID

    if not user_id.strip():
        return "the user ID is empty"
    if len(user_id) > MAX_USER_ID:
        return f"the user ID is {len(user_id)} characters long; the kiosk accepts at most {MAX_USER_ID}"
    if _CONTROL.search(user_id):
        return "the user ID contains control characters (the kiosk refuses those)"
    return None


def _shown(user_id: str) -> str:
    return repr(user_id if len(user_id) <= _SHOWN_ID else user_id[:_SHOWN_ID] + "…")


def run_reading(work: Any, err: TextIO) -> int:
    """Run the async `work` and turn the directory's and the simulator's failures into exit 1."""
    from ldap3.core.exceptions import LDAPException

    from kiosk.services.backend.directory.errors import DirectoryError
    from kiosk.services.backend.directory.inspection import InspectionError

    try:
        return int(asyncio.run(work))
    except (InspectionError, DirectoryError, CliFailure) as error:
        if str(error):
            print(f"kiosk: {error}", file=err)
        return EXIT_ERROR
    except LDAPException as error:
        # e.g. the service account may not search there; ldap3's message can quote the request, so
        # only its kind is told (as the adapters do, `ldap_errors`).
        print(f"kiosk: the directory refused the search ({type(error).__name__})", file=err)
        return EXIT_ERROR


# ------------------------------------------------------------------------------------------ explain

REFUSAL_TEXT = {
    "account_disabled": "the account is disabled",
    "not_enabled": "self-service is not enabled for this user",
    "writeback_disabled": "the password is managed on premises and on_premises.writeback = false",
    "too_few_methods": "too few usable verification methods",
    "writeback_not_permitted": "the kiosk's service account may not reset this account (see below)",
}
"""What each refusal means, for administrators (the kiosk itself says "contact your administrator")."""

GATE_REASON_TEXT = {
    "policy": "the policy's number",
    "administrator": "administrators always need 2",
    "two_gate_group": "a member of methods.two_gate_groups",
}


def _method_line(user: DirectoryUser, decision: Decision, method: Method, status: str) -> str:
    from kiosk.services.backend.recovery.eligibility import CODE_METHODS, MethodStatus, masked_target

    if status == MethodStatus.OFFERED:
        if method in CODE_METHODS:
            return f"offered ({masked_target(user, method)})"
        if method is Method.SECURITY_QUESTIONS:
            return f"offered ({decision.questions_registered} registered, {decision.questions_needed} asked)"
        return "offered (authenticator app registered)"
    return {
        MethodStatus.NOT_REGISTERED: "not registered",
        MethodStatus.TOO_FEW_QUESTIONS: (
            f"not offered: {decision.questions_registered} question(s) registered, "
            f"{decision.questions_needed} asked (security_questions.number_to_reset)"
        ),
        MethodStatus.NOT_ENABLED: "registered, but not in methods.enabled",
        MethodStatus.ADMIN_NO_QUESTIONS: "registered, but administrators may not use security questions",
        MethodStatus.NO_PUSH_SERVICE: "never offered: the kiosk has no push service yet",
    }[MethodStatus(status)]


def _access_line(user: DirectoryUser, decision: Decision, policy: Policy) -> tuple[bool, str]:
    mode = policy.reset.enabled_for
    if mode is EnabledFor.ALL:
        return True, 'self-service allowed: reset.enabled_for = "all"'
    if mode is EnabledFor.NONE:
        return False, 'self-service off for everyone: reset.enabled_for = "none"'
    if decision.access_groups:
        return True, f"self-service allowed: member of {', '.join(decision.access_groups)} (reset.groups)"
    groups = ", ".join(policy.reset.groups)
    return False, f"self-service not allowed: not a member of {groups} (reset.groups; nested groups count)"


def _writeback_line(user: DirectoryUser, policy: Policy) -> tuple[bool, str]:
    from kiosk.cli.write_rights import missing_rights_text

    if not user.password_managed_on_premises:
        return True, "writeback not needed: the password is kept in the embedded directory"
    if not policy.on_premises.writeback:
        return False, "password managed on premises, but on_premises.writeback = false"
    if user.missing_rights:
        return False, f"written back, but the service account may not {missing_rights_text(user)} on this account"
    return True, "password managed on premises, written back (on_premises.writeback = true)"


def refusal_told(decision: Decision, policy: Policy) -> str | None:
    """When the person at the kiosk learns of the refusal: right_away, after_first_verification, never."""
    if decision.refusal is None:
        return None
    if policy.reset.early_refusals:
        return "right_away"
    # Until a first gate every user ID looks alike (`decoys`); a gate is only passable with a method
    # the account can really use, the same `offered` list.
    return "after_first_verification" if decision.offered else "never"


def explain_lines(
    user: DirectoryUser, decision: Decision, policy: Policy, now: datetime | None = None
) -> Iterator[str]:
    """The explanation of one user's decision as lines of text (registration state as of `now`)."""
    from kiosk.cli.report_cmd import registration_lines, registration_state
    from kiosk.cli.write_rights import rights_lines

    offered = ", ".join(method.value for method in decision.offered) or "(none)"
    yield f"user: {user.login} ({user.display_name})"
    if decision.refusal is None:
        gates = "1 gate" if decision.gates_required == 1 else f"{decision.gates_required} gates"
        yield f"verdict: may use self-service: {gates}, choosing among {offered}"
    else:
        yield f"verdict: REFUSED ({decision.refusal.value}): {REFUSAL_TEXT.get(decision.refusal.value, '')}"
    yield "checks, in the order the kiosk applies them:"
    access_ok, access = _access_line(user, decision, policy)
    writeback_ok, writeback = _writeback_line(user, policy)
    usable = len(decision.factors)
    factors = ", ".join(factor.value for factor in decision.factors) or "none"
    checks = [
        (user.enabled, "account enabled" if user.enabled else "account disabled"),
        (access_ok, access),
        (writeback_ok, writeback),
        (
            usable >= decision.gates_required,
            # Factors, not methods: an SMS and a call to one phone are one factor (mobile_phone).
            f"{usable} usable factor(s) ({factors}) for {decision.gates_required} gate(s)",
        ),
    ]
    for ok, text in checks:
        yield f"  {'ok' if ok else 'NO':<3} {text}"
        if text == writeback:  # what the service account lacks, and the fix, right under its check
            yield from (f"      {line}" for line in rights_lines(user))
    reason = GATE_REASON_TEXT[decision.gate_reason.value]
    if decision.gate_reason.value == "two_gate_group":
        reason += f" ({', '.join(decision.two_gate_groups)})"
    reason = "" if decision.gate_reason.value == "policy" else f": {reason}"
    yield f"gates: {decision.gates_required}{reason} (methods.required = {policy.methods.required})"
    yield "methods:"
    for verdict in decision.methods:
        yield f"  {verdict.method.value:<19} {_method_line(user, decision, verdict.method, verdict.status.value)}"
    yield from registration_lines(registration_state(user, policy, now or datetime.now(UTC)), policy)
    if decision.refusal is None:
        if decision.unlock_offered:
            after = 'locked: after the gates they choose "reset my password" or "unlock only"'
        elif user.locked:
            after = "locked: after the gates, a new password (which also unlocks; unlock only is off)"
        else:
            after = "not locked: after the gates, a new password"
        yield f"account: {after}"
    told = refusal_told(decision, policy)
    if told == "right_away":
        yield "the kiosk: tells the refusal right after the user ID (reset.early_refusals = true)"
    elif told == "after_first_verification":
        yield f"the kiosk: tells the refusal after a first verification with {offered} (a code really arrives)"
    elif told == "never":
        yield (
            "the kiosk: no method it can use, so no code ever arrives and the refusal is never told "
            "(every user ID looks alike until a first verification); they must call the helpdesk"
        )
    elif decision.gates_required > policy.methods.required and not policy.reset.early_refusals:
        yield (
            f"the kiosk: shows the policy's {policy.methods.required} gate at first, like for every user ID; "
            "the second gate shows up after the first"
        )
    yield "nothing was sent, written or recorded"


def decision_json(
    user: DirectoryUser, decision: Decision, policy: Policy, now: datetime | None = None
) -> dict[str, Any]:
    """One user's decision as JSON-ready data (no secret: contacts masked, questions counted)."""
    from kiosk.cli.report_cmd import registration_state, state_json
    from kiosk.services.backend.recovery.eligibility import masked_target

    return {
        "user": {
            "login": user.login,
            "display_name": user.display_name,
            "directory_id": user.directory_id,
            "enabled": user.enabled,
            "locked": user.locked,
            "is_admin": user.is_admin,
            "groups": list(user.groups),
            "password_managed_on_premises": user.password_managed_on_premises,
            "missing_rights": list(user.missing_rights),
        },
        "eligible": decision.refusal is None,
        "refusal": decision.refusal.value if decision.refusal else None,
        "refusals": [code.value for code in decision.refusals],
        "refusal_told": refusal_told(decision, policy),
        "gates_required": decision.gates_required,
        "gate_reason": decision.gate_reason.value,
        "two_gate_groups": list(decision.two_gate_groups),
        "access_groups": list(decision.access_groups),
        "offered": [method.value for method in decision.offered],
        "factors": [factor.value for factor in decision.factors],
        "methods": [
            {"method": v.method.value, "status": v.status.value, "masked_target": masked_target(user, v.method)}
            for v in decision.methods
        ],
        "questions_registered": decision.questions_registered,
        "questions_needed": decision.questions_needed,
        "unlock_offered": decision.unlock_offered,
        "registration": state_json(registration_state(user, policy, now or datetime.now(UTC))),
    }


async def _explain(policy: Policy, user_id: str, as_json: bool, out: TextIO) -> int:
    from kiosk.services.backend.directory.errors import AmbiguousUser
    from kiosk.services.backend.directory.inspection import open_for_reading
    from kiosk.services.backend.recovery.eligibility import evaluate

    async with open_for_reading(policy) as directory:
        try:
            user = await directory.find_user(user_id)
        except AmbiguousUser:
            shown = _shown(user_id)
            raise CliFailure(f"the user ID {shown} matches more than one entry (the kiosk refuses it)") from None
    if user is None:
        raise CliFailure(f"no user matches {_shown(user_id)} in {directory_label(policy)}")
    decision = evaluate(user, policy)
    if as_json:
        print(json.dumps(decision_json(user, decision, policy), ensure_ascii=False, indent=2), file=out)
    else:
        for line in explain_lines(user, decision, policy):
            print(line, file=out)
    return EXIT_OK if decision.refusal is None else EXIT_REFUSED


def policy_explain(policy_path: str, user_id: str, as_json: bool, out: TextIO, err: TextIO) -> int:
    """Explain what the kiosk decides for one directory user under a policy, changing nothing."""
    problem = _check_user_id(user_id)
    if problem is not None:  # told before the policy or the directory is read
        print(f"kiosk: {problem}", file=err)
        return EXIT_BAD_USER_ID
    try:
        policy = load_in_effect(policy_path, err)
    except CliFailure as error:
        if str(error):
            print(f"kiosk: {error}", file=err)
        return EXIT_ERROR
    return explain_user(policy, user_id, as_json, out, err)


def explain_user(policy: Policy, user_id: str, as_json: bool, out: TextIO, err: TextIO) -> int:
    """`policy explain` with a loaded policy (also what the tests call with a live directory's policy)."""
    problem = _check_user_id(user_id)
    if problem is not None:
        print(f"kiosk: {problem}", file=err)
        return EXIT_BAD_USER_ID
    return run_reading(_explain(policy, user_id, as_json, out), err)


# --------------------------------------------------------------------------------------------- diff

_ABSENT = object()


def _flatten(value: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, f"{prefix}.{key}" if prefix else key)
    else:
        yield prefix, value


def setting_changes(old: Policy, new: Policy) -> list[tuple[str, Any, Any]]:
    """(dotted key, old value, new value) of every setting that differs, defaults included, in schema order."""
    before = dict(_flatten(old.model_dump(mode="json")))
    after = dict(_flatten(new.model_dump(mode="json")))
    keys = list(before) + [key for key in after if key not in before]
    return [
        (key, before.get(key, _ABSENT), after.get(key, _ABSENT))
        for key in keys
        if before.get(key, _ABSENT) != after.get(key, _ABSENT)
    ]


def _value(value: Any) -> str:
    return "(not set)" if value is _ABSENT else json.dumps(value, ensure_ascii=False)


def _change_line(key: str, old: Any, new: Any) -> str:
    line = f"{key}: {_value(old)} → {_value(new)}"
    if isinstance(old, list) and isinstance(new, list):
        removed = [item for item in old if item not in new]
        added = [item for item in new if item not in old]
        parts = [f"removed {', '.join(map(str, removed))}"] if removed else []
        parts += [f"added {', '.join(map(str, added))}"] if added else []
        if parts:
            line += f" ({'; '.join(parts)})"
    return line


@dataclass(frozen=True, slots=True)
class Impact:
    """One user whose decision differs between the two policies."""

    user: DirectoryUser
    old: Decision
    new: Decision


@dataclass(frozen=True, slots=True)
class ImpactReport:
    """Who loses self-service, who gains it, who keeps it with other gates or methods, who is refused otherwise."""

    users: int
    lose: tuple[Impact, ...]
    gain: tuple[Impact, ...]
    changed: tuple[Impact, ...]
    reason_changed: tuple[Impact, ...]


def impact(users: list[DirectoryUser], old: Policy, new: Policy) -> ImpactReport:
    """Compare every user's decision under `old` and `new` (both with the backend's `evaluate`)."""
    from kiosk.services.backend.recovery.eligibility import evaluate

    lose, gain, changed, reason_changed = [], [], [], []
    for user in users:
        before, after = evaluate(user, old), evaluate(user, new)
        entry = Impact(user, before, after)
        if before.refusal is None and after.refusal is not None:
            lose.append(entry)
        elif before.refusal is not None and after.refusal is None:
            gain.append(entry)
        elif before.refusal is None and after.refusal is None:
            if (before.gates_required, before.offered) != (after.gates_required, after.offered):
                changed.append(entry)
        elif before.refusal != after.refusal:
            reason_changed.append(entry)
    return ImpactReport(len(users), tuple(lose), tuple(gain), tuple(changed), tuple(reason_changed))


def _summary(decision: Decision) -> str:
    methods = ", ".join(method.value for method in decision.offered) or "none"
    if decision.refusal is not None:
        return f"{decision.refusal.value} (usable: {methods}; {decision.gates_required} gate(s) needed)"
    gates = "1 gate" if decision.gates_required == 1 else f"{decision.gates_required} gates"
    return f"{gates} among {methods}"


def _summary_json(decision: Decision) -> dict[str, Any]:
    return {
        "eligible": decision.refusal is None,
        "refusal": decision.refusal.value if decision.refusal else None,
        "gates_required": decision.gates_required,
        "offered": [method.value for method in decision.offered],
        "factors": [factor.value for factor in decision.factors],
    }


def report_lines(changes: list[tuple[str, Any, Any]], report: ImpactReport, label: str, new_path: str) -> Iterator[str]:
    """The impact report as lines of text."""
    yield f"settings that change ({len(changes)}):"
    for key, old, new in changes:
        yield f"  {_change_line(key, old, new)}"
    if not changes:
        yield "  (none)"
    yield f"users: {report.users} in {label} (read once, with the directory settings of {new_path})"

    def refusal(decision: Decision) -> str:
        return decision.refusal.value if decision.refusal else "eligible"

    sections: tuple[tuple[str, tuple[Impact, ...], Callable[[Impact], str]], ...] = (
        ("lose self-service", report.lose, lambda i: f"now refused: {_summary(i.new)}"),
        ("gain self-service", report.gain, lambda i: f"now {_summary(i.new)} (was {refusal(i.old)})"),
        ("keep it, with other gates or methods", report.changed, lambda i: f"{_summary(i.old)} → {_summary(i.new)}"),
        ("still refused, for another reason", report.reason_changed, lambda i: f"{refusal(i.old)} → {refusal(i.new)}"),
    )
    for title, impacts, describe in sections:
        yield f"{title} ({len(impacts)}):" if impacts else f"{title}: nobody"
        for item in impacts:
            yield f"  {item.user.login} ({item.user.display_name}): {describe(item)}"
    if report.lose:
        yield (
            f"WARNING: {len(report.lose)} user(s) would lose self-service and have to call the helpdesk; "
            "have them register more methods first, or keep the old setting"
        )
    yield "nothing was sent, written or recorded"


def report_json(changes: list[tuple[str, Any, Any]], report: ImpactReport, label: str) -> dict[str, Any]:
    """The impact report as JSON-ready data."""

    def items(impacts: tuple[Impact, ...]) -> list[dict[str, Any]]:
        return [
            {
                "login": item.user.login,
                "display_name": item.user.display_name,
                "old": _summary_json(item.old),
                "new": _summary_json(item.new),
            }
            for item in impacts
        ]

    return {
        "settings": [
            {"key": key, "old": None if old is _ABSENT else old, "new": None if new is _ABSENT else new}
            for key, old, new in changes
        ],
        "directory": label,
        "users": report.users,
        "lose": items(report.lose),
        "gain": items(report.gain),
        "changed": items(report.changed),
        "reason_changed": items(report.reason_changed),
    }


async def _diff(old: Policy, new: Policy, directory: Policy, new_path: str, as_json: bool, out: TextIO) -> int:
    from kiosk.services.backend.directory.inspection import open_for_reading

    async with open_for_reading(directory) as opened:
        users = await opened.all_users()
    changes = setting_changes(old, new)
    report = impact(users, old, new)
    label = directory_label(directory)
    if as_json:
        print(json.dumps(report_json(changes, report, label), ensure_ascii=False, indent=2), file=out)
    else:
        for line in report_lines(changes, report, label, new_path):
            print(line, file=out)
    return EXIT_REFUSED if report.lose else EXIT_OK


def policy_diff(
    old_path: str, new_path: str, directory_path: str | None, as_json: bool, out: TextIO, err: TextIO
) -> int:
    """Compare two policies setting by setting and, against the directory, user by user."""
    loaded: list[Policy] = []
    for path in (old_path, new_path, *([directory_path] if directory_path else [])):
        try:
            loaded.append(load_in_effect(path, err))
        except CliFailure as error:  # go on: every file's problems are told at once
            if str(error):
                print(f"kiosk: {error}", file=err)
    if len(loaded) < (3 if directory_path else 2):
        return EXIT_ERROR
    old, new, directory = loaded[0], loaded[1], loaded[-1]
    return diff_policies(old, new, directory, directory_path or new_path, as_json, out, err)


def diff_policies(
    old: Policy, new: Policy, directory: Policy, directory_source: str, as_json: bool, out: TextIO, err: TextIO
) -> int:
    """`policy diff` with loaded policies; `directory_source` names the file the directory settings came from."""
    return run_reading(_diff(old, new, directory, directory_source, as_json, out), err)
