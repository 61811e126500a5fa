"""Every code the UI can meet has its own sentence; unknown codes get a generic one, never the raw code."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.flows.steps import FieldError, MethodChoice
from kiosk.i18n import SOURCE_LANGUAGE, _, language, set_language, shipped_languages
from kiosk.policy.password import PasswordRule, PasswordRules
from kiosk.policy.schema import Method
from kiosk.services.api import ErrorCode
from kiosk.ui import texts

GENERIC_FIELD = texts.field_error(FieldError("x", "never-heard-of-it"))
RULES = PasswordRules(min_length=1, max_length=8, required_classes=1, history=1)


@pytest.mark.parametrize("code", [
    "required", "captcha_wrong", "code_wrong", "code_expired", "code_burned", "no_active_code", "answers_wrong",
    "password_rejected", "password_mismatch", "password_rules", "method_not_available", "too_long",
    "unlock_not_allowed", "picture_wrong",
])
def test_field_error_codes_have_their_own_sentence(code: str) -> None:
    assert texts.field_error(FieldError("field", code)) not in (GENERIC_FIELD, code)


def test_attempts_left_uses_plural_forms() -> None:
    assert texts.field_error(FieldError("code", "code_wrong", 1)).endswith("You have 1 attempt left.")
    assert texts.field_error(FieldError("code", "code_wrong", 2)).endswith("You have 2 attempts left.")


@pytest.mark.parametrize("code", [ErrorCode.UNKNOWN_USER, ErrorCode.ACCOUNT_DISABLED, ErrorCode.NOT_ENABLED,
                                  ErrorCode.TOO_FEW_METHODS, ErrorCode.WRITEBACK_DISABLED])
def test_refusal_codes_have_their_own_reason(code: ErrorCode) -> None:
    assert texts.refusal_reason(code) != texts.refusal_reason("never-heard-of-it")


def test_unknown_error_codes_are_generic_and_never_shown_raw() -> None:
    assert texts.error_title("zzz_new") == "Something went wrong"
    assert "zzz_new" not in texts.error_message("zzz_new")


@pytest.mark.parametrize("method", list(Method))
def test_every_method_has_a_label_and_hint(method: Method) -> None:
    assert texts.method_label(MethodChoice(method, "x•••@y.z"))
    assert texts.method_hint(method)
    assert texts.code_sent(method, "x•••@y.z")


@pytest.mark.parametrize("rule", list(PasswordRule))
def test_every_password_rule_has_a_checklist_line_and_a_rejection(rule: PasswordRule) -> None:
    assert texts.password_rule(rule, RULES) != texts.password_rule("nope", RULES)  # type: ignore[arg-type]
    assert texts.password_rejection(rule, RULES) != texts.password_rejection("nope", RULES)


def test_blocked_until_says_the_time_today_and_the_date_otherwise() -> None:
    from datetime import UTC, datetime, timedelta

    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    until = now + timedelta(minutes=10)
    today = texts.blocked_until(until, now)
    assert today.startswith("Try again after ") and today.endswith(".")
    assert "2025" not in today
    tomorrow = texts.blocked_until(now + timedelta(hours=24), now)
    assert tomorrow.startswith("Try again after ") and "2025" in tomorrow


# --- values in sentences: directional isolates (mixed-direction text) -----------------------------

FSI, LRI, PDI = "\u2068", "\u2066", "\u2069"


@pytest.fixture
def arabic() -> Iterator[None]:
    set_language("ar")
    yield
    set_language(SOURCE_LANGUAGE)


@pytest.mark.parametrize(
    ("sentence", "value"),
    [
        (lambda: texts.method_label(MethodChoice(Method.EMAIL, "e•••••@contoso.com")), "e•••••@contoso.com"),
        (lambda: texts.method_label(MethodChoice(Method.MOBILE_SMS, "+31 •• ••• ••78")), "+31 •• ••• ••78"),
        (lambda: texts.method_label(MethodChoice(Method.OFFICE_CALL, "+1 425 555 0100")), "+1 425 555 0100"),
        (lambda: texts.code_sent(Method.EMAIL, "e•••••@contoso.com"), "e•••••@contoso.com"),
        (lambda: texts.code_sent(Method.MOBILE_CALL, "+31 •• ••• ••78"), "+31 •• ••• ••78"),
    ],
)
def test_values_in_arabic_sentences_are_isolated_and_keep_their_order(
    arabic: None, sentence: Callable[[], str], value: str
) -> None:
    text = sentence()
    assert any("\u0600" <= character <= "\u06ff" for character in text), "the Arabic catalog is not in use"
    # The value, characters in their own order, sits in an isolate: the bidi algorithm lays it out
    # as one left-to-right unit inside the right-to-left sentence. With a letter in it "first strong"
    # (FSI) finds its direction; a phone number has none, so it gets a left-to-right isolate (LRI).
    opening = FSI if any(character.isalpha() for character in value) else LRI
    assert f"{opening}{value}{PDI}" in text
    assert text.count(opening) == text.count(PDI) == 1


def test_times_are_isolated_in_arabic_too(arabic: None) -> None:
    now = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
    text = texts.blocked_until(now + timedelta(hours=2), now)
    inner = text[text.index(FSI) + 1 : text.index(PDI)]
    assert inner and FSI not in inner and inner in text


def test_isolate_wraps_text_and_fill_leaves_numbers_plain() -> None:
    assert texts.isolate("user@contoso.com") == f"{FSI}user@contoso.com{PDI}"
    assert texts.fill("{target} · {count}", target="a@b.c", count=3) == f"{FSI}a@b.c{PDI} · 3"


def test_picture_check_texts_never_name_the_subject_in_a_picture_name() -> None:
    for subject in ("house", "tree", "car", "key", "star", "cup"):
        assert subject in texts.picture_question(subject)
    names = [texts.picture_name(number) for number in range(1, 7)]
    assert names == [f"Picture {number}" for number in range(1, 7)]
    assert texts.picture_question("unicorn") == ""


@pytest.mark.parametrize("code", ["change_unconfirmed", "unlock_unconfirmed"])
def test_an_unconfirmed_change_never_says_nothing_was_changed(code: str) -> None:
    assert texts.error_title(code) == "We couldn't confirm the change"
    message = texts.error_message(code)
    assert "Nothing was changed" not in message
    assert message not in (texts.error_message("service_timeout"), texts.error_message("zzz_new"))
    assert "Try again" in message  # the button that checks, by its name
    assert ("new password" in message) is (code == "change_unconfirmed")


@pytest.mark.parametrize("tag", [tag for tag in shipped_languages() if tag != SOURCE_LANGUAGE])
def test_an_unconfirmed_change_is_translated_and_names_the_try_again_button(tag: str) -> None:
    with language(tag):
        button = _("Try again")
        for code in ("change_unconfirmed", "unlock_unconfirmed"):
            assert texts.error_title(code) != "We couldn't confirm the change"
            assert button in texts.error_message(code), f"{tag}: {code} does not name the {button!r} button"
        assert texts.error_message("change_unconfirmed") != texts.error_message("unlock_unconfirmed")
