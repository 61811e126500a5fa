"""Active Directory: an administrator reset writes unicodePwd, lockoutTime and pwdLastSet in one modify.

One modify request is atomic in AD, so a refused password (0000052D) leaves the lock state and
pwdLastSet untouched too. The reset carries LDAP_SERVER_POLICY_HINTS (and its older OID), so Windows
AD applies the domain's password history to it as to a user's own change; both are non-critical, so
a domain controller that knows neither (Samba 4.17: it then applies no history) still resets. Whether
history is applied is read from the rootDSE's supportedControl (`enforces_history`).

Lock state comes from msDS-User-Account-Control-Computed (bit 0x10), which accounts for lockout
expiry, unlike lockoutTime; it is a constructed attribute, so it is read with a base-scope search of
the user's entry. The same search reads allowedAttributesEffective, the attributes the service account
may write on that entry: a reset needs lockoutTime and pwdLastSet, which a protected account
(adminCount=1: AdminSDHolder's ACL, without the OU's delegation) does not grant, so eligibility refuses
it before any gate (`writeback_not_permitted`) instead of failing the write after both.

A typed user ID may also be `DOMAIN\\user` or the implicit UPN (`windows_names`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import Any

from kiosk.policy.directory_schema import ActiveDirectorySettings, PwdLastSet
from kiosk.services.backend.directory.errors import (
    AD_WRONG_PASSWORD_CODE,
    PasswordChangeRequired,
    PasswordRefused,
    WriteFailed,
    WrongCurrentPassword,
    change_required,
    is_password_policy_refusal,
    password_rule_from_message,
)
from kiosk.services.backend.directory.ldap import LdapDirectory
from kiosk.services.backend.directory.windows_names import DomainNames, identifier_condition, read_domain_names

ACCOUNT_DISABLE = 0x2
UF_LOCKOUT = 0x10
COMPUTED_UAC = "msDS-User-Account-Control-Computed"
POLICY_HINTS = "1.2.840.113556.1.4.2239"
"""LDAP_SERVER_POLICY_HINTS_OID: a password set that carries it obeys the password history
([MS-ADTS] 3.1.1.3.4.1.27; Windows Server 2012 and later)."""
POLICY_HINTS_DEPRECATED = "1.2.840.113556.1.4.2066"
"""LDAP_SERVER_POLICY_HINTS_DEPRECATED_OID: the same control for Windows Server 2008 R2 (with its update)."""
EFFECTIVE_WRITES = "allowedAttributesEffective"
"""Constructed: the attributes the bound account may write on the entry ([MS-ADTS] 3.1.1.4.5.8)."""
RESET_WRITES = ("lockoutTime", "pwdLastSet")
"""What the kiosk's reset writes besides unicodePwd (whose Reset Password extended right no constructed
attribute tells); an unlock writes lockoutTime."""
_CONSTRUCTED = "kiosk_constructed"
"""Key under which an entry dict keeps its constructed attributes once read (one search per entry)."""


def missing_writes(allowed: Iterable[str]) -> tuple[str, ...]:
    """`write <attribute>` for each attribute of `RESET_WRITES` that `allowed` lacks (case-insensitively)."""
    have = {str(name).casefold() for name in allowed}
    return tuple(f"write {name}" for name in RESET_WRITES if name.casefold() not in have)


@cache
def policy_hints_value() -> bytes:
    """The control's value: `PolicyHintsRequestValue ::= SEQUENCE { Flags INTEGER }`, Flags = 1
    (enforce the history), BER-encoded (`30 03 02 01 01`)."""
    from pyasn1.codec.ber import encoder  # type: ignore[import-untyped]  # pyasn1 comes with ldap3
    from pyasn1.type import namedtype, univ  # type: ignore[import-untyped]

    value = univ.Sequence(componentType=namedtype.NamedTypes(namedtype.NamedType("flags", univ.Integer())))
    value["flags"] = 1
    return bytes(encoder.encode(value))


def policy_hints_controls() -> list[tuple[str, bool, bytes]]:
    """The controls of a reset: both OIDs, non-critical (a DC that knows neither still resets)."""
    return [(oid, False, policy_hints_value()) for oid in (POLICY_HINTS, POLICY_HINTS_DEPRECATED)]


def advertises_policy_hints(supported_controls: Iterable[str]) -> bool:
    """True when a rootDSE's supportedControl lists either policy-hints OID (the DC then applies history)."""
    return bool({POLICY_HINTS, POLICY_HINTS_DEPRECATED} & {str(oid).strip() for oid in supported_controls})


