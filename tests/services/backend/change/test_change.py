"""The password change (flow change) on the embedded directory, through the HTTP API.

Signed in with the current password, the user sets a new one under the kiosk's rules; the change is
written as the user's own (the current password checked again by the directory), audited `changed`,
and e-mailed to the user. What an attacker would try: replays after done, a second session, other
flows' steps, and reading the stored session for the current password.
"""

from __future__ import annotations

import json

import pytest

from kiosk.policy.schema import Policy, RegistrationSettings
from kiosk.services.api import Flow, Outcome, SessionView, Stage
from kiosk.services.backend import Backend
from kiosk.services.backend.audit.log import AuditEvent
from kiosk.services.backend.registration import afterwards
from kiosk.services.backend.storage.db import Db

from ..conftest import DEMO_PASSWORD, GOOD_PASSWORD, Kiosk, demo_policy, kiosk_for
from .conftest import open_flow, sign_in, signed_in

OTHER_PASSWORD = "Copper-Willow-Tundra-58"


@pytest.fixture
def policy() -> Policy:
    """The demo policy without reconfirmation: a change ends at DONE (see the afterwards test below)."""
    return demo_policy(registration=RegistrationSettings(reconfirm_days=0))


async def _stored_sessions(backend: Backend) -> list[str]:
    """Every session row's state_json as stored."""
    rows = await backend._rt.store.call(lambda db: db.execute("SELECT state_json FROM sessions").fetchall())
    return [str(row["state_json"]) for row in rows]


async def _audit(backend: Backend) -> list[tuple[AuditEvent, str, str]]:
    return [(r.event, r.user_id, r.outcome) for r in await backend.audit_records()]


async def test_a_change_writes_the_new_password_audits_it_and_tells_the_user(kiosk: Kiosk, backend: Backend) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    response = await kiosk.password(GOOD_PASSWORD)
    assert response.status_code == 200, response.text
    view = SessionView.model_validate_json(response.content)
    assert view.stage is Stage.DONE and view.outcome is Outcome.CHANGED
    assert await backend.directory.verify_password("emma", GOOD_PASSWORD)
    assert not await backend.directory.verify_password("emma", DEMO_PASSWORD)
    audit = await _audit(backend)
    assert (AuditEvent.CHANGED, "emma", "ok") in audit
    assert AuditEvent.RESET not in {event for event, _, _ in audit}
    notices = [m for m in await backend.outbox() if m.to == "emma.jansen@contoso.com"]
    assert [m.subject for m in notices] == ["Your Contoso password was changed"]
    assert GOOD_PASSWORD not in notices[0].body and DEMO_PASSWORD not in notices[0].body
    # Told as the user's own change, not as a reset after proving who they are.
    assert "just changed at a self-service kiosk, with the current password" in notices[0].body
    assert "reset" not in notices[0].body


async def test_an_administrators_change_is_told_to_the_other_administrators(kiosk: Kiosk, backend: Backend) -> None:
    await signed_in(kiosk, "adele", DEMO_PASSWORD)
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    sent = {(m.to, m.subject) for m in await backend.outbox()}
    assert ("megan.bowen@contoso.com", "Administrator password reset: Adele Vance") in sent
    assert not any(to == "megan.bowen@contoso.com" for to, _ in sent if "Adele" not in _)
    # A user who is no administrator: no administrator hears of it.
    await signed_in(kiosk, "alex", DEMO_PASSWORD)
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    assert not any("Alex" in m.subject for m in await backend.outbox())


async def test_the_kiosks_rules_and_history_apply_to_a_change(kiosk: Kiosk, backend: Backend) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    short = await kiosk.password("short")
    assert short.status_code == 422 and "min_length" in short.json()["reasons"]
    same = await kiosk.password(DEMO_PASSWORD)  # the current one is in the history
    assert same.status_code == 422 and "not_recent" in same.json()["reasons"]
    named = await kiosk.password("Emma-Jansen-Lantern-42")  # her name
    assert named.status_code == 422
    assert await backend.directory.verify_password("emma", DEMO_PASSWORD)  # nothing written
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    # A later change back to a password of the history is refused as well.
    await signed_in(kiosk, "emma", GOOD_PASSWORD)
    back = await kiosk.password(DEMO_PASSWORD)
    assert back.status_code == 422 and "not_recent" in back.json()["reasons"]


