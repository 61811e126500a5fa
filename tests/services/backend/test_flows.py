"""Whole recovery flows over HTTP: one per method, two gates, administrators, unlock and reset."""

from __future__ import annotations

from kiosk.policy.schema import Method, OnPremisesSettings
from kiosk.services.api import Outcome, SessionView, Stage
from kiosk.services.backend import Backend

from .conftest import ADELE_ANSWERS, DEMO_PASSWORD, GOOD_PASSWORD, QUINN_ANSWERS, Kiosk, demo_policy, kiosk_for


async def _finish_reset(kiosk: Kiosk, view: SessionView) -> SessionView:
    assert view.stage is Stage.NEW_PASSWORD
    assert view.rules is not None and view.rules.min_length == 10
    response = await kiosk.password(GOOD_PASSWORD)
    assert response.status_code == 200, response.text
    done = SessionView.model_validate_json(response.content)
    assert done.stage is Stage.DONE and done.outcome is Outcome.RESET
    return done


async def test_email_happy_path(kiosk: Kiosk, backend: Backend) -> None:
    view = await kiosk.start("emma")
    assert view.stage is Stage.CHOOSE_METHOD and view.gates_required == 1
    # Before a first gate every account sees the policy's methods, no contact data (no enumeration).
    assert [(m.method, m.masked_target) for m in view.methods] == [
        (Method.EMAIL, None),
        (Method.MOBILE_SMS, None),
        (Method.SECURITY_QUESTIONS, None),
        (Method.APP_CODE, None),
    ]
    assert view.display_name is None  # not before the user proved who they are
    chosen = await kiosk.choose(Method.EMAIL)
    assert chosen.stage is Stage.VERIFY_CODE
    assert chosen.code is not None and chosen.code.code_length == 8 and chosen.code.attempts_left == 5
    assert chosen.code.can_resend and chosen.code.masked_target is None
    message = (await backend.outbox())[-1]
    assert message.to == "emma.jansen@contoso.com" and message.channel is Method.EMAIL
    view = await kiosk.code(await kiosk.sent_code())
    assert view.display_name == "Emma Jansen" and view.gates_passed == 1
    await _finish_reset(kiosk, view)


async def test_user_id_may_be_the_email_alias_in_any_case(kiosk: Kiosk) -> None:
    view = await kiosk.start("EMMA@Contoso.com")
    assert view.stage is Stage.CHOOSE_METHOD


async def test_security_questions_happy_path(kiosk: Kiosk) -> None:
    await kiosk.start("quinn")
    view = await kiosk.choose(Method.SECURITY_QUESTIONS)
    assert view.stage is Stage.ANSWER_QUESTIONS
    assert [q.id for q in view.questions] == ["q1", "q2", "q3"]
    assert {q.predefined_id for q in view.questions} == set(QUINN_ANSWERS)
    messy = {key: f"  {value.upper()}  " for key, value in QUINN_ANSWERS.items()}  # case and spaces ignored
    response = await kiosk.answer(view, messy)
    assert response.status_code == 200, response.text
    await _finish_reset(kiosk, SessionView.model_validate_json(response.content))


async def test_wrong_answers_count_as_a_failed_attempt(kiosk: Kiosk) -> None:
    await kiosk.start("quinn")
    view = await kiosk.choose(Method.SECURITY_QUESTIONS)
    wrong = dict(QUINN_ANSWERS, first_pet="Rover")
    body = {"answers": [{"id": q.id, "answer": wrong[q.predefined_id or ""]} for q in view.questions]}
    error = await kiosk.error("POST", "/session/answers", body, 400, "answers_wrong")
    assert error["attempts_left"] == 4
    again = await kiosk.ok("GET", "/session")
    assert [q.id for q in again.questions] == [q.id for q in view.questions]
    response = await kiosk.answer(again, QUINN_ANSWERS)
    assert response.status_code == 200


async def test_authenticator_app_happy_path(kiosk: Kiosk) -> None:
    await kiosk.start("alex")
    view = await kiosk.choose(Method.APP_CODE)
    assert view.code is not None and view.code.expires_at is None and not view.code.can_resend
    assert view.code.code_length == 6
    await _finish_reset(kiosk, await kiosk.code(await kiosk.app_code("alex")))


