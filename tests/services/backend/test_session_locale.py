"""`POST /v1/session/locale`: a language switch mid-session changes the language of the codes sent afterwards."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import kiosk.i18n
from kiosk.i18n.catalogs import compile_catalogs
from kiosk.policy.schema import Method
from kiosk.services.backend import Backend

from .conftest import Kiosk


@pytest.fixture(autouse=True)
def _compiled_catalogs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The shipped catalogs, compiled afresh (the test does not rely on `make compile-catalogs`)."""
    compile_catalogs(target=tmp_path)
    monkeypatch.setattr(kiosk.i18n, "TRANSLATIONS_DIR", tmp_path)
    yield


async def _newest_body(backend: Backend) -> str:
    return (await backend.outbox())[-1].body


async def test_codes_sent_after_the_switch_are_in_the_new_language(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    assert "Your Contoso verification code is" in await _newest_body(kiosk.backend)

    response = await kiosk.request("POST", "/session/locale", {"locale": "de-DE"})
    assert response.status_code == 204, response.text
    assert response.content == b""
    await kiosk.ok("POST", "/session/code/resend")
    assert "Ihr Bestätigungscode für Contoso lautet" in await _newest_body(kiosk.backend)

    await kiosk.request("POST", "/session/locale", {"locale": "ar"})
    await kiosk.ok("POST", "/session/code/resend")
    assert "رمز التحقق الخاص بك لدى Contoso" in await _newest_body(kiosk.backend)


async def test_the_switch_works_on_every_stage_and_keeps_the_session_where_it_is(kiosk: Kiosk) -> None:
    opened = await kiosk.open()
    response = await kiosk.request("POST", "/session/locale", {"locale": "de"})
    assert response.status_code == 204
    view = await kiosk.ok("GET", "/session")
    assert view.stage == opened.view.stage


async def test_an_unknown_tag_is_kept_and_read_as_english(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    assert (await kiosk.request("POST", "/session/locale", {"locale": "xx-invalid"})).status_code == 204
    await kiosk.choose(Method.EMAIL)
    assert "Your Contoso verification code is" in await _newest_body(kiosk.backend)


async def test_the_route_needs_a_session_and_a_valid_body(kiosk: Kiosk) -> None:
    await kiosk.error("POST", "/session/locale", {"locale": "de"}, 401, "session_required")
    await kiosk.open()
    await kiosk.error("POST", "/session/locale", {"locale": ""}, 422, "invalid_request")
    await kiosk.error("POST", "/session/locale", {"locale": "x" * 36}, 422, "invalid_request")
    await kiosk.error("POST", "/session/locale", {"language": "de"}, 422, "invalid_request")
