"""`kiosk report registration --policy F [--csv|--json]`: who registered what, and who would be stranded.

For every user of the policy's directory (read as `kiosk policy explain` reads it: `inspection`,
nothing written): the methods registered — never a value, contacts masked, questions counted, the
app as yes/no — when the user last confirmed them at the kiosk, whether a reconfirmation is due, and
whether they could use self-service under the policy, decided by the backend's own
`eligibility.evaluate`. A user is *stranded* when self-service is meant for them (enabled account, in
`reset.enabled_for`) yet they cannot use it: too few methods, writeback off, or a service account
that may not reset them; they would have to call the helpdesk.

Exit codes: 0 nobody stranded, 3 somebody is (like `policy diff`), 1 a bad policy or unreadable directory.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TextIO

from kiosk.policy.schema import Method, Policy

if TYPE_CHECKING:
    from kiosk.services.backend.directory.embedded import DirectoryUser
    from kiosk.services.backend.recovery.eligibility import Decision

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_STRANDED = 3
OUT_OF_SCOPE = frozenset({"account_disabled", "not_enabled"})
"""Refusals that mean self-service is not meant for the user (not stranded: the policy excludes them)."""
_SPREADSHEET_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def add_report_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kiosk report registration` and its options to the `kiosk` parser."""
    report = commands.add_parser("report", help="reports on the directory's users")
    reports = report.add_subparsers(dest="report_command", metavar="REPORT", required=True)
    registration = reports.add_parser(
        "registration",
        help="every user's registered methods, last confirmation and whether they could self-serve; "
        "exit 0 nobody stranded, 3 some",
    )
    registration.add_argument("--policy", dest="report_policy", metavar="FILE", required=True)
    form = registration.add_mutually_exclusive_group()
    form.add_argument("--csv", dest="report_csv", action="store_true", help="one CSV row per user")
    form.add_argument("--json", dest="report_json", action="store_true", help="JSON for scripts")


@dataclass(frozen=True, slots=True)
class RegistrationState:
    """What one user registered (masked or counted) and when they last confirmed it."""

    email: str | None
    """The masked address e-mail codes go to, None without one."""
    mobile: str | None
    """The masked number SMS and calls go to."""
    office: str | None
    """The masked office phone (an administrator's attribute, not registered at the kiosk)."""
    questions: int
    app: bool
    confirmed_at: datetime | None
    reconfirm_due: bool
    """A reset or change now would ask "is this still up to date?" (`registration.reconfirm_days`)."""
    reconfirm_after: datetime | None
    """When that question starts being asked (None: never confirmed, or reconfirm_days = 0)."""


def registration_state(user: DirectoryUser, policy: Policy, now: datetime) -> RegistrationState:
    """The registration state of `user` under `policy` at `now` (nothing unmasked)."""
    from kiosk.services.backend.recovery.eligibility import masked_target
    from kiosk.services.backend.registration.afterwards import reconfirmation_due

    days = policy.registration.reconfirm_days
    email, mobile = masked_target(user, Method.EMAIL), masked_target(user, Method.MOBILE_SMS)
    confirmable = bool(email or mobile or user.questions or user.totp_secret)  # what a reconfirmation asks about
    return RegistrationState(
        email=email,
        mobile=mobile,
        office=masked_target(user, Method.OFFICE_CALL),
        questions=len(user.questions),
        app=bool(user.totp_secret),
        confirmed_at=user.confirmed_at,
        reconfirm_due=reconfirmation_due(user, policy, now),
        reconfirm_after=user.confirmed_at + timedelta(days=days)
        if user.confirmed_at and days and confirmable
        else None,
    )


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "never"


