"""Active Directory: an administrator reset writes unicodePwd, lockoutTime and pwdLastSet in one modify.

One modify request is atomic in AD, so a refused password (0000052D) leaves the lock state and
pwdLastSet untouched too. Lock state comes from msDS-User-Account-Control-Computed (bit 0x10),
which accounts for lockout expiry, unlike lockoutTime; it is a constructed attribute, so it is read
with a base-scope search of the user's entry.
"""

from __future__ import annotations

from typing import Any

from kiosk.policy.directory_schema import ActiveDirectorySettings, PwdLastSet
from kiosk.services.backend.directory.errors import (
    PasswordRefused,
    WriteFailed,
    is_password_policy_refusal,
    password_rule_from_message,
)
from kiosk.services.backend.directory.ldap import LdapDirectory

ACCOUNT_DISABLE = 0x2
UF_LOCKOUT = 0x10
COMPUTED_UAC = "msDS-User-Account-Control-Computed"


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
    """Map a failed password write: a policy refusal with its reason, else a plain write failure."""
    result, message = str(error.description or ""), str(error.message or "")
    if is_password_policy_refusal(result, message):
        raise PasswordRefused(password_rule_from_message(message)) from None
    raise WriteFailed(result) from None


class ActiveDirectoryDirectory(LdapDirectory):
    """The `Directory` protocol over Active Directory (or Samba AD)."""

    user_filter = "(&(objectCategory=person)(objectClass=user))"
    group_filter = "(objectClass=group)"
    member_attributes = ("member",)

    def state_attributes(self) -> list[str]:
        """userAccountControl says whether the account is disabled."""
        return ["userAccountControl"]

    def entry_state(self, connection: Any, entry: dict[str, Any]) -> tuple[bool, bool]:
        """(enabled, locked) from userAccountControl and the computed lockout bit."""
        import ldap3

        enabled = not _int_value(entry["attributes"], "userAccountControl") & ACCOUNT_DISABLE
        connection.search(entry["dn"], "(objectClass=*)", search_scope=ldap3.BASE, attributes=[COMPUTED_UAC])
        found = [e for e in connection.response if e.get("type") == "searchResEntry"]
        locked = bool(found) and bool(_int_value(found[0]["attributes"], COMPUTED_UAC) & UF_LOCKOUT)
        return enabled, locked

    def _modify(self, connection: Any, dn: str, changes: dict[str, Any]) -> None:
        import ldap3.core.exceptions as ldap_errors

        try:
            connection.modify(dn, changes)
        except ldap_errors.LDAPOperationResult as error:
            _raise_write_error(error)

    def _dn(self, connection: Any, login: str) -> str:
        entry = self._entry_by_login(connection, login)
        if entry is None:
            raise WriteFailed("noSuchObject")
        return str(entry["dn"])

    async def reset_password(self, login: str, password: str) -> None:
        """Administrator reset: new unicodePwd, unlocked, pwdLastSet per policy, in one atomic modify."""
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

    async def change_password(self, login: str, old_password: str, new_password: str) -> None:
        """The user's own change: bound as the user, delete the old unicodePwd and add the new one."""
        import ldap3

        dn = await self.user_dn(login)

        def change() -> None:
            connection = self.open_as_user(dn, old_password)
            try:
                self._modify(
                    connection,
                    dn,
                    {
                        "unicodePwd": [
                            (ldap3.MODIFY_DELETE, [unicode_pwd(old_password)]),
                            (ldap3.MODIFY_ADD, [unicode_pwd(new_password)]),
                        ]
                    },
                )
            finally:
                connection.unbind()

        await self.connector.run_blocking(change)
