"""Behind a proxy (issue 12, part 3): X-Forwarded-For counts only from `backend.trusted_proxies`.

The per-address session limit (30 sessions in 10 minutes, see test_session_limits) shows which
address the backend counted: a spoofed header from an untrusted peer must not move a request to
another address's counter, and a trusted proxy's header must.
"""

from __future__ import annotations

import httpx
import pytest

from kiosk.policy.loader import check_policy_text
from kiosk.policy.schema import BackendSettings
from kiosk.services.backend import Backend
from kiosk.services.backend.http.forwarded import client_address, trusted_networks

from .conftest import demo_policy, kiosk_for

SESSIONS = 30
PROXIES = ("10.0.0.5", "10.1.0.0/16", "fd00::/8")


async def open_from(backend: Backend, peer: str, *forwarded_for: str, kiosk_id: str = "lobby-1") -> httpx.Response:
    """`POST /v1/sessions` from the socket address `peer`, with the given X-Forwarded-For headers."""
    transport = httpx.ASGITransport(app=backend.asgi, client=(peer, 50123))
    headers = [(b"X-Forwarded-For", value.encode()) for value in forwarded_for]  # raw bytes: UTF-8 too
    async with httpx.AsyncClient(transport=transport, base_url="http://kiosk") as http:
        return await http.post("/v1/sessions", json={"kiosk_id": kiosk_id, "locale": "en"}, headers=headers)


async def fill(backend: Backend, peer: str, *forwarded_for: str) -> None:
    """Use up one address's 30 sessions (each under its own kiosk id, so only the address limit trips)."""
    for number in range(SESSIONS):
        response = await open_from(backend, peer, *forwarded_for, kiosk_id=f"kiosk-{number}")
        assert response.status_code == 201, response.text


def status_of(response: httpx.Response) -> int:
    if response.status_code == 429:
        assert response.json()["code"] == "too_many_attempts"
    return response.status_code


@pytest.mark.parametrize("proxies", [(), PROXIES])
async def test_a_spoofed_header_from_an_untrusted_peer_changes_nothing(proxies: tuple[str, ...]) -> None:
    async with kiosk_for(demo_policy(backend=BackendSettings(trusted_proxies=proxies))) as kiosk:
        # A new made-up client address on every request: still one address, the socket's.
        for number in range(SESSIONS):
            response = await open_from(kiosk.backend, "192.0.2.7", f"198.51.100.{number}", kiosk_id=f"k-{number}")
            assert response.status_code == 201, response.text
        for spoof in ("198.51.100.200", "10.0.0.5", "203.0.113.9, 10.0.0.5", "fd00::1"):
            assert status_of(await open_from(kiosk.backend, "192.0.2.7", spoof, kiosk_id="other")) == 429
        # Claiming to be the full address elsewhere does not block that address either.
        assert status_of(await open_from(kiosk.backend, "192.0.2.8", kiosk_id="other")) == 201
        if not proxies:
            # Without trusted proxies even the proxy's header is ignored: its own address counts.
            await fill(kiosk.backend, "10.0.0.5", "198.51.100.1")
            assert status_of(await open_from(kiosk.backend, "10.0.0.5", "198.51.100.2", kiosk_id="x")) == 429


async def test_a_trusted_proxy_tells_the_client_address() -> None:
    async with kiosk_for(demo_policy(backend=BackendSettings(trusted_proxies=PROXIES))) as kiosk:
        await fill(kiosk.backend, "10.0.0.5", "198.51.100.1")
        # That client is full, whatever it writes in front of what the proxy appended …
        for header in ("198.51.100.1", "203.0.113.1, 198.51.100.1", "garbage, 198.51.100.1"):
            assert status_of(await open_from(kiosk.backend, "10.0.0.5", header, kiosk_id="x")) == 429
        # … through another trusted proxy of the chain, and headers split in two count as one list.
        assert status_of(await open_from(kiosk.backend, "10.1.9.9", "198.51.100.1, 10.0.0.5", kiosk_id="x")) == 429
        assert status_of(await open_from(kiosk.backend, "10.0.0.5", "1.2.3.4", "198.51.100.1", kiosk_id="x")) == 429
        # Other clients behind the same proxy are not, nor is the proxy's own address.
        assert status_of(await open_from(kiosk.backend, "10.0.0.5", "198.51.100.2", kiosk_id="x")) == 201
        assert status_of(await open_from(kiosk.backend, "10.0.0.5", "198.51.100.1, 198.51.100.3", kiosk_id="x")) == 201
        assert status_of(await open_from(kiosk.backend, "10.0.0.5", kiosk_id="x")) == 201


