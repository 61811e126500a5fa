"""Security questions on reset: pick N of the user's registered questions and check the answers."""

from __future__ import annotations

import asyncio
import secrets
import unicodedata

from kiosk.services.api import QuestionAnswer, QuestionPrompt
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.hashing import verify_secret


def normalize_answer(answer: str) -> str:
    """The form an answer is hashed and compared in: NFKC, case-folded, whitespace collapsed."""
    return " ".join(unicodedata.normalize("NFKC", answer).casefold().split())


def pick_questions(registered: int, count: int) -> dict[str, int]:
    """Choose `count` of `registered` questions at random: opaque per-session id (`q1`…) → position."""
    positions = secrets.SystemRandom().sample(range(registered), min(count, registered))
    return {f"q{index}": position for index, position in enumerate(positions, start=1)}


def prompts(user: DirectoryUser, asked: dict[str, int]) -> tuple[QuestionPrompt, ...]:
    """The questions to show for the asked ids."""
    result = []
    for question_id, position in asked.items():
        question = user.questions[position]
        result.append(
            QuestionPrompt(id=question_id, predefined_id=question.predefined_id, custom_text=question.custom_text)
        )
    return tuple(result)


async def answers_correct(user: DirectoryUser, asked: dict[str, int], answers: tuple[QuestionAnswer, ...]) -> bool:
    """True when every asked question got exactly one correct answer (all are hashed: no timing hint)."""
    given = {answer.id: answer.answer for answer in answers}
    complete = len(given) == len(answers) and set(given) == set(asked)
    checks = [
        verify_secret(user.questions[position].answer_hash, normalize_answer(given.get(question_id, "")))
        for question_id, position in asked.items()
    ]
    results = await asyncio.gather(*checks)
    return complete and all(results)
