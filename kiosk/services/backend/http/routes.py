"""The route table: every `/v1` endpoint once, with its models and error codes.

The Starlette app (`app.py`) and the OpenAPI document (`openapi.py`) are both built from this table,
so the documentation cannot drift from the routes. The one route outside it, on purpose, is
Prometheus's `GET /metrics` of a served backend (`app.METRICS_PATH`: not the kiosk's API, not JSON).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel

import kiosk
from kiosk.services.api import (
    API_PREFIX,
    AnswersRequest,
    Authenticator,
    AuthenticatorCode,
    CaptchaAudio,
    CaptchaImage,
    ChooseActionRequest,
    ChooseMethodRequest,
    ContactRequest,
    ErrorCode,
    Health,
    IdentifyRequest,
    NewPasswordRequest,
    OpenSessionRequest,
    Outbox,
    PictureCheck,
    QuestionsRegistrationRequest,
    ReconfirmRequest,
    SessionLocaleRequest,
    SessionOpened,
    SessionView,
    SignInRequest,
    VerifyCodeRequest,
)
from kiosk.services.backend.errors import ApiError
from kiosk.services.backend.http.views import build_view
from kiosk.services.backend.recovery import authenticator, finish, gates, opening, signin
from kiosk.services.backend.recovery.sessions import SessionState
from kiosk.services.backend.registration import steps as registration
from kiosk.services.backend.runtime import Runtime

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class Call:
    """One parsed request as a handler sees it: the runtime, the session (if any) and the body (if any)."""

    rt: Runtime
    session: SessionState | None
    payload: BaseModel | None
    document: Callable[[], dict[str, Any]]
    """The OpenAPI document of the routes served (built on first use, then cached)."""
    kiosk: str = ""
    """The calling kiosk's name, from its credential (a served backend); '' in-process."""

    @property
    def state(self) -> SessionState:
        """The session of a session route."""
        assert self.session is not None, "session route without session"
        return self.session

    def body(self, model: type[M]) -> M:
        """The request body, parsed as the route's request model."""
        assert isinstance(self.payload, model), "body of the wrong model"
        return self.payload


Handler = Callable[[Call], Awaitable[BaseModel | dict[str, Any] | None]]


@dataclass(frozen=True, slots=True)
class RouteSpec:
    """One endpoint: method, path, models, status, error codes and handler."""

    method: str
    path: str
    operation_id: str
    summary: str
    handler: Handler
    request: type[BaseModel] | None = None
    response: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[ErrorCode, ...] = ()
    session: bool = False
    demo_only: bool = False
    hashes: bool = False
    """The step hashes (argon2, password strength): it takes a hashing ticket first, 503 `busy` when full."""
    heavy: bool = False
    """Its hashing is strong (seconds of a machine: a reset, answers), so it leaves the reserve to light steps."""
    idempotent: bool = False
    """The step has an effect: a repeated `Idempotency-Key` is answered from its first result."""
    kiosk_credential: bool = True
    """A served backend answers the route only with a live kiosk credential (all but health and ready)."""

    @property
    def all_errors(self) -> tuple[ErrorCode, ...]:
        """The route's own error codes plus those every route of its kind can answer."""
        common: list[ErrorCode] = []
        if self.session:
            # busy: the hashing queue is full, or the step could not start before its deadline.
            common += [ErrorCode.SESSION_REQUIRED, ErrorCode.SESSION_EXPIRED, ErrorCode.BUSY]
        if self.request is not None:
            common.append(ErrorCode.INVALID_REQUEST)
        common.append(ErrorCode.INTERNAL)
        return tuple(dict.fromkeys([*self.errors, *common]))


async def _health(call: Call) -> Health:
    return Health(status="ok", version=kiosk.__version__)


READY_TIMEOUT = 10.0
"""Seconds `GET /v1/ready` waits for the store and the directory before answering 503."""


async def _ready(call: Call) -> Health:
    # The store: one trivial transaction on its thread.
    try:
        await asyncio.wait_for(call.rt.store.call(lambda db: db.execute("SELECT 1").fetchone()), READY_TIMEOUT)
    except Exception:  # noqa: BLE001 - closed, locked, broken or too slow: not ready, whatever the reason
        raise ApiError(ErrorCode.STORE_UNAVAILABLE) from None
    # The directory: the embedded one lives in the store; an LDAP one is connected and bound afresh.
    from kiosk.services.backend.directory.ldap import LdapDirectory

    if isinstance(call.rt.directory, LdapDirectory):
        try:
            await asyncio.wait_for(call.rt.directory.connector.reachable(), READY_TIMEOUT)
        except Exception:  # noqa: BLE001 - down, refused, TLS, service account, timeout: not ready
            raise ApiError(ErrorCode.DIRECTORY_UNAVAILABLE) from None
    return Health(status="ready", version=kiosk.__version__)


