"""The "Change my password" way through the engine and the real backend: sign in, new password, done."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from flow_driver import DEMO_PASSWORD, NEW_PASSWORD, Kiosk
from registration_flow import begin
from test_engine_unconfirmed import error_code, lossy_kiosk

from kiosk.flows.mapping import CHANGE_UNCONFIRMED
from kiosk.flows.steps import (
    DoneData,
    DoneOutcome,
    FieldError,
    NewPasswordAnswer,
    NewPasswordData,
    SignInAnswer,
    SignInData,
    StepKind,
)
from kiosk.services.api import Flow

GOOD_PASSWORD = "Quartz-Lantern-58?"


async def at_new_password(kiosk: Kiosk, user_id: str = "emma") -> NewPasswordData:
    await begin(kiosk, Flow.CHANGE)
    step = await kiosk.sign_in(user_id)
    assert step.kind is StepKind.NEW_PASSWORD, step
    assert isinstance(step.data, NewPasswordData)
    return step.data


async def test_emma_changes_her_password(kiosk: Kiosk) -> None:
    data = await at_new_password(kiosk)
    step = kiosk.flow.step
    assert data.flow is Flow.CHANGE
    assert data.user_names == ("emma", "Emma Jansen")
    assert not step.can_go_back  # signing in again is a new session: Cancel
    # The live checklist works on this page as on a reset's: the policy's rules and her names.
    assert not kiosk.flow.check_password("Emma-Jansen-2026!").ok
    assert kiosk.flow.check_password(NEW_PASSWORD).ok
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.kind is StepKind.DONE
    assert step.data == DoneData(outcome=DoneOutcome.CHANGED, countdown_seconds=15)
    assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)
    assert not await kiosk.backend.directory.verify_password("emma", DEMO_PASSWORD)
    # Only one call carried the current password, and no page holds it.
    assert kiosk.calls("POST", "/v1/session/sign-in") == 1


@pytest.mark.parametrize("user_id", ["emma", "nobody-at-all"])
async def test_a_wrong_password_and_an_unknown_id_look_the_same(kiosk: Kiosk, user_id: str) -> None:
    await begin(kiosk, Flow.CHANGE)
    before = kiosk.flow.step.data
    assert isinstance(before, SignInData)
    step = await kiosk.sign_in(user_id, password="Not-Her-Password-1")
    assert step.kind is StepKind.SIGN_IN
    assert step.errors == (FieldError("password", "sign_in_failed"),)
    data = step.data
    assert isinstance(data, SignInData)
    assert data.user_id == user_id and data.flow is Flow.CHANGE
    assert data.captcha_png != before.captcha_png  # a new CAPTCHA for the next try
    # The next try, right this time for emma, goes through on the same page.
    if user_id == "emma":
        step = await kiosk.sign_in("emma")
        assert step.kind is StepKind.NEW_PASSWORD


async def test_a_wrong_captcha_is_on_the_captcha_field(kiosk: Kiosk) -> None:
    await begin(kiosk, Flow.CHANGE)
    step = await kiosk.flow.submit(SignInAnswer(user_id="emma", password=DEMO_PASSWORD, captcha="ZZZZZZ"))
    assert step.kind is StepKind.SIGN_IN
    assert step.errors == (FieldError("captcha", "captcha_wrong"),)


async def test_a_new_password_the_directory_refuses_stays_on_the_page_with_its_reasons(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    assert (await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))).kind is StepKind.DONE
    await kiosk.flow.restart()
    # The same password again: the history (policy: the last 5) refuses it; the checklist cannot know.
    await begin(kiosk, Flow.CHANGE)
    step = await kiosk.sign_in("emma", password=NEW_PASSWORD)
    assert step.kind is StepKind.NEW_PASSWORD
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.kind is StepKind.NEW_PASSWORD
    assert step.errors == (FieldError("password", "password_rejected"),)
    assert isinstance(step.data, NewPasswordData)
    assert step.data.rejected == ("not_recent",)
    # Another one is taken.
    step = await kiosk.flow.submit(NewPasswordAnswer(GOOD_PASSWORD, GOOD_PASSWORD))
    assert step.kind is StepKind.DONE
    assert await kiosk.backend.directory.verify_password("emma", GOOD_PASSWORD)


async def test_a_lost_answer_to_a_change_is_tried_again_under_its_request_id(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    kiosk.wire.fail_next(httpx.ReadTimeout("lost"), after_backend=True)
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    # The backend answered the second try from the first one's result: changed once, and told so.
    assert step.kind is StepKind.DONE, step
    ids = [key for path, key in kiosk.wire.request_ids if path == "/v1/session/password"]
    assert len(ids) == 2 and ids[0] and ids[0] == ids[1]
    assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)


async def test_a_change_whose_answers_are_all_lost_is_never_told_as_nothing_changed() -> None:
    async with lossy_kiosk() as (kiosk, wire):
        await at_new_password(kiosk)
        wire.lose("/v1/session/password", httpx.ReadTimeout("slow"), after_backend=True)
        step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
        assert error_code(step) == CHANGE_UNCONFIRMED
        wire.heal()
        step = await kiosk.flow.retry()  # re-reads the session: the change went through
        assert step.data == DoneData(outcome=DoneOutcome.CHANGED, countdown_seconds=15)
        assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)


async def test_a_double_submit_changes_once(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    first, second = await asyncio.gather(
        kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD)),
        kiosk.flow.submit(NewPasswordAnswer(GOOD_PASSWORD, GOOD_PASSWORD)),
    )
    assert first.kind is StepKind.DONE and second is first  # the late one met the done page: ignored
    assert kiosk.calls("POST", "/v1/session/password") == 1
    assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)


async def test_a_locked_account_cannot_sign_in_to_change(kiosk: Kiosk) -> None:
    await begin(kiosk, Flow.CHANGE)
    step = await kiosk.sign_in("luke")
    assert step.errors == (FieldError("password", "sign_in_failed"),)


async def test_a_password_changed_elsewhere_since_the_sign_in_asks_for_a_new_sign_in(kiosk: Kiosk) -> None:
    await at_new_password(kiosk)
    token = kiosk.wire.token
    await kiosk.backend.directory.reset_password("emma", GOOD_PASSWORD)  # the helpdesk, meanwhile
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.kind is StepKind.SIGN_IN
    assert step.errors == (FieldError("password", "sign_in_failed"),)
    assert isinstance(step.data, SignInData) and step.data.user_id == "emma" and step.data.flow is Flow.CHANGE
    assert kiosk.wire.token != token  # a new session: the old one can change nothing
    step = await kiosk.sign_in("emma", password=GOOD_PASSWORD)
    step = await kiosk.flow.submit(NewPasswordAnswer(NEW_PASSWORD, NEW_PASSWORD))
    assert step.kind is StepKind.DONE
    assert await kiosk.backend.directory.verify_password("emma", NEW_PASSWORD)
