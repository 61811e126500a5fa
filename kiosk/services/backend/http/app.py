"""The Starlette application: routes from the table, JSON bodies via pydantic, errors as `ErrorBody`.

Every response carries `X-Correlation-Id`. Nothing ever answers with a traceback: unexpected
exceptions become a 500 `internal`, and only the exception's type is logged, because an exception
message may quote user input (a password, an answer).
"""

from __future__ import annotations

import functools
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable
from contextlib import nullcontext
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from kiosk.i18n import language
from kiosk.services.api import IDEMPOTENCY_HEADER, TIMEOUT_HEADER, ErrorCode, step_deadline
from kiosk.services.backend import deadline
from kiosk.services.backend.audit.log import AuditEvent, correlation_id
from kiosk.services.backend.directory.errors import DirectoryUnavailable
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.hashing import HashingBusy
from kiosk.services.backend.http.forwarded import Network, client_address, trusted_networks
from kiosk.services.backend.http.kiosk_identity import KioskGate
from kiosk.services.backend.http.routes import Call, RouteSpec, active_routes
from kiosk.services.backend.http.step_results import StepResults, request_id
from kiosk.services.backend.recovery.throttle import source_address
from kiosk.services.backend.runtime import Runtime

log = logging.getLogger("kiosk.services.backend")

MAX_BODY = 64 * 1024  # every valid body is far smaller; refuse before parsing anything bigger
MAX_TOKEN = 128
CORRELATION_HEADER = "X-Correlation-Id"


def _json_response(model: BaseModel, status: int) -> Response:
    return Response(model.model_dump_json(), status_code=status, media_type="application/json")


def error_response(error: ApiError, cid: str) -> Response:
    """The JSON answer for an `ApiError`."""
    response = _json_response(error.body(cid), error.status)
    response.headers[CORRELATION_HEADER] = cid
    if error.retry_after is not None:
        response.headers["Retry-After"] = str(error.retry_after)
    return response


async def _read_body(request: Request) -> bytes:
    # A declared size over the limit is refused before a byte is read; a body without one (chunked)
    # or lying about it is cut off by counting. Either way a 1 MB body never sits in memory.
    declared = request.headers.get("content-length", "")
    if declared and (not declared.isdigit() or int(declared) > MAX_BODY):
        raise ApiError(ErrorCode.INVALID_REQUEST, field="body")
    chunks = bytearray()
    async for chunk in request.stream():
        chunks += chunk
        if len(chunks) > MAX_BODY:
            raise ApiError(ErrorCode.INVALID_REQUEST, field="body")
    return bytes(chunks)


def _parse(model: type[BaseModel], raw: bytes) -> BaseModel:
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as error:
        # Only the location of the first problem is told; pydantic's messages may echo the input.
        first = error.errors(include_input=False, include_url=False)
        location = ".".join(str(part) for part in first[0]["loc"]) if first else ""
        # No location: the body itself is broken (not JSON, invalid UTF-8, a lone surrogate escape).
        raise ApiError(ErrorCode.INVALID_REQUEST, field=location or "body") from None


def _bearer(request: Request) -> str:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or len(token) > MAX_TOKEN:
        raise ApiError(ErrorCode.SESSION_REQUIRED)
    return token


def _timeout(rt: Runtime, request: Request) -> float:
    """The kiosk's per-step timeout: its `X-Kiosk-Timeout`, never longer than this backend's policy says."""
    configured = rt.policy.backend.timeout_seconds
    try:
        told = float(request.headers.get(TIMEOUT_HEADER, "inf"))
    except ValueError:
        return configured
    return min(told, configured) if told > 0 and not math.isnan(told) else configured


