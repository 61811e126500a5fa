"""`kiosk audit list|export|verify`: read the backend's audit trail, filtered, and check its hash chain.

The database is the policy's `directory.embedded.database` (or `--database FILE`, e.g. a copy taken
off a server), opened read-only. Exit codes: 0 done (verify: chain intact), 1 verify found the chain
broken, 2 the command could not run (bad option, no database, unreadable file). Administrator output,
in English; nothing here is shown at the kiosk.
"""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

if TYPE_CHECKING:
    from kiosk.policy.schema import Policy
    from kiosk.services.backend.audit.reader import AuditEntry, AuditFilter
    from kiosk.services.backend.storage.target import StoreTarget

PolicyLoader = Callable[[str], "Policy"]
"""Loads a policy file (Group Policy over it, as the kiosk does) or prints its problems and raises SystemExit."""

EVENTS = (
    "session_opened captcha_failed identified refused method_chosen code_sent gate_passed gate_failed action_chosen "
    "password_rejected reset unlocked signed_in sign_in_failed changed registered reconfirmed session_closed "
    "step_refused blocked notice_failed kiosk_refused kiosk_added kiosk_revoked"
).split()
"""The audited event names (kiosk.services.backend.audit.log.AuditEvent; a test keeps them equal)."""

DEFAULT_LIST_LIMIT = 100
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")
"""A CSV cell starting with one of these is a formula to Excel or LibreOffice (CWE-1236)."""


class UsageError(Exception):
    """A bad option value: printed with the option's name, exit 2."""


