"""The wire contract of the backend's `/v1` HTTP API: request and response bodies and error codes.

Shared by the backend (which serves and documents them in `/v1/openapi.json`) and the client (which
parses them), so the two can never disagree about a field. Everything here is plain data.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from kiosk.policy.characters import PLAIN
from kiosk.policy.password import PasswordRule, PasswordRules, normalize_password
from kiosk.policy.schema import Method

API_PREFIX = "/v1"

KIOSK_CREDENTIAL_HEADER = "X-Kiosk-Credential"
"""Every call to a served backend (`kiosk serve`) but health and ready carries the kiosk's credential
`NAME:SECRET` in this header (`Authorization: Bearer` carries the session token); 401 `kiosk_unauthorized`
without a live one."""

IDEMPOTENCY_HEADER = "Idempotency-Key"
"""A step with an effect (set_password, choose_action) may carry a request id (a UUID, new per user
submission, the same on its retries): the backend answers a repeated id from its first result and
never applies the step twice."""

TIMEOUT_HEADER = "X-Kiosk-Timeout"
"""The kiosk's per-step timeout in seconds; the backend keeps its deadline under it (`step_deadline`)."""

DEADLINE_SHARE = 0.7
"""The share of the kiosk's per-step timeout the backend may use before it starts a step's effect."""


def step_deadline(timeout_seconds: float) -> float:
    """The backend's deadline for one step, in seconds, for a kiosk that waits `timeout_seconds`.

    The one place the two are tied: the backend starts no effect (a reset, an unlock) after the
    deadline, and refuses the step as `busy` instead, with nothing applied; an effect started before
    it has the rest of the kiosk's timeout to finish and be reported. So the kiosk always waits
    strictly longer than the backend's deadline, and a step the kiosk saw fail did not go through
    (or, when the directory was slower still, the kiosk's retry with the same request id gets the result).
    """
    return timeout_seconds * DEADLINE_SHARE


# Field limits: generous enough for any real input, small enough that nothing is hashed or stored
# before a bad body is refused with a 4xx.
MAX_USER_ID = 256
MAX_CAPTCHA = 16
MAX_CODE = 16
MAX_ANSWER = 200  # the policy allows 40; longer answers get a clean "wrong", not a 422
MAX_PASSWORD = 256
MAX_QUESTIONS = 5

PRINTABLE = r"^[^\x00-\x1f\x7f-\x9f]*$"
"""Every text field of a request: no NUL, no C0/C1 control characters (tab and newline included), so
nothing typed can break a log line or a directory filter. Lone surrogates never get this far: JSON
escapes like `\\ud800` are refused by the parser, and Python strings carrying one fail pydantic's
string check. Spaces and any other printable Unicode (passwords, answers) are fine."""

Text = Annotated[str, Field(pattern=PRINTABLE)]
"""A request string with the PRINTABLE rule; combine with a `Field(max_length=…)`."""

Identifier = Annotated[str, Field(pattern=PLAIN)]
"""An identifier (user ID, kiosk id, question id, language tag): the PRINTABLE rule, and no invisible
direction marks either (policy.characters.BIDI_CONTROLS: U+202A–U+202E, U+2066–U+2069, U+200E, U+200F,
U+061C), which would make an ID read differently in an audit row from what it is."""