SAMBA_ACL_REFUSAL = "error in module acl"
"""What Samba's message says when its acl module refused a write for want of a right (it answers
constraintViolation there, where Windows says insufficientAccessRights)."""


def unicode_pwd(password: str) -> bytes:
    """The value AD expects in unicodePwd: the password in double quotes, UTF-16-LE."""
    return f'"{password}"'.encode("utf-16-le")


def _int_value(attributes: dict[str, Any], name: str) -> int:
    value = attributes.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else 0
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


def _raise_write_error(error: Any) -> None:
    """Map a failed password write: a user change's wrong old password, a policy refusal with its reason,
    else a plain write failure."""
    result, message = str(error.description or ""), str(error.message or "")
    if AD_WRONG_PASSWORD_CODE in message.casefold():
        raise WrongCurrentPassword from None
    if SAMBA_ACL_REFUSAL in message.casefold():
        # Samba answers a missing right (e.g. User-Change-Password on a protected account) as a constraint
        # violation from its acl module (measured on 4.17): a rights problem, not a password refusal.
        raise WriteFailed("insufficientAccessRights") from None
    if is_password_policy_refusal(result, message):
        raise PasswordRefused(password_rule_from_message(message)) from None
    raise WriteFailed(result) from None


class ActiveDirectoryDirectory(LdapDirectory):
    """The `Directory` protocol over Active Directory (or Samba AD)."""

    user_filter = "(&(objectCategory=person)(objectClass=user))"
    group_filter = "(objectClass=group)"
    member_attributes = ("member",)
    _history_enforced: bool | None = None
    """What `enforces_history` read from the rootDSE (None: not read yet)."""
    _domain: DomainNames | None = None
    """The domain's NetBIOS and DNS names (None: not read yet)."""

    def identifier_condition(self, connection: Any, user_id: str) -> str | None:
        """The usual conditions, plus `DOMAIN\\user` and the implicit UPN (`windows_names`)."""
        if self._domain is None:
            self._domain = read_domain_names(connection)  # once; a race only reads it twice
        return identifier_condition(user_id, self.attributes.user_id, self.attributes.login, self._domain)

    def state_attributes(self) -> list[str]:
        """userAccountControl says whether the account is disabled."""
        return ["userAccountControl"]

    def _constructed(self, connection: Any, entry: dict[str, Any]) -> dict[str, Any]:
        """The entry's constructed attributes (lock bit, effective writes), read by one base search and kept."""
        import ldap3

        if _CONSTRUCTED not in entry:
            connection.search(
                entry["dn"], "(objectClass=*)", search_scope=ldap3.BASE, attributes=[COMPUTED_UAC, EFFECTIVE_WRITES]
            )
            found = [e for e in connection.response if e.get("type") == "searchResEntry"]
            entry[_CONSTRUCTED] = found[0]["attributes"] if found else {}
        return dict(entry[_CONSTRUCTED])

    def entry_state(self, connection: Any, entry: dict[str, Any]) -> tuple[bool, bool]:
        """(enabled, locked) from userAccountControl and the computed lockout bit."""
        enabled = not _int_value(entry["attributes"], "userAccountControl") & ACCOUNT_DISABLE
        constructed = self._constructed(connection, entry)
        locked = bool(constructed) and bool(_int_value(constructed, COMPUTED_UAC) & UF_LOCKOUT)
        return enabled, locked

    def missing_rights(self, connection: Any, entry: dict[str, Any]) -> tuple[str, ...]:
        """The reset's attribute writes the service account may not make here (allowedAttributesEffective:
        an account may write nothing, and the attribute is then absent, as for a protected admin)."""
        return missing_writes(self._constructed(connection, entry).get(EFFECTIVE_WRITES) or ())

    async def enforces_history(self, login: str, *, own_change: bool = False) -> bool:
        """True when the domain controller advertises the policy-hints control, so the kiosk's reset obeys
        the domain's password history (for every account); read from the rootDSE once. Samba 4.17
        advertises neither OID and applies no history to a reset (measured): False there, and the kiosk
        claims no history rule. `own_change`: always True, the domain applies its history to a user's own
        change (the delete/add of unicodePwd; measured on Samba 4.17)."""
        if own_change:
            return True
        if self._history_enforced is None:

            def read(connection: Any) -> bool:
                import ldap3

                connection.search("", "(objectClass=*)", search_scope=ldap3.BASE, attributes=["supportedControl"])
                found = [e for e in connection.response if e.get("type") == "searchResEntry"]
                return bool(found) and advertises_policy_hints(found[0]["attributes"].get("supportedControl") or [])

            self._history_enforced = await self.connector.run(read)
        return self._history_enforced

    def _modify(
        self, connection: Any, dn: str, changes: dict[str, Any], controls: list[tuple[str, bool, bytes]] | None = None
    ) -> None:
        import ldap3.core.exceptions as ldap_errors

        try:
            connection.modify(dn, changes, controls=controls)
        except ldap_errors.LDAPOperationResult as error:
            _raise_write_error(error)

    def _dn(self, connection: Any, login: str) -> str:
        entry = self._entry_by_login(connection, login)
        if entry is None:
            raise WriteFailed("noSuchObject")
        return str(entry["dn"])

    async def reset_password(self, login: str, password: str) -> None:
        """Administrator reset: new unicodePwd, unlocked, pwdLastSet per policy, in one atomic modify that
        carries the policy-hints controls (the domain's history applies where the DC supports them)."""
        import ldap3

        settings = self.settings
        assert isinstance(settings, ActiveDirectorySettings)
        pwd_last_set = "0" if settings.pwd_last_set is PwdLastSet.MUST_CHANGE else "-1"

        def reset(connection: Any) -> None:
            self._modify(
                connection,
                self._dn(connection, login),
                {
                    "unicodePwd": [(ldap3.MODIFY_REPLACE, [unicode_pwd(password)])],
                    "lockoutTime": [(ldap3.MODIFY_REPLACE, ["0"])],
                    "pwdLastSet": [(ldap3.MODIFY_REPLACE, [pwd_last_set])],
                },
                policy_hints_controls(),
            )

        await self.connector.run(reset)

    async def unlock(self, login: str) -> None:
        """Unlock without a new password: lockoutTime = 0."""
        import ldap3

        await self.connector.run(
            lambda connection: self._modify(
                connection, self._dn(connection, login), {"lockoutTime": [(ldap3.MODIFY_REPLACE, ["0"])]}
            )
        )

    def change_required(self, message: str) -> bool:
        """AD refuses the bind of a right password that must change (pwdLastSet = 0) or has expired."""
        return change_required(message)

    async def change_password(self, login: str, old_password: str, new_password: str) -> None:
        """The user's own change: delete the old unicodePwd and add the new one, which AD treats as a user
        change (the domain's history, minimum age and complexity apply; a wrong old password is refused).

        Bound as the user; for an account AD will not let bind until its password is changed (must change
        at next logon, expired), on the service account's connection instead: the delete/add is allowed to
        anyone holding User-Change-Password, which AD grants Everyone, because the old password proves it
        (measured on Samba 4.17: history, minimum age and the old password are checked as for the user).
        """
        import ldap3

        dn = await self.user_dn(login)
        changes = {
            "unicodePwd": [
                (ldap3.MODIFY_DELETE, [unicode_pwd(old_password)]),
                (ldap3.MODIFY_ADD, [unicode_pwd(new_password)]),
            ]
        }

        def as_user() -> bool:
            try:
                connection = self.open_as_user(dn, old_password)
            except PasswordChangeRequired:
                return False
            try:
                self._modify(connection, dn, changes)
            finally:
                connection.unbind()
            return True

        if not await self.connector.run_blocking(as_user):
            await self.connector.run(lambda connection: self._modify(connection, dn, changes))
