"""The identify page's CAPTCHA alternatives: read aloud (per policy) and the picture check."""

from __future__ import annotations

from dataclasses import replace

import pytest
from pytestqt.qtbot import QtBot

from kiosk.flows.steps import (
    CaptchaKind,
    FieldError,
    IdentifyAnswer,
    IdentifyData,
    Picture,
    PictureCheckData,
    Step,
    StepKind,
    SwitchCaptchaAnswer,
)
from kiosk.i18n import SOURCE_LANGUAGE, set_language
from kiosk.services.api import PictureSubject
from kiosk.services.backend.human_check.pictures import draw_png
from kiosk.ui.pages import PageContext
from kiosk.ui.pages.identify import IdentifyPage
from kiosk.ui.screenshots import SAMPLE_NOW, sample_captcha_png

SUBJECTS = list(PictureSubject)
CHECK = PictureCheckData(
    subject="key",
    pictures=tuple(Picture(id=f"id{index:06d}", png=draw_png(subject)) for index, subject in enumerate(SUBJECTS)),
)


def _step(**data: object) -> Step:
    base = IdentifyData(captcha_png=sample_captcha_png(), user_id="emma")
    return Step(StepKind.IDENTIFY, replace(base, **data), can_go_back=True)  # type: ignore[arg-type]


@pytest.fixture
def page(qtbot: QtBot) -> IdentifyPage:
    page = IdentifyPage(PageContext(check_password=lambda _password: None, now=lambda: SAMPLE_NOW))  # type: ignore[arg-type,return-value]
    qtbot.addWidget(page)
    return page


def test_the_policy_decides_which_alternatives_show(page: IdentifyPage) -> None:
    page.show_step(_step(audio=False, pictures_offered=True), fresh=True)
    assert page.audio.isHidden() and not page.use_pictures.isHidden()
    page.show_step(_step(audio=True, pictures_offered=False), fresh=True)
    assert not page.audio.isHidden() and page.use_pictures.isHidden()


def test_use_a_picture_check_asks_the_engine_keeping_the_typed_id(page: IdentifyPage, qtbot: QtBot) -> None:
    page.show_step(_step(pictures_offered=True), fresh=True)
    page.user_id.edit.setText("  emma@contoso.com ")
    with qtbot.waitSignal(page.answered) as signal:
        page.use_pictures.click()
    assert signal.args == [SwitchCaptchaAnswer(CaptchaKind.PICTURES, user_id="emma@contoso.com")]


def test_the_picture_check_shows_pictures_named_by_place_only(page: IdentifyPage) -> None:
    page.show_step(_step(pictures_offered=True, picture_check=CHECK), fresh=True)
    assert page.characters.isHidden() and not page.pictures.isHidden() and page.next.isHidden()
    assert page.picture_question.text() == "Select the picture that shows a key."
    names = [choice.accessibleName() for choice in page.picture_buttons]
    assert names == [f"Picture {number}" for number in range(1, 7)]
    for choice in page.picture_buttons:  # nothing on a button tells what it shows
        assert not choice.text() and not any(subject in choice.accessibleName().lower() for subject in SUBJECTS)
        assert not choice.icon().isNull()


def test_selecting_a_picture_answers_with_its_id(page: IdentifyPage, qtbot: QtBot) -> None:
    page.show_step(_step(picture_check=CHECK), fresh=True)
    with qtbot.waitSignal(page.answered) as signal:
        page.picture_buttons[3].click()
    assert signal.args == [IdentifyAnswer(user_id="emma", captcha="id000003")]


def test_a_picture_without_a_user_id_asks_for_the_id(page: IdentifyPage, qtbot: QtBot) -> None:
    page.show_step(_step(user_id="", picture_check=CHECK), fresh=True)
    with qtbot.assertNotEmitted(page.answered):
        page.picture_buttons[0].click()
        page.accept()  # Enter with no picture selected
    assert page.user_id.error.text() == "Please fill in this field."


def test_a_wrong_picture_error_shows_under_the_pictures(page: IdentifyPage) -> None:
    step = replace(_step(picture_check=CHECK), errors=(FieldError("captcha", "picture_wrong"),))
    page.show_step(step, fresh=True)
    assert page.picture_error.text() == "That wasn't the picture asked for. Try the new pictures."
    assert page.captcha.error.isHidden()


def test_the_picture_check_in_arabic(page: IdentifyPage) -> None:
    set_language("ar")
    try:
        page.show_step(_step(pictures_offered=True, picture_check=CHECK), fresh=True)
        assert page.picture_question.text() == "اختر الصورة التي تُظهر مفتاحًا."
        assert page.picture_buttons[0].accessibleName() == "الصورة 1"
    finally:
        set_language(SOURCE_LANGUAGE)