class _Body(BaseModel):
    """Base of every API body: immutable, unknown fields refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class ErrorCode(StrEnum):
    """Every machine-readable failure the backend can answer with. Stable: clients and audit use them."""

    # request and session
    INVALID_REQUEST = "invalid_request"
    SESSION_REQUIRED = "session_required"
    SESSION_EXPIRED = "session_expired"
    STEP_NOT_ALLOWED = "step_not_allowed"
    NOT_FOUND = "not_found"
    INTERNAL = "internal"
    # identify
    CAPTCHA_WRONG = "captcha_wrong"
    CAPTCHA_DISABLED = "captcha_disabled"
    """The policy turned this CAPTCHA alternative off (`captcha.audio`, `captcha.no_transcription_alternative`)."""
    # eligibility refusals (carried in `Refusal.code`)
    UNKNOWN_USER = "unknown_user"
    ACCOUNT_DISABLED = "account_disabled"
    NOT_ENABLED = "not_enabled"
    TOO_FEW_METHODS = "too_few_methods"
    WRITEBACK_DISABLED = "writeback_disabled"
    WRITEBACK_NOT_PERMITTED = "writeback_not_permitted"
    """The kiosk's service account may not reset or unlock this account (AD: a protected account,
    AdminSDHolder, which the delegation on the users' OU does not reach)."""
    # gates
    METHOD_NOT_AVAILABLE = "method_not_available"
    CODE_WRONG = "code_wrong"
    CODE_EXPIRED = "code_expired"
    CODE_BURNED = "code_burned"
    NO_ACTIVE_CODE = "no_active_code"
    ANSWERS_WRONG = "answers_wrong"
    # finish
    UNLOCK_NOT_ALLOWED = "unlock_not_allowed"
    PASSWORD_REJECTED = "password_rejected"  # noqa: S105 - an error code, not a password
    DIRECTORY_UNAVAILABLE = "directory_unavailable"
    WRITEBACK_FAILED = "writeback_failed"
    # delivery (codes by e-mail: the SMTP server is down, refused the login, TLS failed …)
    DELIVERY_FAILED = "delivery_failed"
    # change and registration
    SIGN_IN_FAILED = "sign_in_failed"
    """The user ID and current password do not match an account (the two are never told apart)."""
    CONTACT_INVALID = "contact_invalid"
    """A new e-mail address or phone number that cannot be one (`field` says which)."""
    QUESTIONS_INVALID = "questions_invalid"
    """Registered questions break a rule: count, a question twice, an answer twice, length (`field`, `reasons`)."""
    REGISTRATION_NOT_ALLOWED = "registration_not_allowed"
    """The policy does not let users register this kind of method."""
    # throttles (SPEC §4): the user, kiosk or source address is blocked until `ErrorBody.blocked_until`
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    # readiness (`GET /v1/ready`): the backend's own store cannot be used (the directory has its own code)
    STORE_UNAVAILABLE = "store_unavailable"
    # a served backend (`kiosk serve`): the call carries no live kiosk credential (missing, wrong, revoked)
    KIOSK_UNAUTHORIZED = "kiosk_unauthorized"
    # capacity: the backend's hashing queue is full; nothing was done, try again after `Retry-After`
    BUSY = "busy"


class Flow(StrEnum):
    """What a session is for: the three ways in on the start page (SPEC §2), run by one state machine."""

    RECOVER = "recover"
    """"Can't access your account?": prove who you are, then a new password or an unlock."""
    CHANGE = "change"
    """"Change my password": sign in with the current password, then a new one (a user change)."""
    REGISTER = "register"
    """"Set up my security info": sign in, pass a gate if anything is registered, then register."""


class Stage(StrEnum):
    """Where a session is; only the backend moves it forward (the flows' stages: `recovery.machine.FLOWS`)."""

    IDENTIFY = "identify"
    SIGN_IN = "sign_in"
    """Change and registration: user ID + current password + CAPTCHA."""
    REFUSED = "refused"
    CHOOSE_METHOD = "choose_method"
    VERIFY_CODE = "verify_code"
    ANSWER_QUESTIONS = "answer_questions"
    CHOOSE_ACTION = "choose_action"
    NEW_PASSWORD = "new_password"  # noqa: S105 - a stage name, not a password
    RECONFIRM = "reconfirm"
    """After a reset, unlock or change: "Is your security info still up to date?" (keep / update)."""
    REGISTER = "register"
    """The security-info hub: what is registered, and a way to add or update each method."""
    REGISTER_VERIFY = "register_verify"
    """A code was sent to a new authentication e-mail or phone; typing it back registers the contact."""
    REGISTER_APP = "register_app"
    """A new authenticator secret is shown (QR code and text); one current code from the app registers it."""
    DONE = "done"


