"""The deadline of the request being handled: after it, no step starts its effect (a reset, an unlock).

The HTTP layer sets it for each request from the kiosk's per-step timeout (`api._due`);
`before_effect` is called at the point of no return, right before the directory is changed. Past the
deadline the step is refused as `busy` with nothing applied, so an effect is either applied and
reported in time, or not applied: never applied after the kiosk stopped waiting without it hearing.
"""

from __future__ import annotations

import math
from contextvars import ContextVar, Token
from time import monotonic

from kiosk.services.api import ErrorCode
from kiosk.services.backend.errors import ApiError

_due: ContextVar[float] = ContextVar("step_due", default=math.inf)
"""`time.monotonic()` by which the current request's step must have started its effect (inf: none)."""


def start(seconds: float) -> Token[float]:
    """Set the current request's deadline `seconds` from now; reset it with the token returned."""
    return _due.set(monotonic() + seconds)


def passed() -> bool:
    """True when the current request's deadline has passed."""
    return monotonic() >= _due.get()


def before_effect() -> None:
    """Refuse (503 `busy`, nothing applied) a step that reaches its effect after its deadline."""
    if passed():
        raise ApiError(ErrorCode.BUSY, retry_after=1)


def reset(token: Token[float]) -> None:
    """Forget the deadline `start` set (the request is answered)."""
    _due.reset(token)
