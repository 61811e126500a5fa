"""Signing in with the current password (flows change and register), as an attacker would try it.

A wrong password, an unknown ID, a disabled, locked or ambiguous account: one answer, byte for byte,
and each one a failed proof counted with wrong codes toward the same block.
"""

from __future__ import annotations

import httpx
import pytest

from kiosk.policy.schema import Method, Policy
from kiosk.services.api import Flow, SessionView, Stage
from kiosk.services.backend import Backend
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.recovery.decoys import DUMMY_ANSWER_HASH

from ..conftest import DEMO_PASSWORD, Kiosk, demo_policy, kiosk_for
from .conftest import open_flow, sign_in, signed_in


def _body_without_correlation(response: httpx.Response) -> bytes:
    """The response's bytes with its correlation id blanked (the one part that must differ)."""
    return response.content.replace(response.headers["X-Correlation-Id"].encode(), b"<cid>")


async def _audit(backend: Backend) -> list[tuple[AuditEvent, str, str]]:
    return [(r.event, r.user_id, r.outcome) for r in await backend.audit_records()]


async def test_the_right_password_leads_to_the_new_password_page(kiosk: Kiosk, backend: Backend) -> None:
    view = await signed_in(kiosk, "emma", DEMO_PASSWORD)
    assert view.flow is Flow.CHANGE and view.stage is Stage.NEW_PASSWORD
    assert view.display_name == "Emma Jansen" and view.rules is not None
    assert view.gates_required == 0 and view.methods == ()
    assert (AuditEvent.SIGNED_IN, "emma", "change") in await _audit(backend)


async def test_an_alias_signs_in_as_its_account(kiosk: Kiosk, backend: Backend) -> None:
    view = await signed_in(kiosk, "Emma.Jansen@contoso.com", DEMO_PASSWORD)
    assert view.stage is Stage.NEW_PASSWORD
    assert (AuditEvent.SIGNED_IN, "emma", "change") in await _audit(backend)


async def test_a_wrong_password_is_refused_and_the_session_stays_at_sign_in(kiosk: Kiosk, backend: Backend) -> None:
    await open_flow(kiosk)
    await kiosk.error("POST", "/session/sign-in", None, 422, "invalid_request")  # no body at all
    response = await sign_in(kiosk, "emma", "Not-Her-Password-1")
    assert response.status_code == 400 and response.json()["code"] == "sign_in_failed"
    view = SessionView.model_validate_json((await kiosk.request("GET", "/session")).content)
    assert view.stage is Stage.SIGN_IN and view.display_name is None
    # Tried again with the right one (a new CAPTCHA): in.
    assert (await sign_in(kiosk, "emma", DEMO_PASSWORD)).status_code == 200
    audit = await _audit(backend)
    assert (AuditEvent.SIGN_IN_FAILED, "emma", "wrong_password") in audit
    assert all("Not-Her-Password" not in outcome and DEMO_PASSWORD not in outcome for _, _, outcome in audit)


@pytest.mark.parametrize(
    ("user_id", "reason"),
    [
        ("nobody-here", "unknown_user"),
        ("dana", "account_disabled"),  # the right password of a disabled account
        ("luke", "account_locked"),  # the right password of a locked account
    ],
)
async def test_every_failure_answers_the_same_bytes(kiosk: Kiosk, backend: Backend, user_id: str, reason: str) -> None:
    await open_flow(kiosk)
    wrong = await sign_in(kiosk, "emma", "Not-Her-Password-1")
    other = await sign_in(kiosk, user_id, DEMO_PASSWORD)
    assert wrong.status_code == other.status_code == 400
    assert _body_without_correlation(wrong) == _body_without_correlation(other)
    assert wrong.headers.keys() == other.headers.keys()
    failed = [(user, outcome) for event, user, outcome in await _audit(backend) if event is AuditEvent.SIGN_IN_FAILED]
    # The helpdesk sees the real reason; a typed ID that is no account is never written down.
    expected_user = "" if reason == "unknown_user" else user_id
    assert failed == [("emma", "wrong_password"), (expected_user, reason)]


async def test_an_ambiguous_id_is_no_account(backend: Backend, kiosk: Kiosk) -> None:
    from dataclasses import replace

    emma = await backend.directory.find_user("emma")
    assert emma is not None
    # Another account whose alias is emma's login: "emma" now names two entries.
    twin = replace(emma, login="emma2", display_name="Emma Twin", aliases=("emma",), auth_email="")
    await backend.directory.add_user(twin, DUMMY_ANSWER_HASH)
    await open_flow(kiosk)
    wrong = await sign_in(kiosk, "alex", "Not-His-Password-1")
    ambiguous = await sign_in(kiosk, "emma", DEMO_PASSWORD)
    assert _body_without_correlation(wrong) == _body_without_correlation(ambiguous)
    assert (AuditEvent.SIGN_IN_FAILED, "", "ambiguous_user") in await _audit(backend)