class Action(StrEnum):
    """What a verified user with a locked account wants."""

    RESET = "reset"
    UNLOCK = "unlock"


class Outcome(StrEnum):
    """What a finished session did in the directory."""

    RESET = "reset"
    UNLOCKED = "unlocked"
    CHANGED = "changed"
    """The user's own password change (flow `change`)."""
    REGISTERED = "registered"
    """Security info registered or reconfirmed (and nothing else changed in this session)."""


class RegistrationKind(StrEnum):
    """What a user can register themselves (the office phone stays an administrator's attribute)."""

    EMAIL = "email"
    """Authentication e-mail (SPEC §3: not the primary mailbox)."""
    PHONE = "phone"
    """Authentication phone: codes by SMS or voice call."""
    QUESTIONS = "questions"
    APP = "app"
    """Authenticator app (TOTP)."""


class ReconfirmChoice(StrEnum):
    """The answer to "Is this still up to date?"."""

    KEEP = "keep"
    UPDATE = "update"


class QuestionRule(StrEnum):
    """Why a set of questions to register was refused (`ErrorBody.question_reasons`)."""

    COUNT = "count"
    """Not the number the policy asks for (`security_questions.number_to_register`)."""
    UNKNOWN_QUESTION = "unknown_question"
    """A predefined id or custom text the policy does not offer."""
    QUESTION_TWICE = "question_twice"
    ANSWER_TWICE = "answer_twice"
    ANSWER_LENGTH = "answer_length"
    """An answer shorter than `MIN_REGISTERED_ANSWER` or longer than `MAX_REGISTERED_ANSWER` characters."""


class ErrorBody(_Body):
    """Every 4xx/5xx answer: a stable code, a localizable message key and a correlation id."""

    code: ErrorCode
    message_key: str
    correlation_id: str
    field: str | None = None
    attempts_left: int | None = None
    reasons: tuple[PasswordRule, ...] = ()
    question_reasons: tuple[QuestionRule, ...] = ()
    """With `questions_invalid`: every rule the questions break."""
    blocked_until: datetime | None = None
    """With `too_many_attempts`: when the block ends (UTC)."""


class Health(_Body):
    """`GET /v1/health`."""

    status: str
    version: str


class MethodOption(_Body):
    """A method the user may pick for the next gate; contact data arrives masked only."""

    method: Method
    masked_target: str | None = None


class CodeChallenge(_Body):
    """An outstanding one-time code (e-mail/SMS/voice) or an authenticator-app prompt."""

    method: Method
    masked_target: str | None = None
    attempts_left: int
    code_length: int
    expires_at: datetime | None = None  # None for app codes: they roll every 30 s
    can_resend: bool


class QuestionPrompt(_Body):
    """One security question to answer: a predefined id (localized by the kiosk) or custom text."""

    id: str
    predefined_id: str | None = None
    custom_text: str | None = None


class Refusal(_Body):
    """Why a user may not use self-service, with a reference the helpdesk can find in the audit."""

    code: ErrorCode
    reference: str


class RegisteredMethod(_Body):
    """One method the signed-in user has registered, as the hub shows it (never the value itself)."""

    kind: RegistrationKind
    masked_target: str | None = None
    """E-mail and phone: masked (`j•••@c•••.com`, `+31 •• ••• ••78`)."""
    questions: int = 0
    """Security questions: how many are registered."""


class QuestionChoice(_Body):
    """A question the user may register: a predefined id (localized by the kiosk) or a custom text."""

    predefined_id: str | None = None
    custom_text: str | None = None