def registration_lines(state: RegistrationState, policy: Policy) -> Iterator[str]:
    """The registration state as lines of text (for `policy explain`)."""
    methods = [
        f"e-mail {state.email or '(none)'}",
        f"phone {state.mobile or '(none)'}",
        f"{state.questions} security question(s)",
        f"authenticator app: {'yes' if state.app else 'no'}",
    ]
    if state.office:
        methods.append(f"office phone {state.office} (directory attribute)")
    yield f"registered: {', '.join(methods)}"
    confirmed = f"last confirmed: {_when(state.confirmed_at)}"
    if policy.registration.reconfirm_days == 0:
        confirmed += " (registration.reconfirm_days = 0: never asked again)"
    elif state.reconfirm_due:
        confirmed += (
            f"; reconfirmation DUE: after a reset or change they are asked whether it is still up to date "
            f"(registration.reconfirm_days = {policy.registration.reconfirm_days})"
        )
    elif state.reconfirm_after:
        confirmed += f"; reconfirmation due from {_when(state.reconfirm_after)}"
    else:
        confirmed += "; nothing registered to reconfirm"
    yield confirmed


def state_json(state: RegistrationState) -> dict[str, Any]:
    """The registration state as JSON-ready data."""
    return {
        "email": state.email,
        "mobile": state.mobile,
        "office": state.office,
        "questions": state.questions,
        "app": state.app,
        "confirmed_at": state.confirmed_at.isoformat() if state.confirmed_at else None,
        "reconfirm_due": state.reconfirm_due,
        "reconfirm_after": state.reconfirm_after.isoformat() if state.reconfirm_after else None,
    }


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One user of the report."""

    user: DirectoryUser
    state: RegistrationState
    decision: Decision

    @property
    def stranded(self) -> bool:
        """Self-service is meant for this user, and they cannot use it."""
        refusal = self.decision.refusal
        return refusal is not None and refusal.value not in OUT_OF_SCOPE


def report_rows(users: list[DirectoryUser], policy: Policy, now: datetime) -> list[ReportRow]:
    """Every user's row, decided with the backend's `evaluate`."""
    from kiosk.services.backend.recovery.eligibility import evaluate

    return [ReportRow(user, registration_state(user, policy, now), evaluate(user, policy)) for user in users]


def _self_service(decision: Decision) -> str:
    if decision.refusal is not None:
        return decision.refusal.value
    return "yes, 1 gate" if decision.gates_required == 1 else f"yes, {decision.gates_required} gates"


def summary(rows: list[ReportRow]) -> dict[str, Any]:
    """How many users may self-serve, how many are stranded and why, how many are out of scope and why."""
    refusals = [(row, row.decision.refusal.value) for row in rows if row.decision.refusal is not None]
    stranded = Counter(code for row, code in refusals if row.stranded)
    out = Counter(code for row, code in refusals if code in OUT_OF_SCOPE)
    return {
        "users": len(rows),
        "self_service": sum(1 for row in rows if row.decision.refusal is None),
        "stranded": sum(stranded.values()),
        "stranded_by_reason": dict(stranded.most_common()),
        "out_of_scope_by_reason": dict(out.most_common()),
        "reconfirm_due": sum(1 for row in rows if row.state.reconfirm_due),
    }


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{reason} {count}" for reason, count in counts.items())


def summary_line(totals: dict[str, Any]) -> str:
    """The one-line verdict: who cannot self-serve, and why."""
    line = f"stranded: {totals['stranded']} of {totals['users']} user(s) cannot self-serve"
    line += f" ({_counts(totals['stranded_by_reason'])})" if totals["stranded"] else ""
    line += f"; {totals['self_service']} can"
    if totals["out_of_scope_by_reason"]:
        line += f"; not meant to: {_counts(totals['out_of_scope_by_reason'])}"
    return line


COLUMNS = ("login", "e-mail", "phone", "questions", "app", "last confirmed", "self-service")


def _cells(row: ReportRow) -> tuple[str, ...]:
    state = row.state
    confirmed = _when(state.confirmed_at).removesuffix(" UTC")
    if state.reconfirm_due:
        confirmed += " (due)"
    return (
        row.user.login,
        state.email or "-",
        state.mobile or "-",
        str(state.questions),
        "yes" if state.app else "no",
        confirmed,
        _self_service(row.decision),
    )


def table_lines(rows: list[ReportRow], label: str) -> Iterator[str]:
    """The report as a text table, then the summary."""
    table = [COLUMNS, *(_cells(row) for row in rows)]
    widths = [max(len(cells[index]) for cells in table) for index in range(len(COLUMNS))]
    yield f"registration of {len(rows)} user(s) in {label}"
    for cells in table:
        yield "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True)).rstrip()
    totals = summary(rows)
    yield summary_line(totals)
    if totals["stranded"]:
        yield "each stranded user must call the helpdesk; `kiosk policy explain --user ID` tells why and what to fix"
    yield "nothing was sent, written or recorded"


def _safe_cell(text: str) -> str:
    """A free-text cell a spreadsheet will not run as a formula (display names come from the directory)."""
    return f"'{text}" if text.startswith(_SPREADSHEET_FORMULA) else text


CSV_COLUMNS = ("login", "display_name", "email", "mobile", "office", "questions", "app", "confirmed_at",
               "reconfirm_due", "self_service", "refusal", "gates_required", "offered", "missing_rights")  # fmt: skip


def write_csv(rows: list[ReportRow], out: TextIO) -> None:
    """One CSV row per user (RFC 4180, a header first)."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        state, decision = row.state, row.decision
        writer.writerow((
            _safe_cell(row.user.login), _safe_cell(row.user.display_name), state.email or "", state.mobile or "",
            state.office or "", state.questions, "yes" if state.app else "no",
            state.confirmed_at.isoformat() if state.confirmed_at else "", "yes" if state.reconfirm_due else "no",
            "yes" if decision.refusal is None else "no", decision.refusal.value if decision.refusal else "",
            decision.gates_required, " ".join(method.value for method in decision.offered),
            " ".join(right.replace(" ", ":") for right in row.user.missing_rights),
        ))  # fmt: skip


