"""OpenLDAP with the ppolicy overlay: reset by the password modify extended operation, unlock by
removing pwdAccountLockedTime, lock state from pwdAccountLockedTime and the password policy control.

ppolicy applies its password history (`pwdInHistory`) to the password modify operation of the
service account, as to a user's own change (measured on OpenLDAP 2.5; only the rootdn bypasses
ppolicy, so it must never be the kiosk's service account): a reused password is refused
(`passwordInHistory`, or "Password is in history of old passwords"), `directory_history`.

`pwdAccountLockedTime = 000001010000Z` is ppolicy's "locked by an administrator until unlocked by
one": the kiosk treats that account as disabled, because a self-service unlock would undo an
administrator's decision.
"""

from __future__ import annotations

from typing import Any

from kiosk.services.backend.directory.errors import (
    PPOLICY_ERRORS,
    PasswordRefused,
    WriteFailed,
    is_password_policy_refusal,
    password_rule_from_message,
    ppolicy_error,
)
from kiosk.services.backend.directory.ldap import LdapDirectory

PPOLICY_CONTROL = "1.3.6.1.4.1.42.2.27.8.5.1"
POLICY_SUBENTRY = "pwdPolicySubentry"
"""The password policy assigned to an entry (operational; absent when ppolicy's default governs it)."""
IN_HISTORY = "pwdInHistory"
MAX_POLICIES = 50
"""Password policies read at most when looking for the default one's history."""
ADMIN_LOCK = "000001010000Z"
LOCKED_TIME = "pwdAccountLockedTime"


def _raw_first(entry: dict[str, Any], name: str) -> str:
    raw = entry.get("raw_attributes", {}).get(name) or []
    return bytes(raw[0]).decode("ascii", "replace") if raw else ""


class OpenLdapDirectory(LdapDirectory):
    """The `Directory` protocol over OpenLDAP with ppolicy."""

    user_filter = "(objectClass=person)"

    def state_attributes(self) -> list[str]:
        """pwdAccountLockedTime is operational: it must be asked for by name."""
        return [LOCKED_TIME]

    def entry_state(self, connection: Any, entry: dict[str, Any]) -> tuple[bool, bool]:
        """(enabled, locked): an administrator's permanent lock is 'disabled', any other lock is 'locked'."""
        locked_time = _raw_first(entry, LOCKED_TIME)
        if locked_time == ADMIN_LOCK:
            return False, False
        return True, bool(locked_time)

    async def enforces_history(self, login: str, *, own_change: bool = False) -> bool:
        """True when ppolicy keeps a password history for `login`: `pwdInHistory` > 0 in the policy that
        governs the entry (`pwdPolicySubentry`) or, for the default policy (`ppolicy_default`, in
        cn=config, which the service account cannot read), in every password policy it can see under
        the base DN. Nothing readable, or any of them without history: False (no history rule claimed)."""

        def read(connection: Any) -> bool:
            import ldap3
            import ldap3.core.exceptions as ldap_errors

            entry = self._entry_by_login(connection, login)
            if entry is None:
                return False
            try:
                connection.search(entry["dn"], "(objectClass=*)", search_scope=ldap3.BASE, attributes=[POLICY_SUBENTRY])
                found = [e for e in connection.response if e.get("type") == "searchResEntry"]
                governing = _raw_first(found[0], POLICY_SUBENTRY) if found else ""
                base, scope = (governing, ldap3.BASE) if governing else (self.settings.base_dn, ldap3.SUBTREE)
                connection.search(base, "(objectClass=pwdPolicy)", search_scope=scope, attributes=[IN_HISTORY],
                                  size_limit=MAX_POLICIES)  # fmt: skip
                kept = [_raw_first(e, IN_HISTORY) for e in connection.response if e.get("type") == "searchResEntry"]
            except ldap_errors.LDAPOperationResult:
                return False  # not readable (noSuchObject, insufficientAccessRights, too many): claim nothing
            return bool(kept) and all(value.isdigit() and int(value) > 0 for value in kept)

        return await self.connector.run(read)

    def _write_password(self, connection: Any, dn: str, password: str, old_password: str | None) -> None:
        """The password modify extended operation (RFC 3062) with the ppolicy control; refusals mapped."""
        import ldap3.core.exceptions as ldap_errors

        try:
            connection.extend.standard.modify_password(
                dn, old_password, password, controls=[(PPOLICY_CONTROL, False, None)]
            )
        except ldap_errors.LDAPOperationResult as error:
            result, message = str(error.description or ""), str(error.message or "")
            controls = (connection.result or {}).get("controls") or {}
            code = ppolicy_error((controls.get(PPOLICY_CONTROL) or {}).get("value"))
            if code in PPOLICY_ERRORS:
                raise PasswordRefused(PPOLICY_ERRORS[code]) from None
            if is_password_policy_refusal(result, message):
                raise PasswordRefused(password_rule_from_message(message)) from None
            raise WriteFailed(result) from None

    def _unlock(self, connection: Any, dn: str) -> None:
        import ldap3
        import ldap3.core.exceptions as ldap_errors

        try:
            connection.modify(dn, {LOCKED_TIME: [(ldap3.MODIFY_DELETE, [])]})
        except ldap_errors.LDAPNoSuchAttributeResult:
            return  # not locked (any more): nothing to do
        except ldap_errors.LDAPOperationResult as error:
            raise WriteFailed(str(error.description or "")) from None

    async def reset_password(self, login: str, password: str) -> None:
        """An administrator reset through password modify; a locked account is unlocked too."""

        def reset(connection: Any) -> None:
            entry = self._entry_by_login(connection, login)
            if entry is None:
                raise WriteFailed("noSuchObject")
            self._write_password(connection, entry["dn"], password, None)
            if _raw_first(entry, LOCKED_TIME) not in ("", ADMIN_LOCK):
                self._unlock(connection, entry["dn"])

        await self.connector.run(reset)

    async def unlock(self, login: str) -> None:
        """Remove pwdAccountLockedTime (ppolicy then clears pwdFailureTime itself)."""

        def unlock(connection: Any) -> None:
            entry = self._entry_by_login(connection, login)
            if entry is None:
                raise WriteFailed("noSuchObject")
            if _raw_first(entry, LOCKED_TIME) == ADMIN_LOCK:
                raise WriteFailed("administrator lock")
            self._unlock(connection, entry["dn"])

        await self.connector.run(unlock)

    async def change_password(self, login: str, old_password: str, new_password: str) -> None:
        """The user's own change (password-change flow): bound as the user, with the old password."""
        dn = await self.user_dn(login)

        def change() -> None:
            connection = self.open_as_user(dn, old_password)
            try:
                self._write_password(connection, dn, new_password, old_password)
            finally:
                connection.unbind()

        await self.connector.run_blocking(change)