class RegistrationView(_Body):
    """The registration stages' data (REGISTER, REGISTER_VERIFY, REGISTER_APP, RECONFIRM)."""

    registered: tuple[RegisteredMethod, ...] = ()
    can_register: tuple[RegistrationKind, ...] = ()
    """What the policy lets this user register (its enabled methods; app and questions not for everyone)."""
    methods_needed: int = 1
    """How many registered methods self-service needs for this user (its gates)."""
    questions_to_register: int = 0
    question_choices: tuple[QuestionChoice, ...] = ()
    confirmed_at: datetime | None = None
    """When the user last registered or reconfirmed; None if never."""
    pending: CodeChallenge | None = None
    """REGISTER_VERIFY: the code sent to the new e-mail or phone (masked target, expiry, tries left)."""
    app_secret: str | None = Field(default=None, repr=False)
    """REGISTER_APP: the new authenticator secret (base32), to type in by hand."""
    app_uri: str | None = Field(default=None, repr=False)
    """REGISTER_APP: the `otpauth://totp/…` URI the QR code holds."""
    app_qr_svg: str | None = Field(default=None, repr=False)
    """REGISTER_APP: the QR code of `app_uri` as an SVG document (drawn by the backend, so the kiosk needs
    no QR library)."""


class SessionView(_Body):
    """The state of a session as the kiosk may see it; every session call answers with one."""

    flow: Flow = Flow.RECOVER
    stage: Stage
    expires_at: datetime
    gates_required: int = 0
    gates_passed: int = 0
    display_name: str | None = None
    methods: tuple[MethodOption, ...] = ()
    code: CodeChallenge | None = None
    questions: tuple[QuestionPrompt, ...] = ()
    locked: bool = False
    rules: PasswordRules | None = None
    outcome: Outcome | None = None
    """DONE, and RECONFIRM or REGISTER after a reset, unlock or change: what was done to the account."""
    refusal: Refusal | None = None
    registration: RegistrationView | None = None


class CaptchaImage(_Body):
    """A CAPTCHA challenge picture (PNG, base64)."""

    png_base64: str


class CaptchaAudio(_Body):
    """The audio alternative of the current CAPTCHA (WAV, base64)."""

    wav_base64: str


class PictureSubject(StrEnum):
    """What a picture of the picture check shows; the kiosk words the question ("… shows a house")."""

    HOUSE = "house"
    TREE = "tree"
    CAR = "car"
    KEY = "key"
    STAR = "star"
    CUP = "cup"


class PictureChoice(_Body):
    """One picture to choose from: a random id (the answer, if it is the right one) and the PNG (base64)."""

    id: str
    png_base64: str


class PictureCheck(_Body):
    """The CAPTCHA that needs no transcription: select the picture that shows `subject`.

    Answered through `IdentifyRequest.captcha` with the chosen picture's id; one answer per check.
    """

    subject: PictureSubject
    choices: tuple[PictureChoice, ...]


class OpenSessionRequest(_Body):
    """`POST /v1/sessions`."""

    kiosk_id: Annotated[Identifier, Field(max_length=64)] = ""
    locale: Annotated[Identifier, Field(max_length=35)] = "en"
    flow: Flow = Flow.RECOVER
    """403 `step_not_allowed` for a flow the policy switched off (`kiosk.offer_change`, `kiosk.offer_registration`)."""


class SessionLocaleRequest(_Body):
    """`POST /v1/session/locale`: the user switched language; codes and notices sent from now on use it."""

    locale: Annotated[Identifier, Field(min_length=1, max_length=35)]


class SessionOpened(_Body):
    """A new session: the opaque token (sent back as `Authorization: Bearer …`), its state and a CAPTCHA."""

    token: str
    view: SessionView
    captcha: CaptchaImage


class IdentifyRequest(_Body):
    """`POST /v1/session/identify`."""

    user_id: Annotated[Identifier, Field(min_length=1, max_length=MAX_USER_ID)]
    captcha: Annotated[
        Text,
        Field(
            min_length=1,
            max_length=MAX_CAPTCHA,
            description="The answer to the session's current CAPTCHA: the characters typed, or the id of the "
            "picture chosen in a picture check.",
        ),
    ]


