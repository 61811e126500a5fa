"""The first answer of each step with an effect, by session and request id, so a retry is never applied twice.

The kiosk sends `Idempotency-Key: <UUID>` with set_password and choose_action: new for each thing the
user submits, the same on every retry of it (after a timeout, a dropped connection or a `busy`). The
backend keeps the success answer (the session view: never the password, which is not in it) under
the session's token hash and that id; a request that repeats the id is answered from it without
running the step again. The session's lock serialises a retry that arrives while the first request
is still running: it waits, then finds the kept answer. Only successes are kept: a refusal applied
nothing, so repeating the step is safe and gives the answer of the moment. Rows outlive any session
(15 minutes at most) by `KEPT`, then go.
"""

from __future__ import annotations

import re
from datetime import timedelta

from kiosk.services.api import ErrorCode
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.storage.db import Db
from kiosk.services.backend.storage.store import Store

KEPT = timedelta(hours=1)
"""How long a kept answer stays (every session ends well before)."""

_REQUEST_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
"""A UUID in its canonical text form (the kiosk sends version 4)."""


def request_id(header: str | None) -> str | None:
    """The request id of an `Idempotency-Key` header (lower case), None without one; 422 when malformed."""
    if header is None:
        return None
    value = header.strip()
    if not _REQUEST_ID.fullmatch(value):
        raise ApiError(ErrorCode.INVALID_REQUEST, field="Idempotency-Key")
    return value.lower()


class StepResults:
    """The kept first answers of steps with an effect."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def first(self, token_hash: str, request: str) -> str | None:
        """The kept answer body (JSON) of this session's request id, or None."""

        def read(db: Db) -> str | None:
            row = db.execute(
                "SELECT body FROM step_results WHERE token_hash = ? AND request_id = ?", (token_hash, request)
            ).fetchone()
            return None if row is None else str(row["body"])

        return await self._store.call(read)

    async def keep(self, token_hash: str, request: str, body: str) -> None:
        """Keep the answer of a step that succeeded (the first one wins); drop rows past `KEPT`."""
        now = self._clock.now()
        cutoff = (now - KEPT).isoformat()

        def write(db: Db) -> None:
            db.execute("DELETE FROM step_results WHERE kept_at < ?", (cutoff,))
            db.execute(
                "INSERT INTO step_results (token_hash, request_id, body, kept_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (token_hash, request_id) DO NOTHING",
                (token_hash, request, body, now.isoformat()),
            )

        await self._store.call(write)
