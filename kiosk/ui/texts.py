"""Every code → message table of the UI, translated at call time so a language switch re-renders.

Steps carry stable codes (field errors, refusal reasons, error pages, password rules); this module is
the one place that turns them into sentences. Unknown codes get a generic sentence, never the code.
Values go into sentences through `fill` only, which isolates their text direction (see `isolate`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from datetime import datetime

from kiosk.flows.steps import (
    DoneOutcome,
    FieldError,
    GateProgress,
    MethodChoice,
    Question,
    QuestionOption,
    RegisteredMethod,
)
from kiosk.i18n import _, format_datetime, format_time, ngettext
from kiosk.policy.password import PasswordRule, PasswordRules
from kiosk.policy.questions import PREDEFINED_QUESTIONS
from kiosk.policy.schema import Method
from kiosk.services.api import RegistrationKind

# --- values in sentences ------------------------------------------------------------------------

FIRST_STRONG_ISOLATE = "\u2068"
LEFT_TO_RIGHT_ISOLATE = "\u2066"
POP_DIRECTIONAL_ISOLATE = "\u2069"


def isolate(value: str) -> str:
    """`value` wrapped in Unicode directional isolates (FSI … PDI, UAX #9).

    An e-mail address, phone number, code, user ID or time inside a right-to-left sentence would
    otherwise be reordered with its neighbours (the "@contoso.com" or the "+31" jumps to the wrong
    end); isolated, it keeps its own order and cannot disturb the sentence around it. The marks are
    invisible and harmless in left-to-right text.

    A value without any strong letter (a phone number, a code: digits, `+`, bullets) gets a
    left-to-right isolate instead: "first strong" finds nothing in it, and Qt then falls back to the
    paragraph's direction, which reverses the digit groups of "+31 •• ••• ••78" in Hebrew or Arabic.
    """
    strong = any(unicodedata.bidirectional(char) in ("L", "R", "AL") for char in value)
    opening = FIRST_STRONG_ISOLATE if strong else LEFT_TO_RIGHT_ISOLATE
    return f"{opening}{value}{POP_DIRECTIONAL_ISOLATE}"


def fill(template: str, **values: str | int) -> str:
    """A translated template with its `{placeholders}` filled: text values isolated, numbers as they are.

    Every value this module puts into a sentence goes through here. A bare number needs no isolate
    (digits keep their order in either direction) and stays plain for screen readers and tests.
    """
    return template.format(
        **{name: isolate(value) if isinstance(value, str) else value for name, value in values.items()}
    )


# --- field errors -------------------------------------------------------------------------------

_FIELD_ERRORS: dict[str, Callable[[], str]] = {
    "required": lambda: _("Please fill in this field."),
    "captcha_wrong": lambda: _("The characters didn't match the picture. Try the new picture."),
    "code_expired": lambda: _("This code has expired. Send a new code."),
    "code_burned": lambda: _("Too many wrong tries for this code. Send a new code or try another method."),
    "no_active_code": lambda: _("There is no code waiting. Send a new code."),
    "answers_wrong": lambda: _("One or more answers are not right. Check them and try again."),
    "password_rejected": lambda: _("Your organisation's directory did not accept this password."),
    "password_mismatch": lambda: _("The two passwords are not the same."),
    "password_rules": lambda: _("This password doesn't meet every requirement below."),
    "method_not_available": lambda: _("This method can't be used right now. Choose another one."),
    "invalid_request": lambda: _("This doesn't look right. Check it and try again."),
    "too_long": lambda: _("This is too long."),
    "bad_characters": lambda: _("This contains a character that can't be used here (such as a tab or line break)."),
    "unlock_not_allowed": lambda: _("Unlocking without a new password isn't allowed. Reset your password instead."),
    "picture_wrong": lambda: _("That wasn't the picture asked for. Try the new pictures."),
    # signing in (change and registration): a wrong password and an unknown ID read the same
    "sign_in_failed": lambda: _("The user ID or password isn't right."),
    # registration
    "contact_invalid": lambda: _("This can't receive codes. Check it and try again."),
    "questions_invalid": lambda: _("These questions can't be saved. Check them and try again."),
    "count": lambda: _("Choose and answer every question."),
    "question_required": lambda: _("Choose a question."),
    "unknown_question": lambda: _("This question can't be used. Choose another one."),
    "question_twice": lambda: _("Choose a different question for each row."),
    "answer_twice": lambda: _("Give a different answer to each question."),
    "answer_length": lambda: _("This answer is too short or too long."),
    "registration_not_allowed": lambda: _("This can't be set up at this kiosk."),
}


def field_error(error: FieldError) -> str:
    """The sentence shown next to a field for a field error."""
    if error.code == "code_wrong":
        if error.attempts_left is None:
            return _("That code isn't right.")
        return fill(
            ngettext(
                "That code isn't right. You have {count} attempt left.",
                "That code isn't right. You have {count} attempts left.",
                error.attempts_left,
            ),
            count=error.attempts_left,
        )
    if error.code == "sign_in_failed" and error.attempts_left is not None:
        return fill(
            ngettext(
                "The user ID or password isn't right. You have {count} attempt left.",
                "The user ID or password isn't right. You have {count} attempts left.",
                error.attempts_left,
            ),
            count=error.attempts_left,
        )
    message = _FIELD_ERRORS.get(error.code)
    return message() if message else _("This value was not accepted.")


# --- refusals and error pages -------------------------------------------------------------------

_REFUSALS: dict[str, Callable[[], str]] = {
    "unknown_user": lambda: _("We couldn't reset the password of this account here."),
    "account_disabled": lambda: _("This account is disabled."),
    "not_enabled": lambda: _("Self-service password reset is not turned on for this account."),
    "too_few_methods": lambda: _("This account doesn't have enough verification information registered."),
    "writeback_disabled": lambda: _("Passwords of this account can't be changed from this kiosk."),
    "writeback_not_permitted": lambda: _(
        "This account is protected: only the IT service desk can reset its password. Please call them."
    ),
}


def helpdesk_text(text: str) -> str:
    """The policy's helpdesk text as written, or the built-in one in the current language when it is empty."""
    return text or _("Contact the IT service desk.")


def refusal_reason(code: str) -> str:
    """Why self-service was refused, in one sentence."""
    reason = _REFUSALS.get(code)
    return reason() if reason else _("Self-service password reset isn't available for this account.")


_ERROR_TITLES: dict[str, Callable[[], str]] = {
    "service_unavailable": lambda: _("The service can't be reached"),
    "timeout": lambda: _("The service is taking too long"),
    "service_timeout": lambda: _("The service is taking too long"),
    "busy": lambda: _("The service is taking too long"),  # still busy after the kiosk's tries
    "change_unconfirmed": lambda: _("We couldn't confirm the change"),  # the answer was lost, not the change
    "unlock_unconfirmed": lambda: _("We couldn't confirm the change"),
    "registration_unconfirmed": lambda: _("We couldn't confirm the change"),
    "session_expired": lambda: _("Your session has expired"),
    "code_burned": lambda: _("Too many attempts"),
    "too_many_attempts": lambda: _("Too many attempts"),
    "directory_unavailable": lambda: _("The directory can't be reached"),
    "writeback_failed": lambda: _("Your password could not be saved"),
    "delivery_failed": lambda: _("The code could not be sent"),
    "password_rejected": lambda: _("The password was not accepted"),
    "registration_not_allowed": lambda: _("This can't be set up here"),
}

_ERROR_MESSAGES: dict[str, Callable[[], str]] = {
    "service_unavailable": lambda: _("Check back in a moment and try again."),
    "timeout": lambda: _("Nothing was changed. Try again in a moment."),
    "service_timeout": lambda: _("Nothing was changed. Try again in a moment."),
    "busy": lambda: _("Nothing was changed. Try again in a moment."),  # true: busy is answered before any work
    # Not "nothing was changed": the answer to the change was lost, and Try again re-reads where the reset is.
    # TRANSLATORS: "Try again" is the button under this text: use the same words as that button.
    "change_unconfirmed": lambda: _(
        "Your password may already have been changed. Try again to check, or sign in with your new password."
    ),
    # TRANSLATORS: "Try again" is the button under this text: use the same words as that button.
    "unlock_unconfirmed": lambda: _(
        "Your account may already have been unlocked. Try again to check, or sign in with your current password."
    ),
    # TRANSLATORS: "Try again" is the button under this text: use the same words as that button.
    "registration_unconfirmed": lambda: _(
        "Your security info may already have been saved. Try again to check what is registered now."
    ),
    "session_expired": lambda: _("For your security, a reset must be finished within a few minutes. Start again."),
    "session_required": lambda: _("For your security, a reset must be finished within a few minutes. Start again."),
    "code_burned": lambda: _("For your security, this attempt is blocked for now. Try again later."),
    "too_many_attempts": lambda: _("For your security, this attempt is blocked for now. Try again later."),
    "directory_unavailable": lambda: _("Nothing was changed. Try again in a moment."),
    "writeback_failed": lambda: _("Nothing was changed. Your old password still works."),
    "delivery_failed": lambda: _("Nothing was changed. Try again in a moment, or choose another method."),
    "password_rejected": lambda: _("Nothing was changed. Choose another password."),
    "step_not_allowed": lambda: _("This page can't be used right now. Start again."),
    "registration_not_allowed": lambda: _(
        "Your organisation doesn't let you register this at the kiosk. Contact your helpdesk."
    ),
}


def error_title(code: str) -> str:
    """The heading of the error page for an error code."""
    title = _ERROR_TITLES.get(code)
    return title() if title else _("Something went wrong")


def error_message(code: str) -> str:
    """What the user can do about an error, in one or two sentences."""
    message = _ERROR_MESSAGES.get(code)
    return message() if message else _("Nothing was changed. Try again, or contact your helpdesk.")


def blocked_reason() -> str:
    """Why a blocked user cannot go on (followed by `blocked_until`, which says until when)."""
    return _("For your security, this account is blocked for now.")


def blocked_until(until: datetime, now: datetime | None = None) -> str:
    """When a throttle's block ends, in the kiosk's local time: the time alone if it is today."""
    local = until.astimezone()
    today = (now or datetime.now(local.tzinfo)).astimezone().date()
    when = format_time(local) if local.date() == today else format_datetime(local)
    return fill(_("Try again after {time}."), time=when)


# --- methods, gates, questions ------------------------------------------------------------------


def method_label(choice: MethodChoice) -> str:
    """A verification method as the user picks it, with its masked contact."""
    target = choice.masked_target or ""
    match choice.method:
        case Method.EMAIL:
            return fill(_("E-mail a code to {target}"), target=target) if target else _("E-mail me a code")
        case Method.MOBILE_SMS:
            return fill(_("Text a code to {target}"), target=target) if target else _("Text me a code")
        case Method.MOBILE_CALL:
            return fill(_("Call {target}"), target=target) if target else _("Call my mobile phone")
        case Method.OFFICE_CALL:
            return fill(_("Call my office phone {target}"), target=target) if target else _("Call my office phone")
        case Method.SECURITY_QUESTIONS:
            return _("Answer security questions")
        case Method.APP_CODE:
            return _("Enter a code from my authenticator app")
        case Method.APP_NOTIFICATION:
            return _("Approve a notification on my authenticator app")
    return _("Use another method")


def method_hint(method: Method) -> str:
    """A second line under a method choice saying what happens next."""
    match method:
        case Method.EMAIL | Method.MOBILE_SMS:
            return _("We send you a one-time code to type in on the next page.")
        case Method.MOBILE_CALL | Method.OFFICE_CALL:
            return _("We call you and read out a one-time code.")
        case Method.SECURITY_QUESTIONS:
            return _("Answer the questions you registered.")
        case Method.APP_CODE:
            return _("Open your authenticator app and read the current code.")
        case Method.APP_NOTIFICATION:
            return _("Approve the sign-in request on your phone.")
    return ""


def code_sent(method: Method, target: str | None) -> str:
    """The sentence above the code field saying where the code went.

    Before a first gate the backend names no contact (so a stranger cannot tell accounts apart): the
    sentence then says the code went to what the account has registered, if anything.
    """
    if method in (Method.APP_CODE, Method.APP_NOTIFICATION):
        return _("Enter the code your authenticator app shows now.")
    if not target:
        match method:
            case Method.EMAIL:
                return _(
                    "If your account has an e-mail address for verification, we e-mailed a code to it. "
                    "Nothing after a few minutes? Try another method."
                )
            case Method.MOBILE_SMS:
                return _(
                    "If your account has a mobile number for verification, we texted a code to it. "
                    "Nothing after a few minutes? Try another method."
                )
            case Method.MOBILE_CALL | Method.OFFICE_CALL:
                return _(
                    "If your account has this phone number for verification, we are calling it now. "
                    "Answer and listen for the code."
                )
    match method:
        case Method.EMAIL:
            return fill(_("We e-mailed a code to {target}."), target=target or "")
        case Method.MOBILE_SMS:
            return fill(_("We texted a code to {target}."), target=target or "")
        case Method.MOBILE_CALL | Method.OFFICE_CALL:
            return fill(_("We are calling {target}. Answer and listen for the code."), target=target or "")
    return _("Enter the code you received.")


def gate_progress(gate: GateProgress) -> str:
    """"Verification 1 of 2", shown when more than one gate is required."""
    return fill(_("Verification {number} of {required}"), number=gate.number, required=gate.required)


def question_text(question: Question) -> str:
    """A security question: predefined ones translated by id, custom ones exactly as written."""
    if question.predefined_id is not None and question.predefined_id in PREDEFINED_QUESTIONS:
        return _(PREDEFINED_QUESTIONS[question.predefined_id])
    return question.custom_text or _("Security question")


def question_option_text(option: QuestionOption) -> str:
    """A question the user may register, as the picker lists it (predefined ones translated by id)."""
    return question_text(Question("", predefined_id=option.predefined_id, custom_text=option.custom_text))


# --- registration (security info) ---------------------------------------------------------------


def registered_method(method: RegisteredMethod) -> str:
    """One registered method as a line of a list: its kind and masked value, never the value itself."""
    target = method.masked_target or ""
    match method.kind:
        case RegistrationKind.EMAIL:
            return fill(_("E-mail: {target}"), target=target) if target else _("E-mail")
        case RegistrationKind.PHONE:
            return fill(_("Phone: {target}"), target=target) if target else _("Phone")
        case RegistrationKind.QUESTIONS:
            return fill(
                ngettext("Security questions: {count} registered", "Security questions: {count} registered",
                         method.questions),
                count=method.questions,
            )
        case RegistrationKind.APP:
            return _("Authenticator app")
    return _("Security info")


def registration_choice(kind: RegistrationKind, registered: RegisteredMethod | None) -> tuple[str, str]:
    """The hub's button for one kind: what pressing it does (add or change), and what is registered now."""
    if registered is not None:
        hint = registered_method(registered)
        match kind:
            case RegistrationKind.EMAIL:
                return _("Change your e-mail address"), hint
            case RegistrationKind.PHONE:
                return _("Change your phone number"), hint
            case RegistrationKind.QUESTIONS:
                return _("Change your security questions"), hint
            case RegistrationKind.APP:
                return _("Set up your authenticator app again"), _("Registered. Setting it up again replaces it.")
    match kind:
        case RegistrationKind.EMAIL:
            return _("Add an e-mail address"), _("Get codes by e-mail. Use an address outside work.")
        case RegistrationKind.PHONE:
            return _("Add a phone number"), _("Get codes by text message or phone call.")
        case RegistrationKind.QUESTIONS:
            return _("Set up security questions"), _("Answer questions only you know the answers to.")
        case RegistrationKind.APP:
            return _("Set up an authenticator app"), _("Read a code from an app on your phone.")
    return _("Set up security info"), ""


def registered_just_now(kind: RegistrationKind) -> str:
    """The hub's first line after a method was registered."""
    match kind:
        case RegistrationKind.EMAIL:
            return _("Your e-mail address is registered.")
        case RegistrationKind.PHONE:
            return _("Your phone number is registered.")
        case RegistrationKind.QUESTIONS:
            return _("Your security questions are registered.")
        case RegistrationKind.APP:
            return _("Your authenticator app is registered.")
    return ""


def methods_needed(needed: int, registered: int) -> str:
    """How many methods self-service needs, and how many more this user must register."""
    needs = fill(
        ngettext(
            "To reset your password yourself, you need {count} way to prove it's you.",
            "To reset your password yourself, you need {count} ways to prove it's you.",
            needed,
        ),
        count=needed,
    )
    missing = needed - registered
    if missing <= 0:
        enough = _("You have enough registered.")
        return f"{needs} {enough}"
    more = fill(ngettext("Register {count} more.", "Register {count} more.", missing), count=missing)
    return f"{needs} {more}"


def last_confirmed(moment: datetime | None) -> str:
    """When the security info was last registered or confirmed."""
    if moment is None:
        return ""
    return fill(_("Last confirmed: {time}."), time=format_datetime(moment.astimezone()))


def contact_invalid(kind: RegistrationKind) -> str:
    """Why a typed e-mail address or phone number was refused."""
    if kind is RegistrationKind.PHONE:
        return fill(
            _("This doesn't look like a phone number. Type it with the country code, for example {example}."),
            example="+31 6 1234 5678",
        )
    return _("This doesn't look like an e-mail address. Check it and try again.")


def answer_length(shortest: int, longest: int) -> str:
    """The length rule of registered answers."""
    return fill(_("Answers must be {min} to {max} characters long."), min=shortest, max=longest)


# --- the picture check (the CAPTCHA without typing) ---------------------------------------------

# One whole sentence per subject, not "… shows a {thing}": articles, gender and case differ by language.
_PICTURE_QUESTIONS: dict[str, Callable[[], str]] = {
    "house": lambda: _("Select the picture that shows a house."),
    "tree": lambda: _("Select the picture that shows a tree."),
    "car": lambda: _("Select the picture that shows a car."),
    "key": lambda: _("Select the picture that shows a key."),
    "star": lambda: _("Select the picture that shows a star."),
    "cup": lambda: _("Select the picture that shows a cup."),
}


def picture_question(subject: str) -> str:
    """What to look for in a picture check ("Select the picture that shows a house.")."""
    question = _PICTURE_QUESTIONS.get(subject)
    return question() if question else ""


def picture_name(number: int) -> str:
    """The accessible name of the n-th picture (1-based): its place only, never what it shows."""
    return fill(_("Picture {number}"), number=number)


# --- passwords ----------------------------------------------------------------------------------


def password_rule(rule: PasswordRule, rules: PasswordRules) -> str:
    """One line of the live password checklist."""
    match rule:
        case PasswordRule.MIN_LENGTH:
            return fill(
                ngettext("At least {count} character", "At least {count} characters", rules.min_length),
                count=rules.min_length,
            )
        case PasswordRule.MAX_LENGTH:
            return fill(
                ngettext("At most {count} character", "At most {count} characters", rules.max_length),
                count=rules.max_length,
            )
        case PasswordRule.CHARACTER_CLASSES:
            return fill(
                ngettext(
                    "At least {count} of: lower case, upper case, digit, symbol",
                    "At least {count} of: lower case, upper case, digits, symbols",
                    rules.required_classes,
                ),
                count=rules.required_classes,
            )
        case PasswordRule.NOT_USER_NAME:
            return _("Doesn't contain your name or user name")
        case PasswordRule.NO_BANNED_WORDS:
            return _("Doesn't contain a word your organisation has banned")
        case PasswordRule.STRENGTH:
            return _("Hard to guess")
        case PasswordRule.NOT_RECENT:
            return fill(
                ngettext("Not your last password", "Not one of your last {count} passwords", rules.history),
                count=rules.history,
            )
        case PasswordRule.DIRECTORY_TOO_SHORT:
            return _("Long enough for the directory")
        case PasswordRule.DIRECTORY_COMPLEXITY:
            return _("Complex enough for the directory")
        case PasswordRule.DIRECTORY_HISTORY:
            return _("Not a password the directory remembers")
        case PasswordRule.DIRECTORY_TOO_YOUNG:
            return _("The previous change is old enough")
        case PasswordRule.DIRECTORY_POLICY:
            return _("Accepted by the directory (checked when you save)")
    return _("Meets your organisation's rules")


def password_rejection(reason: str, rules: PasswordRules) -> str:
    """Why a password was rejected, from a rule code (or a generic sentence)."""
    match reason:
        case PasswordRule.MIN_LENGTH:
            return fill(
                ngettext(
                    "This password is too short: use at least {count} character.",
                    "This password is too short: use at least {count} characters.",
                    rules.min_length,
                ),
                count=rules.min_length,
            )
        case PasswordRule.MAX_LENGTH:
            return fill(
                ngettext(
                    "This password is too long: use at most {count} character.",
                    "This password is too long: use at most {count} characters.",
                    rules.max_length,
                ),
                count=rules.max_length,
            )
        case PasswordRule.CHARACTER_CLASSES:
            return _("Mix more kinds of characters: lower case, upper case, digits and symbols.")
        case PasswordRule.NOT_USER_NAME:
            return _("This password contains your name or user name.")
        case PasswordRule.NO_BANNED_WORDS:
            return _("This password contains a word your organisation has banned.")
        case PasswordRule.STRENGTH:
            return _("This password is too easy to guess. Try a longer phrase.")
        case PasswordRule.NOT_RECENT:
            return _("You used this password recently. Choose one you haven't used before.")
        case PasswordRule.DIRECTORY_TOO_SHORT:
            return _("Your organisation's directory says this password is too short. Choose a longer one.")
        case PasswordRule.DIRECTORY_COMPLEXITY:
            return _(
                "Your organisation's directory says this password is not complex enough. "
                "Mix upper case, lower case, digits and symbols, and leave out your name."
            )
        case PasswordRule.DIRECTORY_HISTORY:
            return _("Your organisation's directory says you used this password before. Choose a new one.")
        case PasswordRule.DIRECTORY_TOO_YOUNG:
            return _(
                "Your password was changed too recently to change it again. Try again later, "
                "or contact your IT service desk."
            )
        case PasswordRule.DIRECTORY_POLICY:
            return _("Your organisation's directory refused this password under its own rules. Choose another one.")
    return _("Your organisation's directory did not accept this password.")


def strength(score: int) -> str:
    """The strength meter's word for a 0–4 score."""
    words = (_("Very weak"), _("Weak"), _("Fair"), _("Strong"), _("Very strong"))
    return words[max(0, min(score, 4))]


# --- done ---------------------------------------------------------------------------------------


def done_title(outcome: DoneOutcome) -> str:
    """The done page's heading."""
    match outcome:
        case DoneOutcome.UNLOCKED:
            return _("Your account is unlocked")
        case DoneOutcome.CHANGED:
            return _("Your password has been changed")
        case DoneOutcome.REGISTERED:
            return _("Your security info is saved")
    return _("Your password has been reset")


def done_message(outcome: DoneOutcome) -> str:
    """What the user can do now."""
    match outcome:
        case DoneOutcome.UNLOCKED:
            return _("You can sign in again with your current password.")
        case DoneOutcome.CHANGED:
            return _("Use your new password from now on. We've e-mailed you a confirmation.")
        case DoneOutcome.REGISTERED:
            return _(
                "If you ever forget your password, you can reset it yourself at this kiosk. "
                "We've e-mailed you a confirmation."
            )
    return _("You can now sign in with your new password. We've e-mailed you a confirmation.")


def outcome_line(outcome: DoneOutcome | None) -> str:
    """What just happened to the account, said first on the pages that follow it (security info)."""
    match outcome:
        case DoneOutcome.RESET:
            return _("Your password has been reset.")
        case DoneOutcome.UNLOCKED:
            return _("Your account is unlocked.")
        case DoneOutcome.CHANGED:
            return _("Your password has been changed.")
    return ""


def countdown(seconds: int) -> str:
    """The done page's countdown line."""
    return fill(
        ngettext(
            "This kiosk returns to the start in {count} second.",
            "This kiosk returns to the start in {count} seconds.",
            seconds,
        ),
        count=seconds,
    )


# --- notices ------------------------------------------------------------------------------------

_NOTICES: dict[str, Callable[[], str]] = {
    "audio_unavailable": lambda: _("Sound isn't available on this kiosk. Ask someone nearby or the helpdesk for help."),
    "audio_playing": lambda: _("Playing the characters out loud…"),
}


def notice(code: str) -> str:
    """A short status line the window shows under the page."""
    text = _NOTICES.get(code)
    return text() if text else ""
