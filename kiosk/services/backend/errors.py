"""Errors as values: `ApiError` carries a stable `ErrorCode`; the HTTP status is derived from the code."""

from __future__ import annotations

from datetime import datetime

from kiosk.policy.password import PasswordRule
from kiosk.services.api import ErrorBody, ErrorCode, QuestionRule

HTTP_STATUS: dict[ErrorCode, int] = {
    ErrorCode.INVALID_REQUEST: 422,
    ErrorCode.SESSION_REQUIRED: 401,
    ErrorCode.SESSION_EXPIRED: 401,
    ErrorCode.STEP_NOT_ALLOWED: 409,
    ErrorCode.NOT_FOUND: 404,
    ErrorCode.INTERNAL: 500,
    ErrorCode.CAPTCHA_WRONG: 400,
    ErrorCode.CAPTCHA_DISABLED: 403,
    ErrorCode.METHOD_NOT_AVAILABLE: 409,
    ErrorCode.CODE_WRONG: 400,
    ErrorCode.CODE_EXPIRED: 400,
    ErrorCode.CODE_BURNED: 400,
    ErrorCode.NO_ACTIVE_CODE: 409,
    ErrorCode.ANSWERS_WRONG: 400,
    ErrorCode.UNLOCK_NOT_ALLOWED: 409,
    ErrorCode.PASSWORD_REJECTED: 422,
    ErrorCode.DIRECTORY_UNAVAILABLE: 503,
    ErrorCode.WRITEBACK_FAILED: 502,
    ErrorCode.DELIVERY_FAILED: 503,
    ErrorCode.TOO_MANY_ATTEMPTS: 429,
    ErrorCode.STORE_UNAVAILABLE: 503,
    ErrorCode.KIOSK_UNAUTHORIZED: 401,
    ErrorCode.BUSY: 503,
    ErrorCode.SIGN_IN_FAILED: 400,
    ErrorCode.CONTACT_INVALID: 422,
    ErrorCode.QUESTIONS_INVALID: 422,
    ErrorCode.REGISTRATION_NOT_ALLOWED: 403,
}
"""HTTP status per error code; refusal codes (unknown_user …) travel inside a SessionView, not as errors."""


def message_key(code: ErrorCode) -> str:
    """The localizable message key of an error code, e.g. `error.code_wrong`."""
    return f"error.{code.value}"


class ApiError(Exception):
    """A failure the client is told about: a code plus the optional details of `ErrorBody`."""

    def __init__(
        self,
        code: ErrorCode,
        *,
        field: str | None = None,
        attempts_left: int | None = None,
        reasons: tuple[PasswordRule, ...] = (),
        blocked_until: datetime | None = None,
        retry_after: int | None = None,
        question_reasons: tuple[QuestionRule, ...] = (),
    ) -> None:
        super().__init__(code.value)  # the message is the code only: never user input or secrets
        self.code = code
        self.field = field
        self.attempts_left = attempts_left
        self.reasons = reasons
        self.question_reasons = question_reasons
        self.blocked_until = blocked_until
        self.retry_after = retry_after
        """Seconds the client should wait before trying again (`Retry-After`), for `busy`."""

    @property
    def status(self) -> int:
        """The HTTP status this error is answered with."""
        return HTTP_STATUS[self.code]

    def body(self, correlation_id: str) -> ErrorBody:
        """The wire body of this error."""
        return ErrorBody(
            code=self.code,
            message_key=message_key(self.code),
            correlation_id=correlation_id,
            field=self.field,
            attempts_left=self.attempts_left,
            reasons=self.reasons,
            question_reasons=self.question_reasons,
            blocked_until=self.blocked_until,
        )
