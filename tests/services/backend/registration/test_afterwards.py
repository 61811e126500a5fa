"""After a reset or change: "is this still up to date?" once `registration.reconfirm_days` have passed
(the injected clock), registration for a user with too few methods (`require_on_sign_in`), else done."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kiosk.policy.schema import Method, RegistrationSettings
from kiosk.services.api import SessionView
from kiosk.services.backend import Backend
from kiosk.services.backend.directory.embedded import DirectoryUser
from kiosk.services.backend.registration.afterwards import reconfirmation_due

from ..conftest import GOOD_PASSWORD, Kiosk, demo_policy, kiosk_for
from .conftest import ANSWERS, clock_of, questions_body, sign_in

DAY = 24 * 3600


async def _reset_with_questions(kiosk: Kiosk, password: str) -> SessionView:
    view = await kiosk.start("fay")
    view = await kiosk.choose(Method.SECURITY_QUESTIONS)
    response = await kiosk.answer(view, ANSWERS)
    assert response.status_code == 200, response.text
    response = await kiosk.password(password)
    assert response.status_code == 200, response.text
    return SessionView.model_validate_json(response.content)


async def _fay_registers_questions(kiosk: Kiosk) -> None:
    await sign_in(kiosk, "fay")
    await kiosk.ok("POST", "/session/register/questions", questions_body())
    await kiosk.ok("POST", "/session/register/done")


async def test_reconfirmation_once_the_window_has_passed(kiosk: Kiosk, backend: Backend) -> None:
    clock = clock_of(backend)
    await _fay_registers_questions(kiosk)
    registered_at = clock.now()
    clock.advance(180 * DAY)  # exactly 180 days: not older than the window yet
    assert (await _reset_with_questions(kiosk, GOOD_PASSWORD)).stage == "done"
    clock.advance(DAY)
    view = await _reset_with_questions(kiosk, "Harbor-Quartz-Willow-77")
    assert view.stage == "reconfirm" and view.outcome == "reset" and view.display_name == "Fay Mulder"
    assert view.registration is not None and view.registration.confirmed_at == registered_at
    assert [m.kind for m in view.registration.registered] == ["questions"]
    view = await kiosk.ok("POST", "/session/reconfirm", {"choice": "keep"})
    assert view.stage == "done" and view.outcome == "reset"
    fay = await backend.directory.find_user("fay")
    assert fay is not None and fay.confirmed_at == clock.now()
    records = [r for r in await backend.audit_records() if r.event == "reconfirmed"]
    assert [(r.user_id, r.outcome) for r in records] == [("fay", "keep")]
    # Confirmed now: the next reset is done at once.
    clock.advance(3600)
    assert (await _reset_with_questions(kiosk, "Copper-Lagoon-Tundra-58")).stage == "done"


async def test_update_leads_to_registration_and_keeps_the_outcome(kiosk: Kiosk, backend: Backend) -> None:
    clock = clock_of(backend)
    await _fay_registers_questions(kiosk)
    clock.advance(200 * DAY)
    assert (await _reset_with_questions(kiosk, GOOD_PASSWORD)).stage == "reconfirm"
    view = await kiosk.ok("POST", "/session/reconfirm", {"choice": "update"})
    assert view.stage == "register" and view.outcome == "reset"
    # The same session may register now (its reset was earned and went through).
    view = await kiosk.ok("POST", "/session/register/questions", questions_body({**ANSWERS, "first_pet": "Pebble"}))
    view = await kiosk.ok("POST", "/session/register/done")
    assert view.stage == "done" and view.outcome == "reset"
    fay = await backend.directory.find_user("fay")
    assert fay is not None and fay.confirmed_at == clock.now()
    records = [(r.event, r.outcome) for r in await backend.audit_records() if r.user_id == "fay"]
    assert ("reconfirmed", "update") in records and records.count(("registered", "questions")) == 2


async def test_no_reconfirmation_with_reconfirm_days_zero() -> None:
    policy = demo_policy(registration=RegistrationSettings(reconfirm_days=0))
    async with kiosk_for(policy) as kiosk:
        await _fay_registers_questions(kiosk)
        clock_of(kiosk.backend).advance(700 * DAY)
        assert (await _reset_with_questions(kiosk, GOOD_PASSWORD)).stage == "done"
        await kiosk.error("POST", "/session/reconfirm", {"choice": "keep"}, 409, "step_not_allowed")


async def test_a_never_confirmed_account_is_asked(kiosk: Kiosk, backend: Backend) -> None:
    await backend._rt.store.call(lambda db: db.execute("UPDATE users SET confirmed_at = '' WHERE login = 'emma'"))
    await kiosk.start("emma")
    await kiosk.pass_email()
    view = SessionView.model_validate_json((await kiosk.password(GOOD_PASSWORD)).content)
    assert view.stage == "reconfirm" and view.registration is not None and view.registration.confirmed_at is None


async def test_required_registration_after_a_change() -> None:
    policy = demo_policy(registration=RegistrationSettings(require_on_sign_in=True))
    async with kiosk_for(policy) as kiosk:
        # fay has nothing registered: after her own password change she is taken to registration.
        assert (await sign_in(kiosk, "fay", flow="change")).stage == "new_password"
        view = SessionView.model_validate_json((await kiosk.password(GOOD_PASSWORD)).content)
        assert view.stage == "register" and view.outcome == "changed"
        assert view.registration is not None and view.registration.methods_needed == 1
        await kiosk.ok("POST", "/session/register/questions", questions_body())
        view = await kiosk.ok("POST", "/session/register/done")
        assert view.stage == "done" and view.outcome == "changed"
        # tara (a two-gate account) has e-mail, phone and app: enough, so done at once.
        await sign_in(kiosk, "tara", flow="change")
        assert (await kiosk.password(GOOD_PASSWORD)).json()["stage"] == "done"


async def test_without_require_on_sign_in_a_change_is_done(kiosk: Kiosk) -> None:
    await sign_in(kiosk, "fay", flow="change")
    assert (await kiosk.password(GOOD_PASSWORD)).json()["stage"] == "done"


def test_the_window_is_the_policys() -> None:
    policy = demo_policy(registration=RegistrationSettings(reconfirm_days=30))
    now = datetime(2026, 1, 31, tzinfo=UTC)
    user = DirectoryUser("u", "U", auth_email="u@example.org", confirmed_at=now - timedelta(days=30))
    assert not reconfirmation_due(user, policy, now)
    assert reconfirmation_due(user, policy, now + timedelta(seconds=1))
    assert not reconfirmation_due(DirectoryUser("v", "V"), policy, now)  # nothing registered to confirm
