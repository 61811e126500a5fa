"""`kiosk kiosks add|list|revoke`: the kiosks a served backend answers, managed on the server.

They work on the store the policy names (the one `kiosk serve` runs with), also while it runs: a
kiosk added can call at once, a kiosk revoked is refused at once, by every backend on that store.
`add` prints the kiosk's credential once (only its hash is kept) and the command that stores it on
the kiosk. Adding and revoking are audited (`kiosk_added`, `kiosk_revoked`, with the OS account that
ran the command). Exit codes: 0 done, 1 refused (a bad, taken or unknown name, already revoked), 2
the command could not run (invalid policy, no database). Administrator output, in English.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, TextIO, TypeVar

if TYPE_CHECKING:
    from kiosk.policy.schema import Policy
    from kiosk.services.backend.audit.log import AuditEvent, AuditLog
    from kiosk.services.backend.kiosks import KioskRegistry
    from kiosk.services.backend.storage.target import StoreTarget

PolicyLoader = Callable[[str], "Policy"]
T = TypeVar("T")


class UsageError(Exception):
    """The command cannot run (exit 2); the message says why."""


def add_kiosks_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `kiosk kiosks add|list|revoke` and their options to the `kiosk` parser."""
    kiosks = commands.add_parser("kiosks", help="enrol, list and revoke the kiosks a shared backend answers")
    actions = kiosks.add_subparsers(dest="kiosks_command", metavar="ACTION", required=True)
    add = actions.add_parser("add", help="enrol a kiosk and print its credential (once)")
    add.add_argument("kiosks_name", metavar="NAME", help="the kiosk's name, e.g. lobby-1 (its id in the audit)")
    listing = actions.add_parser("list", help="the kiosks, when each was enrolled and revoked")
    listing.add_argument("--json", dest="kiosks_json", action="store_true", help="print JSON for scripts")
    revoke = actions.add_parser("revoke", help="refuse a kiosk's calls from now on")
    revoke.add_argument("kiosks_name", metavar="NAME")
    for action in (add, listing, revoke):
        action.add_argument(
            "--policy", dest="kiosks_policy", metavar="FILE", required=True, help="the policy `kiosk serve` runs with"
        )


def _store(policy_file: str, load: PolicyLoader) -> tuple[Policy, StoreTarget]:
    """The policy and the store it names (`store`, or `directory.embedded.database`)."""
    from kiosk.services.backend.credentials import CredentialError
    from kiosk.services.backend.storage.target import policy_store

    try:
        policy = load(policy_file)
    except SystemExit:
        raise UsageError(f"{policy_file} is not a valid policy (see above)") from None
    try:
        target = policy_store(policy)
    except CredentialError as error:  # the PostgreSQL password: the message names the command that stores it
        raise UsageError(str(error)) from None
    if target is None:
        raise UsageError(
            f"{policy_file} keeps no store: directory.embedded.database is empty, so `kiosk serve` works on a "
            "temporary file that is deleted when it stops, and no kiosk can be enrolled for it; set "
            'database = "/var/lib/kiosk/backend.sqlite3" under [directory.embedded] (or use store.kind = '
            '"postgresql")'
        )
    return policy, target


def _os_account() -> str:
    """Who ran the command, for the audit: the OS account name, plain characters only."""
    try:
        name = getpass.getuser()
    except (OSError, KeyError):  # no login name (a container without /etc/passwd entry)
        return "unknown"
    return "".join(char for char in name if char.isalnum() or char in "._-@\\")[:64] or "unknown"


async def _with_registry(
    policy: Policy, target: StoreTarget, work: Callable[[KioskRegistry, AuditLog], Awaitable[T]]
) -> T:
    """Run `work` on the store's kiosk registry and audit trail (forwarded to syslog when the policy says)."""
    from kiosk.services.backend.audit.log import AuditLog, AuditSink
    from kiosk.services.backend.clock import SystemClock
    from kiosk.services.backend.kiosks import KioskRegistry
    from kiosk.services.backend.storage.store import Store

    try:
        store = await Store.open(target)
    except Exception as error:  # noqa: BLE001 - unreadable file, server down, newer schema: told in one line
        detail = str(error) if type(error).__name__ == "SchemaTooNew" else type(error).__name__
        raise UsageError(f"cannot open the backend's store {target}: {detail}") from None
    sink: AuditSink | None = None
    if policy.audit.syslog.enabled:
        from kiosk.services.backend.audit.syslog import SyslogForwarder

        sink = SyslogForwarder(policy.audit.syslog)
    clock = SystemClock()
    audit = AuditLog(store, clock, sink)
    try:
        return await work(KioskRegistry(store, clock), audit)
    finally:
        await audit.close()
        await store.close()


