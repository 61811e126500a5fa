"""The client address behind trusted reverse proxies: what the per-address limits count.

`X-Forwarded-For` is believed ONLY when the direct peer (the socket's address) is one of the policy's
`backend.trusted_proxies`; then the header's entries are read right to left (each proxy appends the
address it saw) and the first one that is not itself a trusted proxy is the client. Anything to the
left of it was written by the client and is never looked at. From any other peer the header is
ignored and the socket's address counts.

Only `X-Forwarded-For` is read, not the standard `Forwarded` header: a proxy normally writes one of
the two, and a client could put whatever it likes in the other one, which the proxy passes through
untouched. A malformed entry (not an IP address) met before the client is found makes the whole
header ignored: the peer's address counts, and nothing fails.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Sequence

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

MAX_ENTRIES = 32
"""At most this many entries are read from the right; a longer chain is ignored (peer's address)."""


def trusted_networks(entries: Iterable[str]) -> tuple[Network, ...]:
    """The policy's `backend.trusted_proxies` as networks (already validated by the schema)."""
    return tuple(ipaddress.ip_network(entry, strict=True) for entry in entries)


def _address(text: str) -> Address | None:
    """One header entry as an IP address: `1.2.3.4`, `1.2.3.4:5678`, `2001:db8::1` or `[2001:db8::1]:80`."""
    text = text.strip()
    if text.startswith("["):
        text, closed, port = text[1:].partition("]")
        if not closed or (port and not port.startswith(":")):
            return None
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.partition(":")[0]
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _trusted(address: Address, networks: Sequence[Network]) -> bool:
    return any(address in network for network in networks)


def client_address(peer: str, forwarded_for: Sequence[str], networks: Sequence[Network]) -> str:
    """The address the limits count: the peer's, or the client's behind trusted proxies.

    `forwarded_for` holds every `X-Forwarded-For` header of the request, in order.
    """
    if not networks or not forwarded_for:
        return peer
    direct = _address(peer)
    if direct is None or not _trusted(direct, networks):
        return peer
    entries = [entry for header in forwarded_for for entry in header.split(",")]
    if len(entries) > MAX_ENTRIES:
        return peer
    for entry in reversed(entries):
        address = _address(entry)
        if address is None:
            return peer
        if not _trusted(address, networks):
            return str(address)
    # Every hop is a trusted proxy: the left-most one is the client.
    first = _address(entries[0])
    return str(first) if first is not None else peer
