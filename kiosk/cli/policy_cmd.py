"""`kiosk policy check FILE`: validate a policy file and print each problem as `file:line: key: message`."""

from __future__ import annotations

from pathlib import Path
from typing import TextIO

from kiosk.policy.loader import PolicyError, format_problem, load_policy


def policy_check(path: str, out: TextIO, err: TextIO) -> int:
    """Check the policy file at `path`: 0 and an OK line on `out` if valid, else 1 and one line per problem on `err`."""
    try:
        policy = load_policy(Path(path))
    except PolicyError as error:
        for problem in error.problems:
            print(format_problem(path, problem), file=err)
        return 1
    ldap = policy.directory.active_directory or policy.directory.openldap
    if ldap is not None and ldap.insecure_skip_tls_verify:
        print(
            f"WARNING: {path}: directory insecure_skip_tls_verify = true: the directory's certificate is NOT "
            "verified; for tests only, never in production",
            file=err,
        )
    if policy.methods.required == 2:
        # SPEC §5: raising methods.required strands users who registered one method; check sees one
        # file only, so it points at the command that compares two against the directory.
        print(
            f"note: {path}: methods.required = 2: users with only one usable method cannot reset; "
            "`kiosk policy diff OLD NEW` lists who would lose self-service",
            file=err,
        )
    print(f"OK: {path} is a valid policy", file=out)
    return 0
