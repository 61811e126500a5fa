"""The `kiosk` command: the composition root that parses arguments, loads the policy and wires the layers.

Heavy modules (Qt, the backend) are imported inside the command that needs them, so
`kiosk policy check` stays fast and never needs a display.
"""

from __future__ import annotations

import argparse
import os
import socket
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from kiosk import locations

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from kiosk.policy.schema import Policy
    from kiosk.services.diagnosis import DiagnosticReport
    from kiosk.ui.app import KioskServices

ADMIN_EXIT_SECRET = "admin-exit"  # noqa: S105 - the name of a keyring entry, not a secret
"""Keyring entry of the administrator-exit secret (`kiosk secrets set admin-exit`)."""

RESOURCES = locations.RESOURCES  # the checkout's resources/, or the frozen bundle's copy
DEMO_POLICY = RESOURCES / "demo-policy.toml"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kiosk", description="Account recovery kiosk: reset or unlock your account.")
    parser.add_argument("--policy", metavar="FILE", help="the administrator's policy file (TOML)")
    parser.add_argument("--demo", action="store_true", help="run with the demo policy, demo users and demo inbox")
    parser.add_argument("--kiosk", action="store_true", help="full-screen kiosk mode (default: a window)")
    parser.add_argument(
        "--locale",
        metavar="TAG",
        help="language as a BCP 47 tag, e.g. de or es-US (default: the policy's, else the OS locale)",
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="start, show the first page against the backend, print the start-up time and exit 0",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    policy = commands.add_parser("policy", help="work with policy files")
    policy_commands = policy.add_subparsers(dest="policy_command", metavar="ACTION", required=True)
    check = policy_commands.add_parser("check", help="validate a policy file; exit 0 if valid, else 1")
    check.add_argument("file", metavar="FILE")
    explain = policy_commands.add_parser(
        "explain", help="tell whether a directory user could use self-service, and why; exit 0 yes, 3 refused"
    )
    explain.add_argument("--policy", dest="explain_policy", metavar="FILE", required=True)
    explain.add_argument(
        "--user", dest="explain_user", metavar="ID", required=True, help="a user ID as typed at the kiosk"
    )
    explain.add_argument("--json", dest="explain_json", action="store_true", help="print JSON for scripts")
    diff = policy_commands.add_parser(
        "diff", help="what changes from OLD to NEW, and which users lose self-service; exit 0 nobody, 3 some"
    )
    diff.add_argument("old", metavar="OLD")
    diff.add_argument("new", metavar="NEW")
    diff.add_argument(
        "--directory-policy", dest="diff_directory", metavar="FILE", help="read users with this policy's directory"
    )
    diff.add_argument("--json", dest="diff_json", action="store_true", help="print JSON for scripts")
    show = policy_commands.add_parser(
        "show", help="print what FILE sets; --effective: every setting with its source (default, file, Group Policy)"
    )
    show.add_argument("show_file", metavar="FILE", nargs="?", help="a policy file (optional with --effective)")
    show.add_argument("--effective", action="store_true", help="defaults < FILE < Group Policy, with each source")
    show.add_argument("--json", dest="show_json", action="store_true", help="print JSON for scripts")
    show.add_argument(
        "--registry", metavar="FILE.reg", help="read Group Policy from a regedit export instead of the registry"
    )
    admx = policy_commands.add_parser("admx", help="write the Group Policy templates (ADMX + en-US ADML) into DIR")
    admx.add_argument("--out", dest="admx_out", metavar="DIR", required=True, help="folder to write into (created)")

    secrets = commands.add_parser("secrets", help="store secrets in the OS keyring")
    secrets_commands = secrets.add_subparsers(dest="secrets_command", metavar="ACTION", required=True)
    secrets_set = secrets_commands.add_parser("set", help="store a secret (prompted, not echoed)")
    secrets_set.add_argument(
        "name",
        choices=["directory", "smtp", "gateway", ADMIN_EXIT_SECRET, "backend", "database", "enrollment-key"],
        help="directory: the directory service account; smtp: the SMTP user (delivery.smtp.username); "
        "gateway: the SMS/voice gateway's token (webhook bearer token or Twilio auth token); "
        "admin-exit: the secret that leaves kiosk mode (Ctrl+Alt+Shift+X); "
        "backend: this kiosk's credential for the shared backend (NAME:SECRET, from `kiosk kiosks add` on the server); "
        "database: the PostgreSQL password of store.url's user (on the backend's servers); "
        "enrollment-key: the key that seals registered authenticator apps, the same on every server of one store",
    )

    directory = commands.add_parser("directory", help="work with the configured directory")
    directory_commands = directory.add_subparsers(dest="directory_command", metavar="ACTION", required=True)
    probe = directory_commands.add_parser("test", help="connect, bind, find USER_ID and show what the kiosk sees")
    probe.add_argument("--policy", dest="directory_policy", metavar="FILE", required=True)
    probe.add_argument("user_id", metavar="USER_ID")

    diagnose = commands.add_parser(
        "diagnose", help="check the backend, directory, SMTP, gateway, keyring and clock; exit 0 unless one fails"
    )
    diagnose.add_argument("--policy", dest="diagnose_policy", metavar="FILE", required=True)
    diagnose.add_argument("--json", dest="diagnose_json", action="store_true", help="the report as JSON")

    from kiosk.cli.audit_cmd import add_audit_parser  # stdlib only at import: `kiosk policy` stays fast

    add_audit_parser(commands)

    from kiosk.cli.kiosks_cmd import add_kiosks_parser

    add_kiosks_parser(commands)

    from kiosk.cli.report_cmd import add_report_parser

    add_report_parser(commands)

    serve = commands.add_parser("serve", help="run the backend as an HTTP server for many kiosks")
    serve.add_argument("--policy", dest="serve_policy", metavar="FILE", required=True)
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8765)
    serve.add_argument(
        "--certificate", metavar="FILE", type=Path, help="serve HTTPS with this PEM certificate (chain after it)"
    )
    serve.add_argument("--key", metavar="FILE", type=Path, help="the certificate's PEM private key (unencrypted)")
    serve.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="server processes (default: one per CPU core with store.kind = 'postgresql', else 1)",
    )

    shots = commands.add_parser("screenshots", help="render every page to PNG, offscreen")
    shots.add_argument("--out", metavar="DIR", required=True, type=Path)
    shots.add_argument("--policy", dest="shots_policy", metavar="FILE")
    shots.add_argument("--locale", dest="shots_locale", metavar="TAG", default="en")

    commands.add_parser(
        "check-install",
        help="check this installation carries every data file and native part (catalogs, CAPTCHA font, "
        "argon2, zxcvbn, keyring modules); exit 0 if complete",
    )
    return parser


