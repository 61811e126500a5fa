"""Immutable view-models the flow engine hands the UI (`Step`) and the answers the UI gives back.

A Step names its page (`StepKind`, the one enum of page kinds) and carries exactly what that page
shows. Messages are carried as stable codes, never as translated text, so a language switch can
re-render the same Step in another language.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from kiosk.policy.password import PasswordRules
from kiosk.policy.schema import Method
from kiosk.services.api import Flow, ReconfirmChoice, RegistrationKind


class StepKind(StrEnum):
    """Every page of the wizard."""

    START = "start"
    IDENTIFY = "identify"
    REFUSED = "refused"
    CHOOSE_METHOD = "choose_method"
    ENTER_CODE = "enter_code"
    ANSWER_QUESTIONS = "answer_questions"
    RESET_OR_UNLOCK = "reset_or_unlock"
    NEW_PASSWORD = "new_password"  # noqa: S105 - a page name, not a password
    DONE = "done"
    ERROR = "error"
    SIGN_IN = "sign_in"
    """Change and registration: user ID + current password + CAPTCHA."""
    RECONFIRM = "reconfirm"
    """Asks "is your security info still up to date?" (keep / update)."""
    REGISTER = "register"
    """The security-info hub: what is registered, and a way to add or update each kind."""
    REGISTER_CONTACT = "register_contact"
    """Type a new authentication e-mail or phone (a local page opened from the hub)."""
    REGISTER_VERIFY = "register_verify"
    """Type the code sent to the new e-mail or phone."""
    REGISTER_QUESTIONS = "register_questions"
    """Pick the security questions and answer them (a local page opened from the hub)."""
    REGISTER_APP = "register_app"
    """The new authenticator secret (QR code and text) and a field for one current code."""


@dataclass(frozen=True, slots=True)
class FieldError:
    """A problem with one input: `code` is a stable message code the UI localizes."""

    field: str
    code: str
    attempts_left: int | None = None


@dataclass(frozen=True, slots=True)
class Helpdesk:
    """Who a refused or stuck user should contact (from the policy)."""

    text: str
    phone: str = ""
    url: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class StartData:
    """The start page: branding and the ways in the policy offers."""

    organisation: str
    flows: tuple[Flow, ...] = (Flow.RECOVER,)
    """The ways in the policy offers (`kiosk.offer_*`), in the order recover, change, register."""


@dataclass(frozen=True, slots=True)
class Picture:
    """One picture of a picture check: its random id (what the answer sends) and the PNG."""

    id: str
    png: bytes


@dataclass(frozen=True, slots=True)
class PictureCheckData:
    """The CAPTCHA that needs no typing: select the picture that shows `subject` (a `PictureSubject`)."""

    subject: str
    pictures: tuple[Picture, ...]


@dataclass(frozen=True, slots=True)
class IdentifyData:
    """User ID + CAPTCHA: the characters in a picture, or (when `picture_check` is set) a picture to select."""

    captcha_png: bytes
    user_id: str = ""
    audio: bool = True
    """Offer the characters read out (policy `captcha.audio`)."""
    pictures_offered: bool = False
    """Offer the picture check instead of typing (policy `captcha.no_transcription_alternative`)."""
    picture_check: PictureCheckData | None = None


@dataclass(frozen=True, slots=True)
class RefusedData:
    """Self-service is not possible for this user: contact the helpdesk with the reference."""

    reason: str
    reference: str
    helpdesk: Helpdesk


@dataclass(frozen=True, slots=True)
class GateProgress:
    """Which gate the user is on (1-based) out of how many."""

    number: int
    required: int


@dataclass(frozen=True, slots=True)
class MethodChoice:
    """A method offered for the current gate, with its masked contact (if any)."""

    method: Method
    masked_target: str | None = None


@dataclass(frozen=True, slots=True)
class ChooseMethodData:
    """Pick how to prove who you are."""

    gate: GateProgress
    methods: tuple[MethodChoice, ...]


@dataclass(frozen=True, slots=True)
class EnterCodeData:
    """Type the code that was sent (or the authenticator app shows)."""

    gate: GateProgress
    method: Method
    masked_target: str | None
    attempts_left: int
    code_length: int
    expires_at: datetime | None
    can_resend: bool
    can_choose_other: bool


@dataclass(frozen=True, slots=True)
class Question:
    """A question to answer: predefined ones are localized by id, custom ones shown as written."""

    id: str
    predefined_id: str | None = None
    custom_text: str | None = None


@dataclass(frozen=True, slots=True)
class AnswerQuestionsData:
    """Answer the user's security questions."""

    gate: GateProgress
    questions: tuple[Question, ...]
    can_choose_other: bool


@dataclass(frozen=True, slots=True)
class ResetOrUnlockData:
    """The account is locked: reset the password (which also unlocks) or unlock only."""

    display_name: str | None = None