class SignInRequest(_Body):
    """`POST /v1/session/sign-in` (flows change and register): user ID, current password, CAPTCHA answer."""

    user_id: Annotated[Identifier, Field(min_length=1, max_length=MAX_USER_ID)]
    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD, pattern=PRINTABLE, repr=False)]
    captcha: Annotated[Text, Field(min_length=1, max_length=MAX_CAPTCHA)]

    @field_validator("password", mode="before")
    @classmethod
    def _composed(cls, value: object) -> object:
        return normalize_password(value) if isinstance(value, str) else value


class ChooseMethodRequest(_Body):
    """`POST /v1/session/method`."""

    method: Method


class VerifyCodeRequest(_Body):
    """`POST /v1/session/code`."""

    code: Annotated[Text, Field(min_length=1, max_length=MAX_CODE)]


class QuestionAnswer(_Body):
    """One answer to one asked question."""

    id: Annotated[Identifier, Field(min_length=1, max_length=16)]
    answer: Annotated[Text, Field(max_length=MAX_ANSWER)]


class AnswersRequest(_Body):
    """`POST /v1/session/answers`."""

    answers: Annotated[tuple[QuestionAnswer, ...], Field(min_length=1, max_length=MAX_QUESTIONS)]


class ChooseActionRequest(_Body):
    """`POST /v1/session/action`."""

    action: Action


class NewPasswordRequest(_Body):
    """`POST /v1/session/password`.

    The password is taken in NFC (`policy.password.normalize_password`) before its length is counted:
    the one form the backend checks, keeps in the history, hashes and writes. Like an identifier it may
    not carry invisible direction marks (policy.characters.PLAIN): nobody could type it again.
    """

    password: Annotated[str, Field(min_length=1, max_length=MAX_PASSWORD, pattern=PLAIN)]

    @field_validator("password", mode="before")
    @classmethod
    def _composed(cls, value: object) -> object:
        return normalize_password(value) if isinstance(value, str) else value


MIN_REGISTERED_ANSWER = 3
MAX_REGISTERED_ANSWER = 40
MAX_CONTACT = 254
"""The longest e-mail address (RFC 5321 path limit); phone numbers are far shorter (E.164: 15 digits)."""


class ContactRequest(_Body):
    """`POST /v1/session/register/contact`: a new authentication e-mail or phone; a code is sent to it."""

    kind: Literal[RegistrationKind.EMAIL, RegistrationKind.PHONE]
    value: Annotated[Identifier, Field(min_length=1, max_length=MAX_CONTACT)]


class QuestionRegistration(_Body):
    """One question to register: exactly one of a predefined id and a custom text, and its answer."""

    predefined_id: Annotated[Identifier, Field(min_length=1, max_length=64)] | None = None
    custom_text: Annotated[Text, Field(min_length=1, max_length=200)] | None = None
    answer: Annotated[Text, Field(max_length=MAX_ANSWER, repr=False)]


class QuestionsRegistrationRequest(_Body):
    """`POST /v1/session/register/questions`: replace the user's security questions."""

    questions: Annotated[tuple[QuestionRegistration, ...], Field(min_length=1, max_length=MAX_QUESTIONS)]


class ReconfirmRequest(_Body):
    """`POST /v1/session/reconfirm`: keep the security info as it is, or update it."""

    choice: ReconfirmChoice


class OutboxMessage(_Body):
    """A message the dev outbox kept instead of sending it (demo only)."""

    id: int
    channel: Method
    to: str
    subject: str
    body: str
    sent_at: datetime


class Outbox(_Body):
    """`GET /v1/dev/outbox` (demo only)."""

    messages: tuple[OutboxMessage, ...]


class AuthenticatorCode(_Body):
    """The current authenticator-app code of a demo user (demo only)."""

    user_id: str
    code: str
    seconds_left: int


class Authenticator(_Body):
    """`GET /v1/dev/authenticator` (demo only)."""

    codes: tuple[AuthenticatorCode, ...]
