"""Where users and their passwords live: the `Directory` protocol and its embedded SQLite implementation.

The Active Directory and OpenLDAP adapters (`active_directory`, `openldap`) implement the same protocol. User ids
are matched case-insensitively against the login name and every alias (UPN, e-mail addresses); an id
that is one user's login and another's alias is refused (`AmbiguousUser`), never guessed. Authenticator
secrets are stored sealed (`SecretBox`, the enrollment store's cipher) and opened as they are read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from kiosk.policy.password import normalize_password
from kiosk.services.api import RegistrationKind
from kiosk.services.backend.directory.errors import AmbiguousUser, WriteFailed, WrongCurrentPassword
from kiosk.services.backend.hashing import Hashing, default_hashing
from kiosk.services.backend.storage.db import Db, Row
from kiosk.services.backend.storage.store import Store, seal_plain_totp_secrets

if TYPE_CHECKING:
    from kiosk.services.backend.directory.enrollment import SecretBox

MAX_HISTORY = 24  # the policy's largest `password.history`; older hashes are dropped


@dataclass(frozen=True, slots=True)
class RegisteredQuestion:
    """A security question a user registered: a predefined id or custom text, and the answer's hash."""

    predefined_id: str | None
    custom_text: str | None
    answer_hash: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class DirectoryUser:
    """What the backend needs to know about one user; secrets are kept out of `repr`."""

    login: str
    display_name: str
    aliases: tuple[str, ...] = ()
    auth_email: str = ""
    alt_email: str = ""
    auth_phone: str = ""
    mobile_phone: str = ""
    office_phone: str = ""
    is_admin: bool = False
    groups: tuple[str, ...] = ()
    enabled: bool = True
    locked: bool = False
    password_managed_on_premises: bool = False
    totp_secret: str = field(default="", repr=False)
    questions: tuple[RegisteredQuestion, ...] = ()
    directory_id: str = ""
    """The directory's immutable id (objectGUID / entryUUID); '' in the embedded directory."""
    confirmed_at: datetime | None = None
    """When the user last registered or reconfirmed their security info at the kiosk; None if never."""
    missing_rights: tuple[str, ...] = ()
    """What a reset or unlock needs that the kiosk's service account may not do on this entry (e.g.
    `write pwdLastSet`), as the directory says; () when nothing is missing or the directory cannot tell."""

    @property
    def emails(self) -> tuple[str, ...]:
        """The user's e-mail addresses for notifications (authentication first, then alternate)."""
        return tuple(address for address in (self.auth_email, self.alt_email) if address)


