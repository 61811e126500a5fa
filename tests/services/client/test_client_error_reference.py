"""Every failure with an answer carries a reference: the backend's own body's, else the `X-Correlation-Id` header.

A proxy or load balancer in front of a shared backend answers a 5xx with its own page (HTML, not the
backend's error body) while passing on or setting `X-Correlation-Id`: that header is the only
reference the helpdesk can find. A header that is not a plain short token is not taken.
"""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from kiosk.services.client import ApiError, BackendClient, BackendUnavailable, ProtocolError

PROXY_PAGE = b"<html><head><title>502 Bad Gateway</title></head><body><h1>502 Bad Gateway</h1>nginx</body></html>"
HEADER_ID = "5e1c2f0a9d7b4c3e8f6a1b2c3d4e5f60"


def client_with(answer: Callable[[httpx.Request], httpx.Response]) -> BackendClient:
    return BackendClient(httpx.AsyncClient(transport=httpx.MockTransport(answer), base_url="https://backend.test"))


def proxy_502(correlation_id: str | None) -> Callable[[httpx.Request], httpx.Response]:
    headers = {"Content-Type": "text/html"}
    if correlation_id is not None:
        headers["X-Correlation-Id"] = correlation_id
    return lambda request: httpx.Response(502, headers=headers, content=PROXY_PAGE)


async def test_a_proxy_502_carries_the_header_reference() -> None:
    client = client_with(proxy_502(HEADER_ID))
    with pytest.raises(ProtocolError) as caught:
        await client.open_session(kiosk_id="lobby-1", locale="en")
    assert caught.value.correlation_id == HEADER_ID
    await client.aclose()


@pytest.mark.parametrize("status", [500, 503, 504, 404])
async def test_any_foreign_error_page_carries_it(status: int) -> None:
    client = client_with(lambda request: httpx.Response(status, headers={"X-Correlation-Id": "lb-42"}, text="down"))
    with pytest.raises(ProtocolError) as caught:
        await client.health()
    assert caught.value.correlation_id == "lb-42"
    await client.aclose()


async def test_a_success_that_breaks_the_contract_carries_it_too() -> None:
    client = client_with(lambda request: httpx.Response(200, headers={"X-Correlation-Id": "lb-43"}, text="<html>"))
    with pytest.raises(ProtocolError) as caught:
        await client.health()
    assert caught.value.correlation_id == "lb-43"
    await client.aclose()


async def test_the_backends_own_body_wins_over_the_header() -> None:
    body = {"code": "internal", "message_key": "error.internal", "correlation_id": "from-the-body"}
    client = client_with(lambda request: httpx.Response(500, headers={"X-Correlation-Id": "from-a-proxy"}, json=body))
    with pytest.raises(ApiError) as caught:
        await client.health()
    assert caught.value.correlation_id == "from-the-body"
    await client.aclose()


@pytest.mark.parametrize(
    "header",
    [None, "", "x" * 129, "abc def", "abc\u202edef", "abc\x1b[2J", "abc\u00e9"],
    ids=["absent", "empty", "too-long", "space", "bidi", "escape", "non-ascii"],
)
async def test_no_usable_header_no_reference(header: str | None) -> None:
    headers = [] if header is None else [(b"X-Correlation-Id", header.encode())]  # raw bytes, as off the wire
    client = client_with(lambda request: httpx.Response(502, headers=headers, content=PROXY_PAGE))
    with pytest.raises(ProtocolError) as caught:
        await client.health()
    assert caught.value.correlation_id is None
    await client.aclose()


async def test_no_answer_no_reference() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    client = client_with(refuse)
    with pytest.raises(BackendUnavailable) as caught:
        await client.health()
    assert caught.value.correlation_id is None
    await client.aclose()
