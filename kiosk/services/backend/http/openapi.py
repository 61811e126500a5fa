"""The OpenAPI 3.1 document of the `/v1` API, generated from the route table and the pydantic models.

Links (OpenAPI 3.1 `links`) say how the operations chain: the `token` of the session a
`SessionOpened` answer carries is the bearer credential of every session operation, written as
`Authorization: Bearer {$response.body#/token}`. Tools that follow links (schemathesis' stateful
tests) can so walk open session -> CAPTCHA -> identify -> method -> code -> password.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

import kiosk
from kiosk.services.api import IDEMPOTENCY_HEADER, KIOSK_CREDENTIAL_HEADER, ErrorBody, ErrorCode, SessionOpened
from kiosk.services.backend.errors import HTTP_STATUS
from kiosk.services.backend.http.routes import RouteSpec

JsonMode = Literal["validation", "serialization"]


def _ref(model: type[BaseModel]) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _json(schema: dict[str, Any]) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


SESSION_TOKEN_LINK = "Bearer {$response.body#/token}"  # noqa: S105 - a link expression, not a secret
"""The runtime expression that turns a `SessionOpened` answer into the `Authorization` header."""


def _session_links(spec: RouteSpec, routes: tuple[RouteSpec, ...]) -> dict[str, Any]:
    """The links of `spec`'s success answer: from a new session to every operation on a session."""
    if spec.response is not SessionOpened:
        return {}
    return {
        target.operation_id: {
            "operationId": target.operation_id,
            "parameters": {"header.Authorization": SESSION_TOKEN_LINK},
            "description": f"{target.summary.rstrip('.')}, on the session just opened (its token as the bearer).",
        }
        for target in routes
        if target.session
    }


_IDEMPOTENCY_PARAMETER = {
    "name": IDEMPOTENCY_HEADER,
    "in": "header",
    "required": False,
    "schema": {"type": "string", "format": "uuid"},
    "description": "A request id, new per submission and the same on its retries: a repeated id is answered "
    "from the first successful result and never applied twice.",
}
_RETRY_AFTER = {
    "description": "With `busy`: whole seconds to wait before trying again (nothing was done).",
    "schema": {"type": "integer", "minimum": 1},
}


def _operation(spec: RouteSpec, routes: tuple[RouteSpec, ...], kiosk_credential: bool) -> dict[str, Any]:
    operation: dict[str, Any] = {"operationId": spec.operation_id, "summary": spec.summary}
    guarded = kiosk_credential and spec.kiosk_credential
    schemes: dict[str, list[str]] = {"kiosk": []} if guarded else {}
    if spec.session:
        schemes["session"] = []
    if schemes:
        operation["security"] = [schemes]
    if spec.request is not None:
        operation["requestBody"] = {"required": True, "content": _json(_ref(spec.request))}
    if spec.idempotent:
        operation["parameters"] = [_IDEMPOTENCY_PARAMETER]
    responses: dict[str, Any] = {}
    if spec.status == 204:
        responses["204"] = {"description": "Done; no body."}
    elif spec.response is not None:
        responses[str(spec.status)] = {
            "description": spec.response.__doc__ or "",
            "content": _json(_ref(spec.response)),
        }
        if links := _session_links(spec, routes):
            responses[str(spec.status)]["links"] = links
    else:
        responses[str(spec.status)] = {"description": "A JSON document.", "content": _json({"type": "object"})}
    by_status: dict[int, list[str]] = {}
    for code in (ErrorCode.KIOSK_UNAUTHORIZED, *spec.all_errors) if guarded else spec.all_errors:
        by_status.setdefault(HTTP_STATUS[code], []).append(code.value)
    for status, codes in sorted(by_status.items()):
        responses[str(status)] = {
            "description": "Error codes: " + ", ".join(codes) + ".",
            "content": _json(_ref(ErrorBody)),
        }
        if ErrorCode.BUSY.value in codes:
            responses[str(status)]["headers"] = {"Retry-After": _RETRY_AFTER}
    operation["responses"] = responses
    return operation


def build_document(routes: tuple[RouteSpec, ...], *, kiosk_credential: bool = False) -> dict[str, Any]:
    """The OpenAPI document describing exactly `routes`; with `kiosk_credential` (a served backend) every
    route but health and ready asks for the kiosk's credential (`X-Kiosk-Credential`)."""
    models: dict[type[BaseModel], JsonMode] = {ErrorBody: "serialization"}
    for spec in routes:
        if spec.request is not None:
            models[spec.request] = "validation"
        if spec.response is not None:
            models.setdefault(spec.response, "serialization")
    _, definitions = models_json_schema(
        [(model, mode) for model, mode in models.items()], ref_template="#/components/schemas/{model}"
    )
    paths: dict[str, dict[str, Any]] = {}
    schemes: dict[str, Any] = {"session": {"type": "http", "scheme": "bearer", "description": "Session token."}}
    if kiosk_credential:
        schemes["kiosk"] = {
            "type": "apiKey",
            "in": "header",
            "name": KIOSK_CREDENTIAL_HEADER,
            "description": "The kiosk's credential NAME:SECRET, as `kiosk kiosks add` printed it.",
        }
    for spec in routes:
        paths.setdefault(spec.path, {})[spec.method.lower()] = _operation(spec, routes, kiosk_credential)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Account recovery kiosk backend",
            "version": kiosk.__version__,
            "description": "Self-service password reset and unlock. Errors are ErrorBody with a stable code.",
        },
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": schemes,
        },
    }
