"""`BackendClient`: the typed async client of the backend's `/v1` API over httpx.

The client keeps the session token and maps every failure to one of the `errors` types. It never
logs a request or response body: they carry passwords, codes, answers and the session token.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import ssl
import sys
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

# httpx imports its optional command-line tool (rich + click, ~75 ms of start-up) unless that
# import fails; a None entry in sys.modules makes it fail and httpx falls back to a stub. We never
# use the httpx CLI, and start-up time is a product goal (bench/startup.py).
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]

import httpx
from pydantic import BaseModel, ValidationError

from kiosk.policy.schema import Method
from kiosk.services.api import (
    API_PREFIX,
    IDEMPOTENCY_HEADER,
    KIOSK_CREDENTIAL_HEADER,
    TIMEOUT_HEADER,
    Action,
    AnswersRequest,
    Authenticator,
    CaptchaAudio,
    CaptchaImage,
    ChooseActionRequest,
    ChooseMethodRequest,
    ContactRequest,
    ErrorBody,
    ErrorCode,
    Flow,
    Health,
    IdentifyRequest,
    NewPasswordRequest,
    OpenSessionRequest,
    Outbox,
    PictureCheck,
    QuestionChoice,
    QuestionsRegistrationRequest,
    ReconfirmChoice,
    ReconfirmRequest,
    RegistrationKind,
    SessionLocaleRequest,
    SessionOpened,
    SessionView,
    SignInRequest,
    VerifyCodeRequest,
)
from kiosk.services.client.backend_thread import BackendThread, ThreadHopTransport
from kiosk.services.client.errors import ApiError, BackendTimeout, BackendUnavailable, ProtocolError

log = logging.getLogger(__name__)

EMBEDDED_BASE_URL = "http://embedded"

CORRELATION_HEADER = "X-Correlation-Id"
"""The header the backend puts on every answer; a proxy in front of it may set or pass it on."""

_HEADER_REFERENCE = re.compile(r"[!-~]{1,128}")
"""A header reference is taken only as 1 to 128 visible ASCII characters: it is shown and logged, and a
proxy's header is not the backend's contract."""

ASGIApp = Callable[
    [
        MutableMapping[str, Any],
        Callable[[], Awaitable[MutableMapping[str, Any]]],
        Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ],
    Awaitable[None],
]
"""Any ASGI application (the bundled Starlette backend in embedded mode)."""

_Model = TypeVar("_Model", bound=BaseModel)

# Errors that mean "this session is gone", which closing it may safely ignore.
_SESSION_GONE = frozenset({ErrorCode.SESSION_EXPIRED, ErrorCode.SESSION_REQUIRED, ErrorCode.NOT_FOUND})


def request_timeouts(seconds: float) -> httpx.Timeout:
    """The explicit per-phase timeouts of every request."""
    return httpx.Timeout(connect=seconds, read=seconds, write=seconds, pool=seconds)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How the client retries a call the backend could not take: `busy` (503 with `Retry-After`, nothing
    was done), and a timeout or lost connection of a call with a request id (the backend answers a
    repeated id from its first result, so a retry cannot apply it twice)."""

    tries: int = 5
    """Tries in all, the first one included; after the last, the failure is raised."""
    longest_wait: float = 5.0
    """The cap on one wait, in seconds, whatever `Retry-After` says."""
    default_wait: float = 1.0
    """The wait when the answer names none (a timeout, a lost connection)."""

    def wait(self, retry_after: int | None) -> float:
        """Seconds to wait before the next try: the server's hint (or the default), capped, plus up to 25 %
        jitter so that kiosks turned away together do not all come back in the same instant."""
        base = min(float(retry_after) if retry_after is not None else self.default_wait, self.longest_wait)
        return base * (1 + secrets.SystemRandom().random() / 4)