@dataclass(frozen=True, slots=True)
class NewPasswordData:
    """Type a new password twice; the rules drive the live checklist."""

    rules: PasswordRules
    user_names: tuple[str, ...] = ()
    rejected: tuple[str, ...] = ()
    flow: Flow = Flow.RECOVER
    """CHANGE: the user's own change after signing in (the page's title says so)."""


class DoneOutcome(StrEnum):
    """What the flow achieved."""

    RESET = "reset"
    UNLOCKED = "unlocked"
    CHANGED = "changed"
    """The user's own password change (flow change)."""
    REGISTERED = "registered"
    """Security info registered or reconfirmed, and nothing else changed."""


@dataclass(frozen=True, slots=True)
class DoneData:
    """Success; the kiosk returns to the start after the countdown."""

    outcome: DoneOutcome
    countdown_seconds: int


@dataclass(frozen=True, slots=True)
class ErrorData:
    """Something went wrong that the user cannot fix by editing a field."""

    code: str
    correlation_id: str
    """The reference the helpdesk looks up: the backend's, a proxy's `X-Correlation-Id`, or one the kiosk
    made up (`mapping.local_reference`) and logged with the failure. Every error page shows one."""
    retryable: bool = True
    blocked_until: datetime | None = None
    """With `too_many_attempts`: when the block ends (the page says "Try again after …")."""


@dataclass(frozen=True, slots=True)
class SignInData:
    """User ID + current password + CAPTCHA (flows change and register); the CAPTCHA works as on identify."""

    captcha_png: bytes
    user_id: str = ""
    audio: bool = True
    """Offer the characters read out (policy `captcha.audio`)."""
    pictures_offered: bool = False
    """Offer the picture check instead of typing (policy `captcha.no_transcription_alternative`)."""
    picture_check: PictureCheckData | None = None
    flow: Flow = Flow.CHANGE
    """Which way in this sign-in is for (the page's title says so)."""


@dataclass(frozen=True, slots=True)
class RegisteredMethod:
    """A method the user has registered, as the hub shows it (never its value)."""

    kind: RegistrationKind
    masked_target: str | None = None
    """E-mail and phone: masked (`j•••@c•••.com`)."""
    questions: int = 0
    """Security questions: how many are registered."""


@dataclass(frozen=True, slots=True)
class RegisterData:
    """The security-info hub: what is registered, what may be added or updated, and Done."""

    registered: tuple[RegisteredMethod, ...] = ()
    can_register: tuple[RegistrationKind, ...] = ()
    methods_needed: int = 1
    """How many registered methods self-service needs for this user."""
    confirmed_at: datetime | None = None
    """When the user last registered or reconfirmed; None if never."""
    outcome: DoneOutcome | None = None
    """The reset, unlock or change that just happened in this session (the hub says it went through)."""
    display_name: str | None = None
    just_registered: RegistrationKind | None = None
    """The kind registered by the last step (the hub says so); None otherwise."""


@dataclass(frozen=True, slots=True)
class RegisterContactData:
    """Type a new authentication e-mail or phone; a code is sent to it."""

    kind: RegistrationKind
    value: str = ""
    """What was typed so far (kept across a field error)."""


@dataclass(frozen=True, slots=True)
class RegisterVerifyData:
    """Type the code sent to the new e-mail or phone."""

    kind: RegistrationKind
    masked_target: str | None
    attempts_left: int
    code_length: int
    expires_at: datetime | None
    can_resend: bool


@dataclass(frozen=True, slots=True)
class QuestionOption:
    """A question the user may register: predefined ones are localized by id, custom ones shown as written."""

    predefined_id: str | None = None
    custom_text: str | None = None


@dataclass(frozen=True, slots=True)
class RegisterQuestionsData:
    """Pick `count` different questions from `choices` and answer each (answers `min_answer`–`max_answer` long)."""

    count: int
    choices: tuple[QuestionOption, ...]
    min_answer: int
    max_answer: int
    registered: int = 0
    """How many questions the user has registered now (they are replaced)."""
    selected: tuple[int, ...] = ()
    """The choices picked in the last answer (indexes into `choices`; kept across a field error, never the answers)."""


@dataclass(frozen=True, slots=True)
class RegisterAppData:
    """A new authenticator secret, as a QR code and as text, and a field for one current code."""

    secret: str = field(repr=False)
    """The base32 secret, to type into the app by hand."""
    uri: str = field(repr=False)
    """The `otpauth://totp/…` URI the QR code holds."""
    qr_svg: str = field(repr=False)
    """The QR code of `uri` as an SVG document."""
    attempts_left: int
    code_length: int = 6


@dataclass(frozen=True, slots=True)
class ReconfirmData:
    """Asks "is your security info still up to date?": what is registered, keep or update."""

    registered: tuple[RegisteredMethod, ...] = ()
    confirmed_at: datetime | None = None
    outcome: DoneOutcome | None = None
    """The reset, unlock or change that just went through."""
    display_name: str | None = None


