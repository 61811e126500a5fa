"""Kiosk identity on a served backend: every call but the load balancer's checks names a live kiosk.

The kiosk sends its credential in `X-Kiosk-Credential: NAME:SECRET` (its own header: `Authorization:
Bearer` already carries the session token). A call without a live credential (missing, malformed,
unknown name, wrong secret, revoked) is answered 401 `kiosk_unauthorized` before anything else is
done: no body is read, no session looked up. Only `GET /v1/health` and `GET /v1/ready` go without
one (`RouteSpec.kiosk_credential`): a load balancer probes them, and they tell nothing about anyone;
Prometheus' `GET /metrics` is outside the route table and is the operator's to restrict.

The kiosk id of the audit and of the per-kiosk limits is the credential's name, never the request
body's `kiosk_id`, and a session answers only the kiosk that opened it (another kiosk is told
`session_required`, as for a token that does not exist, and that is audited).

Refusals are audited as `kiosk_refused`, but a flood must not fill the audit trail: at most one row
per client address per minute, and at most `REFUSALS_AUDITED_PER_MINUTE` rows a minute in all (per
process). Every address that tries gets a row within a minute of its first try, and each row counts
the refusals left out since the row before (`unaudited=N`). The HTTP metrics count every 401.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from starlette.requests import Request

from kiosk.services.api import KIOSK_CREDENTIAL_HEADER, ErrorCode
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.clock import Clock
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.kiosks import KioskRegistry, Verdict, parse_credential
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.runtime import Runtime

_ENROLLED = frozenset({Verdict.WRONG_SECRET, Verdict.REVOKED})
"""Refusals whose claimed name is an enrolled kiosk's (the only names the audit repeats)."""
REFUSAL_WINDOW = timedelta(minutes=1)
REFUSALS_AUDITED_PER_MINUTE = 60


class RefusalAudit:
    """Which refused calls get an audit row: one per address per window, `limit` per window in all.

    An address is remembered only when a row is written for it, so at most `2 * limit` addresses are
    kept however many try.
    """

    def __init__(self, clock: Clock, window: timedelta = REFUSAL_WINDOW, limit: int = REFUSALS_AUDITED_PER_MINUTE):
        self._clock = clock
        self._window = window
        self._limit = limit
        self._window_started = datetime.min.replace(tzinfo=clock.now().tzinfo)
        self._rows = 0
        self._last: dict[str, datetime] = {}
        self._unaudited = 0

    def admit(self, address: str) -> int | None:
        """None when this refusal gets no row; else how many refusals got none since the last row."""
        now = self._clock.now()
        if now - self._window_started >= self._window:
            self._window_started, self._rows = now, 0
            self._last = {peer: at for peer, at in self._last.items() if now - at < self._window}
        last = self._last.get(address)
        if (last is not None and now - last < self._window) or self._rows >= self._limit:
            self._unaudited += 1
            return None
        self._last[address] = now
        self._rows += 1
        unaudited, self._unaudited = self._unaudited, 0
        return unaudited


class KioskGate:
    """Admits the calls of live kiosks (one per served backend)."""

    def __init__(self, rt: Runtime, registry: KioskRegistry) -> None:
        self._rt = rt
        self._registry = registry
        self._refusals = RefusalAudit(rt.clock)

    async def admit(self, request: Request, address: str) -> str:
        """The calling kiosk's name; 401 `kiosk_unauthorized` (audited, see the module) otherwise."""
        values = request.headers.getlist(KIOSK_CREDENTIAL_HEADER)
        credential = parse_credential(values[0].strip(" \t")) if len(values) == 1 else None
        verdict = await self._registry.check(credential) if values else Verdict.MISSING
        if verdict is Verdict.OK and credential is not None:
            return credential.name
        # The audit names the kiosk only when the name is an enrolled kiosk's: whatever else a caller wrote
        # before a ':' (a secret pasted alone, the two parts swapped) must not reach the audit trail.
        claimed = credential.name if credential is not None and verdict in _ENROLLED else ""
        unaudited = self._refusals.admit(address)
        if unaudited is not None:
            counted = f":unaudited={unaudited}" if unaudited else ""
            await self._rt.audit.record(
                AuditEvent.KIOSK_REFUSED, kiosk_id=claimed, reference="", outcome=f"{verdict}{counted}:peer={address}"
            )
        raise ApiError(ErrorCode.KIOSK_UNAUTHORIZED)

    async def require_own_session(self, state: SessionState, kiosk: str, address: str) -> None:
        """Refuse (`session_required`, audited) a session that another kiosk opened."""
        if state.kiosk_id == kiosk:
            return
        await self._rt.audit.record(
            AuditEvent.KIOSK_REFUSED,
            kiosk_id=kiosk,
            reference=state.reference,
            user_id=state.login,
            outcome=f"other_kiosks_session:peer={address}",
        )
        raise ApiError(ErrorCode.SESSION_REQUIRED)
