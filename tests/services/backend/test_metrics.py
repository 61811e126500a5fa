"""Prometheus metrics of a served backend (issue 12, part 7): `GET /metrics` in the text format.

Requests by route template and status, latency by route, and business counters derived from the
audit rows (resets, unlocks, refusals, blocks, delivery failures), the delivery queue's depth; never
a login, user ID, code, password, token or reference in the body. The kiosk's embedded backend has
no metrics and never imports `prometheus_client`.
"""

from __future__ import annotations

import secrets
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from prometheus_client.parser import text_string_to_metric_families

from kiosk.policy.schema import EnabledFor, Method, Policy, ResetSettings
from kiosk.services.api import Stage
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.delivery.sender import DeliveryFailure, Sender
from kiosk.services.backend.http.app import METRICS_PATH

from .conftest import GOOD_PASSWORD, START, Kiosk, demo_policy
from .delivery.test_outbox import HeldSender
from .test_http import _served
from .test_throttles import _fail_proofs, _wrong


@asynccontextmanager
async def metered(policy: Policy | None = None, sender: Sender | None = None) -> AsyncIterator[Kiosk]:
    """A kiosk driver on a backend opened with metrics, as `kiosk serve` opens it."""
    clock = ManualClock(START)
    backend = await Backend.open(policy or demo_policy(), clock=clock, sender=sender, metrics=True)
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
            yield Kiosk(backend, http)
    finally:
        await backend.close()


async def scrape(kiosk: Kiosk) -> tuple[str, dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    """The /metrics body and its samples by (name, sorted labels)."""
    response = await kiosk.http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }
    return response.text, samples


def value(samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_a_reset_is_counted_with_the_requests_by_route_template() -> None:
    async with metered() as kiosk:
        await kiosk.start("emma")
        await kiosk.choose(Method.EMAIL)
        await kiosk.code(await kiosk.sent_code())
        assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
        await kiosk.request("GET", "/session")
        text, samples = await scrape(kiosk)
    assert value(samples, "kiosk_resets_total") == 1
    assert value(samples, "kiosk_unlocks_total") == 0
    count = "kiosk_http_requests_total"
    assert value(samples, count, route="/v1/sessions", method="POST", status="201") == 1
    assert value(samples, count, route="/v1/session/identify", method="POST", status="200") == 1
    assert value(samples, count, route="/v1/session/method", method="POST", status="200") == 1
    assert value(samples, count, route="/v1/session/code", method="POST", status="200") == 1
    assert value(samples, count, route="/v1/session/password", method="POST", status="200") == 1
    assert value(samples, count, route="/v1/session", method="GET", status="200") == 1
    latency = "kiosk_http_request_duration_seconds_count"
    assert value(samples, latency, route="/v1/session/code", method="POST") == 1
    assert value(samples, "kiosk_delivery_queue_depth") == 0
    assert "/metrics" not in text  # only the table's routes are counted, by template


async def test_refusals_and_blocks_are_counted_by_code() -> None:
    early = ResetSettings(enabled_for=EnabledFor.GROUP, groups=("SSPR-Users",), early_refusals=True)
    async with metered(demo_policy(reset=early)) as kiosk:
        assert (await kiosk.start("nora")).stage is Stage.REFUSED
        assert (await kiosk.start("dana")).stage is Stage.REFUSED
        await _fail_proofs(kiosk, 4)
        clock = kiosk.backend.clock
        assert isinstance(clock, ManualClock)
        clock.advance(3600)
        await kiosk.start("emma")
        await kiosk.choose(Method.EMAIL)
        code = await kiosk.sent_code()
        await kiosk.error("POST", "/session/code", {"code": _wrong(code)}, 429, "too_many_attempts")
        _, samples = await scrape(kiosk)
    assert value(samples, "kiosk_refusals_total", code="not_enabled") == 1
    assert value(samples, "kiosk_refusals_total", code="account_disabled") == 1
    assert value(samples, "kiosk_blocks_total", reason="failed_proof") == 1
    assert value(samples, "kiosk_http_requests_total", route="/v1/session/code", method="POST", status="429") == 1
    assert value(samples, "kiosk_http_requests_total", route="/v1/session/code", method="POST", status="400") == 4


async def test_delivery_failures_are_counted_by_reason_and_the_queue_depth_is_shown() -> None:
    sender = HeldSender()  # holds the message until released, then fails with a reason no retry fixes
    sender.failure = DeliveryFailure.AUTH
    async with metered(sender=sender) as kiosk:
        await kiosk.start("emma")
        assert (await kiosk.request("POST", "/session/method", {"method": "email"})).status_code == 200
        _, queued = await scrape(kiosk)  # queued or being sent: in the queue either way
        sender.release.set()
        await kiosk.backend.deliver_pending()
        _, samples = await scrape(kiosk)
    assert value(queued, "kiosk_delivery_queue_depth") == 1
    assert value(samples, "kiosk_delivery_failures_total", kind="code", reason="auth") == 1
    assert value(samples, "kiosk_delivery_queue_depth") == 0


async def test_no_login_user_id_code_password_or_token_is_in_the_metrics() -> None:
    sentinel = f"sentinel{secrets.token_hex(6)}"
    early = ResetSettings(enabled_for=EnabledFor.GROUP, groups=("SSPR-Users",), early_refusals=True)
    async with metered(demo_policy(reset=early)) as kiosk:
        seen: list[str] = []
        refused = await kiosk.start(f"{sentinel}@contoso.com")  # an unknown ID, typed
        assert refused.refusal is not None
        seen += [refused.refusal.reference, kiosk.token]
        await kiosk.start("emma")
        await kiosk.choose(Method.EMAIL)
        code = await kiosk.sent_code()
        await kiosk.error("POST", "/session/code", {"code": _wrong(code)}, 400, "code_wrong")
        await kiosk.code(code)
        rejected = await kiosk.password(f"emma{sentinel}")  # holds the login: refused, audited
        assert rejected.status_code == 422, rejected.text
        await kiosk.password(GOOD_PASSWORD)
        seen += [kiosk.token, code, _wrong(code)]
        text, samples = await scrape(kiosk)
    assert value(samples, "kiosk_resets_total") == 1  # the capture is not empty
    assert value(samples, "kiosk_refusals_total", code="unknown_user") == 1
    for secret in (sentinel, "emma", "contoso", GOOD_PASSWORD, *seen):
        assert secret.lower() not in text.lower(), secret


async def test_without_metrics_there_is_no_metrics_route() -> None:
    backend = await Backend.open(demo_policy(), clock=ManualClock(START))
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
            assert (await http.get("/metrics")).status_code == 404
    finally:
        await backend.close()


def test_the_embedded_backend_never_imports_prometheus_client() -> None:
    script = (
        "import asyncio, sys\n"
        "from kiosk.services.backend import Backend\n"
        "from kiosk.policy.schema import Policy\n"
        "async def main():\n"
        "    backend = await Backend.open(Policy())\n"
        "    await backend.close()\n"
        "asyncio.run(main())\n"
        "assert 'prometheus_client' not in sys.modules, 'imported'\n"
    )
    command = [sys.executable, "-c", script]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603 (our interpreter)
    assert result.returncode == 0, result.stderr[-2000:]


async def test_metrics_is_the_one_served_route_left_out_of_the_document() -> None:
    """Deliberately not in the route table (see `METRICS_PATH`): everything else still agrees."""
    async with metered() as kiosk:
        document = (await kiosk.request("GET", "/openapi.json")).json()
        documented = {(verb, path) for path, item in document["paths"].items() for verb in item}
        assert _served(kiosk.backend) == documented | {("get", METRICS_PATH)}
