"""Verification data a directory cannot hold, kept in the backend's own store, keyed by the immutable id.

Security question answers are stored only as salted slow hashes (as in the embedded directory);
authenticator app (TOTP) secrets must be readable to check codes, so they are Fernet-encrypted with
a key from the OS keyring (`SecretBox`, the one cipher the embedded directory uses for its users'
secrets too), and so are registered authentication e-mails and phones (personal data). Keys are
objectGUID / entryUUID, so a renamed account keeps its data; when the user last registered or
reconfirmed is kept beside them (`registration.reconfirm_days`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from cryptography.fernet import Fernet, InvalidToken

from kiosk.services.api import RegistrationKind
from kiosk.services.backend.directory.embedded import RegisteredQuestion
from kiosk.services.backend.storage.db import Db, Row
from kiosk.services.backend.storage.store import Store

SEALED_PREFIX = "gAAAAA"
"""How every Fernet token starts (version byte 0x80, then the timestamp's high bytes): a base32 TOTP
secret (A–Z, 2–7) never does, so a sealed secret is told from a plain one without decrypting it."""


class SecretBox:
    """Seals authenticator app secrets for storage (Fernet: AES-128-CBC and HMAC-SHA256) and opens them."""

    def __init__(self, key: bytes) -> None:
        self._fernet = Fernet(key)

    def __repr__(self) -> str:
        return "SecretBox()"  # never the key

    def seal(self, secret: str) -> str:
        """The stored form of `secret`: a Fernet token (text)."""
        return self._fernet.encrypt(secret.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        """The secret in `token`; '' when it was sealed with another key (as good as not registered)."""
        try:
            return self._fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeError):
            return ""

    @staticmethod
    def is_sealed(value: str) -> bool:
        """True when `value` is a sealed token, False for a plain secret (a database from before)."""
        return value.startswith(SEALED_PREFIX)


KEY_CHECK = "enrollment-key-check"
"""The `backend_keys` row that tells which enrollment key sealed this store's secrets."""
_KEY_CHECK_TEXT = "kiosk enrollment key check v1"


async def key_matches_store(store: Store, box: SecretBox) -> bool:
    """Whether `box` holds the key this store's secrets are sealed with; a store records the first key
    it meets. Replicas of one store must share the key: one with another key would read every
    registered authenticator app as not registered, and seal new secrets the others cannot open."""
    mark = box.seal(_KEY_CHECK_TEXT)

    def work(db: Db) -> str:
        db.execute(
            "INSERT INTO backend_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
            (KEY_CHECK, mark.encode("ascii")),
        )
        row = db.execute("SELECT value FROM backend_keys WHERE name = ?", (KEY_CHECK,)).fetchone()
        return bytes(row[0]).decode("ascii")

    return box.open(await store.call(work)) == _KEY_CHECK_TEXT


@dataclass(frozen=True, slots=True)
class Enrolled:
    """One user's registered security info: questions, (decrypted) TOTP secret, authentication e-mail and
    phone (decrypted), and when it was last registered or reconfirmed."""

    questions: tuple[RegisteredQuestion, ...] = ()
    totp_secret: str = field(default="", repr=False)
    email: str = field(default="", repr=False)
    phone: str = field(default="", repr=False)
    confirmed_at: datetime | None = None


_CONTACT_COLUMNS = {RegistrationKind.EMAIL: "email_token", RegistrationKind.PHONE: "phone_token"}
"""The `enrolled_profiles` column of each contact kind (fixed names: never built from input)."""


def _confirm(db: Db, directory_id: str, at: datetime) -> None:
    """Record that the user's security info was registered or reconfirmed at `at` (caller's transaction)."""
    db.execute(
        "INSERT INTO enrolled_profiles (directory_id, confirmed_at) VALUES (?, ?) "
        "ON CONFLICT (directory_id) DO UPDATE SET confirmed_at = excluded.confirmed_at",
        (directory_id, at.isoformat()),
    )


def _required(directory_id: str) -> str:
    """A write needs the immutable id: under '' every user without one would share one registration."""
    if not directory_id:
        raise ValueError("a registration needs the user's immutable directory id")
    return directory_id


class Enrollment:
    """Registered questions, encrypted TOTP secrets and contacts, and confirmation dates of directory users."""

    def __init__(self, store: Store, key: bytes) -> None:
        self._store = store
        self._box = SecretBox(key)

    def __repr__(self) -> str:
        return "Enrollment()"  # never the key

    @classmethod
    async def open(cls, store: Store, key: bytes) -> Enrollment:
        """The enrollment store over `store` (its tables are part of the schema: `storage.migrations`)."""
        return cls(store, key)

    async def read(self, directory_id: str) -> Enrolled:
        """What the user with this immutable id registered (nothing when the id is empty)."""
        if not directory_id:
            return Enrolled()

        def read(db: Db) -> tuple[list[Row], Row | None, Row | None]:
            questions = db.execute(
                "SELECT * FROM enrolled_questions WHERE directory_id = ? ORDER BY position", (directory_id,)
            ).fetchall()
            totp = db.execute("SELECT secret_token FROM enrolled_totp WHERE directory_id = ?", (directory_id,))
            totp_row = totp.fetchone()
            profile = db.execute("SELECT * FROM enrolled_profiles WHERE directory_id = ?", (directory_id,))
            return questions, totp_row, profile.fetchone()

        rows, totp, profile = await self._store.call(read)
        secret = self._box.open(totp["secret_token"]) if totp is not None else ""
        questions = tuple(RegisteredQuestion(r["predefined_id"], r["custom_text"], r["answer_hash"]) for r in rows)
        if profile is None:
            return Enrolled(questions, secret)
        return Enrolled(
            questions,
            secret,
            email=self._box.open(profile["email_token"]) if profile["email_token"] else "",
            phone=self._box.open(profile["phone_token"]) if profile["phone_token"] else "",
            confirmed_at=datetime.fromisoformat(profile["confirmed_at"]) if profile["confirmed_at"] else None,
        )

    async def set_questions(
        self, directory_id: str, questions: Sequence[RegisteredQuestion], *, confirmed_at: datetime | None = None
    ) -> None:
        """Replace the user's registered questions (answers already hashed); with `confirmed_at`, the
        registration counts as confirmed then (same transaction)."""
        _required(directory_id)

        def write(db: Db) -> None:
            db.execute("DELETE FROM enrolled_questions WHERE directory_id = ?", (directory_id,))
            for position, question in enumerate(questions):
                db.execute(
                    "INSERT INTO enrolled_questions (directory_id, position, predefined_id, custom_text, answer_hash) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (directory_id, position, question.predefined_id, question.custom_text, question.answer_hash),
                )
            if confirmed_at is not None:
                _confirm(db, directory_id, confirmed_at)

        await self._store.call(write)

    async def set_totp_secret(self, directory_id: str, secret: str, *, confirmed_at: datetime | None = None) -> None:
        """Register (or replace) the user's authenticator app secret, encrypted at rest."""
        _required(directory_id)
        token = self._box.seal(secret)

        def write(db: Db) -> None:
            db.execute(
                "INSERT INTO enrolled_totp (directory_id, secret_token) VALUES (?, ?) "
                "ON CONFLICT(directory_id) DO UPDATE SET secret_token = excluded.secret_token",
                (directory_id, token),
            )
            if confirmed_at is not None:
                _confirm(db, directory_id, confirmed_at)

        await self._store.call(write)

    async def set_contact(
        self, directory_id: str, kind: RegistrationKind, value: str, *, confirmed_at: datetime
    ) -> None:
        """Register (or replace) the user's authentication e-mail or phone, sealed at rest."""
        _required(directory_id)
        column = _CONTACT_COLUMNS[kind]
        token = self._box.seal(value)

        def write(db: Db) -> None:
            db.execute(
                f"INSERT INTO enrolled_profiles (directory_id, {column}, confirmed_at) VALUES (?, ?, ?) "  # noqa: S608 - a fixed column name
                f"ON CONFLICT (directory_id) DO UPDATE SET {column} = excluded.{column}, "
                "confirmed_at = excluded.confirmed_at",
                (directory_id, token, confirmed_at.isoformat()),
            )

        await self._store.call(write)

    async def confirm(self, directory_id: str, at: datetime) -> None:
        """The user confirmed their security info is still up to date at `at`."""
        _required(directory_id)
        await self._store.call(lambda db: _confirm(db, directory_id, at))