async def _audited(audit: AuditLog, event: AuditEvent, name: str) -> None:
    """An administrator's action in the backend's audit trail, with the OS account that ran it."""
    await audit.record(event, kiosk_id=name, reference="", outcome=f"ok:by={_os_account()}")


def kiosks_add(name: str, policy_file: str, load: PolicyLoader, out: TextIO) -> int:
    """Enrol `name` and print its credential once, with the command that stores it on the kiosk."""
    from kiosk.services.backend.audit.log import AuditEvent

    policy, target = _store(policy_file, load)

    async def add(registry: KioskRegistry, audit: AuditLog) -> str:
        credential = await registry.add(name)
        await _audited(audit, AuditEvent.KIOSK_ADDED, name)
        return credential.text

    credential = asyncio.run(_with_registry(policy, target, add))
    print(f"added kiosk {name}. Its credential, shown this once (only a hash of it is kept):", file=out)
    print(file=out)
    print(f"    {credential}", file=out)
    print(file=out)
    print("On that kiosk, as the account the kiosk runs as, run", file=out)
    print(file=out)
    print("    kiosk secrets set backend", file=out)
    print(file=out)
    print("and paste the credential when asked. Keep it nowhere else.", file=out)
    return 0


def kiosks_list(policy_file: str, load: PolicyLoader, out: TextIO, *, as_json: bool) -> int:
    """Print every kiosk ever enrolled: name, when enrolled, when revoked. Never a secret or its hash."""
    policy, target = _store(policy_file, load)

    async def entries(registry: KioskRegistry, audit: AuditLog) -> list[tuple[str, str, str]]:
        return [(entry.name, entry.created_at, entry.revoked_at) for entry in await registry.entries()]

    found = asyncio.run(_with_registry(policy, target, entries))
    if as_json:
        rows = [{"name": name, "created_at": made, "revoked_at": revoked or None} for name, made, revoked in found]
        json.dump(rows, out, indent=1)
        out.write("\n")
        return 0
    if not found:
        print("no kiosks: enrol one with `kiosk kiosks add NAME --policy FILE`", file=out)
        return 0
    header = ("NAME", "CREATED", "REVOKED")
    rows_text = [(name, created, revoked or "-") for name, created, revoked in found]
    widths = [max(len(row[column]) for row in (header, *rows_text)) for column in range(len(header))]
    for row in (header, *rows_text):
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip(), file=out)
    revoked = sum(1 for _, _, when in found if when)
    print(f"({len(found)} kiosk{'s' if len(found) != 1 else ''}, {revoked} revoked)", file=out)
    return 0


def kiosks_revoke(name: str, policy_file: str, load: PolicyLoader, out: TextIO) -> int:
    """Revoke `name`: every backend on this store refuses its next call."""
    from kiosk.services.backend.audit.log import AuditEvent

    policy, target = _store(policy_file, load)

    async def revoke(registry: KioskRegistry, audit: AuditLog) -> str:
        when = await registry.revoke(name)
        await _audited(audit, AuditEvent.KIOSK_REVOKED, name)
        return when

    when = asyncio.run(_with_registry(policy, target, revoke))
    print(f"revoked kiosk {name} at {when}: its calls are refused from now on", file=out)
    return 0


def run_kiosks(args: argparse.Namespace, load: PolicyLoader, out: TextIO, err: TextIO) -> int:
    """Dispatch `kiosk kiosks ACTION`: 0 done, 1 refused, 2 could not run (one line on stderr either way)."""
    from kiosk.services.backend.kiosks import KioskRegistryError

    try:
        if args.kiosks_command == "add":
            return kiosks_add(args.kiosks_name, args.kiosks_policy, load, out)
        if args.kiosks_command == "revoke":
            return kiosks_revoke(args.kiosks_name, args.kiosks_policy, load, out)
        return kiosks_list(args.kiosks_policy, load, out, as_json=args.kiosks_json)
    except KioskRegistryError as error:
        print(f"kiosk kiosks {args.kiosks_command}: {error}", file=err)
        return 1
    except UsageError as error:
        print(f"kiosk kiosks {args.kiosks_command}: {error}", file=err)
        return 2