def _load(path: str | Path) -> Policy:
    """Load a policy file or exit 1 with one line per problem."""
    from kiosk.policy.group_policy import system_registry_reader
    from kiosk.policy.loader import PolicyError, format_problem, load_policy

    try:
        # Group Policy (on Windows) wins over the file, for the kiosk and for every command that runs it.
        return load_policy(Path(path), system_registry_reader())
    except PolicyError as error:
        for problem in error.problems:
            print(format_problem(str(path), problem), file=sys.stderr)
        raise SystemExit(1) from None


def _kiosk_id(policy: Policy) -> str:
    return policy.backend.kiosk_id or socket.gethostname()


SERVICE_MODULES = ("kiosk.flows.engine", "kiosk.services.client")
"""What every kiosk's services import: the flow engine and the backend client."""
EMBEDDED_BACKEND_MODULES = ("kiosk.services.backend",)
"""What the embedded backend adds."""


def import_services(embedded: bool) -> None:
    """Import the services' modules (the embedded backend's too when `embedded`): run on a worker thread."""
    import importlib

    for name in SERVICE_MODULES + (EMBEDDED_BACKEND_MODULES if embedded else ()):
        importlib.import_module(name)


async def connect_services(policy: Policy) -> KioskServices:
    """Open the backend (embedded) or reach it (shared) and build the flow engine on top of it."""
    import asyncio

    from kiosk.policy.schema import BackendMode

    # Over 100 ms of imports, after the first paint: on a worker thread, so the start page on show
    # keeps answering (the UI thread gets the interpreter between the imports' time slices).
    await asyncio.to_thread(import_services, policy.backend.mode is not BackendMode.SHARED)
    from kiosk.flows.engine import RecoveryFlow
    from kiosk.services.client import BackendClient
    from kiosk.ui.app import KioskServices

    timeout = policy.backend.timeout_seconds
    if policy.backend.mode is BackendMode.SHARED:
        credential = await asyncio.to_thread(read_backend_credential)  # the keyring may block: not on the UI thread
        client = BackendClient.shared(
            policy.backend.url, timeout=timeout, ca_file=policy.backend.ca_file, credential=credential
        )

        async def close_shared() -> None:
            await client.aclose()

        flow = RecoveryFlow(client, policy, kiosk_id=_kiosk_id(policy))
        return KioskServices(flow=flow, demo_feed=None, close=close_shared)

    from kiosk.services.backend import Backend
    from kiosk.services.client.backend_thread import BackendThread

    # The backend opens, answers and closes on a loop of its own thread: its request handling, storage and
    # directory calls never run on the window's (UI) thread (bench/ui_stalls.py).
    thread = BackendThread()
    try:
        backend = await thread.run(Backend.open(policy, kiosk_id=_kiosk_id(policy)))
    except BaseException:
        thread.stop()
        raise
    client = BackendClient.embedded(backend.asgi, timeout=timeout, thread=thread)

    async def close_embedded() -> None:
        try:
            await client.aclose()
            await thread.run(backend.close())
        finally:
            thread.stop()

    flow = RecoveryFlow(client, policy, kiosk_id=_kiosk_id(policy))
    return KioskServices(flow=flow, demo_feed=client if policy.demo else None, close=close_embedded)


