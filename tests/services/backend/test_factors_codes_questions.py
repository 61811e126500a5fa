"""Issue 11, findings 1, 3 and 4: two gates are two factors, a new code supersedes every older code of
the user (in every session), and the questions asked of an ID stay the same across sessions."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from kiosk.policy.schema import Method, MethodSettings, SecurityQuestionSettings
from kiosk.services.api import ErrorCode, Stage
from kiosk.services.backend import Backend, ManualClock
from kiosk.services.backend.directory.embedded import DirectoryUser, RegisteredQuestion
from kiosk.services.backend.hashing import hash_secret
from kiosk.services.backend.recovery.eligibility import Factor, evaluate, factor_of
from kiosk.services.backend.recovery.questions import normalize_answer

from .conftest import GOOD_PASSWORD, Kiosk, demo_policy, kiosk_for

PHONE_METHODS = (Method.EMAIL, Method.MOBILE_SMS, Method.MOBILE_CALL, Method.OFFICE_CALL)
FIVE_ANSWERS = {"first_pet": "Rex", "first_school": "Oak Park", "childhood_nickname": "Bean",
                "first_car": "Beetle", "first_job": "Baker"}  # fmt: skip


def _phone_policy() -> object:
    return demo_policy(methods=MethodSettings(enabled=PHONE_METHODS, required=1, two_gate_groups=("Finance",)))


async def _add(backend: Backend, user: DirectoryUser) -> None:
    await backend.directory.add_user(user, await hash_secret("Old-Password-2024!"))


@pytest.fixture
async def phone_kiosk() -> AsyncIterator[Kiosk]:
    """A kiosk whose policy offers e-mail and every phone method, with two phone-heavy administrators."""
    async with kiosk_for(_phone_policy()) as kiosk:  # type: ignore[arg-type]
        # Only a mobile phone: SMS and a call to it are ONE factor, so two gates are impossible.
        await _add(kiosk.backend, DirectoryUser(
            login="moby", display_name="Moby Phone", groups=("SSPR-Users",), is_admin=True,
            mobile_phone="+31 6 1111 2222",
        ))  # fmt: skip
        # A mobile phone and an e-mail address: two factors.
        await _add(kiosk.backend, DirectoryUser(
            login="emil", display_name="Emil Phone", groups=("SSPR-Users",), is_admin=True,
            mobile_phone="+31 6 3333 4444", auth_email="emil@contoso.com",
        ))  # fmt: skip
        yield kiosk


def test_sms_and_call_to_one_phone_are_one_factor() -> None:
    user = DirectoryUser(login="x", display_name="X", mobile_phone="+31 6 1", office_phone="+31 20 2")
    assert factor_of(user, Method.MOBILE_SMS) is factor_of(user, Method.MOBILE_CALL) is Factor.MOBILE_PHONE
    assert factor_of(user, Method.OFFICE_CALL) is Factor.OFFICE_PHONE
    # An office phone that is the same number as the mobile phone is that phone, not a second factor.
    same = DirectoryUser(login="y", display_name="Y", mobile_phone="+31 6 1", office_phone="+3161")
    assert factor_of(same, Method.OFFICE_CALL) is Factor.MOBILE_PHONE


def test_an_admin_with_only_a_mobile_phone_has_too_few_factors() -> None:
    user = DirectoryUser(login="moby", display_name="M", groups=("SSPR-Users",), is_admin=True, mobile_phone="+316")
    decision = evaluate(user, _phone_policy())  # type: ignore[arg-type]
    assert set(decision.offered) == {Method.MOBILE_SMS, Method.MOBILE_CALL}
    assert decision.refusal is ErrorCode.TOO_FEW_METHODS


async def test_two_gates_by_sms_and_call_to_the_same_phone_never_reset(phone_kiosk: Kiosk) -> None:
    kiosk = phone_kiosk
    await kiosk.start("moby")
    await kiosk.choose(Method.MOBILE_SMS)
    view = await kiosk.code(await kiosk.sent_code())
    # One gate passed proves the person holds the account: now they learn it cannot reset.
    assert view.stage is Stage.REFUSED
    assert view.refusal is not None and view.refusal.code is ErrorCode.TOO_FEW_METHODS
    await kiosk.error("POST", "/session/method", {"method": "mobile_call"}, 409, "step_not_allowed")
    await kiosk.error("POST", "/session/password", {"password": GOOD_PASSWORD}, 409, "step_not_allowed")


async def test_after_the_sms_gate_the_call_is_not_offered_but_email_is(phone_kiosk: Kiosk) -> None:
    kiosk = phone_kiosk
    await kiosk.start("emil")
    await kiosk.choose(Method.MOBILE_SMS)
    view = await kiosk.code(await kiosk.sent_code())
    assert view.stage is Stage.CHOOSE_METHOD
    assert view.gates_required == 2
    assert [option.method for option in view.methods] == [Method.EMAIL]
    await kiosk.error("POST", "/session/method", {"method": "mobile_call"}, 409, "method_not_available")
    view = await kiosk.pass_email()
    assert view.stage is Stage.NEW_PASSWORD


async def test_a_new_code_in_another_session_supersedes_the_older_one(kiosk: Kiosk) -> None:
    first = kiosk
    second = Kiosk(kiosk.backend, kiosk.http)
    await first.start("emma")
    await second.start("emma")
    await first.choose(Method.EMAIL)
    older = await first.sent_code()
    await second.choose(Method.EMAIL)
    newer = await second.sent_code()
    await first.error("POST", "/session/code", {"code": older}, 400, "code_expired")
    # The newer code is the other session's: it never passes here either.
    if newer != older:
        await first.error("POST", "/session/code", {"code": newer}, 400, "code_expired")
    assert (await second.code(newer)).stage is Stage.NEW_PASSWORD


async def test_a_resend_in_one_session_supersedes_the_code_of_the_other(kiosk: Kiosk) -> None:
    first = kiosk
    second = Kiosk(kiosk.backend, kiosk.http)
    await first.start("emma")
    await second.start("emma")
    await first.choose(Method.EMAIL)
    await second.choose(Method.EMAIL)
    await first.request("POST", "/session/code/resend")
    fresh = await first.sent_code()
    await second.error("POST", "/session/code", {"code": fresh}, 400, "code_expired")
    assert (await first.code(fresh)).stage is Stage.NEW_PASSWORD


@pytest.fixture
async def questions_kiosk() -> AsyncIterator[Kiosk]:
    """A kiosk with a user who registered five questions, of which three are asked."""
    policy = demo_policy(
        security_questions=SecurityQuestionSettings(number_to_register=5, number_to_reset=3),
    )
    async with kiosk_for(policy) as kiosk:
        questions = tuple([
            RegisteredQuestion(
                predefined_id=key, custom_text=None, answer_hash=await hash_secret(normalize_answer(answer))
            )
            for key, answer in FIVE_ANSWERS.items()
        ])
        await _add(kiosk.backend, DirectoryUser(
            login="fiona", display_name="Fiona Five", groups=("SSPR-Users",), questions=questions,
        ))  # fmt: skip
        yield kiosk


async def _asked(kiosk: Kiosk, user_id: str) -> frozenset[str]:
    fresh = Kiosk(kiosk.backend, kiosk.http)
    await fresh.start(user_id)
    view = await fresh.choose(Method.SECURITY_QUESTIONS)
    await fresh.request("DELETE", "/session")
    return frozenset(q.predefined_id or q.custom_text or "" for q in view.questions)


@pytest.mark.parametrize("user_id", ["fiona", "nobody-at-all"])
async def test_the_questions_asked_of_an_id_stay_the_same_across_sessions(
    questions_kiosk: Kiosk, user_id: str
) -> None:
    drawn = {await _asked(questions_kiosk, user_id) for _ in range(6)}
    # Five registered, three asked: ten possible sets; six fresh draws agreeing by chance: 1e-5.
    assert len(drawn) == 1, drawn


async def test_the_questions_are_drawn_anew_after_a_right_answer_or_a_day(questions_kiosk: Kiosk) -> None:
    kiosk = questions_kiosk
    clock = kiosk.backend.clock
    assert isinstance(clock, ManualClock)
    first = await _asked(kiosk, "fiona")
    seen = {first}
    for _ in range(8):  # a day later, a new draw is allowed (and, among ten sets, soon differs)
        clock.advance(timedelta(hours=24, minutes=1).total_seconds())
        seen.add(await _asked(kiosk, "fiona"))
    assert len(seen) > 1
    # A right answer releases the draw too.
    await kiosk.start("fiona")
    view = await kiosk.choose(Method.SECURITY_QUESTIONS)
    assert await _draws(kiosk) == 1
    response = await kiosk.answer(view, FIVE_ANSWERS)
    assert response.status_code == 200, response.text
    assert await _draws(kiosk) == 0


async def _draws(kiosk: Kiosk) -> int:
    count = await kiosk.backend._rt.store.call(lambda db: db.execute("SELECT COUNT(*) FROM question_draws").fetchone())
    return int(count[0])


async def test_after_identify_the_account_is_looked_up_by_its_login_alone(kiosk: Kiosk) -> None:
    directory = kiosk.backend.directory
    emma = await directory.user_by_login("EMMA")
    assert emma is not None and emma.login == "emma"
    # An alias is an ID to type at identify, never a login: the later lookups do not search aliases, so
    # another entry's alias or e-mail equal to a login cannot make them ambiguous.
    assert emma.aliases and await directory.user_by_login(emma.aliases[0]) is None
    assert await directory.user_by_login("?" + "0" * 64) is None  # an unknown ID's subject: nobody
