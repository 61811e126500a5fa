"""`FlowEngine` (also importable as `RecoveryFlow`): the async engine of the kiosk's three ways in ("Can't
access your account?", "Change my password", "Set up my security info"); plain data in and out, no Qt.

One engine runs the three flows: the flow is chosen on the start page (`BeginAnswer.flow`), and from then
on the page follows the backend's stage, whatever the flow. The only pages of its own are the hub's local
ones (typing a new contact, picking questions), opened and left without a backend call.

The engine turns answers into client calls and session views into `Step`s. It never decides a gate:
the backend does. It keeps no secret beyond the call that carries it (passwords, codes and answers
live only in the `Answer` the UI hands over), and it serializes calls so a double submit cannot
interleave two requests of one session.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from kiosk.flows.mapping import (
    CHANGE_UNCONFIRMED,
    INTERNAL,
    REGISTRATION_UNCONFIRMED,
    SERVICE_TIMEOUT,
    SERVICE_UNAVAILABLE,
    SESSION_EXPIRED,
    UNLOCK_UNCONFIRMED,
    ViewContext,
    choose_method_step,
    contact_step,
    error_step,
    identify_step,
    local_reference,
    method_choices,
    offered_flows,
    questions_step,
    reset_or_unlock_step,
    sign_in_step,
    start_step,
    step_for_view,
    with_errors,
)
from kiosk.flows.steps import (
    Answer,
    AnswerQuestionsData,
    BeginAnswer,
    CaptchaKind,
    Choice,
    ChooseMethodAnswer,
    ChooseMethodData,
    CodeAnswer,
    ContactAnswer,
    EnterCodeData,
    FieldError,
    FinishRegistrationAnswer,
    IdentifyAnswer,
    IdentifyData,
    NewPasswordAnswer,
    NewPasswordData,
    Picture,
    PictureCheckData,
    QuestionsAnswer,
    QuestionsRegistrationAnswer,
    ReconfirmAnswer,
    RegisterAppData,
    RegisterContactData,
    RegisterData,
    RegisterQuestionsData,
    RegisterVerifyData,
    ResetOrUnlockAnswer,
    SignInAnswer,
    SignInData,
    StartRegistrationAnswer,
    Step,
    StepKind,
    SwitchCaptchaAnswer,
)
from kiosk.flows.validation import (
    CONTACT_FIELD,
    QUESTIONS_FIELD,
    answers_errors,
    code_errors,
    contact_errors,
    identify_errors,
    new_password_errors,
    question_rule_error,
    registration_questions_errors,
    sign_in_errors,
)
from kiosk.i18n import current_language
from kiosk.policy.password import PasswordCheck, PasswordRules, check_password
from kiosk.policy.schema import Policy
from kiosk.services.api import (
    Action,
    CaptchaImage,
    ErrorCode,
    Flow,
    PictureCheck,
    QuestionChoice,
    ReconfirmChoice,
    RegistrationKind,
    RegistrationView,
    SessionView,
    Stage,
)
from kiosk.services.client import (
    ApiError,
    BackendClient,
    BackendTimeout,
    BackendUnavailable,
    ClientError,
    ProtocolError,
)

log = logging.getLogger(__name__)

Operation = Callable[[], Awaitable[Step]]
"""A unit of work that ends on a page: a backend call and its mapping."""

_SESSION_GONE = frozenset({ErrorCode.SESSION_EXPIRED, ErrorCode.SESSION_REQUIRED})
_RESYNC_AND_SAY = frozenset(
    {
        ErrorCode.CODE_EXPIRED,
        ErrorCode.CODE_BURNED,
        ErrorCode.NO_ACTIVE_CODE,
        ErrorCode.ANSWERS_WRONG,
        ErrorCode.METHOD_NOT_AVAILABLE,
        ErrorCode.REGISTRATION_NOT_ALLOWED,
    }
)
_GATE_FIELDS = {
    StepKind.ENTER_CODE: "code",
    StepKind.ANSWER_QUESTIONS: "answers",
    StepKind.REGISTER_VERIFY: "code",
    StepKind.REGISTER_APP: "code",
    StepKind.REGISTER: "kind",
}
_CAPTCHA_PAGES = (IdentifyData, SignInData)
"""The pages with a CAPTCHA (identify for recovery, sign-in for change and registration)."""
_CONTACTS = frozenset({RegistrationKind.EMAIL, RegistrationKind.PHONE})


def _gate_error(kind: StepKind, code: ErrorCode, attempts_left: int | None) -> FieldError:
    """A gate failure on the field of the page it lands on (the method list when the gate closed)."""
    return FieldError(_GATE_FIELDS.get(kind, "method"), code.value, attempts_left)


def _decode_png(image: CaptchaImage) -> bytes:
    try:
        return base64.b64decode(image.png_base64, validate=True)
    except binascii.Error:
        raise ProtocolError("the CAPTCHA image is not valid base64") from None


def _decode_pictures(check: PictureCheck) -> PictureCheckData:
    try:
        pictures = tuple(
            Picture(id=choice.id, png=base64.b64decode(choice.png_base64, validate=True)) for choice in check.choices
        )
    except binascii.Error:
        raise ProtocolError("a picture of the picture check is not valid base64") from None
    return PictureCheckData(subject=check.subject.value, pictures=pictures)


class FlowEngine:
    """The kiosk's engine for the three flows: `step` is the page to show; answers and buttons move it."""

    def __init__(
        self,
        client: BackendClient,
        policy: Policy,
        *,
        kiosk_id: str = "",
        locale: Callable[[], str] = current_language,
    ) -> None:
        self._client = client
        self._policy = policy
        self._kiosk_id = kiosk_id
        self._locale = locale
        self._lock = asyncio.Lock()
        self._context = ViewContext(policy)
        self._display_name: str | None = None
        self._retry: Operation | None = None
        self._unconfirmed: str | None = None  # the error code of an effect whose answer was lost, until resolved
        self._password_stage_open = False  # the backend is at NEW_PASSWORD while RESET_OR_UNLOCK shows
        self._flow = Flow.RECOVER  # the way in of the session (chosen on the start page)
        self._registration: RegistrationView | None = None  # the hub's last data (no secret), for local pages
        self._hub: Step | None = None  # the hub as last shown, for Back from a local page
        self._step = start_step(policy)

    @property
    def step(self) -> Step:
        """The current page (START until the user begins)."""
        return self._step

    def on_retrying(self, listener: Callable[[bool], None] | None) -> None:
        """Tell `listener(True)` while a call waits to try again (the backend is busy), `listener(False)`
        when that call is over: the window says "busy, trying again" meanwhile, not an error."""
        self._client.on_retrying(listener)

    # ------------------------------------------------------------------ public moves

    async def submit(self, answer: Answer) -> Step:
        """Answer the current page; an answer that does not fit the page (a late double click) is ignored."""
        async with self._lock:
            operation = self._operation_for(answer)
            if operation is None:
                log.info("ignored a %s on the %s page", type(answer).__name__, self._step.kind.value)
                return self._step
            effect = self._effect_of(answer)
            return self._show(await self._attempt(operation, repeat=self._resync, effect=effect))

    async def back(self) -> Step:
        """Go to the previous page where the page allows it (`Step.can_go_back`)."""
        async with self._lock:
            step = self._step
            if not step.can_go_back:
                return step
            if step.kind in (StepKind.IDENTIFY, StepKind.SIGN_IN):
                await self._close_quietly()
                self._forget()
                return self._show(start_step(self._policy))
            if step.kind is StepKind.CHOOSE_METHOD:
                return self._show(await self._attempt(self._open_at_first, repeat=self._open_at_first))
            if isinstance(step.data, EnterCodeData | AnswerQuestionsData):
                # Local: the backend lets the user pick another method while a challenge is open.
                return self._show(choose_method_step(step.data.gate, self._context.methods))
            if step.kind is StepKind.NEW_PASSWORD:
                self._password_stage_open = True
                return self._show(reset_or_unlock_step(self._display_name))
            if step.kind in (StepKind.REGISTER_CONTACT, StepKind.REGISTER_QUESTIONS) and self._hub is not None:
                return self._show(self._hub)  # local pages: the backend never left the hub
            if step.kind in (StepKind.REGISTER_VERIFY, StepKind.REGISTER_APP):

                async def cancel_pending() -> Step:
                    return await self._step_for(await self._client.cancel_pending())

                return self._show(await self._attempt(cancel_pending, repeat=self._resync))
            return step

    async def cancel(self) -> Step:
        """Close the backend session (best effort), forget everything and return to the start."""
        async with self._lock:
            await self._close_quietly()
            self._forget()
            return self._show(start_step(self._policy))

    async def restart(self) -> Step:
        """Back to the start, forgetting everything (done countdown, idle timeout)."""
        return await self.cancel()

    async def retry(self) -> Step:
        """From an error page: repeat what failed when that is safe, else resume where the backend is."""
        async with self._lock:
            operation = self._retry
            if self._step.kind is not StepKind.ERROR or operation is None:
                return self._step
            return self._show(await self._attempt(operation, repeat=operation))

    async def refresh_captcha(self) -> Step:
        """A new CAPTCHA on the identify page (new characters, or new pictures in a picture check)."""
        async with self._lock:
            data = self._step.data
            if not isinstance(data, _CAPTCHA_PAGES):
                return self._step

            async def refresh() -> Step:
                if data.picture_check is not None:
                    return await self._pictures_step(data.user_id)
                return self._human_step(await self._captcha_png(), data.user_id)

            return self._show(await self._attempt(refresh, repeat=self._resync))

    async def captcha_audio(self) -> bytes:
        """The current CAPTCHA as WAV bytes; b"" if it cannot be had (then `step` shows why)."""
        async with self._lock:
            data = self._step.data
            if not isinstance(data, _CAPTCHA_PAGES) or not data.audio or data.picture_check is not None:
                return b""
            try:
                audio = await self._client.captcha_audio()
                return base64.b64decode(audio.wav_base64, validate=True)
            except binascii.Error:
                self._show(self._failure(ProtocolError("the CAPTCHA audio is not valid base64"), repeat=self._resync))
            except ClientError as error:
                self._show(self._failure(error, repeat=self._resync))
            return b""

    async def resend_code(self) -> Step:
        """Send a new code for the current challenge (a gate's, or the new e-mail's or phone's)."""
        async with self._lock:
            kind = self._step.kind
            if kind not in (StepKind.ENTER_CODE, StepKind.REGISTER_VERIFY):
                return self._step

            async def resend() -> Step:
                if kind is StepKind.REGISTER_VERIFY:
                    return await self._step_for(await self._client.resend_contact_code())
                return await self._step_for(await self._client.resend_code())

            return self._show(await self._attempt(resend, repeat=self._resync))

    async def language_changed(self) -> None:
        """The user switched language: the open session sends its codes and notices in the new one from now on.

        The page on show does not change (the UI re-renders it). Best effort: when the backend cannot
        be told, the session keeps its language and the flow goes on; the next call meets the problem.
        """
        async with self._lock:
            if not self._client.has_session:
                return  # the next session opens in the language of the moment
            try:
                await self._client.change_locale(self._locale())
            except ClientError as error:
                log.warning("could not change the session's language (%s)", type(error).__name__)

    def check_password(self, password: str) -> PasswordCheck:
        """The live checklist of a new password against the current page's rules and the user's names."""
        data = self._step.data
        if isinstance(data, NewPasswordData):
            return check_password(password, data.rules, data.user_names)
        return check_password(password, PasswordRules.from_policy(self._policy))

    # ------------------------------------------------------------------ answers

    def _operation_for(self, answer: Answer) -> Operation | None:
        step = self._step
        match answer:
            case BeginAnswer() if step.kind is StepKind.START and answer.flow in offered_flows(self._policy):
                return lambda: self._begin(answer.flow)
            case IdentifyAnswer() if isinstance(step.data, IdentifyData):
                data = step.data
                return lambda: self._identify(answer, data)
            case SignInAnswer() if isinstance(step.data, SignInData):
                sign_in = step.data
                return lambda: self._sign_in(answer, sign_in)
            case SwitchCaptchaAnswer() if isinstance(step.data, _CAPTCHA_PAGES):
                return lambda: self._switch_captcha(answer)
            case ChooseMethodAnswer() if isinstance(step.data, ChooseMethodData):
                return lambda: self._choose_method(answer)
            case CodeAnswer() if isinstance(step.data, EnterCodeData | RegisterVerifyData | RegisterAppData):
                return lambda: self._verify_code(answer)
            case QuestionsAnswer() if isinstance(step.data, AnswerQuestionsData):
                question_ids = tuple(question.id for question in step.data.questions)
                return lambda: self._answer_questions(answer, question_ids)
            case ResetOrUnlockAnswer() if step.kind is StepKind.RESET_OR_UNLOCK:
                return lambda: self._choose_action(answer)
            case NewPasswordAnswer() if isinstance(step.data, NewPasswordData):
                return lambda: self._set_password(answer)
            case StartRegistrationAnswer() if isinstance(step.data, RegisterData):
                if answer.kind in step.data.can_register:
                    return lambda: self._start_registration(answer.kind)
            case ContactAnswer() if isinstance(step.data, RegisterContactData) and answer.kind is step.data.kind:
                return lambda: self._add_contact(answer)
            case QuestionsRegistrationAnswer() if isinstance(step.data, RegisterQuestionsData):
                questions = step.data
                return lambda: self._register_questions(answer, questions)
            case FinishRegistrationAnswer() if step.kind is StepKind.REGISTER:
                return self._finish_registration
            case ReconfirmAnswer() if step.kind is StepKind.RECONFIRM:
                return lambda: self._reconfirm(answer)
        return None

    def _effect_of(self, answer: Answer) -> str | None:
        """The error code that says "it may have gone through" for an answer that changes the account (a new
        password in any flow, an unlock) or its security info (a contact's or the app's code, questions,
        "still up to date"), used when its answer is lost; None for an answer that changes nothing there."""
        kind = self._step.kind
        match answer:
            case NewPasswordAnswer() if kind is StepKind.NEW_PASSWORD:
                return CHANGE_UNCONFIRMED
            case ResetOrUnlockAnswer(choice=Choice.UNLOCK) if kind is StepKind.RESET_OR_UNLOCK:
                return UNLOCK_UNCONFIRMED
            case CodeAnswer() if kind in (StepKind.REGISTER_VERIFY, StepKind.REGISTER_APP):
                return REGISTRATION_UNCONFIRMED
            case QuestionsRegistrationAnswer() if kind is StepKind.REGISTER_QUESTIONS:
                return REGISTRATION_UNCONFIRMED
            case ReconfirmAnswer(choice=ReconfirmChoice.KEEP) if kind is StepKind.RECONFIRM:
                return REGISTRATION_UNCONFIRMED
        return None

    async def _begin(self, flow: Flow) -> Step:
        self._flow = flow
        return await self._open_at_first()

    async def _open_at_first(self) -> Step:
        """A new session of the current flow, on its first page (identify, or sign-in)."""
        await self._close_quietly()
        opened = await self._client.open_session(kiosk_id=self._kiosk_id, locale=self._locale(), flow=self._flow)
        # A new session: keep only what the user typed as their ID, so they need not type it again.
        self._context = ViewContext(self._policy, user_id=self._context.user_id)
        self._display_name = None
        self._registration, self._hub = None, None
        return self._human_step(_decode_png(opened.captcha), self._context.user_id)

    async def _identify(self, answer: IdentifyAnswer, data: IdentifyData) -> Step:
        errors = identify_errors(answer)
        if errors:
            return replace(self._step, data=replace(data, user_id=answer.user_id), errors=errors)
        self._context = replace(self._context, user_id=answer.user_id.strip())
        return await self._step_for(await self._client.identify(self._context.user_id, answer.captcha.strip()))

    async def _sign_in(self, answer: SignInAnswer, data: SignInData) -> Step:
        """The current password goes in this one call and nowhere else (not the context, not the next page)."""
        errors = sign_in_errors(answer)
        if errors:
            return replace(self._step, data=replace(data, user_id=answer.user_id), errors=errors)
        self._context = replace(self._context, user_id=answer.user_id.strip())
        view = await self._client.sign_in(self._context.user_id, answer.password, answer.captcha.strip())
        return await self._step_for(view)

    async def _switch_captcha(self, answer: SwitchCaptchaAnswer) -> Step:
        """Picture check instead of characters (when the policy offers it), or back; the typed ID stays."""
        self._context = replace(self._context, user_id=answer.user_id.strip())
        if answer.kind is CaptchaKind.PICTURES and self._policy.captcha.no_transcription_alternative:
            return await self._pictures_step(self._context.user_id)
        return self._human_step(await self._captcha_png(), self._context.user_id)

    async def _choose_method(self, answer: ChooseMethodAnswer) -> Step:
        return await self._step_for(await self._client.choose_method(answer.method))

    async def _verify_code(self, answer: CodeAnswer) -> Step:
        code = "".join(answer.code.split())  # "1234 5678" as printed in a message
        errors = code_errors(code)
        if errors:
            return with_errors(self._step, *errors)
        data = self._step.data
        if isinstance(data, RegisterVerifyData):
            return self._registered(await self._step_for(await self._client.verify_contact(code)), data.kind)
        if isinstance(data, RegisterAppData):
            view = await self._client.confirm_app_registration(code)
            return self._registered(await self._step_for(view), RegistrationKind.APP)
        return await self._step_for(await self._client.verify_code(code))

    async def _answer_questions(self, answer: QuestionsAnswer, question_ids: tuple[str, ...]) -> Step:
        errors = answers_errors(answer, question_ids)
        if errors:
            return with_errors(self._step, *errors)
        return await self._step_for(await self._client.answer_questions(answer.answers))

    async def _choose_action(self, answer: ResetOrUnlockAnswer) -> Step:
        self._context = replace(self._context, came_from_action=True)
        if self._password_stage_open and answer.choice is Choice.RESET:
            return await self._resync()  # back from the new-password page: the backend is still there
        return await self._step_for(await self._client.choose_action(Action(answer.choice.value)))

    async def _set_password(self, answer: NewPasswordAnswer) -> Step:
        step = self._step
        assert isinstance(step.data, NewPasswordData)
        errors = new_password_errors(answer.password, answer.confirm, step.data)
        if errors:
            return replace(step, data=replace(step.data, rejected=()), errors=errors)
        return await self._step_for(await self._client.set_password(answer.password))

    async def _start_registration(self, kind: RegistrationKind) -> Step:
        """E-mail and phone: the page to type it; questions: the page to pick them (both local, no call);
        the app: a new secret from the backend."""
        if kind in _CONTACTS:
            return contact_step(kind)
        if kind is RegistrationKind.QUESTIONS:
            if self._registration is None:
                return await self._resync()
            return questions_step(self._registration)
        return await self._step_for(await self._client.start_app_registration())

    async def _add_contact(self, answer: ContactAnswer) -> Step:
        value = answer.value.strip()
        errors = contact_errors(answer.kind, value)
        if errors:
            return contact_step(answer.kind, answer.value, errors)
        try:
            view = await self._client.add_contact(answer.kind, value)
        except ApiError as error:
            if error.code is not ErrorCode.CONTACT_INVALID:
                raise
            return contact_step(answer.kind, answer.value, (FieldError(CONTACT_FIELD, error.code.value),))
        return await self._step_for(view)

    async def _register_questions(self, answer: QuestionsRegistrationAnswer, data: RegisterQuestionsData) -> Step:
        """The answers go in this one call; a refused set comes back with the picks kept, never the answers."""
        picks = tuple(choice for choice, _ in answer.pairs)
        errors = registration_questions_errors(answer, data)
        if errors:
            return replace(self._step, data=replace(data, selected=picks), errors=errors)
        options = [data.choices[choice] for choice in picks]
        pairs = [
            (QuestionChoice(predefined_id=option.predefined_id, custom_text=option.custom_text), text.strip())
            for option, (_, text) in zip(options, answer.pairs, strict=True)
        ]
        try:
            view = await self._client.register_questions(pairs)
        except ApiError as error:
            if error.code is not ErrorCode.QUESTIONS_INVALID:
                raise
            refused = tuple(question_rule_error(rule) for rule in error.question_reasons)
            refused = refused or (FieldError(QUESTIONS_FIELD, error.code.value),)
            return replace(self._step, data=replace(data, selected=picks), errors=refused)
        return self._registered(await self._step_for(view), RegistrationKind.QUESTIONS)

    async def _finish_registration(self) -> Step:
        return await self._step_for(await self._client.finish_registration())

    async def _reconfirm(self, answer: ReconfirmAnswer) -> Step:
        return await self._step_for(await self._client.reconfirm(answer.choice))

    def _registered(self, step: Step, kind: RegistrationKind) -> Step:
        """Back on the hub after a registration step: the hub says what was just registered (once: Back from a
        local page shows the hub without it)."""
        if isinstance(step.data, RegisterData):
            return replace(step, data=replace(step.data, just_registered=kind))
        return step

    # ------------------------------------------------------------------ views and failures

    async def _step_for(self, view: SessionView) -> Step:
        if view.display_name:
            self._display_name = view.display_name
        if view.methods:
            self._context = replace(self._context, methods=method_choices(view))
        self._flow = view.flow
        if view.stage in (Stage.IDENTIFY, Stage.SIGN_IN):
            return self._human_step(await self._captcha_png(), self._context.user_id)
        try:
            step = step_for_view(view, self._context)
        except ValueError as error:
            raise ProtocolError(str(error)) from None
        if view.stage is Stage.REGISTER and view.registration is not None:
            self._registration, self._hub = view.registration, step
        return step

    async def _captcha_png(self) -> bytes:
        return _decode_png(await self._client.refresh_captcha())

    def _human_step(
        self,
        captcha_png: bytes,
        user_id: str,
        errors: tuple[FieldError, ...] = (),
        picture_check: PictureCheckData | None = None,
    ) -> Step:
        """The flow's first page: identify (recover) or sign-in (change, register)."""
        if self._flow is Flow.RECOVER:
            return identify_step(captcha_png, user_id, errors, policy=self._policy, picture_check=picture_check)
        return sign_in_step(
            captcha_png, user_id, errors, policy=self._policy, flow=self._flow, picture_check=picture_check
        )

    async def _pictures_step(self, user_id: str, errors: tuple[FieldError, ...] = ()) -> Step:
        check = _decode_pictures(await self._client.new_picture_check())
        return self._human_step(b"", user_id, errors, picture_check=check)

    async def _resync(self) -> Step:
        """Show the page of wherever the backend says the session is (a fresh one if there is none)."""
        if not self._client.has_session:
            return await self._open_at_first()
        return await self._step_for(await self._client.session())

    async def _attempt(self, operation: Operation, *, repeat: Operation, effect: str | None = None) -> Step:
        """Run an operation; a failure becomes a page, and `repeat` is what Retry does after a transport failure.

        `effect`: the operation changes the account (`_effect_of`); when its answer is lost the page says
        the change may have gone through, never that nothing changed.
        """
        try:
            return await operation()
        except ApiError as error:
            try:
                return await self._recover(error)
            except ClientError as second:
                return self._failure(second, repeat=self._resync)
        except ClientError as error:
            return self._failure(error, repeat=repeat, effect=effect)

    async def _recover(self, error: ApiError) -> Step:
        """Turn a wrong answer into the same page with a field error; anything else into an error page."""
        step = self._step
        data = step.data
        code = error.code
        if code in (ErrorCode.CAPTCHA_WRONG, ErrorCode.SIGN_IN_FAILED) and isinstance(data, _CAPTCHA_PAGES):
            # The backend spent the CAPTCHA on the attempt; show a new one of the same kind. A wrong password
            # and an unknown ID are one error, on the password field.
            if code is ErrorCode.SIGN_IN_FAILED:
                failed = FieldError("password", code.value, error.attempts_left)
            else:
                failed = FieldError("captcha", "picture_wrong" if data.picture_check is not None else code.value)
            if data.picture_check is not None:
                return await self._pictures_step(self._context.user_id, (failed,))
            return self._human_step(await self._captcha_png(), self._context.user_id, (failed,))
        if code is ErrorCode.CODE_WRONG and isinstance(data, EnterCodeData | RegisterVerifyData | RegisterAppData):
            attempts = error.attempts_left if error.attempts_left is not None else max(data.attempts_left - 1, 0)
            return replace(
                step, data=replace(data, attempts_left=attempts), errors=(FieldError("code", code.value, attempts),)
            )
        if code in _RESYNC_AND_SAY:
            # The backend may have ended the challenge, used the method up or picked other questions:
            # show the page of what it holds now, with the error on that page's field.
            fresh = await self._step_for(await self._client.session())
            return with_errors(fresh, _gate_error(fresh.kind, code, error.attempts_left))
        if code is ErrorCode.SIGN_IN_FAILED and isinstance(data, NewPasswordData):
            # The current password changed elsewhere since the sign-in: this session can change nothing, so a
            # new sign-in, told why on its password field.
            fresh = await self._open_at_first()
            return with_errors(fresh, FieldError("password", code.value))
        if code is ErrorCode.PASSWORD_REJECTED and isinstance(data, NewPasswordData):
            rejected = tuple(reason.value for reason in error.reasons)
            return replace(step, data=replace(data, rejected=rejected), errors=(FieldError("password", code.value),))
        if code is ErrorCode.UNLOCK_NOT_ALLOWED and step.kind is StepKind.RESET_OR_UNLOCK:
            return with_errors(step, FieldError("choice", ErrorCode.UNLOCK_NOT_ALLOWED.value))
        return self._failure(error, repeat=self._resync)

    def _failure(self, error: ClientError, *, repeat: Operation, effect: str | None = None) -> Step:
        """The error page for a failure, remembering how Retry recovers from it.

        A lost answer (timeout, unreachable: the client already tried again under the same request id) to
        an `effect` may hide a change that went through: the page says so (`change_unconfirmed`,
        `unlock_unconfirmed`, `registration_unconfirmed`), and Retry re-reads the session, whose stage tells
        the truth (done, or still waiting for the step). It keeps saying so while that re-read fails, unless
        the session is gone.

        The page's reference is the answer's (the backend's body, else a proxy's header); with none, one
        made here, which the log line below carries so the helpdesk finds it in the kiosk's log.
        """
        blocked_until: datetime | None = None
        correlation_id = error.correlation_id or local_reference()
        if isinstance(error, ApiError):
            blocked_until = error.blocked_until
            if error.code in _SESSION_GONE:
                code, self._retry = SESSION_EXPIRED, self._open_at_first
            else:
                code, self._retry = error.code.value, self._resync
        elif isinstance(error, BackendTimeout):
            code, self._retry = SERVICE_TIMEOUT, repeat
        elif isinstance(error, BackendUnavailable):
            code, self._retry = SERVICE_UNAVAILABLE, repeat
        else:
            code, self._retry = INTERNAL, self._resync
        if effect is not None and isinstance(error, BackendTimeout | BackendUnavailable):
            self._unconfirmed = effect
        if self._unconfirmed is not None and code != SESSION_EXPIRED:
            code, self._retry, blocked_until = self._unconfirmed, self._resync, None
        log.warning("flow error on the %s page: %s [reference %s]", self._step.kind.value, error, correlation_id)
        return error_step(code, correlation_id, retryable=True, blocked_until=blocked_until)

    def _show(self, step: Step) -> Step:
        if step.kind is not StepKind.ERROR:
            self._retry = None
            self._unconfirmed = None
        if step.kind is not StepKind.RESET_OR_UNLOCK:
            self._password_stage_open = False
        if step.kind is not self._step.kind:
            log.debug("page %s -> %s", self._step.kind.value, step.kind.value)
        self._step = step
        return step

    async def _close_quietly(self) -> None:
        try:
            await self._client.close_session()
        except ClientError as error:
            # Best effort: an unreachable backend lets the session expire on its own.
            log.info("could not close the session: %s", error)

    def _forget(self) -> None:
        self._context = ViewContext(self._policy)
        self._display_name = None
        self._retry = None
        self._unconfirmed = None
        self._password_stage_open = False
        self._flow = Flow.RECOVER
        self._registration, self._hub = None, None


RecoveryFlow = FlowEngine
"""The engine's earlier name (it ran recovery alone), kept for its callers."""
