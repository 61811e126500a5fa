"""What administrators are told when the kiosk's service account may not reset an account (Active Directory).

`kiosk directory test` and `kiosk policy explain` print it before anyone stands at the kiosk; the
kiosk itself refuses such an account (`writeback_not_permitted`) instead of failing the write after
both gates. The usual cause is AdminSDHolder: members of protected groups (Domain Admins, Account
Operators, …; `adminCount = 1`) get AdminSDHolder's ACL every hour, with inheritance off, so the
delegation on the users' OU never reaches them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.services.backend.directory.embedded import DirectoryUser

FIX = (
    "fix: either delegate the same rights (Reset Password; write lockoutTime and pwdLastSet) on "
    "CN=AdminSDHolder,CN=System,<domain> as well (dsacls, or ADSI Edit; they reach protected accounts "
    "within the hour), or keep administrators out of self-service (reset.groups without them)"
)
"""The two ways out, in the README's words."""


def missing_rights_text(user: DirectoryUser) -> str:
    """`write lockoutTime, write pwdLastSet`: what the service account may not do on `user`'s entry."""
    return ", ".join(user.missing_rights)


def rights_lines(user: DirectoryUser) -> Iterator[str]:
    """Lines on the service account's rights on `user` (none when it may reset them)."""
    if not user.missing_rights:
        return
    yield (
        f"the kiosk's service account may not {missing_rights_text(user)} on this account, so a reset or "
        "unlock would fail after the gates; the kiosk refuses it before them (writeback_not_permitted)"
    )
    yield (
        "likely cause: a protected account (adminCount = 1: Domain Admins and the like) takes AdminSDHolder's "
        "ACL, which the delegation on the users' OU does not reach"
    )
    yield FIX