async def test_sms_happy_path(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("tara")
    await kiosk.choose(Method.MOBILE_SMS)
    message = (await backend.outbox())[-1]
    assert message.channel is Method.MOBILE_SMS and message.to == "+31 6 2345 6778"
    view = await kiosk.code(await kiosk.sent_code())
    assert view.stage is Stage.CHOOSE_METHOD  # tara is in Finance: a second gate


async def test_masked_contacts_are_shown_after_the_first_gate(kiosk: Kiosk) -> None:
    await kiosk.start("tara")
    view = await kiosk.pass_app("tara")
    options = {m.method: m.masked_target for m in view.methods}
    assert options == {Method.EMAIL: "t•••••@contoso.com", Method.MOBILE_SMS: "+31 •• ••• ••78"}
    chosen = await kiosk.choose(Method.MOBILE_SMS)
    assert chosen.code is not None and chosen.code.masked_target == "+31 •• ••• ••78"


async def test_two_gates_need_two_different_methods(kiosk: Kiosk) -> None:
    view = await kiosk.start("tara")
    assert view.gates_required == 1  # the policy's; tara learns of her second gate after the first
    view = await kiosk.pass_email()
    assert view.stage is Stage.CHOOSE_METHOD and view.gates_passed == 1 and view.gates_required == 2
    assert Method.EMAIL not in {m.method for m in view.methods}
    await kiosk.error("POST", "/session/method", {"method": "email"}, 409, "method_not_available")
    await kiosk.error("POST", "/session/password", {"password": GOOD_PASSWORD}, 409, "step_not_allowed")
    view = await kiosk.pass_app("tara")
    assert view.gates_passed == 2
    await _finish_reset(kiosk, view)


async def test_switching_method_within_a_gate(kiosk: Kiosk) -> None:
    await kiosk.start("tara")
    await kiosk.choose(Method.EMAIL)
    view = await kiosk.pass_app("tara")  # switched to the app while the e-mail code was out
    assert view.gates_passed == 1 and view.stage is Stage.CHOOSE_METHOD


async def test_administrator_needs_two_gates_and_gets_no_questions(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("adele")
    # Questions are offered like to everyone (no enumeration) but are a decoy for an administrator:
    # even her registered answers cannot pass.
    view = await kiosk.choose(Method.SECURITY_QUESTIONS)
    assert view.stage is Stage.ANSWER_QUESTIONS and len(view.questions) == 3
    hers = {q.predefined_id or "": ADELE_ANSWERS.get(q.predefined_id or "", "x") for q in view.questions}
    assert (await kiosk.answer(view, hers)).status_code == 400
    view = await kiosk.pass_email()
    assert view.gates_required == 2
    assert {m.method for m in view.methods} == {Method.APP_CODE}
    await kiosk.error("POST", "/session/method", {"method": "security_questions"}, 409, "method_not_available")
    await _finish_reset(kiosk, await kiosk.pass_app("adele"))
    sent = [(m.to, m.subject) for m in await backend.outbox()]
    assert ("adele.vance@contoso.com", "Your Contoso password was changed") in sent
    assert ("megan.bowen@contoso.com", "Administrator password reset: Adele Vance") in sent
    assert ADELE_ANSWERS  # registered (see the seed test) but never asked


async def test_unlock_only(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("luke")
    view = await kiosk.pass_email()
    assert view.stage is Stage.CHOOSE_ACTION and view.locked
    done = await kiosk.ok("POST", "/session/action", {"action": "unlock"})
    assert done.stage is Stage.DONE and done.outcome is Outcome.UNLOCKED
    assert not await backend.directory.is_locked("luke")
    assert await backend.directory.verify_password("luke", DEMO_PASSWORD)  # password unchanged


async def test_reset_also_unlocks(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("luke")
    await kiosk.pass_email()
    view = await kiosk.ok("POST", "/session/action", {"action": "reset"})
    assert view.stage is Stage.NEW_PASSWORD and view.locked
    await _finish_reset(kiosk, view)
    assert not await backend.directory.is_locked("luke")


async def test_unlock_only_after_first_choosing_reset(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("luke")
    await kiosk.pass_email()
    await kiosk.ok("POST", "/session/action", {"action": "reset"})
    # The user went back from the new-password page and changed their mind: every gate is passed.
    done = await kiosk.ok("POST", "/session/action", {"action": "unlock"})
    assert done.outcome is Outcome.UNLOCKED and not await backend.directory.is_locked("luke")
    assert await backend.directory.verify_password("luke", DEMO_PASSWORD)


async def test_unlock_only_is_refused_for_an_account_that_is_not_locked(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("emma")
    view = await kiosk.pass_email()
    assert view.stage is Stage.NEW_PASSWORD
    await kiosk.error("POST", "/session/action", {"action": "unlock"}, 409, "step_not_allowed")


async def test_locked_without_unlock_option_goes_straight_to_reset() -> None:
    policy = demo_policy(on_premises=OnPremisesSettings(writeback=False, allow_unlock_without_reset=False))
    async with kiosk_for(policy) as kiosk:
        await kiosk.start("luke")
        view = await kiosk.pass_email()
        assert view.stage is Stage.NEW_PASSWORD and view.locked
        # The policy does not allow unlock-only, whatever the client sends.
        await kiosk.error("POST", "/session/action", {"action": "unlock"}, 409, "step_not_allowed")
        await _finish_reset(kiosk, view)
        assert not await kiosk.backend.directory.is_locked("luke")


async def test_new_password_verifies_and_old_does_not(kiosk: Kiosk, backend: Backend) -> None:
    await kiosk.start("emma")
    await _finish_reset(kiosk, await kiosk.pass_email())
    assert await backend.directory.verify_password("emma", GOOD_PASSWORD)
    assert not await backend.directory.verify_password("emma", DEMO_PASSWORD)
    notice = (await backend.outbox())[-1]
    assert notice.subject == "Your Contoso password was changed" and notice.to == "emma.jansen@contoso.com"


async def test_password_rejected_with_reasons(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    await kiosk.pass_email()
    error = await kiosk.error("POST", "/session/password", {"password": "emma"}, 422, "password_rejected")
    assert {"min_length", "character_classes", "not_user_name", "strength"} <= set(error["reasons"])
    error = await kiosk.error("POST", "/session/password", {"password": DEMO_PASSWORD}, 422, "password_rejected")
    assert error["reasons"] == ["no_banned_words", "not_recent"]  # "Contoso-Demo-2025!": the organisation's name
    view = await kiosk.ok("GET", "/session")
    assert view.stage is Stage.NEW_PASSWORD  # a rejected password can be retried


async def test_session_can_be_closed(kiosk: Kiosk) -> None:
    await kiosk.start("emma")
    response = await kiosk.request("DELETE", "/session")
    assert response.status_code == 204
    await kiosk.error("GET", "/session", None, 401, "session_required")