def add_audit_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kiosk audit list|export|verify` and their options to the `kiosk` parser."""
    audit = commands.add_parser("audit", help="list, export and verify the audit trail")
    actions = audit.add_subparsers(dest="audit_command", metavar="ACTION", required=True)
    listing = actions.add_parser("list", help="show audit events as a table (the newest 100 unless --limit)")
    export = actions.add_parser("export", help="write audit events as CSV or JSON")
    export.add_argument("--format", dest="audit_format", choices=["csv", "json"], default="csv")
    export.add_argument("--out", dest="audit_out", metavar="FILE", help="write to FILE (default: standard output)")
    verify = actions.add_parser("verify", help="check the hash chain: exit 0 if intact, 1 if not")
    verify.add_argument(
        "--expect-head",
        dest="audit_expect_head",
        metavar="HASH",
        default="",
        help="a head hash recorded earlier (or kept by your syslog server): it must still be in the chain",
    )
    for action in (listing, export, verify):
        source = action.add_mutually_exclusive_group(required=True)
        source.add_argument("--policy", dest="audit_policy", metavar="FILE", help="the backend's policy file")
        source.add_argument("--database", dest="audit_database", metavar="FILE", help="a backend database file")
    for action in (listing, export):
        action.add_argument("--user", dest="audit_user", metavar="ID", default="", help="a user's login")
        action.add_argument("--since", dest="audit_since", metavar="TIME", help="from (ISO 8601, or a date)")
        action.add_argument("--until", dest="audit_until", metavar="TIME", help="up to and including")
        action.add_argument(
            "--outcome", dest="audit_outcome", metavar="X", default="", help="e.g. ok, not_enabled, delivery_failed"
        )
        action.add_argument("--event", dest="audit_event", metavar="E", choices=EVENTS, help=", ".join(EVENTS))
        action.add_argument("--kiosk", dest="audit_kiosk", metavar="K", default="", help="a kiosk id")
        action.add_argument("--reference", dest="audit_reference", metavar="R", default="", help="a session reference")
        action.add_argument("--limit", dest="audit_limit", metavar="N", type=_limit, help="only the newest N events")


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a whole number of events, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def parse_time(text: str, *, option: str, end_of_day: bool = False) -> datetime:
    """An ISO 8601 time with a timezone, or a date (midnight local time; with `end_of_day`, its last moment)."""
    value = text.strip()
    try:
        day = date.fromisoformat(value)
    except ValueError:
        pass
    else:
        moment = datetime.combine(day, time()).astimezone()  # midnight, this computer's timezone
        return moment + timedelta(days=1, microseconds=-1) if end_of_day else moment
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(
            f"{option}: {text!r} is not an ISO 8601 date or time (e.g. 2025-03-03, or 2025-03-03T09:00:00+01:00)"
        ) from None
    if moment.tzinfo is None:
        raise UsageError(
            f"{option}: {text!r} has no timezone: add Z for UTC or an offset like +01:00, or give a date alone"
        )
    return moment


def _filter(args: argparse.Namespace) -> AuditFilter:
    from kiosk.services.backend.audit.log import AuditEvent
    from kiosk.services.backend.audit.reader import AuditFilter

    since = parse_time(args.audit_since, option="--since") if args.audit_since else None
    until = parse_time(args.audit_until, option="--until", end_of_day=True) if args.audit_until else None
    if since is not None and until is not None and since > until:
        raise UsageError(f"--since ({args.audit_since}) is after --until ({args.audit_until})")
    return AuditFilter(
        user=args.audit_user.strip(),
        since=since,
        until=until,
        outcome=args.audit_outcome.strip(),
        event=AuditEvent(args.audit_event) if args.audit_event else None,
        kiosk=args.audit_kiosk.strip(),
        reference=args.audit_reference.strip(),
        limit=args.audit_limit,
    )


def _database(args: argparse.Namespace, load: PolicyLoader) -> StoreTarget:
    """The store to read: --database (an SQLite file), else the one the policy names (file or PostgreSQL)."""
    if args.audit_database:
        return Path(args.audit_database)
    from kiosk.policy.schema import BackendMode
    from kiosk.product import PRODUCT, VENDOR
    from kiosk.services.backend.credentials import CredentialError
    from kiosk.services.backend.storage.target import policy_store

    try:
        policy = load(args.audit_policy)
    except SystemExit:
        # The loader printed one line per problem; exit 2 (not 1, which tells a broken chain).
        raise UsageError(f"{args.audit_policy} is not a valid policy (see above)") from None
    try:
        target = policy_store(policy)
    except CredentialError as error:
        raise UsageError(f"the PostgreSQL store's password: {error}") from None
    if target is not None:
        return target
    message = (
        f"{args.audit_policy} keeps no audit trail to read: directory.embedded.database is empty, so the backend "
        "writes to a temporary file that is deleted when it stops. To keep the audit trail, set it to a file, e.g. "
        f'database = "C:/ProgramData/{VENDOR}/{PRODUCT}/backend.sqlite3" under [directory.embedded], or use '
        "PostgreSQL ([store] kind = \"postgresql\")"
    )
    if policy.backend.mode is BackendMode.SHARED:
        message += (
            f". This policy uses the shared backend {policy.backend.url}: its audit trail is on that server; run "
            "kiosk audit there, with the policy `kiosk serve` runs with"
        )
    raise UsageError(message)


def _printable(text: str) -> str:
    # Values come from the directory and the database: never let one move the cursor or recolour a terminal.
    return "".join(char if char.isprintable() else f"\\x{ord(char):02x}" for char in text)


def _when(at: str) -> str:
    try:
        return datetime.fromisoformat(at).isoformat(timespec="seconds")
    except ValueError:
        return at


def _table(entries: list[AuditEntry], out: TextIO) -> None:
    header = ("ID", "TIME", "EVENT", "OUTCOME", "USER", "KIOSK", "REFERENCE")
    rows = [
        tuple(
            _printable(value)
            for value in (str(e.id), _when(e.at), e.event, e.outcome, e.user_id or "-", e.kiosk_id, e.reference)
        )
        for e in entries
    ]
    widths = [max(len(row[column]) for row in (header, *rows)) for column in range(len(header))]
    for row in (header, *rows):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)


def safe_cell(value: str) -> str:
    """A CSV cell that a spreadsheet shows as text: a leading formula character gets a ' in front."""
    return f"'{value}" if value.startswith(FORMULA_TRIGGERS) else value


def _write_csv(entries: list[AuditEntry], out: TextIO) -> None:
    from dataclasses import astuple

    from kiosk.services.backend.audit.reader import ENTRY_FIELDS

    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ENTRY_FIELDS)
    for entry in entries:
        writer.writerow([safe_cell(str(value)) for value in astuple(entry)])


def _write_json(entries: list[AuditEntry], out: TextIO) -> None:
    from dataclasses import asdict

    json.dump([asdict(entry) for entry in entries], out, ensure_ascii=False, indent=1)
    out.write("\n")


def audit_list(args: argparse.Namespace, load: PolicyLoader, out: TextIO) -> int:
    """Print the matching events as a table, oldest first (the newest 100 unless --limit)."""
    from dataclasses import replace

    from kiosk.services.backend.audit.reader import select

    selection = _filter(args)
    if selection.limit is None:
        selection = replace(selection, limit=DEFAULT_LIST_LIMIT)
    found = select(_database(args, load), selection)
    if not found.entries:
        print("no audit events match", file=out)
        return 0
    _table(found.entries, out)
    if found.matched > len(found.entries):
        print(f"(the newest {len(found.entries)} of {found.matched} matching events; --limit N shows more)", file=out)
    else:
        print(f"({found.matched} event{'s' if found.matched != 1 else ''})", file=out)
    return 0


def audit_export(args: argparse.Namespace, load: PolicyLoader, out: TextIO, err: TextIO) -> int:
    """Write the matching events as CSV or JSON to --out FILE or standard output."""
    from kiosk.services.backend.audit.reader import select

    found = select(_database(args, load), _filter(args))
    write = _write_json if args.audit_format == "json" else _write_csv
    if not args.audit_out:
        write(found.entries, out)
        return 0
    target = Path(args.audit_out)
    # A file gets a UTF-8 byte order mark in CSV, so Excel reads accented names right.
    encoding = "utf-8-sig" if args.audit_format == "csv" else "utf-8"
    try:
        with target.open("w", encoding=encoding, newline="") as stream:
            write(found.entries, stream)
    except OSError as error:
        raise UsageError(f"--out: cannot write {target}: {error.strerror or error}") from None
    print(f"wrote {len(found.entries)} events to {target}", file=err)
    return 0


def audit_verify(args: argparse.Namespace, load: PolicyLoader, out: TextIO) -> int:
    """Walk the hash chain: print OK and the head (exit 0), or the first broken row (exit 1)."""
    from kiosk.services.backend.audit.reader import check_chain

    expected = args.audit_expect_head.strip().lower()
    if expected and (len(expected) != 64 or any(char not in "0123456789abcdef" for char in expected)):
        raise UsageError(f"--expect-head: {args.audit_expect_head!r} is not a head hash (64 hexadecimal digits)")
    verdict = check_chain(_database(args, load), expect_head=expected)
    report = verdict.report
    if report.problem is not None:
        problem = report.problem
        where = f" at id {problem.row_id}" if problem.row_id else ""
        when = f" ({_printable(problem.at)})" if problem.at else ""
        print(f"FAILED: {problem.kind.value}{where}{when}: {problem.detail}", file=out)
        return 1
    events = f"{report.events} event{'s' if report.events != 1 else ''}"
    print(f"OK: {events}, chain intact, head {report.head}", file=out)
    if report.head_found_at is not None:
        print(
            f"the recorded head is id {report.head_found_at}, still in the chain; "
            f"{report.events_after_head} event(s) were written after it",
            file=out,
        )
    if verdict.rows_before:
        print(
            f"note: the first {verdict.rows_before} events (up to id {verdict.last_id_before}) were written before "
            f"hash chaining began and were chained on {verdict.began_at}; changes made to them before then "
            "cannot be detected",
            file=out,
        )
    return 0


def run_audit(args: argparse.Namespace, load: PolicyLoader, out: TextIO, err: TextIO) -> int:
    """Dispatch `kiosk audit ACTION`; a bad option or an unreadable database is exit 2 with one clear line."""
    from kiosk.services.backend.audit.reader import AuditReadError

    try:
        if args.audit_command == "list":
            return audit_list(args, load, out)
        if args.audit_command == "export":
            return audit_export(args, load, out, err)
        return audit_verify(args, load, out)
    except (UsageError, AuditReadError) as error:
        print(f"kiosk audit {args.audit_command}: {error}", file=err)
        return 2