def _endpoint(
    rt: Runtime,
    spec: RouteSpec,
    document: Callable[[], dict[str, Any]],
    proxies: tuple[Network, ...] = (),
    gate: KioskGate | None = None,
    results: StepResults | None = None,
) -> Callable[[Request], Awaitable[Response]]:
    async def step(request: Request, call: Call) -> BaseModel | dict[str, Any] | None:
        # A retry of a step with an effect is answered from the first result, under the session's lock.
        key = request_id(request.headers.get(IDEMPOTENCY_HEADER)) if spec.idempotent and results else None
        if key is not None and results is not None and spec.response is not None:
            kept = await results.first(call.state.token_hash, key)
            if kept is not None:
                return spec.response.model_validate_json(kept)
        if deadline.passed():  # the lock or the queue took the step's time: refused before it starts
            raise ApiError(ErrorCode.BUSY, retry_after=1)
        result = await spec.handler(call)
        if key is not None and results is not None and isinstance(result, BaseModel):
            await results.keep(call.state.token_hash, key, result.model_dump_json())
        return result

    async def run(request: Request, kiosk: str) -> BaseModel | dict[str, Any] | None:
        raw = await _read_body(request)
        payload = _parse(spec.request, raw) if spec.request is not None else None
        if not spec.session:
            return await spec.handler(Call(rt, None, payload, document, kiosk))
        # The session's language for what the handler builds (codes, notices, a voice call's TwiML),
        # for this request's task only: an in-process backend shares the process with the window, whose
        # language (process-wide) it must never change.
        async with rt.sessions.locked(_bearer(request)) as state:
            if gate is not None:  # a session answers only the kiosk that opened it
                await gate.require_own_session(state, kiosk, source_address.get())
            with language(state.locale):
                try:
                    return await step(request, Call(rt, state, payload, document, kiosk))
                except DirectoryUnavailable as outage:
                    # Down, slow, TLS or service account refused: the step is refused, nothing was
                    # changed; audited with the reason, told as 503.
                    outcome = f"{ErrorCode.DIRECTORY_UNAVAILABLE.value}:{outage.reason.value}"
                    await rt.record(state, AuditEvent.STEP_REFUSED, outcome=outcome)
                    raise ApiError(ErrorCode.DIRECTORY_UNAVAILABLE) from None

    async def endpoint(request: Request) -> Response:
        started = time.perf_counter()
        cid = uuid.uuid4().hex
        context = correlation_id.set(cid)
        peer = request.client.host if request.client else ""
        # The per-address throttle's address: the peer's, or the client's behind a trusted proxy.
        forwarded = request.headers.getlist("x-forwarded-for") if proxies else []
        address = source_address.set(client_address(peer, forwarded, proxies))
        try:
            # A served backend's first step: no live kiosk credential, no work at all (401, audited).
            kiosk = (
                await gate.admit(request, source_address.get()) if gate is not None and spec.kiosk_credential else ""
            )
            due = deadline.start(step_deadline(_timeout(rt, request)))
            try:
                # Before any work: 503 busy if full.
                with rt.hashing.admit(heavy=spec.heavy) if spec.hashes else nullcontext():
                    result = await run(request, kiosk)
            except HashingBusy as busy:
                if rt.metrics is not None:
                    rt.metrics.busy()
                raise ApiError(ErrorCode.BUSY, retry_after=busy.retry_after) from None
            finally:
                deadline.reset(due)
            if isinstance(result, BaseModel):
                response: Response = _json_response(result, spec.status)
            elif isinstance(result, dict):
                response = JSONResponse(result, status_code=spec.status)
            else:
                response = Response(status_code=spec.status)
        except ApiError as error:
            response = error_response(error, cid)
        except Exception as error:  # noqa: BLE001 - the catch-all that keeps tracebacks off the wire
            log.error("internal error %s (correlation id %s)", type(error).__name__, cid)
            response = error_response(ApiError(ErrorCode.INTERNAL), cid)
        finally:
            correlation_id.reset(context)
            source_address.reset(address)
        response.headers[CORRELATION_HEADER] = cid
        if rt.metrics is not None:  # the route's template, never the raw path
            rt.metrics.request(spec.path, spec.method, response.status_code, time.perf_counter() - started)
            if rt.metrics.multiprocess:  # another worker may answer the scrape: keep this one's load current
                rt.metrics.hashing_load(rt.hashing.load())
        return response

    endpoint.__name__ = spec.operation_id
    return endpoint


async def _not_found(request: Request, exc: Exception) -> Response:
    """Unknown path or verb: a `not_found` ErrorBody rather than Starlette's plain text."""
    return error_response(ApiError(ErrorCode.NOT_FOUND), uuid.uuid4().hex)


async def _internal(request: Request, exc: Exception) -> Response:
    cid = uuid.uuid4().hex
    log.error("internal error %s (correlation id %s)", type(exc).__name__, cid)
    return error_response(ApiError(ErrorCode.INTERNAL), cid)


METRICS_PATH = "/metrics"
"""Prometheus's scrape path. Deliberately NOT in the route table (so not in the OpenAPI document):
it is for the operator's monitoring, not the kiosk's JSON API, answers in Prometheus's text format,
and exists only on a backend opened with metrics (`kiosk serve`)."""


def _metrics_endpoint(rt: Runtime) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        from kiosk.services.backend.metrics import CONTENT_TYPE

        assert rt.metrics is not None
        body = rt.metrics.exposition(await rt.delivery.depth(), rt.hashing.load())
        return Response(body, media_type=CONTENT_TYPE)

    return metrics


def build_app(rt: Runtime) -> Starlette:
    """The ASGI app of one backend: the table's routes (dev routes only in demo mode), and `GET /metrics`
    when the backend has metrics."""
    specs = active_routes(rt.policy.demo)

    @functools.cache
    def document() -> dict[str, Any]:
        # Built on the first GET of the document, not at open: generating the JSON schemas of every
        # model costs tens of milliseconds of kiosk start-up, and only API tooling ever asks.
        from kiosk.services.backend.http.openapi import build_document

        return build_document(specs, kiosk_credential=rt.kiosks is not None)

    proxies = trusted_networks(rt.policy.backend.trusted_proxies)
    gate = KioskGate(rt, rt.kiosks) if rt.kiosks is not None else None
    results = StepResults(rt.store, rt.clock)
    routes = [
        Route(spec.path, _endpoint(rt, spec, document, proxies, gate, results), methods=[spec.method]) for spec in specs
    ]
    if rt.metrics is not None:
        routes.append(Route(METRICS_PATH, _metrics_endpoint(rt), methods=["GET"]))
    return Starlette(
        routes=routes,
        exception_handlers={404: _not_found, 405: _not_found, HTTPException: _not_found, Exception: _internal},
    )
