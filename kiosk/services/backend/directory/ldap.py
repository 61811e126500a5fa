"""What Active Directory and OpenLDAP share: finding a user safely, reading SPEC §3 data, nested groups.

A typed user ID only ever becomes an RFC 4515-escaped filter value, never part of a DN. A user ID
that matches two entries is refused (`AmbiguousUser`), never guessed. Group membership is followed
upwards through nested groups by member DN (AD and OpenLDAP both keep `member`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from kiosk.services.api import RegistrationKind
from kiosk.services.backend.directory.embedded import DirectoryUser, RegisteredQuestion
from kiosk.services.backend.directory.enrollment import Enrollment
from kiosk.services.backend.directory.errors import (
    AmbiguousUser,
    PasswordChangeRequired,
    WriteFailed,
    WrongCurrentPassword,
)
from kiosk.services.backend.directory.ldap_connection import LdapConnector

MAX_USER_ID = 256
MAX_GROUP_DEPTH = 8
PAGE_SIZE = 500
"""Entries a page of `all_users`' paged search (below Active Directory's default MaxPageSize of 1000)."""


def escape_filter_value(value: str) -> str:
    """Escape a value for an LDAP filter (RFC 4515): `*`, `(`, `)`, `\\` and NUL become `\\xx`."""
    from ldap3.utils.conv import escape_filter_chars

    return str(escape_filter_chars(value))


def has_control_character(value: str) -> bool:
    """True when `value` holds a C0/C1 control character (NUL included).

    The API refuses those already; checked again here because Samba AD matches an escaped NUL as the
    end of the value (measured: `(sAMAccountName=alice\\00)` finds alice), so `alice<NUL>` would be alice.
    """
    return any(ord(character) < 0x20 or 0x7F <= ord(character) <= 0x9F for character in value)


def first_value(attributes: dict[str, Any], name: str) -> str:
    """The first value of an attribute as text ('' when absent or not configured)."""
    if not name:
        return ""
    value = attributes.get(name)
    if isinstance(value, list | tuple):
        value = value[0] if value else ""
    return "" if value is None else str(value)


class LdapDirectory:
    """The shared part of the LDAP adapters; subclasses add lock state, enabled state and the writes."""

    user_filter = "(objectClass=person)"
    group_filter = "(|(objectClass=groupOfNames)(objectClass=groupOfUniqueNames))"
    member_attributes: tuple[str, ...] = ("member", "uniqueMember")

    def __init__(self, connector: LdapConnector, enrollment: Enrollment) -> None:
        self.connector = connector
        self.settings = connector.settings
        self.attributes = connector.settings.attributes
        self.enrollment = enrollment
        """Registered questions and app secrets, keyed by the immutable id."""

    # --- reading ---------------------------------------------------------------------------------

    def _user_attributes(self) -> list[str]:
        names = self.attributes
        wanted = [names.login, names.display_name, names.immutable_id, names.auth_email, names.alt_email,
                  names.auth_phone, names.mobile_phone, names.office_phone, *names.user_id]  # fmt: skip
        return sorted({name for name in wanted if name} | set(self.state_attributes()))

    def state_attributes(self) -> list[str]:
        """Attributes the subclass needs for `enabled` and `locked`."""
        return []

    def user_search_base(self) -> str:
        """Where users are searched."""
        return self.settings.user_search_base or self.settings.base_dn

    def _search_users(self, connection: Any, condition: str) -> list[dict[str, Any]]:
        import ldap3

        connection.search(
            self.user_search_base(),
            f"(&{self.user_filter}{condition})",
            search_scope=ldap3.SUBTREE,
            attributes=self._user_attributes(),
            size_limit=3,
        )
        return [entry for entry in connection.response if entry.get("type") == "searchResEntry"]

    def identifier_condition(self, connection: Any, user_id: str) -> str | None:
        """The filter condition a typed `user_id` stands for (every `user_id` attribute equal to it);
        None when it can find nobody. Active Directory adds the Windows sign-in forms."""
        value = escape_filter_value(user_id)
        return "(|" + "".join(f"({name}={value})" for name in self.attributes.user_id) + ")"

    def _find_entry(self, connection: Any, user_id: str) -> dict[str, Any] | None:
        """The one entry whose identifier attributes equal `user_id`; `AmbiguousUser` for two or more."""
        condition = self.identifier_condition(connection, user_id)
        if condition is None:
            return None
        entries = self._search_users(connection, condition)
        if len(entries) > 1:
            raise AmbiguousUser
        return entries[0] if entries else None

    def _entry_by_login(self, connection: Any, login: str) -> dict[str, Any] | None:
        entries = self._search_users(connection, f"({self.attributes.login}={escape_filter_value(login)})")
        if len(entries) > 1:
            raise AmbiguousUser
        return entries[0] if entries else None

    def immutable_id(self, entry: dict[str, Any]) -> str:
        """The entry's immutable id as text (objectGUID arrives as 16 little-endian bytes)."""
        raw = entry.get("raw_attributes", {}).get(self.attributes.immutable_id) or [b""]
        value = raw[0]
        if len(value) == 16 and self.attributes.immutable_id.casefold() == "objectguid":
            return str(uuid.UUID(bytes_le=bytes(value)))
        return bytes(value).decode("utf-8", "replace")

    def groups_of(self, connection: Any, dn: str) -> list[tuple[str, str]]:
        """(DN, name) of every group `dn` is a member of, nested groups included."""
        import ldap3

        found: dict[str, str] = {}
        frontier = [dn]
        for _ in range(MAX_GROUP_DEPTH):
            if not frontier:
                break
            members = "".join(
                f"({attribute}={escape_filter_value(member)})"
                for member in frontier
                for attribute in self.member_attributes
            )
            connection.search(
                self.settings.group_search_base or self.settings.base_dn,
                f"(&{self.group_filter}(|{members}))",
                search_scope=ldap3.SUBTREE,
                attributes=[self.attributes.group_name],
            )
            frontier = []
            for entry in connection.response:
                if entry.get("type") != "searchResEntry" or entry["dn"].casefold() in found:
                    continue
                found[entry["dn"].casefold()] = first_value(entry["attributes"], self.attributes.group_name)
                frontier.append(entry["dn"])
        return [(group_dn, name) for group_dn, name in found.items()]

    def entry_state(self, connection: Any, entry: dict[str, Any]) -> tuple[bool, bool]:
        """(enabled, locked) of a user entry."""
        raise NotImplementedError

    def missing_rights(self, connection: Any, entry: dict[str, Any]) -> tuple[str, ...]:
        """What a reset or unlock of `entry` needs that the service account may not do (none known here)."""
        return ()

    def _user(self, connection: Any, entry: dict[str, Any]) -> tuple[DirectoryUser, str]:
        attributes, names = entry["attributes"], self.attributes
        group_names = tuple(name for _, name in self.groups_of(connection, entry["dn"]) if name)
        admin_groups = {group.casefold() for group in self.settings.admin_groups}
        enabled, locked = self.entry_state(connection, entry)
        values = (first_value(attributes, name) for name in names.user_id)
        aliases = tuple(dict.fromkeys(value for value in values if value))
        login = first_value(attributes, names.login) or entry["dn"]
        user = DirectoryUser(
            login=login,
            display_name=first_value(attributes, names.display_name) or login,
            aliases=aliases,
            auth_email=first_value(attributes, names.auth_email),
            alt_email=first_value(attributes, names.alt_email),
            auth_phone=first_value(attributes, names.auth_phone),
            mobile_phone=first_value(attributes, names.mobile_phone),
            office_phone=first_value(attributes, names.office_phone),
            is_admin=any(group.casefold() in admin_groups for group in group_names),
            groups=group_names,
            enabled=enabled,
            locked=locked,
            password_managed_on_premises=True,
            directory_id=self.immutable_id(entry),
            missing_rights=self.missing_rights(connection, entry),
        )
        return user, entry["dn"]

    async def _with_enrollment(self, user: DirectoryUser | None) -> DirectoryUser | None:
        """The user with what they registered at the kiosk: a registered e-mail or phone wins over the
        directory's attribute (the user confirmed it by a code; the attribute may be stale)."""
        if user is None:
            return None
        enrolled = await self.enrollment.read(user.directory_id)
        from dataclasses import replace

        return replace(
            user,
            questions=enrolled.questions,
            totp_secret=enrolled.totp_secret,
            auth_email=enrolled.email or user.auth_email,
            auth_phone=enrolled.phone or user.auth_phone,
            confirmed_at=enrolled.confirmed_at,
        )

    async def find_user(self, user_id: str) -> DirectoryUser | None:
        """The one user whose UPN, account name or e-mail equals `user_id`; None, or `AmbiguousUser`."""
        user_id = user_id.strip()
        if not user_id or len(user_id) > MAX_USER_ID or has_control_character(user_id):
            return None

        def find(connection: Any) -> DirectoryUser | None:
            entry = self._find_entry(connection, user_id)
            return self._user(connection, entry)[0] if entry else None

        return await self._with_enrollment(await self.connector.run(find))

    async def user_by_login(self, login: str) -> DirectoryUser | None:
        """The user whose login attribute (sAMAccountName / uid) is `login`, or None; UPN and e-mail
        are not searched, so another entry's address equal to this login cannot make it ambiguous."""
        if not login or len(login) > MAX_USER_ID:
            return None

        def find(connection: Any) -> DirectoryUser | None:
            entry = self._entry_by_login(connection, login)
            return self._user(connection, entry)[0] if entry else None

        return await self._with_enrollment(await self.connector.run(find))

    async def all_users(self) -> list[DirectoryUser]:
        """Every entry the user filter matches under the user search base, sorted by login.

        A paged search (RFC 2696, `PAGE_SIZE` entries a page), so a directory's size limit (Active
        Directory's MaxPageSize is 1000) never cuts the list short. Each user is then read exactly as
        `find_user` reads one (nested groups, enabled and locked state, registrations), which costs a
        few searches per user: this is for administrators' tools, never for a kiosk request.
        """

        def read(connection: Any) -> list[DirectoryUser]:
            import ldap3

            # Collected first: the paged search's generator must finish before other searches run
            # on the same connection (each search replaces `connection.response`).
            entries = [
                entry
                for entry in connection.extend.standard.paged_search(
                    self.user_search_base(),
                    self.user_filter,
                    search_scope=ldap3.SUBTREE,
                    attributes=self._user_attributes(),
                    paged_size=PAGE_SIZE,
                    generator=True,
                )
                if entry.get("type") == "searchResEntry"
            ]
            return [self._user(connection, entry)[0] for entry in entries]

        users = await self.connector.run(read)
        enrolled = [await self._with_enrollment(user) for user in users]
        return sorted((user for user in enrolled if user is not None), key=lambda user: user.login.casefold())

    async def user_dn(self, login: str) -> str:
        """The DN of the account `login` (read from the directory, never built)."""

        def find(connection: Any) -> str:
            entry = self._entry_by_login(connection, login)
            if entry is None:
                raise LookupError("the account is no longer in the directory")
            return str(entry["dn"])

        return await self.connector.run(find)

    async def administrators(self) -> list[DirectoryUser]:
        """Every member (nested too) of the configured administrator groups."""
        if not self.settings.admin_groups:
            return []

        def members(connection: Any) -> list[DirectoryUser]:
            import ldap3

            attribute = self.attributes.group_name
            names = "".join(f"({attribute}={escape_filter_value(group)})" for group in self.settings.admin_groups)
            connection.search(self.settings.group_search_base or self.settings.base_dn,
                              f"(&{self.group_filter}(|{names}))", search_scope=ldap3.SUBTREE,
                              attributes=list(self.member_attributes))  # fmt: skip
            seen: set[str] = set()
            frontier = [e["dn"] for e in connection.response if e.get("type") == "searchResEntry"]
            users: list[DirectoryUser] = []
            while frontier and len(seen) < 10_000:
                dn = frontier.pop()
                if dn.casefold() in seen:
                    continue
                seen.add(dn.casefold())
                connection.search(dn, self.group_filter, search_scope=ldap3.BASE,
                                  attributes=list(self.member_attributes))  # fmt: skip
                groups = [e for e in connection.response if e.get("type") == "searchResEntry"]
                if groups:
                    for attribute in self.member_attributes:
                        frontier.extend(groups[0]["attributes"].get(attribute, []))
                    continue
                connection.search(dn, self.user_filter, search_scope=ldap3.BASE, attributes=self._user_attributes())
                entries = [e for e in connection.response if e.get("type") == "searchResEntry"]
                users.extend(self._user(connection, entry)[0] for entry in entries)
            return [user for user in users if user.is_admin]

        return await self.connector.run(members)

    async def is_locked(self, login: str) -> bool:
        """True when the account is locked out (read from the directory now)."""

        def read(connection: Any) -> bool:
            entry = self._entry_by_login(connection, login)
            return entry is not None and self.entry_state(connection, entry)[1]

        return await self.connector.run(read)

    async def password_recently_used(self, login: str, password: str, history: int) -> bool:
        """Always False: the directory enforces its own history (where `enforces_history`) and says so
        when it refuses."""
        return False

    async def enforces_history(self, login: str, *, own_change: bool = False) -> bool:
        """True when the directory itself refuses a recently used password on the kiosk's reset of `login`
        (`own_change`: on the user's own change)."""
        raise NotImplementedError

    def change_required(self, message: str) -> bool:
        """True when a refused user bind's diagnostic message says the password was right but must be
        changed first (Active Directory's must-change and expired accounts); never, by default."""
        return False

    def open_as_user(self, dn: str, password: str) -> Any:
        """A connection bound as the user (blocking); a wrong password raises WrongCurrentPassword, a
        right one the directory will not let sign in until it is changed `PasswordChangeRequired`."""
        import ldap3.core.exceptions as ldap_errors

        try:
            return self.connector.open_connection(dn, password)
        except ldap_errors.LDAPInvalidCredentialsResult as refused:
            if self.change_required(str(refused.message or "")):
                raise PasswordChangeRequired from None
            raise WrongCurrentPassword from None

    async def verify_password(self, login: str, password: str) -> bool:
        """True when `password` is the user's current one: a bind as the user with it succeeds, or is
        refused only because the password must be changed (it is right: the user may change it)."""
        dn = await self.user_dn(login)

        def bind() -> bool:
            try:
                self.open_as_user(dn, password).unbind()
            except WrongCurrentPassword:
                return False
            except PasswordChangeRequired:
                return True
            return True

        return await self.connector.run_blocking(bind)

    async def reset_password(self, login: str, password: str) -> None:
        """Set a new password (an administrator reset), which also unlocks the account."""
        raise NotImplementedError

    async def unlock(self, login: str) -> None:
        """Unlock the account without changing its password."""
        raise NotImplementedError

    async def change_password(self, login: str, old_password: str, new_password: str) -> None:
        """The user's own password change (bound as the user)."""
        raise NotImplementedError

    # --- registration: kept in the enrollment store under the immutable id (`_with_enrollment` reads it)

    @staticmethod
    def _registered_id(user: DirectoryUser) -> str:
        """The key of the user's registration; an entry without an immutable id cannot register (every
        such user would share one registration)."""
        if not user.directory_id:
            raise WriteFailed("no_immutable_id")
        return user.directory_id

    async def register_questions(
        self, user: DirectoryUser, questions: Sequence[RegisteredQuestion], at: datetime
    ) -> None:
        """Replace the user's security questions (answers already hashed)."""
        await self.enrollment.set_questions(self._registered_id(user), questions, confirmed_at=at)

    async def register_app(self, user: DirectoryUser, secret: str, at: datetime) -> None:
        """Register (or replace) the user's authenticator app secret (sealed in the enrollment store)."""
        await self.enrollment.set_totp_secret(self._registered_id(user), secret, confirmed_at=at)

    async def register_contact(
        self, user: DirectoryUser, kind: RegistrationKind, value: str, at: datetime, *, write_to_directory: bool
    ) -> None:
        """Register (or replace) the user's authentication e-mail or phone in the enrollment store; with
        `write_to_directory`, first into the policy's attribute too (nothing is stored if that is refused)."""
        key = self._registered_id(user)
        if write_to_directory:
            await self._write_contact_attribute(user.login, kind, value)
        await self.enrollment.set_contact(key, kind, value, confirmed_at=at)

    async def _write_contact_attribute(self, login: str, kind: RegistrationKind, value: str) -> None:
        """Replace `directory.attributes.auth_email` / `auth_phone` of the entry, as the service account;
        `WriteFailed(no_attribute)` when the policy names none, else the directory's result name."""
        name = self.attributes.auth_email if kind is RegistrationKind.EMAIL else self.attributes.auth_phone
        if not name:
            raise WriteFailed("no_attribute")

        def write(connection: Any) -> None:
            import ldap3
            import ldap3.core.exceptions as ldap_errors

            entry = self._entry_by_login(connection, login)
            if entry is None:
                raise WriteFailed("noSuchObject")
            try:
                connection.modify(entry["dn"], {name: [(ldap3.MODIFY_REPLACE, [value])]})
            except ldap_errors.LDAPOperationResult as error:
                raise WriteFailed(str(error.description or "")) from None

        await self.connector.run(write)

    async def reconfirm(self, user: DirectoryUser, at: datetime) -> None:
        """The user confirmed at `at` that their security info is still up to date."""
        await self.enrollment.confirm(self._registered_id(user), at)

    async def close(self) -> None:
        """Close the directory's connections."""
        await self.connector.close()