class Directory(Protocol):
    """The operations the recovery flow needs from a directory."""

    async def find_user(self, user_id: str) -> DirectoryUser | None:
        """The user whose login or alias equals `user_id` (case-insensitively), or None."""
        ...

    async def user_by_login(self, login: str) -> DirectoryUser | None:
        """The user whose login (as `find_user` resolved it) is `login`, or None. Every step after
        identify looks the account up this way: by the login alone, never by aliases, so another
        entry's alias or e-mail that happens to equal it cannot make the lookup ambiguous."""
        ...

    async def administrators(self) -> list[DirectoryUser]:
        """Every administrator account (told when another administrator resets)."""
        ...

    async def all_users(self) -> list[DirectoryUser]:
        """Every user the kiosk could find, sorted by login (the policy simulator's impact report)."""
        ...

    async def is_locked(self, login: str) -> bool:
        """True when the account is locked out."""
        ...

    async def password_recently_used(self, login: str, password: str, history: int) -> bool:
        """True when `password` is the current one or among the last `history` passwords."""
        ...

    async def enforces_history(self, login: str, *, own_change: bool = False) -> bool:
        """True when a recently used password of `login` is refused on reset (`own_change`: on the user's own
        change) by the kiosk's own check or by the directory: only then may the new-password page claim the
        history rule."""
        ...

    async def verify_password(self, login: str, password: str) -> bool:
        """True when `password` is the user's current password."""
        ...

    async def reset_password(self, login: str, password: str) -> None:
        """Set a new password (an administrator reset), which also unlocks the account."""
        ...

    async def unlock(self, login: str) -> None:
        """Unlock the account without changing its password."""
        ...

    async def change_password(self, login: str, old_password: str, new_password: str) -> None:
        """The user's own change from `old_password` (their current one) to `new_password`, under the
        directory's own rules for a user change (Active Directory: history and minimum age); a wrong
        `old_password` raises `WrongCurrentPassword`, a refused new one `PasswordRefused`."""
        ...

    # --- registration (issue 13): only after `machine.may_register`; each write also confirms at `at`

    async def register_questions(
        self, user: DirectoryUser, questions: Sequence[RegisteredQuestion], at: datetime
    ) -> None:
        """Replace the user's security questions (answers already hashed)."""
        ...

    async def register_app(self, user: DirectoryUser, secret: str, at: datetime) -> None:
        """Register (or replace) the user's authenticator app secret."""
        ...

    async def register_contact(
        self, user: DirectoryUser, kind: RegistrationKind, value: str, at: datetime, *, write_to_directory: bool
    ) -> None:
        """Register (or replace) the user's authentication e-mail or phone; `write_to_directory`
        (`registration.write_to_directory`): also into the directory's attribute (`WriteFailed` if refused)."""
        ...

    async def reconfirm(self, user: DirectoryUser, at: datetime) -> None:
        """The user confirmed at `at` that their security info is still up to date."""
        ...


def _user_from_row(row: Row, aliases: list[str], questions: list[Row], box: SecretBox) -> DirectoryUser:
    return DirectoryUser(
        login=row["login"],
        display_name=row["display_name"],
        aliases=tuple(aliases),
        auth_email=row["auth_email"],
        alt_email=row["alt_email"],
        auth_phone=row["auth_phone"],
        mobile_phone=row["mobile_phone"],
        office_phone=row["office_phone"],
        is_admin=bool(row["is_admin"]),
        groups=tuple(json.loads(row["groups_json"])),
        enabled=bool(row["enabled"]),
        locked=bool(row["locked"]),
        password_managed_on_premises=bool(row["on_premises"]),
        totp_secret=box.open(row["totp_secret"]) if row["totp_secret"] else "",
        questions=tuple(RegisteredQuestion(q["predefined_id"], q["custom_text"], q["answer_hash"]) for q in questions),
        confirmed_at=datetime.fromisoformat(row["confirmed_at"]) if row["confirmed_at"] else None,
    )