def read_backend_credential() -> str:
    """This kiosk's credential for the shared backend (`NAME:SECRET`), from the OS keyring.

    Missing or not a credential: the cause and the command that fixes it go to standard error (what
    `--self-test` and the administrator starting the kiosk see) and the `CredentialError` is raised, so
    the kiosk shows its out-of-service page instead of calling a backend that would refuse every call.
    """
    from kiosk.services.backend.credentials import BACKEND_CREDENTIAL, CredentialError, read_secret
    from kiosk.services.backend.kiosks import parse_credential

    try:
        credential = read_secret(BACKEND_CREDENTIAL)
        if parse_credential(credential) is None:
            raise CredentialError(
                f"the {BACKEND_CREDENTIAL!r} secret in the OS keyring is not a kiosk credential (NAME:SECRET): run "
                f"`kiosk secrets set {BACKEND_CREDENTIAL}` and paste the line `kiosk kiosks add` printed on the server"
            )
    except CredentialError as error:
        print(f"kiosk: this kiosk cannot call the shared backend: {error}", file=sys.stderr, flush=True)
        raise
    return credential


def read_admin_exit_secret() -> str:
    """The administrator-exit secret from the OS keyring; '' when none is stored or there is no keyring.

    Handed to the UI as a callable (the UI never imports the backend's keyring helper) and called
    on each try, so the secret is not kept in memory while the kiosk runs.
    """
    from kiosk.services.backend.credentials import CredentialError, read_secret

    try:
        return read_secret(ADMIN_EXIT_SECRET)
    except CredentialError:
        return ""


def kiosk_diagnostics(policy: Policy, source: str) -> Callable[[], Awaitable[DiagnosticReport]]:
    """The checks of the kiosk's diagnostics page (`kiosk diagnose` for the running policy), for the UI.

    They run on a worker thread with an event loop of their own: the window's loop (the UI thread)
    only waits for the report, so no check, however slow, can freeze the kiosk.
    """

    async def diagnose() -> DiagnosticReport:
        import asyncio

        from kiosk.services.backend.diagnostics.checks import run_diagnostics

        return await asyncio.to_thread(asyncio.run, run_diagnostics(policy, source=source))

    return diagnose


def no_display(environ: Mapping[str, str], platform: str, program: str = "kiosk") -> str | None:
    """What to do instead, when Qt would find no display to open a window on (else None); `program` is
    the command as typed (`.venv/bin/kiosk`), so the advice can be pasted as it stands."""
    if platform in ("win32", "darwin") or environ.get("QT_QPA_PLATFORM"):
        return None
    if environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    # Qt would abort with "xcb-cursor0 is needed", which sends a newcomer installing X libraries.
    return (
        "kiosk: no display to show the kiosk on (neither DISPLAY nor WAYLAND_DISPLAY is set).\n"
        "Run it in a desktop session (or over ssh -X). Without a screen, Qt's offscreen platform still\n"
        "runs the checks that need no one to look at the window:\n"
        f"  QT_QPA_PLATFORM=offscreen {program} --demo --self-test\n"
        f"  QT_QPA_PLATFORM=offscreen {program} screenshots --out DIR"
    )


def _display_missing() -> bool:
    """Say what to do instead of starting Qt without a display; True when there is none."""
    message = no_display(os.environ, sys.platform, sys.argv[0] or "kiosk")
    if message is not None:
        print(message, file=sys.stderr)
    return message is not None


