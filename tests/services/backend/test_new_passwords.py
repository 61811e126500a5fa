"""`POST /v1/session/password` over HTTP: any length the policy allows, banned words as Azure AD matches
them, one Unicode form (NFC) for checking, history, hashing and writing, no invisible direction marks."""

from __future__ import annotations

import unicodedata

import pytest

from kiosk.policy.schema import PasswordSettings
from kiosk.services.api import ErrorBody, ErrorCode, SessionView, Stage
from kiosk.services.backend import Backend

from .conftest import Kiosk, demo_policy, kiosk_for

_WORDS = "Quartz lantern 97 Orbit meadow Falcon tundra Ginger harbor Violet canyon Maple ember Juniper 48".split()
COMPOSED = "Crème-Brûlée-Éclair-42"
DECOMPOSED = unicodedata.normalize("NFD", COMPOSED)
BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"


def passphrase(length: int) -> str:
    """A varied passphrase of exactly `length` characters."""
    text = "-".join(_WORDS)
    while len(text) < length:
        text += "-" + "-".join(reversed(_WORDS))
    return text[:length]


async def at_new_password(kiosk: Kiosk, user: str = "emma") -> SessionView:
    await kiosk.start(user)
    view = await kiosk.pass_email()
    assert view.stage is Stage.NEW_PASSWORD
    return view


async def rejected(kiosk: Kiosk, password: str) -> list[str]:
    error = await kiosk.error("POST", "/session/password", {"password": password}, 422, "password_rejected")
    reasons: list[str] = error["reasons"]
    return reasons


# --- finding 5 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("length", [72, 73, 128, 256])
async def test_a_passphrase_of_any_allowed_length_is_set(kiosk: Kiosk, backend: Backend, length: int) -> None:
    await at_new_password(kiosk)
    password = passphrase(length)
    done = await kiosk.ok("POST", "/session/password", {"password": password})
    assert done.stage is Stage.DONE
    assert await backend.directory.verify_password("emma", password)
    if length > 72:  # all of it counts: nothing (bcrypt, zxcvbn) cut it at 72
        assert not await backend.directory.verify_password("emma", password[:72])


async def test_longer_than_the_api_allows_is_a_clean_422(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    error = await kiosk.error("POST", "/session/password", {"password": passphrase(257)}, 422, "invalid_request")
    assert error["field"] == "password"


async def test_longer_than_the_policy_allows_is_a_rejection() -> None:
    async with kiosk_for(demo_policy(password=PasswordSettings(max_length=100))) as kiosk:
        await at_new_password(kiosk)
        assert await rejected(kiosk, passphrase(101)) == ["max_length"]
        assert (await kiosk.ok("POST", "/session/password", {"password": passphrase(100)})).stage is Stage.DONE


# --- finding 6 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["C0nt0so-Kiosk-2025", "P@ssw0rd-Lobby-99", "W3lcome-Lobby-99", "Wellcome-Lobby-99", "Passwerd-Lobby-99"],
)
async def test_a_disguised_banned_word_is_rejected(password: str) -> None:
    policy = demo_policy(password=PasswordSettings(banned_words=("contoso", "password", "welcome")))
    async with kiosk_for(policy) as kiosk:
        await at_new_password(kiosk)
        assert await rejected(kiosk, password) == ["no_banned_words"]


async def test_the_organisation_name_is_banned_and_sent_with_the_rules(kiosk: Kiosk) -> None:
    view = await at_new_password(kiosk)  # the test policy lists no banned words; the organisation is Contoso
    assert view.rules is not None and view.rules.banned_words == () and view.rules.organisation == "Contoso"
    assert await rejected(kiosk, "K0nt0so-Harbor-93!") == ["no_banned_words"]


async def test_the_user_names_are_matched_after_normalization(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    assert await rejected(kiosk, "J4ns3n-Harbor-93!") == ["not_user_name"]


# --- finding 7 ------------------------------------------------------------------------------------


async def test_the_decomposed_form_of_a_recent_password_is_recent(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    assert (await kiosk.ok("POST", "/session/password", {"password": COMPOSED})).stage is Stage.DONE
    await at_new_password(kiosk)
    assert await rejected(kiosk, DECOMPOSED) == ["not_recent"]


async def test_a_password_set_decomposed_is_stored_composed(kiosk: Kiosk, backend: Backend) -> None:
    await at_new_password(kiosk)
    assert (await kiosk.ok("POST", "/session/password", {"password": DECOMPOSED})).stage is Stage.DONE
    assert await backend.directory.verify_password("emma", COMPOSED)
    assert await backend.directory.verify_password("emma", DECOMPOSED)
    await at_new_password(kiosk)
    assert await rejected(kiosk, COMPOSED) == ["not_recent"]


async def test_the_length_limit_counts_composed_characters() -> None:
    async with kiosk_for(demo_policy(password=PasswordSettings(max_length=len(COMPOSED)))) as kiosk:
        await at_new_password(kiosk)
        assert len(DECOMPOSED) > len(COMPOSED)
        assert (await kiosk.ok("POST", "/session/password", {"password": DECOMPOSED})).stage is Stage.DONE


async def test_the_directory_is_given_the_composed_form(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    # What every adapter (embedded, OpenLDAP, Active Directory) is handed for its history check and write.
    given: list[tuple[str, str]] = []
    recently_used, reset = backend.directory.password_recently_used, backend.directory.reset_password

    async def recording_recently_used(login: str, password: str, history: int) -> bool:
        given.append(("recently_used", password))
        return await recently_used(login, password, history)

    async def recording_reset(login: str, password: str) -> None:
        given.append(("reset", password))
        await reset(login, password)

    monkeypatch.setattr(backend.directory, "password_recently_used", recording_recently_used)
    monkeypatch.setattr(backend.directory, "reset_password", recording_reset)
    await at_new_password(kiosk)
    assert (await kiosk.ok("POST", "/session/password", {"password": DECOMPOSED})).stage is Stage.DONE
    assert given == [("recently_used", COMPOSED), ("reset", COMPOSED)]


async def test_the_embedded_directory_normalizes_what_it_is_given(backend: Backend) -> None:
    await backend.directory.reset_password("quinn", DECOMPOSED)
    assert await backend.directory.verify_password("quinn", COMPOSED)
    assert await backend.directory.password_recently_used("quinn", COMPOSED, 5)
    assert await backend.directory.password_recently_used("quinn", DECOMPOSED, 5)


# --- finding 9 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("control", BIDI_CONTROLS, ids=[f"U+{ord(ch):04X}" for ch in BIDI_CONTROLS])
async def test_a_bidi_control_in_a_new_password_is_refused(kiosk: Kiosk, backend: Backend, control: str) -> None:
    await at_new_password(kiosk)
    password = f"Tulip-{control}Harbor-93!"
    response = await kiosk.request("POST", "/session/password", {"password": password})
    assert response.status_code == 422, response.text
    body = ErrorBody.model_validate_json(response.content)
    assert body.code is ErrorCode.INVALID_REQUEST and body.field == "password"
    assert (await kiosk.ok("GET", "/session")).stage is Stage.NEW_PASSWORD
    assert not await backend.directory.verify_password("emma", password)
