"""Seeding the embedded directory with the demo users of `resources/demo/directory.toml`.

The file carries precomputed argon2 hashes (start-up stays instant); TOTP secrets are generated
here, at seed time, so no secret is ever in the repository.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import pyotp
from pydantic import BaseModel, ConfigDict, Field

from kiosk import locations
from kiosk.services.backend.directory.embedded import DirectoryUser, EmbeddedDirectory, RegisteredQuestion

DEMO_DIRECTORY = locations.RESOURCES / "demo" / "directory.toml"
"""Where the demo directory lives: the checkout's `resources/`, or the frozen bundle's copy (kiosk.locations)."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DemoQuestion(_Strict):
    """A registered question of a demo user."""

    predefined_id: str | None = None
    custom_text: str | None = None
    answer_hash: Annotated[str, Field(pattern=r"^\$argon2id\$")]


class DemoUser(_Strict):
    """One demo user as written in the seed file."""

    login: Annotated[str, Field(min_length=1, max_length=64)]
    display_name: str
    groups: tuple[str, ...] = ()
    is_admin: bool = False
    enabled: bool = True
    locked: bool = False
    password_managed_on_premises: bool = False
    auth_email: str = ""
    alt_email: str = ""
    auth_phone: str = ""
    mobile_phone: str = ""
    office_phone: str = ""
    authenticator: bool = False
    questions: tuple[DemoQuestion, ...] = ()


class DemoDirectory(_Strict):
    """The whole seed file."""

    password_hash: Annotated[str, Field(pattern=r"^\$argon2id\$")]
    alias_domain: str = ""
    users: tuple[DemoUser, ...]


def load_demo_directory(path: Path = DEMO_DIRECTORY) -> DemoDirectory:
    """Read and validate the seed file."""
    with path.open("rb") as file:
        return DemoDirectory.model_validate(tomllib.load(file))


def to_directory_user(demo: DemoUser, alias_domain: str, confirmed_at: datetime | None = None) -> DirectoryUser:
    """The directory record of a demo user (with a fresh TOTP secret if it has the app), its security info
    confirmed at `confirmed_at`."""
    aliases = [f"{demo.login}@{alias_domain}"] if alias_domain else []
    aliases += [address for address in (demo.auth_email,) if address and address not in aliases]
    return DirectoryUser(
        login=demo.login,
        display_name=demo.display_name,
        aliases=tuple(aliases),
        auth_email=demo.auth_email,
        alt_email=demo.alt_email,
        auth_phone=demo.auth_phone,
        mobile_phone=demo.mobile_phone,
        office_phone=demo.office_phone,
        is_admin=demo.is_admin,
        groups=demo.groups,
        enabled=demo.enabled,
        locked=demo.locked,
        password_managed_on_premises=demo.password_managed_on_premises,
        totp_secret=pyotp.random_base32() if demo.authenticator else "",
        questions=tuple(RegisteredQuestion(q.predefined_id, q.custom_text, q.answer_hash) for q in demo.questions),
        confirmed_at=confirmed_at,
    )


async def seed_demo_users(
    directory: EmbeddedDirectory, path: Path = DEMO_DIRECTORY, *, confirmed_at: datetime | None = None
) -> int:
    """Add the demo users to `directory` if it has no users yet; returns how many were added (0: it had some).

    Their seeded security info counts as confirmed at `confirmed_at` (default: now), so a demo reset ends
    as it always has instead of asking "is this still up to date?" (`registration.reconfirm_days`).

    The emptiness check and the inserts are one transaction: the worker processes of a `kiosk serve`
    (or replicas) starting together on one fresh store seed it once, and none of them fails.
    """
    demo = load_demo_directory(path)
    # One transaction for all of them: a commit per user was one disk sync per user on every start.
    confirmed = confirmed_at or datetime.now(UTC)
    users = [(to_directory_user(user, demo.alias_domain, confirmed), demo.password_hash) for user in demo.users]
    return len(users) if await directory.add_users(users, only_if_empty=True) else 0