StepData = (
    StartData
    | IdentifyData
    | RefusedData
    | ChooseMethodData
    | EnterCodeData
    | AnswerQuestionsData
    | ResetOrUnlockData
    | NewPasswordData
    | DoneData
    | ErrorData
    | SignInData
    | RegisterData
    | RegisterContactData
    | RegisterVerifyData
    | RegisterQuestionsData
    | RegisterAppData
    | ReconfirmData
)


@dataclass(frozen=True, slots=True)
class Step:
    """One page to show: its kind, its data and any field errors from the last answer."""

    kind: StepKind
    data: StepData
    errors: tuple[FieldError, ...] = field(default=())
    can_go_back: bool = False

    def error_for(self, field_name: str) -> FieldError | None:
        """The error attached to a field, if any."""
        return next((error for error in self.errors if error.field == field_name), None)


# --- answers: what the UI sends back (plain data; never "gate passed", only what was typed) ---


@dataclass(frozen=True, slots=True)
class BeginAnswer:
    """Start page: one of the ways in ("Can't access your account?", "Change my password", "Set up my security
    info")."""

    flow: Flow = Flow.RECOVER


@dataclass(frozen=True, slots=True)
class IdentifyAnswer:
    """The typed user ID and the CAPTCHA answer: the typed characters, or the selected picture's id."""

    user_id: str
    captcha: str


class CaptchaKind(StrEnum):
    """The two kinds of CAPTCHA of the identify page."""

    CHARACTERS = "characters"
    PICTURES = "pictures"


@dataclass(frozen=True, slots=True)
class SwitchCaptchaAnswer:
    """Identify or sign-in page: "Use a picture check instead" (or back to typing characters), keeping the
    typed ID."""

    kind: CaptchaKind
    user_id: str = ""


@dataclass(frozen=True, slots=True)
class ChooseMethodAnswer:
    """The picked method."""

    method: Method


@dataclass(frozen=True, slots=True)
class CodeAnswer:
    """The typed one-time code."""

    code: str

    def __repr__(self) -> str:
        return "CodeAnswer(code=<hidden>)"


@dataclass(frozen=True, slots=True)
class QuestionsAnswer:
    """Answers by question id."""

    answers: tuple[tuple[str, str], ...]

    def __repr__(self) -> str:
        return f"QuestionsAnswer(<{len(self.answers)} hidden answers>)"


class Choice(StrEnum):
    """Reset-or-unlock page choice."""

    RESET = "reset"
    UNLOCK = "unlock"


@dataclass(frozen=True, slots=True)
class ResetOrUnlockAnswer:
    """The user's choice on a locked account."""

    choice: Choice


@dataclass(frozen=True, slots=True)
class NewPasswordAnswer:
    """The new password, typed twice."""

    password: str
    confirm: str

    def __repr__(self) -> str:
        # Never let a password reach a log or a traceback through repr().
        return "NewPasswordAnswer(password=<hidden>, confirm=<hidden>)"


@dataclass(frozen=True, slots=True)
class SignInAnswer:
    """The typed user ID, current password and CAPTCHA answer (characters, or the selected picture's id)."""

    user_id: str
    password: str
    captcha: str

    def __repr__(self) -> str:
        return f"SignInAnswer(user_id={self.user_id!r}, password=<hidden>, captcha={self.captcha!r})"


@dataclass(frozen=True, slots=True)
class StartRegistrationAnswer:
    """Hub: add or update one kind (e-mail and phone open a page to type it, questions the question page,
    the app a new secret)."""

    kind: RegistrationKind


@dataclass(frozen=True, slots=True)
class FinishRegistrationAnswer:
    """Hub: done with the security info."""


@dataclass(frozen=True, slots=True)
class ContactAnswer:
    """The typed new authentication e-mail or phone."""

    kind: RegistrationKind
    value: str


@dataclass(frozen=True, slots=True)
class QuestionsRegistrationAnswer:
    """The picked questions (indexes into `RegisterQuestionsData.choices`) and their answers, in order."""

    pairs: tuple[tuple[int, str], ...]

    def __repr__(self) -> str:
        return f"QuestionsRegistrationAnswer(<{len(self.pairs)} hidden answers>)"


@dataclass(frozen=True, slots=True)
class ReconfirmAnswer:
    """Keep the security info as it is, or update it."""

    choice: ReconfirmChoice


Answer = (
    BeginAnswer
    | IdentifyAnswer
    | SwitchCaptchaAnswer
    | ChooseMethodAnswer
    | CodeAnswer
    | QuestionsAnswer
    | ResetOrUnlockAnswer
    | NewPasswordAnswer
    | SignInAnswer
    | StartRegistrationAnswer
    | FinishRegistrationAnswer
    | ContactAnswer
    | QuestionsRegistrationAnswer
    | ReconfirmAnswer
)
