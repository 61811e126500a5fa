"""Every error page shows a reference the helpdesk can look up.

The backend's own error body carries one; a proxy's page in front of a shared backend (a 502 in HTML)
does not, but its `X-Correlation-Id` header does; with neither (no answer at all, or a proxy without
the header) the kiosk makes one up and logs it with the failure, so the kiosk's log finds it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import pytest
from flow_driver import START, demo_policy

from kiosk.flows.engine import RecoveryFlow
from kiosk.flows.steps import BeginAnswer, ErrorData, IdentifyAnswer, Step, StepKind
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.client import BackendClient

PROXY_PAGE = b"<html><body><h1>502 Bad Gateway</h1></body></html>"


class Proxy(httpx.AsyncBaseTransport):
    """A reverse proxy in front of the real backend that answers the next request with its own 502 page."""

    def __init__(self, backend: httpx.AsyncBaseTransport) -> None:
        self.backend = backend
        self.fail_with: dict[str, str] | None = None
        self.unreachable = False
        self.token = ""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.unreachable:
            self.unreachable = False
            raise httpx.ConnectError("connection refused", request=request)
        headers, self.fail_with = self.fail_with, None
        if headers is not None:
            return httpx.Response(502, headers={"Content-Type": "text/html", **headers}, content=PROXY_PAGE)
        response = await self.backend.handle_async_request(request)
        if request.url.path == "/v1/sessions" and response.status_code == 201:
            body = await response.aread()  # note the token, to read the CAPTCHA as a person reads the picture
            self.token = json.loads(body)["token"]
            return httpx.Response(response.status_code, headers=response.headers, content=body)
        return response


@dataclass
class Setup:
    flow: RecoveryFlow
    backend: Backend
    proxy: Proxy

    async def at_identify(self) -> None:
        step = await self.flow.submit(BeginAnswer())
        assert step.kind is StepKind.IDENTIFY

    async def identify(self) -> Step:
        captcha = await self.backend.captcha_text_for_test(self.proxy.token)
        return await self.flow.submit(IdentifyAnswer("emma", captcha))


@pytest.fixture
async def setup() -> AsyncIterator[Setup]:
    policy = demo_policy()
    backend = await Backend.open(policy, clock=ManualClock(START), kiosk_id="test-kiosk")
    proxy = Proxy(httpx.ASGITransport(app=backend.asgi, raise_app_exceptions=False))
    client = BackendClient(httpx.AsyncClient(transport=proxy, base_url="https://backend.test"))
    try:
        yield Setup(RecoveryFlow(client, policy, kiosk_id="test-kiosk", locale=lambda: "en"), backend, proxy)
    finally:
        await client.aclose()
        await backend.close()


def reference_of(step: Step) -> str | None:
    assert step.kind is StepKind.ERROR
    assert isinstance(step.data, ErrorData)
    return step.data.correlation_id


async def test_a_proxy_502_shows_the_reference_of_its_header(setup: Setup) -> None:
    await setup.at_identify()
    setup.proxy.fail_with = {"X-Correlation-Id": "5e1c2f0a9d7b4c3e8f6a1b2c3d4e5f60"}
    step = await setup.identify()
    assert reference_of(step) == "5e1c2f0a9d7b4c3e8f6a1b2c3d4e5f60"
    assert (await setup.flow.retry()).kind is StepKind.IDENTIFY  # Retry still resumes where the backend is


async def test_a_proxy_502_without_the_header_gets_a_local_reference_that_is_logged(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    await setup.at_identify()
    caplog.set_level(logging.INFO, logger="kiosk")
    setup.proxy.fail_with = {}
    reference = reference_of(await setup.identify())
    assert reference
    logged = [record for record in caplog.records if reference in record.getMessage()]
    assert logged and logged[0].levelno >= logging.WARNING, caplog.text


async def test_an_unreachable_backend_gets_a_local_reference_that_is_logged(
    setup: Setup, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kiosk")
    setup.proxy.unreachable = True
    first = reference_of(await setup.flow.submit(BeginAnswer()))
    assert first and any(first in record.getMessage() for record in caplog.records), caplog.text
    assert (await setup.flow.retry()).kind is StepKind.IDENTIFY
    setup.proxy.unreachable = True
    second = reference_of(await setup.identify())
    assert second and second != first  # one reference per failure