async def test_an_unknown_id_costs_a_password_check_too(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    checked: list[str] = []
    hashing = backend._rt.hashing
    real = hashing.verify_secret

    async def counting(encoded: str, secret: str) -> bool:
        checked.append(encoded.split("$")[3])  # the hash's parameters, never the secret
        return await real(encoded, secret)

    monkeypatch.setattr(hashing, "verify_secret", counting)
    await open_flow(kiosk)
    await sign_in(kiosk, "emma", "Not-Her-Password-1")
    await sign_in(kiosk, "nobody-here", "Not-Her-Password-1")
    await sign_in(kiosk, "dana", DEMO_PASSWORD)
    # One strong argon2 verify each: the real account's and two decoys', with the same parameters.
    assert checked == ["m=65536,t=3,p=4"] * 3


async def test_a_wrong_captcha_is_refused_before_anything_and_is_not_reusable(kiosk: Kiosk, backend: Backend) -> None:
    await open_flow(kiosk)
    answer = await backend.captcha_text_for_test(kiosk.token)
    response = await sign_in(kiosk, "emma", DEMO_PASSWORD, captcha="WRONG")
    assert response.status_code == 400 and response.json()["code"] == "captcha_wrong"
    replay = await sign_in(kiosk, "emma", DEMO_PASSWORD, captcha=answer)  # the old challenge is gone
    assert replay.status_code == 400 and replay.json()["code"] == "captcha_wrong"
    audit = await _audit(backend)
    assert [e for e, _, _ in audit].count(AuditEvent.CAPTCHA_FAILED) == 2
    assert AuditEvent.SIGN_IN_FAILED not in {e for e, _, _ in audit}  # no password was checked
    assert (await sign_in(kiosk, "emma", DEMO_PASSWORD)).status_code == 200


async def test_wrong_passwords_and_wrong_codes_count_toward_one_block(kiosk: Kiosk, backend: Backend) -> None:
    # Two wrong e-mail codes in a reset session…
    await kiosk.start("emma")
    await kiosk.choose(Method.EMAIL)
    for _ in range(2):
        await kiosk.error("POST", "/session/code", {"code": "00000000"}, 400, "code_wrong")
    # …then wrong passwords at sign-in: the fifth failed proof of the day blocks.
    await open_flow(kiosk)
    for _ in range(2):
        assert (await sign_in(kiosk, "emma", "Not-Her-Password-1")).status_code == 400
    fifth = await sign_in(kiosk, "emma", "Not-Her-Password-1")
    assert fifth.status_code == 429 and fifth.json()["code"] == "too_many_attempts"
    # Blocked: even the right password, in a new session, is refused (429, no password checked).
    await open_flow(kiosk)
    blocked = await sign_in(kiosk, "emma", DEMO_PASSWORD)
    assert blocked.status_code == 429
    # …and the reset flow is blocked for her as well.
    await kiosk.open()
    await kiosk.error(
        "POST", "/session/identify",
        {"user_id": "emma", "captcha": await backend.captcha_text_for_test(kiosk.token)}, 429, "too_many_attempts",
    )  # fmt: skip
    audit = await _audit(backend)
    assert [outcome for e, _, outcome in audit if e is AuditEvent.SIGN_IN_FAILED] == ["wrong_password"] * 3
    assert any(e is AuditEvent.BLOCKED and user == "emma" for e, user, _ in audit)


async def test_an_unknown_id_is_blocked_after_as_many_failures(kiosk: Kiosk) -> None:
    statuses = []
    for _ in range(6):
        await open_flow(kiosk)
        statuses.append((await sign_in(kiosk, "nobody-here", "Any-Password-1")).status_code)
    assert statuses == [400, 400, 400, 400, 429, 429]


async def test_a_right_password_refunds_its_reserved_proof(kiosk: Kiosk) -> None:
    # Ten right sign-ins in a row never block (each reserved proof is refunded), and a failure after
    # them is the first one counted.
    for _ in range(6):
        await signed_in(kiosk, "alex", DEMO_PASSWORD)
    await open_flow(kiosk)
    assert (await sign_in(kiosk, "alex", "Not-His-Password-1")).status_code == 400


async def test_writeback_off_is_told_only_after_the_right_password(kiosk: Kiosk, backend: Backend) -> None:
    await open_flow(kiosk)
    wrong = await sign_in(kiosk, "owen", "Not-His-Password-1")
    assert wrong.status_code == 400 and wrong.json()["code"] == "sign_in_failed"
    view = SessionView.model_validate_json((await sign_in(kiosk, "owen", DEMO_PASSWORD)).content)
    assert view.stage is Stage.REFUSED and view.refusal is not None
    assert view.refusal.code.value == "writeback_disabled"
    await kiosk.error("POST", "/session/password", {"password": "Lantern-Orbit-Meadow-42"}, 409, "step_not_allowed")
    assert (AuditEvent.REFUSED, "owen", "writeback_disabled") in await _audit(backend)


async def test_any_enabled_account_may_change_but_only_enabled_users_register(kiosk: Kiosk, backend: Backend) -> None:
    # nora is not in reset.groups: she may still change her own password (as at a Windows sign-in)…
    view = await signed_in(kiosk, "nora", DEMO_PASSWORD)
    assert view.stage is Stage.NEW_PASSWORD
    # …but not register security info (as Azure AD registers only users enabled for SSPR).
    view = await signed_in(kiosk, "nora", DEMO_PASSWORD, Flow.REGISTER)
    assert view.stage is Stage.REFUSED and view.refusal is not None and view.refusal.code.value == "not_enabled"
    assert (AuditEvent.SIGNED_IN, "nora", "register") in await _audit(backend)


async def test_registering_asks_for_a_gate_only_when_something_is_registered(kiosk: Kiosk) -> None:
    view = await signed_in(kiosk, "emma", DEMO_PASSWORD, Flow.REGISTER)
    assert view.stage is Stage.CHOOSE_METHOD and view.gates_required == 1
    assert [option.method for option in view.methods] == [Method.EMAIL]  # hers, masked, not the policy's list
    assert view.methods[0].masked_target is not None
    view = await signed_in(kiosk, "fay", DEMO_PASSWORD, Flow.REGISTER)  # nothing registered
    assert view.stage is Stage.REGISTER


async def test_sign_in_belongs_to_its_flows_only(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.open()  # a reset session
    await kiosk.error(
        "POST", "/session/sign-in",
        {"user_id": "emma", "password": DEMO_PASSWORD, "captcha": await backend.captcha_text_for_test(kiosk.token)},
        409, "step_not_allowed",
    )  # fmt: skip
    await open_flow(kiosk)  # a change session cannot identify instead of signing in
    await kiosk.error(
        "POST", "/session/identify", {"user_id": "emma", "captcha": await backend.captcha_text_for_test(kiosk.token)},
        409, "step_not_allowed",
    )  # fmt: skip
    assert (await sign_in(kiosk, "emma", DEMO_PASSWORD)).status_code == 200
    again = await sign_in(kiosk, "alex", DEMO_PASSWORD)  # signed in once: never as someone else
    assert again.status_code == 409 and again.json()["code"] == "step_not_allowed"


@pytest.mark.parametrize("flow", [Flow.CHANGE, Flow.REGISTER])
async def test_a_flow_the_policy_switched_off_cannot_be_opened(flow: Flow) -> None:
    settings = {Flow.CHANGE: {"offer_change": False}, Flow.REGISTER: {"offer_registration": False}}[flow]
    policy: Policy = demo_policy()
    policy = policy.model_copy(update={"kiosk": policy.kiosk.model_copy(update=settings)})
    async with kiosk_for(policy) as kiosk:
        body = {"kiosk_id": "lobby-1", "locale": "en", "flow": flow.value}
        response = await kiosk.request("POST", "/sessions", body)
        assert response.status_code == 409 and response.json()["code"] == "step_not_allowed"


async def test_wrong_passwords_in_parallel_never_pass_the_limit(backend: Backend) -> None:
    # Eight kiosks try wrong passwords for one account at once: each failure is reserved before its password is
    # checked, so no more than the limit's worth are ever checked, and the account is blocked afterwards.
    import asyncio

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=backend.asgi), base_url="http://kiosk") as http:
        kiosks = [Kiosk(backend, http) for _ in range(8)]
        for each in kiosks:
            await open_flow(each)
        wrong = [f"Not-Her-Password-{n}" for n in range(len(kiosks))]
        answers = list(await asyncio.gather(*(sign_in(each, "emma", wrong[n]) for n, each in enumerate(kiosks))))
        for n, answer in enumerate(answers):
            while answer.status_code == 503:  # busy: refused before any work (hashing queue full); try again
                answer = answers[n] = await sign_in(kiosks[n], "emma", wrong[n])
        statuses = sorted(answer.status_code for answer in answers)
        assert set(statuses) == {400, 429} and statuses.count(400) <= 4
        audit = await _audit(backend)
        assert len([e for e, _, _ in audit if e is AuditEvent.SIGN_IN_FAILED]) <= 5  # passwords really checked
        await open_flow(kiosks[0])
        assert (await sign_in(kiosks[0], "emma", DEMO_PASSWORD)).status_code == 429
