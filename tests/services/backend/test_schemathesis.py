"""Fuzzing the `/v1` API from its own OpenAPI document (issue 4 item 7): no 5xx, answers as documented.

Schemathesis loads `/v1/openapi.json` from the in-process ASGI app (the demo policy of
resources/demo-policy.toml, opened by the app's lifespan on schemathesis' own event-loop thread) and
generates valid and invalid requests for every operation. Each case runs in a fresh session, so the
session routes are exercised past the 401. Bounded and deterministic: a few hundred cases, fixed seed
(derandomize), no deadline and no example database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from kiosk.policy.loader import load_policy
from kiosk.services.backend import _ServedApp
from kiosk.services.backend.openapi import build_document
from kiosk.services.backend.routes import active_routes

DEMO_POLICY = Path(__file__).resolve().parents[3] / "resources" / "demo-policy.toml"
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


POLICY = load_policy(DEMO_POLICY)
APP = _ServedApp(POLICY)  # the backend opens on the first request (ASGI lifespan), not at import

# The document the app serves, built from the same route table without opening a backend at import.
schema = schemathesis.openapi.from_dict(build_document(active_routes(POLICY.demo)))
schema.app = APP


@pytest.fixture(scope="module", autouse=True)
def close_backend() -> Iterator[None]:
    yield
    asgi.shutdown_lifespans()  # closes the backend the lifespan opened


def test_the_served_document_is_the_fuzzed_one() -> None:
    with asgi.get_client(APP) as client:
        response = client.get("http://testserver/v1/openapi.json")
    assert response.status_code == 200
    assert response.json() == schema.raw_schema


def _fresh_token() -> str:
    with asgi.get_client(APP) as client:
        response = client.post("http://testserver/v1/sessions", json={"kiosk_id": "fuzz", "locale": "en"})
    assert response.status_code == 201, response.text
    token: str = response.json()["token"]
    return token


@schema.parametrize()
@settings(
    max_examples=20,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_the_api_answers_as_documented(case: schemathesis.Case) -> None:
    headers = {} if "Authorization" in (case.headers or {}) else {"Authorization": f"Bearer {_fresh_token()}"}
    case.call_and_validate(headers=headers, checks=CHECKS)
