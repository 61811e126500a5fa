"""The users (and groups) both live directories get, and which kiosk branch each one covers.

Both servers are provisioned from this one table, so a test can ask for "the locked user" the same
way on OpenLDAP and on Samba AD. Passwords are not here: they are generated per run.
"""

from __future__ import annotations

from dataclasses import dataclass

ENABLED_GROUP = "enabled"
"""Role of the group whose members may use the kiosk (OpenLDAP `sspr-users`, AD `SSPR-Users`)."""
NESTED_GROUP = "nested"
"""Role of the group nested inside the enabled group (OpenLDAP `sspr-nested`, AD `SSPR-Nested`)."""
ADMIN_GROUP = "admin"
"""Role of the administrators' group (OpenLDAP `kiosk-admins`, AD `Kiosk-Admins`)."""


@dataclass(frozen=True)
class UserSpec:
    """One user to provision; `groups` are group roles (direct membership only)."""

    login: str
    given_name: str
    surname: str
    covers: str
    groups: tuple[str, ...] = (ENABLED_GROUP,)
    mail: str = ""
    mobile: str = ""
    telephone: str = ""
    locked: bool = False
    disabled: bool = False
    common_name: str = ""
    """The RDN value when it is not the login (only for the metacharacter user)."""

    @property
    def display_name(self) -> str:
        """`givenName surname`, or the common name when one is set."""
        return self.common_name or f"{self.given_name} {self.surname}"


TWINS_MAIL_LOCAL = "same"
"""twin1 and twin2 share the mail address `same@<mail domain>`: one user ID, two entries."""

METACHARACTER_CN = "O'Brien, Pat (Ops)*"
"""The cn of `obrien`: DN metacharacter `,` and filter metacharacters `(`, `)`, `*` (and a `'`)."""


def user_specs(mail_domain: str) -> tuple[UserSpec, ...]:
    """Every user, with addresses in `mail_domain` (example.test / kiosk.test)."""

    def mail(local: str) -> str:
        return f"{local}@{mail_domain}"

    return (
        UserSpec("alice", "Alice", "Example", "enabled: direct member of the enabled group, mail", mail=mail("alice")),
        UserSpec(
            "bob",
            "Bob",
            "Nested",
            "enabled only through the nested group (nested in the enabled group); mail + mobile",
            groups=(NESTED_GROUP,),
            mail=mail("bob"),
            mobile="+15550100002",
        ),
        UserSpec(
            "carol",
            "Carol",
            "Admin",
            "administrator (admin group and enabled group); mail + mobile",
            groups=(ENABLED_GROUP, ADMIN_GROUP),
            mail=mail("carol"),
            mobile="+15550100003",
        ),
        UserSpec(
            "dave",
            "Dave",
            "Locked",
            "locked by real failed binds at provisioning (password below is the right one)",
            mail=mail("dave"),
            mobile="+15550100004",
            locked=True,
        ),
        UserSpec("erin", "Erin", "Outside", "not in the enabled group (refused)", groups=(), mail=mail("erin")),
        UserSpec("frank", "Frank", "Nomethods", "in the enabled group but no mail/phone: too few methods"),
        UserSpec(
            "grace",
            "Grace",
            "Disabled",
            "disabled account (OpenLDAP pwdAccountLockedTime=000001010000Z, AD userAccountControl 514)",
            mail=mail("grace"),
            disabled=True,
        ),
        UserSpec(
            "twin1",
            "Twin",
            "One",
            "shares its mail with twin2: a user ID matching two entries",
            mail=mail(TWINS_MAIL_LOCAL),
        ),
        UserSpec(
            "twin2",
            "Twin",
            "Two",
            "shares its mail with twin1: a user ID matching two entries",
            mail=mail(TWINS_MAIL_LOCAL),
        ),
        UserSpec(
            "obrien",
            "Pat",
            "O'Brien",
            "cn with DN and filter metacharacters; enabled, mail + telephone",
            mail=mail("obrien"),
            telephone="+15550100010",
            common_name=METACHARACTER_CN,
        ),
    )
