"""Nothing secret leaves where it belongs: no answer, code, contact or app secret in the audit or the
log; the pending contact and app secret sealed in the session's stored state; contacts sealed in the
enrollment store (personal data), readable only with its key; migration 6 counts old registrations as
confirmed at the upgrade."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from kiosk.services.api import RegistrationKind
from kiosk.services.backend import Backend
from kiosk.services.backend.directory.embedded import RegisteredQuestion
from kiosk.services.backend.directory.enrollment import Enrollment
from kiosk.services.backend.storage.migrations import MIGRATIONS
from kiosk.services.backend.storage.store import Store

from ..conftest import Kiosk
from .conftest import ANSWERS, app_secret, questions_body, sign_in


async def _state_json(backend: Backend) -> str:
    rows = await backend._rt.store.call(lambda db: db.execute("SELECT state_json FROM sessions").fetchall())
    return "\n".join(row[0] for row in rows)


async def test_no_secret_in_the_audit_the_log_or_the_stored_session(
    kiosk: Kiosk, backend: Backend, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets: list[str] = [*ANSWERS.values(), "fay.secret@example.org", "+31612349876", "31612349876"]
    await sign_in(kiosk, "fay")
    await kiosk.ok("POST", "/session/register/contact", {"kind": "email", "value": "fay.secret@example.org"})
    assert "fay.secret" not in await _state_json(backend)  # the pending contact is sealed
    await backend.deliver_pending()
    code = await kiosk.sent_code()
    secrets.append(code)
    await kiosk.ok("POST", "/session/register/contact/code", {"code": code})
    await kiosk.ok("POST", "/session/register/contact", {"kind": "phone", "value": "+31 6 1234 9876"})
    assert "12349876" not in await _state_json(backend)
    await kiosk.ok("POST", "/session/register/cancel")
    view = await kiosk.ok("POST", "/session/register/app")
    secret = app_secret(view)
    secrets.append(secret)
    assert secret not in await _state_json(backend)  # the pending app secret is sealed
    import pyotp

    app_code = pyotp.TOTP(secret).at(backend.clock.now())
    secrets.append(app_code)
    await kiosk.ok("POST", "/session/register/app/code", {"code": app_code})
    await kiosk.ok("POST", "/session/register/questions", questions_body())
    await kiosk.ok("POST", "/session/register/done")

    rows = await backend.audit_records()
    assert [r.outcome for r in rows if r.event == "registered"] == ["email", "app", "questions"]
    for row in rows:
        text = " ".join(str(value) for value in (row.user_id, row.event, row.outcome, row.reference, row.kiosk_id))
        for value in secrets:
            assert value.casefold() not in text.casefold(), (row.event, row.outcome)
    for value in secrets:
        assert value.casefold() not in caplog.text.casefold()
    # Answers are stored only as argon2 hashes of the normalized answer.
    stored = await backend._rt.store.call(
        lambda db: db.execute("SELECT answer_hash FROM user_questions WHERE login = 'fay'").fetchall()
    )
    assert len(stored) == 3 and all(row[0].startswith("$argon2id$") for row in stored)
    assert not any(answer.casefold() in row[0].casefold() for row in stored for answer in ANSWERS.values())


async def test_the_enrollment_store_seals_contacts_and_keys_them_by_the_immutable_id(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "store.sqlite3")
    try:
        key = Fernet.generate_key()
        enrollment = await Enrollment.open(store, key)
        when = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
        await enrollment.set_contact("guid-1", RegistrationKind.EMAIL, "alice.private@example.org", confirmed_at=when)
        await enrollment.set_contact("guid-1", RegistrationKind.PHONE, "+31612345678", confirmed_at=when)
        await enrollment.set_questions("guid-2", [RegisteredQuestion("first_pet", None, "$argon2id$x")])
        raw = await store.call(lambda db: [tuple(row) for row in db.execute("SELECT * FROM enrolled_profiles")])
        assert len(raw) == 1 and "alice" not in str(raw) and "612345678" not in str(raw)
        enrolled = await enrollment.read("guid-1")
        assert (enrolled.email, enrolled.phone, enrolled.confirmed_at) == (
            "alice.private@example.org",
            "+31612345678",
            when,
        )
        assert "alice" not in repr(enrolled)
        assert (await enrollment.read("guid-2")).confirmed_at is None  # questions without a date: never
        # Another key opens nothing: as good as not registered.
        other = await Enrollment.open(store, Fernet.generate_key())
        assert ((await other.read("guid-1")).email, (await other.read("guid-1")).phone) == ("", "")
        # No write under an empty id: every user without one would share it.
        with pytest.raises(ValueError, match="immutable"):
            await enrollment.confirm("", when)
        await enrollment.confirm("guid-2", when)
        assert (await enrollment.read("guid-2")).confirmed_at == when
    finally:
        await store.close()


async def test_migration_6_counts_earlier_registrations_as_confirmed(tmp_path: Path) -> None:
    """A store at version 5 with a registered directory user and an embedded user: after the upgrade both
    count as confirmed at the upgrade (not asked at once), and nothing else changed."""
    import sqlite3

    from kiosk.services.backend.storage import migrations

    database = tmp_path / "old.sqlite3"
    connection = sqlite3.connect(database)
    connection.execute(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, summary TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    for migration in MIGRATIONS[:5]:
        for statement in migrations.statements(migration.sql):
            connection.execute(statement)
        connection.execute(
            "INSERT INTO schema_migrations VALUES (?, ?, ?)", (migration.version, migration.summary, "2025-01-01")
        )
    connection.execute("INSERT INTO users (login, display_name, password_hash) VALUES ('emma', 'Emma', 'x')")
    connection.execute("INSERT INTO enrolled_totp (directory_id, secret_token) VALUES ('guid-1', 'gAAAAAsealed')")
    connection.execute(
        "INSERT INTO enrolled_questions (directory_id, position, answer_hash) VALUES ('guid-2', 0, 'h'), "
        "('guid-2', 1, 'h')"
    )
    connection.commit()
    connection.close()
    before = datetime.now(UTC)
    store = await Store.open(database)
    try:
        rows = await store.call(
            lambda db: [tuple(r) for r in db.execute("SELECT directory_id, confirmed_at FROM enrolled_profiles")]
        )
        assert sorted(row[0] for row in rows) == ["guid-1", "guid-2"]
        assert all(datetime.fromisoformat(row[1]) >= before for row in rows)
        user = await store.call(lambda db: db.execute("SELECT confirmed_at FROM users").fetchone()[0])
        assert datetime.fromisoformat(user) >= before
    finally:
        await store.close()