async def _openapi(call: Call) -> dict[str, Any]:
    return call.document()


async def _open(call: Call) -> SessionOpened:
    token, state, image = await opening.open_session(call.rt, call.body(OpenSessionRequest), kiosk=call.kiosk)
    return SessionOpened(token=token, view=await build_view(call.rt, state), captcha=image)


async def _view(call: Call) -> SessionView:
    return await build_view(call.rt, call.state)


async def _close(call: Call) -> None:
    await opening.close(call.rt, call.state)


async def _locale(call: Call) -> None:
    await opening.change_locale(call.rt, call.state, call.body(SessionLocaleRequest))


async def _captcha(call: Call) -> CaptchaImage:
    return await opening.new_captcha(call.rt, call.state)


async def _pictures(call: Call) -> PictureCheck:
    return await opening.new_picture_check(call.rt, call.state)


async def _audio(call: Call) -> CaptchaAudio:
    return await opening.captcha_audio(call.rt, call.state)


async def _identify(call: Call) -> SessionView:
    await opening.identify(call.rt, call.state, call.body(IdentifyRequest))
    return await build_view(call.rt, call.state)


async def _method(call: Call) -> SessionView:
    await gates.choose_method(call.rt, call.state, call.body(ChooseMethodRequest))
    return await build_view(call.rt, call.state)


async def _code(call: Call) -> SessionView:
    await gates.verify_code(call.rt, call.state, call.body(VerifyCodeRequest))
    return await build_view(call.rt, call.state)


async def _resend(call: Call) -> SessionView:
    await gates.resend_code(call.rt, call.state)
    return await build_view(call.rt, call.state)


async def _answers(call: Call) -> SessionView:
    await gates.answer_questions(call.rt, call.state, call.body(AnswersRequest))
    return await build_view(call.rt, call.state)


async def _action(call: Call) -> SessionView:
    await finish.choose_action(call.rt, call.state, call.body(ChooseActionRequest))
    return await build_view(call.rt, call.state)


async def _password(call: Call) -> SessionView:
    await finish.set_password(call.rt, call.state, call.body(NewPasswordRequest))
    return await build_view(call.rt, call.state)


async def _sign_in(call: Call) -> SessionView:
    await signin.sign_in(call.rt, call.state, call.body(SignInRequest))
    return await build_view(call.rt, call.state)


async def _reconfirm(call: Call) -> SessionView:
    await registration.reconfirm(call.rt, call.state, call.body(ReconfirmRequest))
    return await build_view(call.rt, call.state)


async def _add_contact(call: Call) -> SessionView:
    await registration.add_contact(call.rt, call.state, call.body(ContactRequest))
    return await build_view(call.rt, call.state)


async def _verify_contact(call: Call) -> SessionView:
    await registration.verify_contact(call.rt, call.state, call.body(VerifyCodeRequest))
    return await build_view(call.rt, call.state)


async def _resend_contact(call: Call) -> SessionView:
    await registration.resend_contact_code(call.rt, call.state)
    return await build_view(call.rt, call.state)


async def _set_questions(call: Call) -> SessionView:
    await registration.set_questions(call.rt, call.state, call.body(QuestionsRegistrationRequest))
    return await build_view(call.rt, call.state)


async def _start_app(call: Call) -> SessionView:
    await registration.start_app(call.rt, call.state)
    return await build_view(call.rt, call.state)


async def _confirm_app(call: Call) -> SessionView:
    await registration.confirm_app(call.rt, call.state, call.body(VerifyCodeRequest))
    return await build_view(call.rt, call.state)


async def _cancel_pending(call: Call) -> SessionView:
    await registration.cancel_pending(call.rt, call.state)
    return await build_view(call.rt, call.state)


async def _finish_registration(call: Call) -> SessionView:
    await registration.finish(call.rt, call.state)
    return await build_view(call.rt, call.state)


async def _outbox(call: Call) -> Outbox:
    if call.rt.outbox is None:
        raise ApiError(ErrorCode.NOT_FOUND)
    # The dev outbox is a sender: what is queued and due is delivered into it first (the worker would
    # within milliseconds), so the demo inbox, and tests reading it, see a code as soon as it is asked.
    await call.rt.delivery.deliver_pending()
    return Outbox(messages=tuple(await call.rt.outbox.messages()))


async def _authenticator(call: Call) -> Authenticator:
    if call.rt.demo_users is None:
        raise ApiError(ErrorCode.NOT_FOUND)
    now = call.rt.clock.now()
    codes = [
        AuthenticatorCode(
            user_id=user.login,
            code=authenticator.code_at(user.totp_secret, now),
            seconds_left=authenticator.seconds_left(now),
        )
        for user in await call.rt.demo_users.list_users()
        if user.totp_secret
    ]
    return Authenticator(codes=tuple(codes))


