"""Sample Steps of the change and registration pages, for `kiosk screenshots` and the UI tests."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import datetime, timedelta

import segno

from kiosk.flows.steps import (
    DoneData,
    DoneOutcome,
    FieldError,
    NewPasswordData,
    QuestionOption,
    ReconfirmData,
    RegisterAppData,
    RegisterContactData,
    RegisterData,
    RegisteredMethod,
    RegisterQuestionsData,
    RegisterVerifyData,
    SignInData,
    Step,
    StepKind,
)
from kiosk.policy.password import PasswordRules
from kiosk.policy.questions import PREDEFINED_QUESTION_IDS
from kiosk.services.api import Flow, RegistrationKind

SAMPLE_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - a documented example key, not a secret
SAMPLE_URI = f"otpauth://totp/Contoso:adele.vance%40contoso.com?secret={SAMPLE_SECRET}&issuer=Contoso"
SAMPLE_CUSTOM_QUESTIONS = (
    "What was the name of our first office's coffee machine?",
    "Which team did you join first at Contoso?",
)


def sample_qr_svg(uri: str = SAMPLE_URI) -> str:
    """The QR code of `uri` as an SVG document, as the backend draws it (segno, four modules of margin)."""
    buffer = io.BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", border=4, xmldecl=False)
    return buffer.getvalue().decode("utf-8")


REGISTERED = (
    RegisteredMethod(RegistrationKind.EMAIL, masked_target="a•••••@outlook.com"),
    RegisteredMethod(RegistrationKind.QUESTIONS, questions=3),
)
ALL_KINDS = tuple(RegistrationKind)


def registration_steps(captcha_png: bytes, now: datetime) -> dict[StepKind, Step]:
    """One realistic Step per change and registration page."""
    choices = tuple(QuestionOption(predefined_id=question) for question in PREDEFINED_QUESTION_IDS) + tuple(
        QuestionOption(custom_text=text) for text in SAMPLE_CUSTOM_QUESTIONS
    )
    return {
        StepKind.SIGN_IN: Step(
            StepKind.SIGN_IN,
            SignInData(captcha_png=captcha_png, user_id="adele.vance@contoso.com", flow=Flow.CHANGE),
            errors=(FieldError("password", "sign_in_failed"),),
            can_go_back=True,
        ),
        StepKind.RECONFIRM: Step(
            StepKind.RECONFIRM,
            ReconfirmData(
                registered=(*REGISTERED, RegisteredMethod(RegistrationKind.PHONE, masked_target="+31 •• ••• ••78")),
                confirmed_at=now - timedelta(days=190),
                outcome=DoneOutcome.RESET,
            ),
        ),
        StepKind.REGISTER: Step(
            StepKind.REGISTER,
            RegisterData(
                registered=REGISTERED,
                can_register=ALL_KINDS,
                methods_needed=3,
                confirmed_at=now - timedelta(days=30),
                outcome=DoneOutcome.CHANGED,
            ),
        ),
        StepKind.REGISTER_CONTACT: Step(
            StepKind.REGISTER_CONTACT,
            RegisterContactData(kind=RegistrationKind.PHONE, value="06 1234"),
            errors=(FieldError("value", "contact_invalid"),),
            can_go_back=True,
        ),
        StepKind.REGISTER_VERIFY: Step(
            StepKind.REGISTER_VERIFY,
            RegisterVerifyData(
                kind=RegistrationKind.EMAIL,
                masked_target="a•••••@outlook.com",
                attempts_left=3,
                code_length=8,
                expires_at=now + timedelta(minutes=4, seconds=40),  # codes live 5 minutes at most
                can_resend=True,
            ),
            can_go_back=True,
        ),
        StepKind.REGISTER_QUESTIONS: Step(
            StepKind.REGISTER_QUESTIONS,
            RegisterQuestionsData(
                count=3, choices=choices, min_answer=3, max_answer=40, registered=3, selected=(28, 5, 35)
            ),
            errors=(FieldError("answers", "answer_length"),),
            can_go_back=True,
        ),
        StepKind.REGISTER_APP: Step(
            StepKind.REGISTER_APP,
            RegisterAppData(secret=SAMPLE_SECRET, uri=SAMPLE_URI, qr_svg=sample_qr_svg(), attempts_left=5),
            can_go_back=True,
        ),
    }


def registration_variants(
    steps: dict[StepKind, Step], rules: PasswordRules, countdown: int
) -> dict[str, Step]:
    """The other faces of these pages worth looking at, by screenshot name."""
    sign_in = steps[StepKind.SIGN_IN]
    assert isinstance(sign_in.data, SignInData)
    return {
        "sign_in_register": replace(sign_in, data=replace(sign_in.data, flow=Flow.REGISTER, user_id=""), errors=()),
        "register_first_time": Step(
            StepKind.REGISTER,
            RegisterData(can_register=ALL_KINDS, methods_needed=2, just_registered=None),
        ),
        "register_after_email": Step(
            StepKind.REGISTER,
            RegisterData(
                registered=(REGISTERED[0],), can_register=ALL_KINDS, methods_needed=2,
                just_registered=RegistrationKind.EMAIL,
            ),
        ),
        "register_contact_email": Step(
            StepKind.REGISTER_CONTACT, RegisterContactData(kind=RegistrationKind.EMAIL), can_go_back=True
        ),
        "new_password_change": Step(
            StepKind.NEW_PASSWORD,
            NewPasswordData(rules=rules, user_names=("adele.vance", "Adele Vance"), flow=Flow.CHANGE),
        ),
        "done_changed": Step(StepKind.DONE, DoneData(outcome=DoneOutcome.CHANGED, countdown_seconds=countdown)),
        "done_registered": Step(StepKind.DONE, DoneData(outcome=DoneOutcome.REGISTERED, countdown_seconds=countdown)),
    }
