"""The parts a running backend is made of, wired once by `Backend.open` and shared by every request."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, NoReturn

from kiosk.policy.schema import Policy
from kiosk.services.api import ErrorCode
from kiosk.services.backend.audit.log import AuditEvent, AuditLog
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.delivery.queue import DeliveryQueue, Origin
from kiosk.services.backend.delivery.sender import DevOutbox, Sender
from kiosk.services.backend.directory.embedded import Directory, EmbeddedDirectory
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.hashing import Hashing
from kiosk.services.backend.recovery import machine
from kiosk.services.backend.recovery.authenticator import Authenticator
from kiosk.services.backend.recovery.codes import CodeBook
from kiosk.services.backend.recovery.questions import QuestionDraws
from kiosk.services.backend.recovery.sessions import SessionState, SessionStore
from kiosk.services.backend.recovery.throttle import Blocked, Throttle
from kiosk.services.backend.storage.store import Store

if TYPE_CHECKING:
    from kiosk.services.backend.directory.enrollment import SecretBox
    from kiosk.services.backend.kiosks import KioskRegistry
    from kiosk.services.backend.metrics import Metrics


@dataclass(frozen=True, slots=True)
class Runtime:
    """Policy, clock, store and adapters of one backend instance."""

    policy: Policy
    clock: Clock
    store: Store
    directory: Directory
    sender: Sender
    outbox: DevOutbox | None
    delivery: DeliveryQueue
    """The durable outbox: codes and notices are queued here, never sent by a request (see its module)."""
    audit: AuditLog
    sessions: SessionStore
    codes: CodeBook
    authenticator: Authenticator
    throttle: Throttle
    question_draws: QuestionDraws
    hashing: Hashing
    """The bounded hashing service: every argon2 hash and password-strength estimate runs on it."""
    kiosk_id: str
    sealer: SecretBox
    """Seals what a session must keep of a secret until its step is done (flow change: the current
    password until the change is written; registration: the pending contact or authenticator secret),
    with the enrollment key every replica shares."""
    demo_users: EmbeddedDirectory | None = None
    """The demo's user list (dev authenticator); None outside demo mode."""
    metrics: Metrics | None = None
    """Prometheus metrics (`GET /metrics`): only a backend served by `kiosk serve` has them."""
    kiosks: KioskRegistry | None = None
    """The enrolled kiosks, whose credential every call must carry: only a backend served by `kiosk serve`
    asks for one (the embedded backend has no network to guard)."""

    async def record(self, state: SessionState, event: AuditEvent, outcome: str = "ok") -> None:
        """Audit one step of a session."""
        await self.audit.record(
            event, kiosk_id=state.kiosk_id, reference=state.reference, user_id=state.login, outcome=outcome
        )

    def origin(self, state: SessionState) -> Origin:
        """What a queued message keeps of its session, for the delivery worker's audit rows."""
        return Origin(
            kiosk_id=state.kiosk_id,
            reference=state.reference,
            user_id=state.login,
            account=state.subject,
            locale=state.locale,
        )

    async def require(self, state: SessionState, operation: machine.Operation) -> None:
        """Refuse (409 `step_not_allowed`, audited) an operation the state machine does not allow at the
        session's stage."""
        if not machine.allowed(state.stage, operation, state.flow, self.policy):
            await self.record(state, AuditEvent.STEP_REFUSED, outcome=state.stage.value)
            raise ApiError(ErrorCode.STEP_NOT_ALLOWED)

    async def refuse_blocked(self, state: SessionState, blocked: Blocked) -> NoReturn:
        """Refuse a throttled step: 429 `too_many_attempts` with when it ends, audited as `blocked`."""
        outcome = f"{blocked.reason}:until={blocked.until.isoformat()}"
        await self.record(state, AuditEvent.BLOCKED, outcome=outcome)
        raise ApiError(ErrorCode.TOO_MANY_ATTEMPTS, blocked_until=blocked.until)