_STEP = (ErrorCode.STEP_NOT_ALLOWED,)
_BLOCKED = ErrorCode.TOO_MANY_ATTEMPTS  # a throttle (SPEC §4): 429 with `blocked_until`
_P = API_PREFIX

ROUTES: tuple[RouteSpec, ...] = (
    RouteSpec("GET", f"{_P}/health", "health", "Is the backend up?", _health, response=Health, kiosk_credential=False),
    RouteSpec(
        "GET", f"{_P}/ready", "ready", "Can the backend serve (its store and the directory reachable)?", _ready,
        response=Health, errors=(ErrorCode.STORE_UNAVAILABLE, ErrorCode.DIRECTORY_UNAVAILABLE), kiosk_credential=False,
    ),
    RouteSpec("GET", f"{_P}/openapi.json", "openapi", "This API's OpenAPI 3.1 document.", _openapi),
    RouteSpec(
        "POST", f"{_P}/sessions", "open_session", "Start a reset session (with a CAPTCHA).", _open,
        request=OpenSessionRequest, response=SessionOpened, status=201, errors=(_BLOCKED,),
    ),
    RouteSpec("GET", f"{_P}/session", "get_session", "The session's state.", _view, response=SessionView, session=True),
    RouteSpec("DELETE", f"{_P}/session", "close_session", "End the session.", _close, status=204, session=True),
    RouteSpec(
        "POST", f"{_P}/session/locale", "change_locale", "Change the session's language (codes sent from now on).",
        _locale, request=SessionLocaleRequest, status=204, session=True,
    ),
    RouteSpec(
        "POST", f"{_P}/session/captcha", "new_captcha", "Replace the CAPTCHA.", _captcha,
        response=CaptchaImage, errors=(*_STEP, _BLOCKED), session=True,
    ),
    RouteSpec(
        "POST", f"{_P}/session/captcha/pictures", "new_picture_check",
        "Replace the CAPTCHA with a picture check (no typing; if the policy offers it).", _pictures,
        response=PictureCheck, errors=(*_STEP, ErrorCode.CAPTCHA_DISABLED, _BLOCKED), session=True,
    ),
    RouteSpec(
        "GET", f"{_P}/session/captcha/audio", "captcha_audio",
        "The CAPTCHA read out in the session's language (if the policy offers it).", _audio,
        response=CaptchaAudio, errors=(*_STEP, ErrorCode.CAPTCHA_DISABLED, _BLOCKED), session=True,
    ),
    RouteSpec(
        "POST", f"{_P}/session/identify", "identify", "Give the user ID and the CAPTCHA answer.", _identify,
        request=IdentifyRequest, response=SessionView, errors=(*_STEP, ErrorCode.CAPTCHA_WRONG, _BLOCKED), session=True,
    ),
    RouteSpec(
        "POST", f"{_P}/session/method", "choose_method", "Choose the method for the next gate.", _method,
        request=ChooseMethodRequest, response=SessionView, session=True, hashes=True,
        errors=(*_STEP, ErrorCode.METHOD_NOT_AVAILABLE, ErrorCode.DIRECTORY_UNAVAILABLE, _BLOCKED),
    ),
    RouteSpec(
        "POST", f"{_P}/session/code", "verify_code", "Check a one-time or authenticator code.", _code,
        request=VerifyCodeRequest, response=SessionView, session=True, hashes=True,
        errors=(
            *_STEP,
            ErrorCode.CODE_WRONG,
            ErrorCode.CODE_EXPIRED,
            ErrorCode.CODE_BURNED,
            ErrorCode.NO_ACTIVE_CODE,
            ErrorCode.DIRECTORY_UNAVAILABLE,
            _BLOCKED,
        ),
    ),
    RouteSpec(
        "POST", f"{_P}/session/code/resend", "resend_code", "Send a new code (the old one stops working).", _resend,
        response=SessionView, errors=(*_STEP, ErrorCode.DIRECTORY_UNAVAILABLE, _BLOCKED), session=True, hashes=True,
    ),
    RouteSpec(
        "POST", f"{_P}/session/answers", "answer_questions", "Answer the security questions.", _answers,
        request=AnswersRequest, response=SessionView, session=True, hashes=True, heavy=True,
        errors=(*_STEP, ErrorCode.ANSWERS_WRONG, ErrorCode.DIRECTORY_UNAVAILABLE, _BLOCKED),
    ),
    RouteSpec(
        "POST", f"{_P}/session/action", "choose_action", "Unlock only, or reset the password.", _action,
        request=ChooseActionRequest, response=SessionView, errors=(*_STEP, ErrorCode.WRITEBACK_FAILED), session=True,
        idempotent=True,
    ),
    RouteSpec(
        "POST", f"{_P}/session/password", "set_password", "Set the new password.", _password,
        request=NewPasswordRequest, response=SessionView, session=True, hashes=True, heavy=True, idempotent=True,
        errors=(
            *_STEP, ErrorCode.PASSWORD_REJECTED, ErrorCode.WRITEBACK_FAILED, ErrorCode.DIRECTORY_UNAVAILABLE, _BLOCKED,
        ),
    ),
    RouteSpec(
        "POST", f"{_P}/session/sign-in", "sign_in",
        "Change and registration: give the user ID, the current password and the CAPTCHA answer.", _sign_in,
        request=SignInRequest, response=SessionView, session=True, hashes=True, heavy=True,
        errors=(*_STEP, ErrorCode.CAPTCHA_WRONG, ErrorCode.SIGN_IN_FAILED, ErrorCode.DIRECTORY_UNAVAILABLE, _BLOCKED),
    ),
    RouteSpec(
        "POST", f"{_P}/session/reconfirm", "reconfirm", "Keep the security info as it is, or update it.", _reconfirm,
        request=ReconfirmRequest, response=SessionView, session=True,
        errors=(*_STEP, ErrorCode.DIRECTORY_UNAVAILABLE, ErrorCode.WRITEBACK_FAILED),
    ),
    RouteSpec(
        "POST", f"{_P}/session/register/contact", "add_contact",
        "Register an authentication e-mail or phone: a code is sent to it.", _add_contact,
        request=ContactRequest, response=SessionView, session=True, hashes=True,
        errors=(*_STEP, ErrorCode.CONTACT_INVALID, ErrorCode.REGISTRATION_NOT_ALLOWED, _BLOCKED),
    ),
    RouteSpec(
        "POST", f"{_P}/session/register/contact/code", "verify_contact",
        "Type back the code sent to the new e-mail or phone.", _verify_contact,
        request=VerifyCodeRequest, response=SessionView, session=True, hashes=True,
        errors=(
            *_STEP, ErrorCode.CODE_WRONG, ErrorCode.CODE_EXPIRED, ErrorCode.CODE_BURNED, ErrorCode.NO_ACTIVE_CODE,
            ErrorCode.WRITEBACK_FAILED, _BLOCKED,
        ),
    ),
    RouteSpec(
        "POST", f"{_P}/session/register/contact/resend", "resend_contact_code",
        "Send a new code to the new e-mail or phone.", _resend_contact,
        response=SessionView, session=True, hashes=True, errors=(*_STEP, ErrorCode.NO_ACTIVE_CODE, _BLOCKED),
    ),
    RouteSpec(
        "POST", f"{_P}/session/register/questions", "register_questions", "Register (replace) the security questions.",
        _set_questions, request=QuestionsRegistrationRequest, response=SessionView, session=True, hashes=True,
        heavy=True,
        errors=(*_STEP, ErrorCode.QUESTIONS_INVALID, ErrorCode.REGISTRATION_NOT_ALLOWED, ErrorCode.WRITEBACK_FAILED),
    ),
    RouteSpec(
        "POST", f"{_P}/session/register/app", "start_app_registration",
        "Register an authenticator app: a new secret, shown as a QR code and as text.", _start_app,
        response=SessionView, session=True, errors=(*_STEP, ErrorCode.REGISTRATION_NOT_ALLOWED),
    ),
    RouteSpec(
        "POST", f"{_P}/session/register/app/code", "confirm_app_registration",
        "Confirm the authenticator app with one current code.", _confirm_app,
        request=VerifyCodeRequest, response=SessionView, session=True, hashes=True,
        errors=(
            *_STEP, ErrorCode.CODE_WRONG, ErrorCode.CODE_BURNED, ErrorCode.NO_ACTIVE_CODE, ErrorCode.WRITEBACK_FAILED,
            _BLOCKED,
        ),
    ),
    RouteSpec(
        "POST", f"{_P}/session/register/cancel", "cancel_pending_registration",
        "Drop the pending e-mail, phone or app, back to the security info.", _cancel_pending,
        response=SessionView, session=True, errors=_STEP,
    ),
    RouteSpec(
        "POST", f"{_P}/session/register/done", "finish_registration", "Done with the security info.",
        _finish_registration, response=SessionView, session=True, errors=_STEP,
    ),
    RouteSpec(
        "GET", f"{_P}/dev/outbox", "dev_outbox", "Messages the dev outbox kept (demo only).", _outbox,
        response=Outbox, demo_only=True,
    ),
    RouteSpec(
        "GET", f"{_P}/dev/authenticator", "dev_authenticator", "Demo users' current app codes (demo only).",
        _authenticator, response=Authenticator, demo_only=True,
    ),
)  # fmt: skip


def active_routes(demo: bool) -> tuple[RouteSpec, ...]:
    """The routes a backend serves: the dev routes only in demo mode."""
    return tuple(spec for spec in ROUTES if demo or not spec.demo_only)