class BackendClient:
    """Typed async API of the backend; one instance serves one kiosk and holds at most one session token."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        """`retry`: how `busy` answers and lost answers of calls with a request id are retried; `sleep`
        waits between tries (tests pass one that returns at once)."""
        self._http = http
        self._token: str | None = None
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._retrying: Callable[[bool], None] | None = None
        # The backend keeps its deadline under this timeout (`api.step_deadline`), so it is told.
        read = http.timeout.read
        self._timeout_header = {TIMEOUT_HEADER: f"{read:g}"} if read is not None else {}

    def on_retrying(self, listener: Callable[[bool], None] | None) -> None:
        """Tell `listener(True)` when a call starts waiting to try again (the backend is busy or did not
        answer), and `listener(False)` when that call is over; the UI shows "busy, trying again"."""
        self._retrying = listener

    @classmethod
    def embedded(
        cls, asgi_app: ASGIApp, *, timeout: float = 10.0, thread: BackendThread | None = None
    ) -> BackendClient:
        """A client of a backend running in this process, reached through `httpx.ASGITransport`: on the
        caller's loop, or on `thread`'s loop when the backend was opened there (the kiosk's window)."""
        # raise_app_exceptions=False: a crash inside the backend becomes a 500 answer, as over a network.
        transport: httpx.AsyncBaseTransport = httpx.ASGITransport(app=asgi_app, raise_app_exceptions=False)
        if thread is not None:
            transport = ThreadHopTransport(transport, thread)
        http = httpx.AsyncClient(transport=transport, base_url=EMBEDDED_BASE_URL, timeout=request_timeouts(timeout))
        return cls(http)

    @classmethod
    def shared(cls, base_url: str, *, timeout: float = 10.0, ca_file: str = "", credential: str = "") -> BackendClient:
        """A client of a shared backend server at `base_url`.

        An https:// server's certificate is verified against `ca_file` (the organisation's CA, PEM),
        or the OS trust store when it is empty. `credential` (the kiosk's `NAME:SECRET`) goes with every
        call, in `X-Kiosk-Credential`.
        """
        verify = server_trust(ca_file)
        headers = {KIOSK_CREDENTIAL_HEADER: credential} if credential else None
        return cls(
            httpx.AsyncClient(base_url=base_url, timeout=request_timeouts(timeout), verify=verify, headers=headers)
        )

    @property
    def has_session(self) -> bool:
        """True while the client holds a session token."""
        return self._token is not None

    async def aclose(self) -> None:
        """Close the underlying connections; the session (if any) is forgotten, not closed."""
        self._token = None
        await self._http.aclose()

    # ------------------------------------------------------------------ session lifecycle

    async def health(self) -> Health:
        """`GET /v1/health`."""
        return await self._call("GET", "/health", Health, session=False)

    async def open_session(self, *, kiosk_id: str, locale: str, flow: Flow = Flow.RECOVER) -> SessionOpened:
        """Open a session for `flow` and keep its token for the calls that follow (403 `step_not_allowed`
        for a flow the policy switched off)."""
        # Flow recover is the contract's default and goes unsaid, as before there were flows.
        chosen = {"flow": flow} if flow is not Flow.RECOVER else {}
        body = _request_body(OpenSessionRequest, kiosk_id=kiosk_id, locale=locale, **chosen)
        opened = await self._call("POST", "/sessions", SessionOpened, body=body, session=False)
        self._token = opened.token
        return opened

    async def close_session(self) -> None:
        """Close the current session and forget its token; a session already gone is not an error."""
        if self._token is None:
            return
        try:
            await self._send("DELETE", "/session", body=None, session=True)
        except ApiError as error:
            if error.code not in _SESSION_GONE:
                raise
        finally:
            self._token = None

    async def change_locale(self, locale: str) -> None:
        """`POST /v1/session/locale`: codes and notices the backend sends from now on are in `locale`."""
        await self._send(
            "POST", "/session/locale", body=_request_body(SessionLocaleRequest, locale=locale), session=True
        )

    async def session(self) -> SessionView:
        """`GET /v1/session`: where the session is now."""
        return await self._call("GET", "/session", SessionView)

    # ------------------------------------------------------------------ identify

    async def refresh_captcha(self) -> CaptchaImage:
        """Replace the CAPTCHA with a new one."""
        return await self._call("POST", "/session/captcha", CaptchaImage)

    async def new_picture_check(self) -> PictureCheck:
        """Replace the CAPTCHA with a picture check (answered with the chosen picture's id)."""
        return await self._call("POST", "/session/captcha/pictures", PictureCheck)

    async def captcha_audio(self) -> CaptchaAudio:
        """The audio version of the current CAPTCHA, in the session's language where a voice exists."""
        return await self._call("GET", "/session/captcha/audio", CaptchaAudio)

    async def identify(self, user_id: str, captcha: str) -> SessionView:
        """Send the typed user ID and the CAPTCHA answer (its characters, or the chosen picture's id)."""
        return await self._call(
            "POST",
            "/session/identify",
            SessionView,
            body=_request_body(IdentifyRequest, user_id=user_id, captcha=captcha),
        )

    async def sign_in(self, user_id: str, password: str, captcha: str) -> SessionView:
        """Flows change and register: the typed user ID, current password and CAPTCHA answer (`sign_in_failed`
        for a wrong password and an unknown ID alike)."""
        body = _request_body(SignInRequest, user_id=user_id, password=password, captcha=captcha)
        return await self._call("POST", "/session/sign-in", SessionView, body=body)

    # ------------------------------------------------------------------ gates

    async def choose_method(self, method: Method) -> SessionView:
        """Pick the method for the current gate (sends a code where the method has one)."""
        return await self._call(
            "POST", "/session/method", SessionView, body=_request_body(ChooseMethodRequest, method=method)
        )

    async def verify_code(self, code: str) -> SessionView:
        """Send the typed one-time code."""
        return await self._call("POST", "/session/code", SessionView, body=_request_body(VerifyCodeRequest, code=code))

    async def resend_code(self) -> SessionView:
        """Send a new code for the current challenge."""
        return await self._call("POST", "/session/code/resend", SessionView)

    async def answer_questions(self, answers: Sequence[tuple[str, str]]) -> SessionView:
        """Send the typed answers, as (question id, answer) pairs."""
        body = _request_body(AnswersRequest, answers=[{"id": qid, "answer": answer} for qid, answer in answers])
        return await self._call("POST", "/session/answers", SessionView, body=body)

    # ------------------------------------------------------------------ finish

    async def choose_action(self, action: Action, *, request_id: str | None = None) -> SessionView:
        """Reset the password or only unlock the account; retried under one request id (a new one per call
        unless given), so a retry after a lost answer is never applied twice."""
        body = _request_body(ChooseActionRequest, action=action)
        return await self._call("POST", "/session/action", SessionView, body=body, request_id=request_id or _new_id())

    async def set_password(self, password: str, *, request_id: str | None = None) -> SessionView:
        """Send the new password; retried under one request id (a new one per call unless given), so a
        retry after a lost answer is answered from the first result, never applied twice."""
        body = _request_body(NewPasswordRequest, password=password)
        return await self._call("POST", "/session/password", SessionView, body=body, request_id=request_id or _new_id())

    # ------------------------------------------------------------------ registration

    async def reconfirm(self, choice: ReconfirmChoice) -> SessionView:
        """After a reset, unlock or change: keep the security info as it is, or update it."""
        body = _request_body(ReconfirmRequest, choice=choice)
        return await self._call("POST", "/session/reconfirm", SessionView, body=body)

    async def add_contact(self, kind: RegistrationKind, value: str) -> SessionView:
        """Register a new authentication e-mail or phone: the backend sends a code to it."""
        body = _request_body(ContactRequest, kind=kind, value=value)
        return await self._call("POST", "/session/register/contact", SessionView, body=body)

    async def verify_contact(self, code: str) -> SessionView:
        """The code sent to the new e-mail or phone; right registers it."""
        body = _request_body(VerifyCodeRequest, code=code)
        return await self._call("POST", "/session/register/contact/code", SessionView, body=body)

    async def resend_contact_code(self) -> SessionView:
        """A new code to the pending e-mail or phone (the old one stops working)."""
        return await self._call("POST", "/session/register/contact/resend", SessionView)

    async def register_questions(self, questions: Sequence[tuple[QuestionChoice, str]]) -> SessionView:
        """Replace the security questions: (question, answer) pairs, the question predefined or custom."""
        entries = [
            {**choice.model_dump(exclude_none=True, include={"predefined_id", "custom_text"}), "answer": answer}
            for choice, answer in questions
        ]
        body = _request_body(QuestionsRegistrationRequest, questions=entries)
        return await self._call("POST", "/session/register/questions", SessionView, body=body)

    async def start_app_registration(self) -> SessionView:
        """A new authenticator secret (shown as a QR code and as text until confirmed)."""
        return await self._call("POST", "/session/register/app", SessionView)

    async def confirm_app_registration(self, code: str) -> SessionView:
        """One current code from the authenticator app registers its secret."""
        body = _request_body(VerifyCodeRequest, code=code)
        return await self._call("POST", "/session/register/app/code", SessionView, body=body)

    async def cancel_pending(self) -> SessionView:
        """Drop the pending e-mail, phone or app secret: back to the security info."""
        return await self._call("POST", "/session/register/cancel", SessionView)

    async def finish_registration(self) -> SessionView:
        """Done with the security info."""
        return await self._call("POST", "/session/register/done", SessionView)

    # ------------------------------------------------------------------ demo only

    async def dev_outbox(self) -> Outbox:
        """The messages the dev outbox kept (demo only)."""
        return await self._call("GET", "/dev/outbox", Outbox, session=False)

    async def dev_authenticator(self) -> Authenticator:
        """The demo users' current authenticator codes (demo only)."""
        return await self._call("GET", "/dev/authenticator", Authenticator, session=False)

    # ------------------------------------------------------------------ plumbing

    async def _call(
        self,
        method: str,
        path: str,
        answer: type[_Model],
        *,
        body: BaseModel | None = None,
        session: bool = True,
        request_id: str | None = None,
    ) -> _Model:
        response = await self._send(method, path, body=body, session=session, request_id=request_id)
        try:
            return answer.model_validate_json(response.content)
        except ValidationError:
            # `from None`: a validation error quotes the input, which may hold the session token.
            raise ProtocolError(
                f"{method} {path}: the answer is not a valid {answer.__name__}",
                correlation_id=_header_reference(response),
            ) from None

    async def _send(
        self, method: str, path: str, *, body: BaseModel | None, session: bool, request_id: str | None = None
    ) -> httpx.Response:
        """One call, tried again while the backend is busy (any call: nothing was done) or, for a call with
        a request id, while its answer is lost (timeout, connection); the last failure is raised."""
        waiting = False
        try:
            for attempt in range(1, self._retry.tries + 1):
                try:
                    return await self._send_once(method, path, body=body, session=session, request_id=request_id)
                except ApiError as error:
                    if error.code is not ErrorCode.BUSY or attempt == self._retry.tries:
                        raise
                    pause = self._retry.wait(error.retry_after)
                except (BackendTimeout, BackendUnavailable):
                    if request_id is None or attempt == self._retry.tries:
                        raise
                    pause = self._retry.wait(None)
                log.info(
                    "%s %s: trying again in %.1f s (try %d of %d)", method, path, pause, attempt + 1, self._retry.tries
                )
                if not waiting and self._retrying is not None:
                    waiting = True
                    self._retrying(True)
                await self._sleep(pause)
            raise AssertionError("unreachable: the last try returns or raises")
        finally:
            if waiting and self._retrying is not None:
                self._retrying(False)

    async def _send_once(
        self, method: str, path: str, *, body: BaseModel | None, session: bool, request_id: str | None
    ) -> httpx.Response:
        headers = {"Accept": "application/json", **self._timeout_header}
        if request_id is not None:
            headers[IDEMPOTENCY_HEADER] = request_id
        if session and self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        # exclude_unset: a field left at the contract's default goes unsaid (an older backend knows no `flow`).
        content = body.model_dump_json(exclude_unset=True).encode() if body is not None else None
        if content is not None:
            headers["Content-Type"] = "application/json"
        url = API_PREFIX + path
        try:
            response = await self._http.request(method, url, content=content, headers=headers)
        except httpx.TimeoutException as error:
            raise BackendTimeout(f"{method} {url}: no answer in time ({type(error).__name__})") from None
        except httpx.RemoteProtocolError as error:
            if not str(error).startswith(_CLOSED_WITHOUT_ANSWER):
                raise ProtocolError(f"{method} {url}: broken HTTP answer ({type(error).__name__})") from None
            # The peer closed the connection without an answer: what a load balancer does when the replica
            # it sent the request to dies. The answer is lost, as after a timeout (retried with a request id).
            raise BackendUnavailable(f"{method} {url}: closed without an answer ({type(error).__name__})") from None
        except httpx.ProtocolError as error:
            raise ProtocolError(f"{method} {url}: broken HTTP answer ({type(error).__name__})") from None
        except httpx.TransportError as error:
            reason = _tls_verify_failure(error)
            if reason is not None:
                log.warning("%s %s: TLS verification failed: %s (check backend.ca_file)", method, url, reason)
            raise BackendUnavailable(f"{method} {url}: backend unreachable ({type(error).__name__})") from None
        log.debug("%s %s -> %s", method, url, response.status_code)
        if response.is_success:
            return response
        if response.status_code >= 400:
            raise _api_error(method, url, response)
        raise ProtocolError(
            f"{method} {url}: unexpected HTTP {response.status_code}", correlation_id=_header_reference(response)
        )


_CLOSED_WITHOUT_ANSWER = "Server disconnected without sending a response"
"""How httpx (h11) words a connection closed before any byte of an answer (httpx is pinned)."""


def server_trust(ca_file: str) -> ssl.SSLContext:
    """The TLS context that verifies a shared backend: `ca_file`'s CA, or the OS trust store when empty.

    A `ca_file` that cannot be read or holds no certificate is logged and trusts nothing, so every
    request fails as unreachable (the kiosk shows its out-of-service page) instead of the start crashing.
    """
    try:
        return ssl.create_default_context(cafile=ca_file or None)
    except (OSError, ssl.SSLError) as error:
        log.error(
            "backend.ca_file %s cannot be used (%s): no backend is trusted; point it at a readable PEM file of "
            "the CA that signed the backend's certificate",
            ca_file,
            type(error).__name__,
        )
        return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies against no CA at all


def _tls_verify_failure(error: BaseException) -> str | None:
    """OpenSSL's reason when `error` comes from a failed certificate verification, else None."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, ssl.SSLCertVerificationError):
            return current.verify_message or "certificate verify failed"
        current = current.__cause__ or current.__context__
    return None


def _request_body(model: type[_Model], **fields: object) -> _Model:
    """Build a request body; a value the contract refuses becomes a ProtocolError that quotes nothing.

    pydantic's own message quotes the input, and the input here is a password, code or answer.
    """
    try:
        return model.model_validate(fields)
    except ValidationError as error:
        names = sorted({str(problem["loc"][0]) for problem in error.errors(include_input=False) if problem["loc"]})
        raise ProtocolError(f"{model.__name__}: refused field(s) {', '.join(names)}") from None


def _api_error(method: str, url: str, response: httpx.Response) -> ApiError | ProtocolError:
    try:
        body = ErrorBody.model_validate_json(response.content)
    except ValidationError:
        # Not the backend's body (a proxy's or load balancer's error page): its header is the only reference.
        reference = _header_reference(response)
        return ProtocolError(
            f"{method} {url}: HTTP {response.status_code} without an error body"
            + (f" (correlation id {reference} from the header)" if reference else ""),
            correlation_id=reference,
        )
    log.info(
        "%s %s -> %s %s (correlation id %s)", method, url, response.status_code, body.code.value, body.correlation_id
    )
    if body.code is ErrorCode.KIOSK_UNAUTHORIZED:
        log.error(
            "the shared backend refuses this kiosk's credential (none stored, mistyped, or the kiosk was revoked): "
            "enrol it on the server with `kiosk kiosks add NAME`, then store the credential here with "
            "`kiosk secrets set backend`"
        )
    return ApiError(body, response.status_code, retry_after=_retry_after(response))


def _retry_after(response: httpx.Response) -> int | None:
    """The answer's `Retry-After` in whole seconds (the form the backend sends), else None."""
    value = response.headers.get("retry-after", "").strip()
    return int(value) if value.isdigit() and len(value) <= 6 else None


def _new_id() -> str:
    """A fresh request id for a call with an effect."""
    return str(uuid.uuid4())


def _header_reference(response: httpx.Response) -> str | None:
    """The answer's `X-Correlation-Id` when it is a plain token (see `_HEADER_REFERENCE`), else None."""
    value = response.headers.get(CORRELATION_HEADER, "")
    return value if _HEADER_REFERENCE.fullmatch(value) else None
