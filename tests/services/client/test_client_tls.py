"""The shared-mode client over HTTPS: the server's certificate is verified against `backend.ca_file`."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from live_servers.certificates import make_tls_files
from live_servers.served_backend import served_backend

from kiosk.services.api import Stage
from kiosk.services.client import BackendClient, BackendUnavailable


async def test_a_server_signed_by_the_configured_ca_is_trusted(tmp_path: Path) -> None:
    tls = make_tls_files(tmp_path, ("127.0.0.1",), "kiosk client")
    async with served_backend("tls-test", cert_file=tls.cert_file, key_file=tls.key_file) as url:
        assert url.startswith("https://")
        client = BackendClient.shared(url, timeout=5.0, ca_file=str(tls.ca_file))
        try:
            assert (await client.health()).status == "ok"
            opened = await client.open_session(kiosk_id="lobby-tls", locale="en")
            assert opened.view.stage is Stage.IDENTIFY
        finally:
            await client.aclose()


async def test_a_server_of_another_ca_is_unreachable_and_the_log_says_tls_verification(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls = make_tls_files(tmp_path, ("127.0.0.1",), "kiosk client")
    async with served_backend("tls-test", cert_file=tls.cert_file, key_file=tls.key_file) as url:
        for ca_file in (str(tls.wrong_ca_file), ""):  # another CA; the OS trust store, which knows neither
            client = BackendClient.shared(url, timeout=5.0, ca_file=ca_file)
            caplog.clear()
            try:
                with caplog.at_level(logging.WARNING), pytest.raises(BackendUnavailable) as caught:
                    await client.health()
            finally:
                await client.aclose()
            assert "unreachable" in str(caught.value)
            lines = [record.getMessage() for record in caplog.records]
            assert any("TLS verification failed" in line for line in lines), lines


async def test_an_unreadable_ca_file_trusts_nothing_and_says_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    tls = make_tls_files(tmp_path, ("127.0.0.1",), "kiosk client")
    missing = tmp_path / "no-such-ca.pem"
    async with served_backend("tls-test", cert_file=tls.cert_file, key_file=tls.key_file) as url:
        with caplog.at_level(logging.WARNING):
            client = BackendClient.shared(url, timeout=5.0, ca_file=str(missing))
            try:
                with pytest.raises(BackendUnavailable):
                    await client.health()
            finally:
                await client.aclose()
    assert any(str(missing) in record.getMessage() for record in caplog.records)
