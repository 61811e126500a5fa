"""HTTP behaviour: the OpenAPI document matches the routes, errors are ErrorBody, dev routes only in demo."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest
from starlette.routing import Route

from kiosk.policy.schema import DeliveryKind, DeliverySettings, Method, Policy
from kiosk.services.api import Authenticator, Health, Outbox
from kiosk.services.backend import Backend
from kiosk.services.backend.http.routes import ROUTES

from .conftest import Kiosk, demo_policy, kiosk_for


def _served(backend: Backend) -> set[tuple[str, str]]:
    pairs = set()
    for route in backend.asgi.routes:
        assert isinstance(route, Route)
        for method in route.methods or ():
            if method != "HEAD":  # Starlette adds HEAD to every GET
                pairs.add((method.lower(), route.path))
    return pairs


async def test_openapi_document_matches_the_routes(kiosk: Kiosk) -> None:
    response = await kiosk.request("GET", "/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    assert document["openapi"] == "3.1.0"
    documented = {(verb, path) for path, item in document["paths"].items() for verb in item}
    assert documented == _served(kiosk.backend)
    assert len(documented) == len(ROUTES)  # demo: every route, dev routes included
    schemas = document["components"]["schemas"]
    for item in document["paths"].values():
        for operation in item.values():
            refs = [operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})]
            refs += [
                r.get("content", {}).get("application/json", {}).get("schema", {})
                for r in operation["responses"].values()
            ]
            for ref in refs:
                if "$ref" in ref:
                    assert ref["$ref"].removeprefix("#/components/schemas/") in schemas
    verify = document["paths"]["/v1/session/code"]["post"]
    assert "code_wrong" in verify["responses"]["400"]["description"]
    assert "session_expired" in verify["responses"]["401"]["description"]


async def test_dev_routes_absent_outside_demo() -> None:
    policy = demo_policy()
    assert policy.demo
    not_demo = Policy.model_construct(**{**dict(policy), "delivery": DeliverySettings.model_construct(kind="smtp")})
    assert not not_demo.demo
    async with kiosk_for(not_demo) as kiosk:
        for path in ("/dev/outbox", "/dev/authenticator"):
            await kiosk.error("GET", path, None, 404, "not_found")
        document = (await kiosk.request("GET", "/openapi.json")).json()
        assert not any(path.startswith("/v1/dev") for path in document["paths"])
        assert {(v, p) for p, item in document["paths"].items() for v in item} == _served(kiosk.backend)
    assert DeliveryKind.DEV_OUTBOX.value == "dev_outbox"


async def test_dev_routes_in_demo(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    outbox = Outbox.model_validate_json((await kiosk.request("GET", "/dev/outbox")).content)
    assert outbox.messages and outbox.messages[-1].to == "emma.jansen@contoso.com"
    codes = Authenticator.model_validate_json((await kiosk.request("GET", "/dev/authenticator")).content)
    by_user = {c.user_id: c for c in codes.codes}
    assert set(by_user) == {"alex", "tara", "adele", "megan"}
    assert by_user["alex"].code == await kiosk.app_code("alex")
    assert 0 < by_user["alex"].seconds_left <= 30


async def test_health(kiosk: Kiosk) -> None:
    response = await kiosk.request("GET", "/health")
    assert Health.model_validate_json(response.content).status == "ok"
    assert response.headers["X-Correlation-Id"]


async def test_unknown_path_is_an_error_body(kiosk: Kiosk) -> None:
    await kiosk.error("GET", "/nope", None, 404, "not_found")
    response = await kiosk.http.put("/v1/health")
    assert response.status_code in (404, 405) and response.json()["code"] == "not_found"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"{not json", "body"),
        (b'{"user_id": "", "captcha": "123456"}', "user_id"),
        (b'{"user_id": "emma"}', "captcha"),
        (b'{"user_id": "emma", "captcha": "123456", "extra": 1}', "extra"),
    ],
)
async def test_invalid_request(kiosk: Kiosk, body: bytes, field: str | None) -> None:
    await kiosk.open()
    response = await kiosk.http.post(
        "/v1/session/identify", content=body, headers={"Authorization": f"Bearer {kiosk.token}"}
    )
    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "invalid_request" and payload["field"] == field
    assert "emma" not in response.text and "123456" not in response.text  # no input echoed


async def test_oversized_body_refused(kiosk: Kiosk) -> None:
    await kiosk.open()
    response = await kiosk.http.post(
        "/v1/session/identify", content=b"x" * 100_000, headers={"Authorization": f"Bearer {kiosk.token}"}
    )
    assert response.status_code == 422 and response.json()["field"] == "body"


async def test_internal_error_has_no_traceback(
    kiosk: Kiosk, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    await kiosk.open()

    async def broken(user_id: str) -> None:
        raise RuntimeError("secret-detail Hunter2")

    monkeypatch.setattr(kiosk.backend.directory, "find_user", broken)
    caplog.set_level(logging.DEBUG)
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    response = await kiosk.request("POST", "/session/identify", {"user_id": "emma", "captcha": captcha})
    assert response.status_code == 500
    payload = response.json()
    assert payload["code"] == "internal" and payload["correlation_id"] == response.headers["X-Correlation-Id"]
    assert "Hunter2" not in response.text and "Traceback" not in response.text
    assert "RuntimeError" in caplog.text and "Hunter2" not in caplog.text


async def test_embedded_client_round_trip(backend: Backend) -> None:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
        response = await http.post("/v1/sessions", json={})
        assert response.status_code == 201