@pytest.mark.parametrize(
    "header",
    ["", "not-an-ip", "198.51.100.1, nonsense", "999.1.1.1", "1.2.3.4,,", "[::1", "é", "1.2.3.4 5.6.7.8", ", " * 100],
)
async def test_a_malformed_header_is_ignored_never_a_500(header: str) -> None:
    async with kiosk_for(demo_policy(backend=BackendSettings(trusted_proxies=PROXIES))) as kiosk:
        response = await open_from(kiosk.backend, "10.0.0.5", header)
        assert response.status_code == 201, response.text
    # Counted against the proxy itself (the peer), like a request without the header.
    assert client_address("10.0.0.5", [header], trusted_networks(PROXIES)) == "10.0.0.5"


NETWORKS = trusted_networks(PROXIES)


@pytest.mark.parametrize(
    ("peer", "headers", "expected"),
    [
        ("192.0.2.7", ["198.51.100.1"], "192.0.2.7"),  # untrusted peer: header ignored
        ("10.0.0.6", ["198.51.100.1"], "10.0.0.6"),  # a neighbour of the proxy is not the proxy
        ("10.0.0.5", [], "10.0.0.5"),
        ("10.0.0.5", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1"], "198.51.100.1"),  # left of the client: the client's own words
        ("10.0.0.5", ["6.6.6.6, 198.51.100.1, 10.1.2.3"], "198.51.100.1"),  # a chain of trusted proxies
        ("10.0.0.5", ["6.6.6.6", "198.51.100.1, 10.1.2.3"], "198.51.100.1"),  # split over two headers
        ("10.0.0.5", ["10.1.0.1, 10.0.0.5"], "10.1.0.1"),  # every hop trusted: the left-most
        ("10.0.0.5", ["198.51.100.1:4711"], "198.51.100.1"),
        ("10.0.0.5", ["[2001:db8::1]:443"], "2001:db8::1"),
        ("fd00::9", ["2001:DB8::1"], "2001:db8::1"),
        ("10.0.0.5", ["rubbish, 198.51.100.1"], "198.51.100.1"),  # never read that far left
        ("10.0.0.5", ["198.51.100.1, rubbish"], "10.0.0.5"),
        ("10.0.0.5", [", ".join(["10.1.0.1"] * 40)], "10.0.0.5"),  # too long a chain
        ("", ["198.51.100.1"], ""),
    ],
)
def test_client_address(peer: str, headers: list[str], expected: str) -> None:
    assert client_address(peer, headers, NETWORKS) == expected


def test_no_trusted_proxy_no_header_is_read() -> None:
    assert client_address("10.0.0.5", ["198.51.100.1"], ()) == "10.0.0.5"


@pytest.mark.parametrize("entry", ["10.0.0", "10.1.0.1/16", "proxy.example.org", "10.0.0.0/33", ""])
def test_the_policy_refuses_what_is_not_an_address_or_network(entry: str) -> None:
    [problem] = check_policy_text(f'[backend]\ntrusted_proxies = ["10.0.0.5", "{entry}"]\n', "p.toml")
    assert problem.key.startswith("backend.trusted_proxies")
    assert "not an IP address or a network in CIDR form" in problem.message


def test_the_policy_takes_addresses_and_networks() -> None:
    text = '[backend]\ntrusted_proxies = ["10.0.0.5", "10.1.0.0/16", "fd00::/8", "::1"]\n'
    assert check_policy_text(text, "p.toml") == []