class EmbeddedDirectory:
    """The directory kept in the backend's own SQLite store (demo and stand-alone kiosks)."""

    def __init__(self, store: Store, box: SecretBox, hashing: Hashing | None = None) -> None:
        self._store = store
        self._box = box
        """Seals the users' authenticator secrets (the enrollment store's cipher; see `factory`)."""
        self._hashing = hashing or default_hashing()
        """Where passwords are hashed and verified: the backend's bounded service (tools: the process's)."""

    def __repr__(self) -> str:
        return "EmbeddedDirectory()"

    @property
    def box(self) -> SecretBox:
        """The cipher its users' secrets are sealed with (the enrollment key): sessions seal with it too."""
        return self._box

    @classmethod
    async def open(cls, store: Store, box: SecretBox, hashing: Hashing | None = None) -> EmbeddedDirectory:
        """The embedded directory of `store`, its users' authenticator secrets sealed with `box`; plain
        secrets a database from before kept are sealed now (`seal_plain_totp_secrets`)."""
        await seal_plain_totp_secrets(store, box.seal, box.is_sealed)
        return cls(store, box, hashing)

    async def find_user(self, user_id: str) -> DirectoryUser | None:
        """The user whose login or alias equals `user_id` (case-insensitively), or None;
        `AmbiguousUser` when it is one user's login and another's alias (never guessed), and for the
        user whose login is another's alias, whichever ID reaches it."""
        key = user_id.strip().casefold()

        def read(db: Db) -> DirectoryUser | None:
            rows = db.execute(
                "SELECT DISTINCT u.* FROM users u LEFT JOIN user_aliases a ON a.login = u.login "
                "WHERE lower(u.login) = ? OR a.alias = ? LIMIT 2",
                (key, key),
            ).fetchall()
            if len(rows) > 1:
                raise AmbiguousUser
            row = rows[0] if rows else None
            login = row["login"] if row is not None else key
            # An account whose login is another account's alias is refused by any ID that reaches it:
            # every later lookup by its login would be ambiguous. (Asked for an unknown ID too: the
            # same queries either way, so the time taken tells nothing.)
            shadowed = "SELECT 1 FROM user_aliases WHERE alias = ? AND login != ? LIMIT 1"
            if db.execute(shadowed, (login.casefold(), login)).fetchone() is not None and row is not None:
                raise AmbiguousUser
            return self._complete(db, row, login)

        return await self._store.call(read)

    async def user_by_login(self, login: str) -> DirectoryUser | None:
        """The user whose login is `login` (case-insensitively), or None; aliases are not searched."""
        key = login.strip().casefold()

        def read(db: Db) -> DirectoryUser | None:
            row = db.execute("SELECT * FROM users WHERE lower(login) = ?", (key,)).fetchone()
            return self._complete(db, row, row["login"] if row is not None else key)

        return await self._store.call(read)

    def _complete(self, db: Db, row: Row | None, login: str) -> DirectoryUser | None:
        """The user of `row` with its aliases and questions; for no row, the same queries, and None
        (an unknown ID must cost what a real one does: see `decoys`)."""
        aliases = [
            r["alias"] for r in db.execute("SELECT alias FROM user_aliases WHERE login = ? ORDER BY alias", (login,))
        ]
        questions = db.execute("SELECT * FROM user_questions WHERE login = ? ORDER BY position", (login,)).fetchall()
        return _user_from_row(row, aliases, questions, self._box) if row is not None else None

    async def all_users(self) -> list[DirectoryUser]:
        """Every user, sorted by login, read in one transaction (three queries, whatever the count)."""

        def read(db: Db) -> list[DirectoryUser]:
            aliases: dict[str, list[str]] = {}
            for row in db.execute("SELECT alias, login FROM user_aliases ORDER BY login, alias"):
                aliases.setdefault(row["login"], []).append(row["alias"])
            questions: dict[str, list[Row]] = {}
            for row in db.execute("SELECT * FROM user_questions ORDER BY login, position"):
                questions.setdefault(row["login"], []).append(row)
            return [
                _user_from_row(row, aliases.get(row["login"], []), questions.get(row["login"], []), self._box)
                for row in db.execute("SELECT * FROM users ORDER BY login")
            ]

        return await self._store.call(read)

    async def list_users(self) -> list[DirectoryUser]:
        """Every user (demo tooling and tests); the same as `all_users`."""
        return await self.all_users()

    async def administrators(self) -> list[DirectoryUser]:
        """Every administrator account (told when another administrator resets)."""
        return [user for user in await self.list_users() if user.is_admin]

    async def is_empty(self) -> bool:
        """True when the directory has no users yet."""
        return await self._store.call(lambda db: db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is None)

    async def add_user(self, user: DirectoryUser, password_hash: str) -> None:
        """Create a user with an already-hashed password (seeding; hashes are never computed here)."""
        await self.add_users([(user, password_hash)])

    async def add_users(self, users: Sequence[tuple[DirectoryUser, str]], *, only_if_empty: bool = False) -> bool:
        """Create users, each with its already-hashed password, in one transaction (all or none); returns
        whether they were added. `only_if_empty` (seeding): only into a directory without users, decided
        in the same transaction, so processes seeding one store at once add them once."""

        def write(db: Db) -> bool:
            if only_if_empty and db.execute("SELECT 1 FROM users LIMIT 1").fetchone() is not None:
                return False
            for user, password_hash in users:
                _insert_user(db, user, password_hash, self._box)
            return True

        return await self._store.call(write)

    async def is_locked(self, login: str) -> bool:
        """True when the account is locked out."""
        row = await self._store.call(
            lambda db: db.execute("SELECT locked FROM users WHERE login = ?", (login,)).fetchone()
        )
        return bool(row and row["locked"])

    async def _hashes(self, login: str) -> tuple[str, list[str]]:
        row = await self._store.call(
            lambda db: db.execute("SELECT password_hash, history_json FROM users WHERE login = ?", (login,)).fetchone()
        )
        if row is None:
            return "", []
        return row["password_hash"], list(json.loads(row["history_json"]))

    async def password_recently_used(self, login: str, password: str, history: int) -> bool:
        """True when `password` is the current one or among the last `history` passwords."""
        if history <= 0:
            return False
        _, hashes = await self._hashes(login)
        return await self._hashing.verify_any(hashes[:history], normalize_password(password))

    async def enforces_history(self, login: str, *, own_change: bool = False) -> bool:
        """Always True: the embedded directory keeps the hashes and checks them itself."""
        return True

    async def verify_password(self, login: str, password: str) -> bool:
        """True when `password` is the user's current password."""
        current, _ = await self._hashes(login)
        return bool(current) and await self._hashing.verify_secret(current, normalize_password(password))

    async def reset_password(self, login: str, password: str) -> None:
        """Set a new password (an administrator reset), which also unlocks the account."""
        new_hash = await self._hashing.hash_secret(normalize_password(password))  # NFC, as it is verified

        def write(db: Db) -> None:
            row = db.execute("SELECT history_json FROM users WHERE login = ?", (login,)).fetchone()
            if row is None:
                raise LookupError("no such user")
            history = [new_hash, *json.loads(row["history_json"])][:MAX_HISTORY]
            db.execute(
                "UPDATE users SET password_hash = ?, history_json = ?, locked = 0 WHERE login = ?",
                (new_hash, json.dumps(history), login),
            )

        await self._store.call(write)

    async def change_password(self, login: str, old_password: str, new_password: str) -> None:
        """The user's own change: `old_password` must be the current one (else `WrongCurrentPassword`);
        the new one is written like a reset (into the history) but leaves the lock state as it is. The
        write happens only if the current hash is still the one checked, so a change racing another
        write finds the old password wrong rather than undoing it."""
        current, _ = await self._hashes(login)
        if not current or not await self._hashing.verify_secret(current, normalize_password(old_password)):
            raise WrongCurrentPassword
        new_hash = await self._hashing.hash_secret(normalize_password(new_password))

        def write(db: Db) -> None:
            row = db.execute("SELECT password_hash, history_json FROM users WHERE login = ?", (login,)).fetchone()
            if row is None or row["password_hash"] != current:
                raise WrongCurrentPassword
            history = [new_hash, *json.loads(row["history_json"])][:MAX_HISTORY]
            db.execute(
                "UPDATE users SET password_hash = ?, history_json = ? WHERE login = ? AND password_hash = ?",
                (new_hash, json.dumps(history), login, current),
            )

        await self._store.call(write)

    async def unlock(self, login: str) -> None:
        """Unlock the account without changing its password."""
        await self._store.call(lambda db: db.execute("UPDATE users SET locked = 0 WHERE login = ?", (login,)))

    # --- registration: the embedded directory is its users' only store, so what they register is kept in
    # its own tables (a registered e-mail or phone IS the authentication attribute), read as reset reads it

    async def _registration(self, login: str, at: datetime, change: Callable[[Db], object] | None = None) -> None:
        """Make one registration change for `login` and mark it confirmed at `at` (one transaction)."""

        def write(db: Db) -> None:
            if db.execute("SELECT 1 FROM users WHERE login = ?", (login,)).fetchone() is None:
                raise WriteFailed("noSuchObject")
            if change is not None:
                change(db)
            db.execute("UPDATE users SET confirmed_at = ? WHERE login = ?", (at.isoformat(), login))

        await self._store.call(write)

    async def register_questions(
        self, user: DirectoryUser, questions: Sequence[RegisteredQuestion], at: datetime
    ) -> None:
        """Replace the user's security questions (answers already hashed)."""
        login = user.login

        def replace(db: Db) -> None:
            db.execute("DELETE FROM user_questions WHERE login = ?", (login,))
            for position, question in enumerate(questions):
                db.execute(
                    "INSERT INTO user_questions (login, position, predefined_id, custom_text, answer_hash) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (login, position, question.predefined_id, question.custom_text, question.answer_hash),
                )

        await self._registration(login, at, replace)

    async def register_app(self, user: DirectoryUser, secret: str, at: datetime) -> None:
        """Register (or replace) the user's authenticator app secret, sealed."""
        token, login = self._box.seal(secret), user.login
        await self._registration(
            login, at, lambda db: db.execute("UPDATE users SET totp_secret = ? WHERE login = ?", (token, login))
        )

    async def register_contact(
        self, user: DirectoryUser, kind: RegistrationKind, value: str, at: datetime, *, write_to_directory: bool
    ) -> None:
        """Register (or replace) the user's authentication e-mail or phone: here the directory's attribute
        itself (`write_to_directory` changes nothing)."""
        login = user.login
        statement = (
            "UPDATE users SET auth_email = ? WHERE login = ?"
            if kind is RegistrationKind.EMAIL
            else "UPDATE users SET auth_phone = ? WHERE login = ?"
        )
        await self._registration(login, at, lambda db: db.execute(statement, (value, login)))

    async def reconfirm(self, user: DirectoryUser, at: datetime) -> None:
        """The user confirmed at `at` that their security info is still up to date."""
        await self._registration(user.login, at)

    async def set_locked(self, login: str, locked: bool) -> None:
        """Lock or unlock an account (tests and demo tooling; real lockouts come from sign-in failures)."""
        await self._store.call(
            lambda db: db.execute("UPDATE users SET locked = ? WHERE login = ?", (int(locked), login))
        )


