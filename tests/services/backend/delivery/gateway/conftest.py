"""The FAKE SMS gateway of `live_servers.fake_gateway` (no real one can run here), started per test.

It is a real HTTP(S) server on 127.0.0.1 at a free port, recording what arrives; the SMTP server,
TLS files and the FAKE keyring come from the parent conftest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from live_servers.certificates import TlsFiles
from live_servers.fake_gateway import RunningGateway

GatewayFactory = Callable[..., RunningGateway]


@pytest.fixture
def gateway_factory() -> Iterator[GatewayFactory]:
    """Start FAKE SMS gateways on 127.0.0.1 (http, or https with `tls=`); all are stopped after the test."""
    started: list[RunningGateway] = []

    def start(*, tls: TlsFiles | None = None) -> RunningGateway:
        gateway = RunningGateway(tls)
        started.append(gateway)
        return gateway

    yield start
    for gateway in started:
        gateway.stop()


@pytest.fixture
def gateway(gateway_factory: GatewayFactory) -> RunningGateway:
    """A FAKE SMS gateway over plain http on loopback, answering 200 until told otherwise."""
    return gateway_factory()