async def test_done_is_done(kiosk: Kiosk, backend: Backend) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    # The same session cannot set another password, nor sign in again.
    await kiosk.error("POST", "/session/password", {"password": OTHER_PASSWORD}, 409, "step_not_allowed")
    replay = await sign_in(kiosk, "emma", GOOD_PASSWORD)
    assert replay.status_code == 409
    assert await backend.directory.verify_password("emma", GOOD_PASSWORD)
    # …and nothing of the current password stays in the stored session.
    [state] = [json.loads(row) for row in await _stored_sessions(backend)]
    assert state["sealed_current"] == "" and state["stage"] == "done"


async def test_the_current_password_is_stored_only_sealed(kiosk: Kiosk, backend: Backend) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    [stored] = await _stored_sessions(backend)
    state = json.loads(stored)
    assert state["sealed_current"].startswith("gAAAAA")  # a Fernet token
    assert DEMO_PASSWORD not in stored and DEMO_PASSWORD.encode().hex() not in stored
    assert backend._rt.sealer.open(state["sealed_current"]) == DEMO_PASSWORD

    # Nor in any other table of the store.
    def every_text(db: Db) -> str:
        tables = [row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()]
        return repr([db.execute(f"SELECT * FROM {table}").fetchall() for table in tables])  # noqa: S608

    if backend.database is not None and str(backend.database).endswith(".sqlite3"):
        assert DEMO_PASSWORD not in await backend._rt.store.call(every_text)


async def test_no_password_reaches_the_audit(kiosk: Kiosk, backend: Backend) -> None:
    await open_flow(kiosk)
    await sign_in(kiosk, "emma", "Wrong-Current-Pass-9")
    await sign_in(kiosk, "nobody", "Typed-For-Nobody-7")
    await sign_in(kiosk, "emma", DEMO_PASSWORD)
    await kiosk.password("Short-1")
    await kiosk.password(GOOD_PASSWORD)
    rows = [repr(record) + record.outcome + record.user_id for record in await backend.audit_records()]
    for secret in ("Wrong-Current-Pass-9", "Typed-For-Nobody-7", DEMO_PASSWORD, "Short-1", GOOD_PASSWORD, "nobody"):
        assert not any(secret in row for row in rows), secret


async def test_a_second_session_of_the_same_user_finds_the_password_changed(kiosk: Kiosk, backend: Backend) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    first = kiosk.token
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    second = kiosk.token
    kiosk.token = first
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200
    kiosk.token = second  # its sealed current password no longer holds
    stale = await kiosk.password(OTHER_PASSWORD)
    assert stale.status_code == 400 and stale.json()["code"] == "sign_in_failed"
    assert await backend.directory.verify_password("emma", GOOD_PASSWORD)
    # It can change nothing any more, not even with a retry.
    await kiosk.error("POST", "/session/password", {"password": OTHER_PASSWORD}, 409, "step_not_allowed")
    assert (AuditEvent.SIGN_IN_FAILED, "emma", "current_password_changed") in await _audit(backend)


async def test_a_change_session_reaches_no_other_flows_steps(kiosk: Kiosk, backend: Backend) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    for method, path, body in (
        ("POST", "/session/action", {"action": "unlock"}),
        ("POST", "/session/action", {"action": "reset"}),
        ("POST", "/session/method", {"method": "email"}),
        ("POST", "/session/code", {"code": "12345678"}),
        ("POST", "/session/answers", {"answers": [{"id": "q1", "answer": "Rex"}]}),
        ("POST", "/session/register/contact", {"kind": "email", "value": "me@example.com"}),
        ("POST", "/session/register/app", None),
        ("POST", "/session/register/done", None),
        ("POST", "/session/reconfirm", {"choice": "keep"}),
    ):
        response = await kiosk.request(method, path, body)
        assert response.status_code in (400, 409), (path, response.text)
        assert response.json()["code"] in ("step_not_allowed", "no_active_code"), (path, response.text)
    view = SessionView.model_validate_json((await kiosk.request("GET", "/session")).content)
    assert view.stage is Stage.NEW_PASSWORD and view.gates_passed == 0
    assert await backend.directory.verify_password("emma", DEMO_PASSWORD)


