"""Security questions on reset: pick N of the user's registered questions and check the answers."""

from __future__ import annotations

import asyncio
import json
import secrets
import unicodedata
from datetime import datetime, timedelta

from kiosk.services.api import QuestionAnswer, QuestionPrompt
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.hashing import Hashing
from kiosk.services.backend.storage.db import Db
from kiosk.services.backend.storage.store import Store


def normalize_answer(answer: str) -> str:
    """The form an answer is hashed and compared in: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", answer).casefold().split())


def _asked(positions: list[int]) -> dict[str, int]:
    """Opaque per-session question ids (`q1`…) → positions in the user's registered questions."""
    return {f"q{index}": position for index, position in enumerate(positions, start=1)}


DRAW_KEPT = timedelta(hours=24)
"""How long the questions drawn for an ID stay the ones asked (unless answered right first)."""


class QuestionDraws:
    """The questions drawn for each subject (login, or the keyed hash of an unknown ID), kept in the
    store so that every session of that ID, on every kiosk, is asked the same ones: otherwise an
    attacker could open sessions until the drawn questions are ones they happen to know."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def draw(self, subject: str, registered: int, count: int) -> dict[str, int]:
        """The subject's current draw, or a new one (first time, a day later, or after a right answer)."""
        now = self._clock.now()
        fresh = secrets.SystemRandom().sample(range(registered), min(count, registered))

        def work(db: Db) -> list[int]:
            row = db.execute(
                "SELECT positions_json, drawn_at FROM question_draws WHERE subject = ?", (subject,)
            ).fetchone()
            if row is not None and now - datetime.fromisoformat(row["drawn_at"]) < DRAW_KEPT:
                kept: list[int] = json.loads(row["positions_json"])
                # Still valid for the registration as it is now (it may have changed in between).
                if len(kept) == min(count, registered) and all(0 <= p < registered for p in kept):
                    return kept
            db.execute(
                "INSERT INTO question_draws (subject, positions_json, drawn_at) VALUES (?, ?, ?) "
                "ON CONFLICT(subject) DO UPDATE SET positions_json = excluded.positions_json, "
                "drawn_at = excluded.drawn_at",
                (subject, json.dumps(fresh), now.isoformat()),
            )
            return fresh

        return _asked(await self._store.call(work))

    async def release(self, subject: str) -> None:
        """The questions were answered right: the next reset of this subject draws anew."""
        await self._store.call(lambda db: db.execute("DELETE FROM question_draws WHERE subject = ?", (subject,)))


def prompts(user: DirectoryUser, asked: dict[str, int]) -> tuple[QuestionPrompt, ...]:
    """The questions to show for the asked ids."""
    result = []
    for question_id, position in asked.items():
        question = user.questions[position]
        result.append(
            QuestionPrompt(id=question_id, predefined_id=question.predefined_id, custom_text=question.custom_text)
        )
    return tuple(result)


async def answers_correct(
    hashing: Hashing, user: DirectoryUser, asked: dict[str, int], answers: tuple[QuestionAnswer, ...]
) -> bool:
    """True when every asked question got exactly one correct answer (all are hashed: no timing hint)."""
    given = {answer.id: answer.answer for answer in answers}
    complete = len(given) == len(answers) and set(given) == set(asked)
    checks = [
        hashing.verify_secret(user.questions[position].answer_hash, normalize_answer(given.get(question_id, "")))
        for question_id, position in asked.items()
    ]
    results = await asyncio.gather(*checks)
    return complete and all(results)
