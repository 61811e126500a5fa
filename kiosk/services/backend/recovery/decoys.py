"""No account enumeration: what a session shows and does for an account that cannot really verify.

Before a first gate is passed, every identified session looks the same, whatever the user ID: the
same methods (the policy's, without masked contacts), the same number of gates (the policy's), a
code page with the same attempts, a questions page with questions. Behind it, a gate is *genuine*
only when the account exists and has that method registered; every other gate is a *decoy*:

- a code is issued and hashed like a real one, but never sent, so no typed code can match it;
- the questions shown are a stable pick from the policy's questions for that user ID (the same ones
  on every visit, as for a real account), answered against a dummy hash so checking takes as long;
- an authenticator code is checked against nothing.

Wrong tries of a decoy count against the typed ID exactly like wrong tries of a real account, so
the throttles behave alike too. See the README's security section for the whole design.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import random
import secrets
import weakref

from kiosk.policy.schema import Method, Policy
from kiosk.services.api import QuestionPrompt
from kiosk.services.backend.hashing import Hashing
from kiosk.services.backend.storage.db import Db
from kiosk.services.backend.storage.store import Store

DUMMY_ANSWER_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c9rlg1MMF7e35cKm40zmqg$Yyyg8AVCtyKkjDPVvBR6ZXT5qGkeXXwSvS6vzfs6jUQ"
"""The strong-profile hash of a random value nobody knows: decoy answers are checked against it so
that a decoy takes as long to check as a real answer (not a secret; nothing can match it)."""


async def subject_of(store: Store, typed_user_id: str) -> str:
    """The throttle key of a user ID that resolved to no account: a keyed hash, never what was typed.

    Keyed (HMAC with this backend's secret), because a stranger may type anything there, even a
    password: a plain hash in the store could be guessed offline, a keyed one cannot without the key.
    """
    normalized = typed_user_id.strip().casefold().encode()
    return "?" + hmac.new(await _key(store, "unknown_ids"), normalized, hashlib.sha256).hexdigest()


def uniform_methods(policy: Policy) -> tuple[Method, ...]:
    """The methods every account is offered before its first gate: the policy's, in its order."""
    # app_notification is never offered (no push service; see eligibility.py).
    return tuple(method for method in policy.methods.enabled if method is not Method.APP_NOTIFICATION)


_keys: weakref.WeakKeyDictionary[Store, dict[str, bytes]] = weakref.WeakKeyDictionary()


async def _key(store: Store, name: str) -> bytes:
    """One of this backend's secret keys, made on first use and kept in the store (shared by every
    kiosk of a shared backend, so an ID gets the same decoy everywhere); read once, then from memory,
    so a decoy costs no store round trip a real account does not."""
    known = _keys.setdefault(store, {})
    if name in known:
        return known[name]
    fresh = secrets.token_bytes(32)

    def work(db: Db) -> bytes:
        db.execute("INSERT INTO backend_keys (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING", (name, fresh))
        row = db.execute("SELECT value FROM backend_keys WHERE name = ?", (name,)).fetchone()
        return bytes(row["value"])

    known[name] = await store.call(work)
    return known[name]


@functools.cache
def _offered(predefined: tuple[str, ...], custom: tuple[str, ...]) -> tuple[QuestionPrompt, ...]:
    """The policy's questions as prompts, built once (a decoy must not cost more than a real account)."""
    return tuple(
        [QuestionPrompt(id="", predefined_id=question) for question in dict.fromkeys(predefined)]
        + [QuestionPrompt(id="", custom_text=text) for text in dict.fromkeys(custom)]
    )


async def decoy_pool(store: Store, policy: Policy, subject: str) -> tuple[QuestionPrompt, ...]:
    """The questions a decoy account "registered": `number_to_register` of the policy's questions,
    chosen by a keyed hash of the subject, so every visit shows questions from the same set and a
    stranger cannot tell them from a real registration (nor predict them without the key)."""
    key = await _key(store, "decoy_questions")
    seed = hmac.new(key, subject.encode(), hashlib.sha256).digest()
    settings = policy.security_questions
    offered = _offered(settings.predefined, settings.custom)
    count = min(settings.number_to_register, len(offered))
    return tuple(random.Random(seed).sample(offered, count))  # noqa: S311 - keyed, not for secrecy


def decoy_prompts(pool: tuple[QuestionPrompt, ...], asked: dict[str, int]) -> tuple[QuestionPrompt, ...]:
    """The decoy questions to show for the asked ids (positions in the decoy pool)."""
    return tuple(pool[position].model_copy(update={"id": question_id}) for question_id, position in asked.items())


async def check_decoy_answers(hashing: Hashing, count: int) -> bool:
    """Spend the time of checking `count` real answers, and fail: a decoy has no right answer."""
    await asyncio.gather(*(hashing.verify_secret(DUMMY_ANSWER_HASH, secrets.token_hex(8)) for _ in range(count)))
    return False