async def test_no_new_password_without_signing_in(kiosk: Kiosk, backend: Backend) -> None:
    await open_flow(kiosk)
    await kiosk.error("POST", "/session/password", {"password": GOOD_PASSWORD}, 409, "step_not_allowed")
    await sign_in(kiosk, "emma", "Wrong-Current-Pass-9")
    await kiosk.error("POST", "/session/password", {"password": GOOD_PASSWORD}, 409, "step_not_allowed")
    assert await backend.directory.verify_password("emma", DEMO_PASSWORD)


async def test_an_account_disabled_after_the_sign_in_cannot_change(kiosk: Kiosk, backend: Backend) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    await backend._rt.store.call(lambda db: db.execute("UPDATE users SET enabled = 0 WHERE login = ?", ("emma",)))
    await kiosk.error("POST", "/session/password", {"password": GOOD_PASSWORD}, 409, "step_not_allowed")
    assert await backend.directory.verify_password("emma", DEMO_PASSWORD)


async def test_a_lost_answer_is_finished_by_the_retry(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)
    real = backend.directory.change_password
    dropped: list[str] = []

    async def write_then_hang_up(login: str, old: str, new: str) -> None:
        await real(login, old, new)
        dropped.append(login)
        raise OSError("the connection dropped before the answer")

    with monkeypatch.context() as patch:
        patch.setattr(backend.directory, "change_password", write_then_hang_up)
        # The directory took it: the kiosk asks whether the new password holds, and it does.
        view = SessionView.model_validate_json((await kiosk.password(GOOD_PASSWORD)).content)
    assert dropped == ["emma"] and view.stage is Stage.DONE and view.outcome is Outcome.CHANGED
    assert [e for e, _, _ in await _audit(backend)].count(AuditEvent.CHANGED) == 2  # writeback_failed, then ok


class _Killed(BaseException):
    """Stands for the process dying (nothing after it runs: no handler of `Exception` catches it)."""


async def test_a_retry_after_the_process_died_mid_write_is_told_done(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    await signed_in(kiosk, "emma", DEMO_PASSWORD)

    async def die_after_writing(login: str, old: str, new: str) -> None:
        await backend.directory.reset_password(login, new)  # the write landed…
        raise _Killed  # …and the replica died before it could answer or save

    with monkeypatch.context() as patch:
        patch.setattr(backend.directory, "change_password", die_after_writing)
        with pytest.raises(_Killed):
            await kiosk.password(GOOD_PASSWORD)
    [state] = [json.loads(row) for row in await _stored_sessions(backend)]
    assert state["applying"] is True  # saved before the write
    view = SessionView.model_validate_json((await kiosk.password(GOOD_PASSWORD)).content)
    assert view.stage is Stage.DONE and view.outcome is Outcome.CHANGED
    [state] = [json.loads(row) for row in await _stored_sessions(backend)]
    assert state["applying"] is False and state["sealed_current"] == ""


async def test_a_directory_refusal_keeps_the_session_for_another_try(
    kiosk: Kiosk, backend: Backend, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kiosk.policy.password import PasswordRule
    from kiosk.services.backend.directory.errors import PasswordRefused

    await signed_in(kiosk, "emma", DEMO_PASSWORD)

    async def too_young(login: str, old: str, new: str) -> None:
        raise PasswordRefused(PasswordRule.DIRECTORY_TOO_YOUNG)

    with monkeypatch.context() as patch:
        patch.setattr(backend.directory, "change_password", too_young)
        refused = await kiosk.password(GOOD_PASSWORD)
    assert refused.status_code == 422 and refused.json()["reasons"] == ["directory_too_young"]
    assert (await kiosk.password(GOOD_PASSWORD)).status_code == 200  # the sealed password is still there


async def test_after_a_change_the_session_goes_where_registration_says() -> None:
    policy = demo_policy(registration=RegistrationSettings(reconfirm_days=30))
    async with kiosk_for(policy) as kiosk:
        seen: list[tuple[Flow, Outcome | None]] = []

        async def reconfirm_please(rt: object, state: object, user: object) -> Stage:
            seen.append((state.flow, state.outcome))  # type: ignore[attr-defined]
            return Stage.RECONFIRM

        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(afterwards, "next_stage", reconfirm_please)
            await signed_in(kiosk, "emma", DEMO_PASSWORD)
            view = SessionView.model_validate_json((await kiosk.password(GOOD_PASSWORD)).content)
        assert view.stage is Stage.RECONFIRM and view.outcome is Outcome.CHANGED
        assert seen == [(Flow.CHANGE, Outcome.CHANGED)]