def _insert_user(db: Db, user: DirectoryUser, password_hash: str, box: SecretBox) -> None:
    """Insert one user with its aliases and registered questions (inside the caller's transaction); the
    authenticator secret is stored sealed."""
    db.execute(
        "INSERT INTO users (login, display_name, auth_email, alt_email, auth_phone, mobile_phone, "
        "office_phone, is_admin, groups_json, enabled, locked, on_premises, password_hash, history_json, "
        "totp_secret, confirmed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            user.login, user.display_name, user.auth_email, user.alt_email, user.auth_phone,
            user.mobile_phone, user.office_phone, int(user.is_admin), json.dumps(list(user.groups)),
            int(user.enabled), int(user.locked), int(user.password_managed_on_premises), password_hash,
            json.dumps([password_hash]), box.seal(user.totp_secret) if user.totp_secret else "",
            user.confirmed_at.isoformat() if user.confirmed_at else "",
        ),
    )  # fmt: skip
    for alias in user.aliases:
        db.execute("INSERT INTO user_aliases (alias, login) VALUES (?, ?)", (alias.casefold(), user.login))
    for position, question in enumerate(user.questions):
        db.execute(
            "INSERT INTO user_questions (login, position, predefined_id, custom_text, answer_hash) "
            "VALUES (?, ?, ?, ?, ?)",
            (user.login, position, question.predefined_id, question.custom_text, question.answer_hash),
        )
