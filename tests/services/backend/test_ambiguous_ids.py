"""An ID that is one embedded user's login and another's alias is refused, never guessed (issue 11, finding 10).

The embedded directory raises `AmbiguousUser` as the LDAP adapters do; through the API such an ID
gets exactly what an unknown ID gets: the same pages, no code to either account, and the audit says
`ambiguous_user`.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from kiosk.policy.schema import Method
from kiosk.services.api import Stage
from kiosk.services.backend import Backend
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.directory.errors import AmbiguousUser
from kiosk.services.backend.hashing import hash_secret

from .conftest import Kiosk, kiosk_for

SHARED_ID = "sam"


async def _add_twins(backend: Backend) -> None:
    """`sam` is one user's login and the other user's alias; both could receive an e-mailed code."""
    password_hash = await hash_secret("Twin-Lantern-Orbit-42")
    common: dict[str, Any] = {"groups": ("SSPR-Users",)}
    await backend.directory.add_users(
        [
            (
                DirectoryUser(login="sam", display_name="Sam Login", auth_email="sam@contoso.com", **common),
                password_hash,
            ),
            (
                DirectoryUser(
                    login="samuel",
                    display_name="Samuel Alias",
                    aliases=("SAM", "samuel@contoso.com"),
                    auth_email="samuel@contoso.com",
                    **common,
                ),
                password_hash,
            ),
        ]
    )


def _comparable(response: httpx.Response) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = response.json()
    body.pop("correlation_id", None)
    body.pop("expires_at", None)
    return response.status_code, body


async def _walk(kiosk: Kiosk, user_id: str) -> list[tuple[int, dict[str, Any]]]:
    """Identify, choose e-mail, type a wrong code: what a stranger sees of each step."""
    await kiosk.open()
    captcha = await kiosk.backend.captcha_text_for_test(kiosk.token)
    seen = [_comparable(await kiosk.request("POST", "/session/identify", {"user_id": user_id, "captcha": captcha}))]
    seen.append(_comparable(await kiosk.request("POST", "/session/method", {"method": Method.EMAIL.value})))
    seen.append(_comparable(await kiosk.request("POST", "/session/code", {"code": "00000000"})))
    return seen


async def test_the_embedded_directory_refuses_an_id_matching_two_accounts(backend: Backend) -> None:
    await _add_twins(backend)
    with pytest.raises(AmbiguousUser):
        await backend.directory.find_user(SHARED_ID)
    with pytest.raises(AmbiguousUser):
        await backend.directory.find_user(" Sam ")  # trimmed and case-folded like any ID
    samuel = await backend.directory.find_user("samuel@contoso.com")
    assert samuel is not None and samuel.login == "samuel"  # an ID that matches one account still works


async def test_an_ambiguous_id_is_treated_like_an_unknown_one(kiosk: Kiosk, backend: Backend) -> None:
    await _add_twins(backend)
    ambiguous = await _walk(kiosk, SHARED_ID)
    unknown = await _walk(kiosk, "nobody-here@contoso.com")
    assert ambiguous == unknown
    assert ambiguous[0][1]["stage"] == Stage.CHOOSE_METHOD.value
    assert await backend.outbox() == []  # no code to either account
    identified = [r for r in await backend.audit_records() if r.event is AuditEvent.IDENTIFIED]
    assert [r.outcome for r in identified] == ["ambiguous_user", "unknown_user"]
    assert identified[0].user_id == ""  # neither account is named: the kiosk never guessed one


async def test_an_ambiguous_id_is_refused_as_unknown_with_early_refusals() -> None:
    from .test_refusals import early

    async with kiosk_for(early()) as kiosk:
        await _add_twins(kiosk.backend)
        view = await kiosk.start(SHARED_ID)
        assert view.stage is Stage.REFUSED
        assert view.refusal is not None and view.refusal.code.value == "unknown_user"
        refused = [r for r in await kiosk.backend.audit_records() if r.event is AuditEvent.REFUSED]
        assert [r.outcome for r in refused] == ["ambiguous_user"]
        assert await kiosk.backend.outbox() == []


async def test_an_account_whose_login_is_another_accounts_alias_is_refused_by_any_id(
    kiosk: Kiosk, backend: Backend
) -> None:
    """`sam` reached by a unique alias is still refused: every later lookup by its login would be
    ambiguous (a 500 after the first gate), and guessing there would act on the wrong account."""
    password_hash = await hash_secret("Twin-Lantern-Orbit-42")
    sam = DirectoryUser(
        login="sam",
        display_name="Sam",
        aliases=("sam@contoso.com",),
        auth_email="sam@contoso.com",
        groups=("SSPR-Users",),
    )
    await backend.directory.add_users([(sam, password_hash)])
    assert (await backend.directory.find_user("sam@contoso.com")) is not None  # alone, sam is fine
    samuel = DirectoryUser(login="samuel", display_name="Samuel", aliases=("sam",), groups=("SSPR-Users",))
    await backend.directory.add_users([(samuel, password_hash)])  # now samuel's alias is sam's login
    with pytest.raises(AmbiguousUser):
        await backend.directory.find_user("sam@contoso.com")
    assert await _walk(kiosk, "sam@contoso.com") == await _walk(kiosk, "nobody-here@contoso.com")
    assert await backend.outbox() == []
    identified = [r for r in await backend.audit_records() if r.event is AuditEvent.IDENTIFIED]
    assert [r.outcome for r in identified] == ["ambiguous_user", "unknown_user"]
