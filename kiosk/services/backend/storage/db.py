"""What a store's work function gets: a connection, its cursors and rows, the same for SQLite and PostgreSQL.

`sqlite3.Connection` fits these protocols as it is; the PostgreSQL store hands work an adapter that
does (`storage.postgres`). Work functions write SQL in the subset both databases understand: `?`
placeholders, `INSERT … ON CONFLICT … DO NOTHING/UPDATE`, `RETURNING` instead of `lastrowid`, no
`INSERT OR …`, no SQLite-only functions and no `PRAGMA` (see `storage.migrations` for DDL).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from enum import StrEnum
from typing import Any, Protocol


class Dialect(StrEnum):
    """Which database a store talks to (the few places that must differ ask this)."""

    SQLITE = "sqlite"
    POSTGRESQL = "postgresql"


class Row(Protocol):
    """One result row: by column position or by column name."""

    def __getitem__(self, key: int | str, /) -> Any: ...

    def keys(self) -> list[str]: ...


class Cursor(Protocol):
    """The result of one statement."""

    @property
    def rowcount(self) -> int: ...

    def fetchone(self) -> Any: ...

    def fetchall(self) -> list[Any]: ...

    def __iter__(self) -> Iterator[Any]: ...


class Db(Protocol):
    """A connection inside one store transaction."""

    def execute(self, sql: str, parameters: Sequence[Any] = ..., /) -> Cursor: ...

    def executemany(self, sql: str, parameters: Iterable[Sequence[Any]], /) -> Cursor: ...