def report_json(rows: list[ReportRow], label: str) -> dict[str, Any]:
    """The report as JSON-ready data."""
    return {
        "directory": label,
        "users": [
            {
                "login": row.user.login,
                "display_name": row.user.display_name,
                "enabled": row.user.enabled,
                "registered": state_json(row.state),
                "self_service": row.decision.refusal is None,
                "refusal": row.decision.refusal.value if row.decision.refusal else None,
                "stranded": row.stranded,
                "gates_required": row.decision.gates_required,
                "offered": [method.value for method in row.decision.offered],
                "missing_rights": list(row.user.missing_rights),
            }
            for row in rows
        ],
        "summary": summary(rows),
    }


async def _report(policy: Policy, form: str, out: TextIO, now: datetime) -> int:
    from kiosk.cli.policy_sim_cmd import directory_label
    from kiosk.services.backend.directory.inspection import open_for_reading

    async with open_for_reading(policy) as directory:
        users = await directory.all_users()
    rows = report_rows(users, policy, now)
    label = directory_label(policy)
    if form == "csv":
        write_csv(rows, out)
    elif form == "json":
        print(json.dumps(report_json(rows, label), ensure_ascii=False, indent=2), file=out)
    else:
        for line in table_lines(rows, label):
            print(line, file=out)
    return EXIT_STRANDED if any(row.stranded for row in rows) else EXIT_OK


def report_registration(policy: Policy, form: str, out: TextIO, err: TextIO, now: datetime | None = None) -> int:
    """The registration report for a loaded policy (`form`: text, csv or json)."""
    from kiosk.cli.policy_sim_cmd import run_reading

    return run_reading(_report(policy, form, out, now or datetime.now(UTC)), err)


def run_report(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """`kiosk report …` from parsed arguments."""
    from kiosk.cli.policy_sim_cmd import CliFailure, load_in_effect

    try:
        policy = load_in_effect(args.report_policy, err)
    except CliFailure as error:
        if str(error):
            print(f"kiosk: {error}", file=err)
        return EXIT_ERROR
    form = "csv" if args.report_csv else "json" if args.report_json else "text"
    return report_registration(policy, form, out, err)
