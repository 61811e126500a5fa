"""The demo directory: precomputed hashes still match the documented values; users seed as described."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from kiosk.services.backend import Backend
from kiosk.services.backend.directory.demo_seed import load_demo_directory
from kiosk.services.backend.recovery.questions import normalize_answer

from .conftest import ADELE_ANSWERS, DEMO_PASSWORD, QUINN_ANSWERS


def test_documented_values_verify_against_the_precomputed_hashes() -> None:
    demo = load_demo_directory()
    hasher = PasswordHasher()
    assert hasher.verify(demo.password_hash, DEMO_PASSWORD)
    users = {user.login: user for user in demo.users}
    for login, answers in (("quinn", QUINN_ANSWERS), ("adele", ADELE_ANSWERS)):
        questions = users[login].questions
        assert {q.predefined_id for q in questions} == set(answers)
        for question in questions:
            assert hasher.verify(question.answer_hash, normalize_answer(answers[question.predefined_id or ""]))


def test_no_totp_secret_in_the_seed_file() -> None:
    demo = load_demo_directory()
    assert "totp_secret" not in type(demo.users[0]).model_fields


async def test_seeded_users(backend: Backend) -> None:
    users = {user.login: user for user in await backend.directory.list_users()}
    assert {"emma", "quinn", "alex", "tara", "adele", "luke", "nora", "fay", "owen", "dana"} <= set(users)
    assert len({user.totp_secret for user in users.values() if user.totp_secret}) == 4  # fresh, distinct
    assert users["luke"].locked and not users["dana"].enabled and users["owen"].password_managed_on_premises
    assert users["adele"].is_admin and "Finance" in users["tara"].groups and "SSPR-Users" not in users["nora"].groups
    for login in users:
        assert await backend.directory.find_user(f"{login.upper()}@CONTOSO.COM") is not None
    assert await backend.directory.verify_password("emma", DEMO_PASSWORD)


async def test_secret_fields_stay_out_of_repr(backend: Backend) -> None:
    adele = await backend.directory.find_user("adele")
    assert adele is not None
    assert adele.totp_secret not in repr(adele) and "$argon2" not in repr(adele)


@pytest.mark.usefixtures("memory_keyring")  # the store file seals app secrets with the keyring's key
async def test_store_is_reused_and_not_reseeded(tmp_path: object, clock: object) -> None:
    from pathlib import Path

    from .conftest import demo_policy

    assert isinstance(tmp_path, Path)
    database = tmp_path / "kiosk.sqlite3"
    first = await Backend.open(demo_policy(), database=database)
    await first.directory.set_locked("emma", True)
    secret = await first.directory.find_user("alex")
    await first.close()
    second = await Backend.open(demo_policy(), database=database)
    try:
        assert await second.directory.is_locked("emma")
        again = await second.directory.find_user("alex")
        assert secret is not None and again is not None and again.totp_secret == secret.totp_secret
    finally:
        await second.close()
    assert database.exists()  # a configured database is kept


@pytest.mark.sqlite_file  # about the temporary SQLite file
async def test_temporary_database_is_deleted_on_close() -> None:
    from .conftest import demo_policy

    backend = await Backend.open(demo_policy())
    path = backend.database
    assert path.exists()
    await backend.close()
    assert not path.exists()
