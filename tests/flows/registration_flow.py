"""Helpers for the change and registration tests: sign in, reach the security-info hub, read codes."""

from __future__ import annotations

import pyotp
from flow_driver import DEMO_PASSWORD, Kiosk

from kiosk.flows.steps import (
    BeginAnswer,
    ChooseMethodAnswer,
    CodeAnswer,
    RegisterAppData,
    RegisterData,
    Step,
    StepKind,
)
from kiosk.policy.schema import Method
from kiosk.services.api import Flow

FAY = "fay"
"""In SSPR-Users with nothing registered: signs in straight to the hub."""
EMMA_EMAIL = "emma.jansen@contoso.com"
FAY_EMAIL = "fay.mulder@example.org"
FAY_PHONE = "+31 6 1234 5678"
FAY_PHONE_STORED = "+31612345678"
"""What the backend keeps of FAY_PHONE (and what the dev outbox names as the SMS's recipient)."""
FAY_ANSWERS = ("Biscuit", "Oak Park", "Mrs Ada")


async def begin(kiosk: Kiosk, flow: Flow) -> Step:
    """Choose a way in on the start page."""
    step = await kiosk.flow.submit(BeginAnswer(flow))
    assert step.kind is (StepKind.IDENTIFY if flow is Flow.RECOVER else StepKind.SIGN_IN), step
    return step


async def at_hub(
    kiosk: Kiosk, user_id: str = FAY, *, gate_email: str | None = None, password: str = DEMO_PASSWORD
) -> RegisterData:
    """Sign in to registration (passing the e-mail gate first when `gate_email` is given): the hub."""
    await begin(kiosk, Flow.REGISTER)
    step = await kiosk.sign_in(user_id, password)
    if gate_email is not None:
        assert step.kind is StepKind.CHOOSE_METHOD, step
        await kiosk.flow.submit(ChooseMethodAnswer(Method.EMAIL))
        step = await kiosk.flow.submit(CodeAnswer(await kiosk.emailed_code(gate_email)))
    assert step.kind is StepKind.REGISTER, step
    assert isinstance(step.data, RegisterData)
    return step.data


def app_code(kiosk: Kiosk, data: RegisterAppData) -> str:
    """What the authenticator app shows after scanning the QR code: the code of its URI's secret, now."""
    totp = pyotp.parse_uri(data.uri)
    assert isinstance(totp, pyotp.TOTP)
    assert totp.secret == data.secret  # the text beside the QR code is the same secret
    return totp.at(kiosk.clock.now())