def _run(args: argparse.Namespace) -> int:
    from kiosk import i18n

    if args.policy:
        policy = _load(args.policy)
    elif args.demo:
        policy = _load(DEMO_POLICY)
    else:
        print("kiosk: no policy given: pass --policy FILE, or --demo to try the demo", file=sys.stderr)
        return 2
    if _display_missing():
        return 2
    # --locale beats the policy's default language, which beats the OS locale; each is negotiated
    # against the languages offered (the policy's, among the shipped catalogs), else English.
    preferences = (args.locale, policy.kiosk.default_language, i18n.system_language())
    i18n.set_language(i18n.choose_language(preferences, i18n.offered_languages(policy.kiosk.languages)))

    from kiosk.ui.app import run_app

    async def connect() -> KioskServices:
        return await connect_services(policy)

    return run_app(
        policy,
        connect,
        kiosk_mode=args.kiosk,
        demo=policy.demo,
        argv=[sys.argv[0]],
        self_test=args.self_test,
        # Also without an exit (kiosk.admin_exit = false): the secret still opens the diagnostics page.
        admin_secret=read_admin_exit_secret,
        diagnose=kiosk_diagnostics(policy, str(args.policy or DEMO_POLICY)),
    )


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `kiosk` console script."""
    try:
        status = _dispatch(_parser().parse_args(argv))
        if sys.stdout is not None:  # None in the windowed AccountRecoveryKiosk.exe (no console)
            sys.stdout.flush()  # here, not at exit, so a closed pipe is caught below
        return status
    except BrokenPipeError:
        # The reader went away (`kiosk audit list | head`): not an error worth a traceback. Point
        # stdout at /dev/null so the interpreter's final flush does not raise again.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "policy" and args.policy_command == "explain":
        from kiosk.cli.policy_sim_cmd import policy_explain

        return policy_explain(args.explain_policy, args.explain_user, args.explain_json, sys.stdout, sys.stderr)
    if args.command == "policy" and args.policy_command == "diff":
        from kiosk.cli.policy_sim_cmd import policy_diff

        return policy_diff(args.old, args.new, args.diff_directory, args.diff_json, sys.stdout, sys.stderr)
    if args.command == "policy" and args.policy_command == "show":
        from kiosk.cli.group_policy_cmd import policy_show

        return policy_show(
            args.show_file,
            sys.stdout,
            sys.stderr,
            effective=args.effective,
            as_json=args.show_json,
            registry=args.registry,
        )
    if args.command == "policy" and args.policy_command == "admx":
        from kiosk.cli.group_policy_cmd import policy_admx

        return policy_admx(args.admx_out, sys.stdout, sys.stderr)
    if args.command == "policy":
        from kiosk.cli.policy_cmd import policy_check

        return policy_check(args.file, sys.stdout, sys.stderr)
    if args.command == "secrets":
        from kiosk.cli.directory_cmd import secrets_set

        return secrets_set(args.name, sys.stdout, sys.stderr)
    if args.command == "directory":
        from kiosk.cli.directory_cmd import directory_test

        return directory_test(_load(args.directory_policy), args.user_id, sys.stdout, sys.stderr)
    if args.command == "diagnose":
        from kiosk.cli.diagnose_cmd import diagnose

        return diagnose(args.diagnose_policy, sys.stdout, as_json=args.diagnose_json)
    if args.command == "audit":
        from kiosk.cli.audit_cmd import run_audit

        return run_audit(args, _load, sys.stdout, sys.stderr)
    if args.command == "kiosks":
        from kiosk.cli.kiosks_cmd import run_kiosks

        return run_kiosks(args, _load, sys.stdout, sys.stderr)
    if args.command == "report":
        from kiosk.cli.report_cmd import run_report

        return run_report(args, sys.stdout, sys.stderr)
    if args.command == "serve":
        from kiosk.services.backend import WorkersNeedPostgres, serve
        from kiosk.services.backend.server_tls import ServerTlsError

        if args.workers is not None and args.workers < 1:
            print("ERROR: --workers needs a number of 1 or more", file=sys.stderr)
            return 2

        if (args.certificate is None) != (args.key is None):
            print("ERROR: HTTPS needs both --certificate FILE and --key FILE", file=sys.stderr)
            return 2
        try:
            serve(
                _load(args.serve_policy),
                args.host,
                args.port,
                certificate=args.certificate,
                key=args.key,
                workers=args.workers,
            )
        except (ServerTlsError, WorkersNeedPostgres) as error:
            print(f"ERROR: {error}", file=sys.stderr)
            return 1
        return 0
    if args.command == "check-install":
        from kiosk.cli.install_check_cmd import check_install

        return check_install(sys.stdout)
    if args.command == "screenshots":
        if _display_missing():
            return 2
        from kiosk.ui.screenshots import render_screenshots

        policy = _load(args.shots_policy or DEMO_POLICY)
        for path in render_screenshots(args.out, policy, language=args.shots_locale):
            print(path)
        return 0
    return _run(args)


if __name__ == "__main__":
    raise SystemExit(main())
