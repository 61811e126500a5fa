"""A PostgreSQL store where psycopg is not installed (the kiosk's bundle leaves it out): a clear error, no crash."""

from __future__ import annotations

import sys

import pytest

from kiosk.services.backend.storage.store import POSTGRES_DRIVER_MISSING, Store, StoreDriverMissing
from kiosk.services.backend.storage.target import PostgresSettings


async def test_a_postgresql_store_without_psycopg_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    # As in the frozen bundle: importing psycopg (through storage.postgres) fails.
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "kiosk.services.backend.storage.postgres", raising=False)
    settings = PostgresSettings("postgresql://kiosk@db1.contoso.com:5432/kiosk", password="Tulip-Harbor-93!")
    with pytest.raises(StoreDriverMissing) as caught:
        await Store.open(settings)
    assert str(caught.value) == POSTGRES_DRIVER_MISSING
    assert "psycopg" in str(caught.value) and "pip install" in str(caught.value)
    assert "Tulip-Harbor-93!" not in str(caught.value)
