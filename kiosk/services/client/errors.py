"""The failures the backend client raises: every one a value with a code, none carrying request content."""

from __future__ import annotations

from datetime import datetime

from kiosk.policy.password import PasswordRule
from kiosk.services.api import ErrorBody, ErrorCode, QuestionRule


class ClientError(Exception):
    """Base of every failure the backend client raises."""

    def __init__(self, message: str = "", *, correlation_id: str | None = None) -> None:
        super().__init__(message)
        self._correlation_id = correlation_id

    @property
    def correlation_id(self) -> str | None:
        """The reference the answer carried: the backend's error body's, else a plain `X-Correlation-Id`
        header (a proxy's error page in front of the backend); None when there was no answer or neither."""
        return self._correlation_id


class ApiError(ClientError):
    """The backend answered with an error body (4xx/5xx): a stable code and a correlation id."""

    def __init__(self, body: ErrorBody, status: int, *, retry_after: int | None = None) -> None:
        self.body = body
        self.status = status
        self.retry_after = retry_after
        """With `busy`: the seconds the backend's `Retry-After` asks the client to wait."""
        # Only fields of the backend's error body, never anything the user typed.
        super().__init__(f"{body.code.value} (HTTP {status}, correlation id {body.correlation_id})")

    @property
    def code(self) -> ErrorCode:
        """The machine-readable failure code."""
        return self.body.code

    @property
    def correlation_id(self) -> str:
        """The id the helpdesk can find in the backend's audit and logs."""
        return self.body.correlation_id

    @property
    def attempts_left(self) -> int | None:
        """Tries left on the current code or questions, when the backend says."""
        return self.body.attempts_left

    @property
    def reasons(self) -> tuple[PasswordRule, ...]:
        """Why a new password was rejected."""
        return self.body.reasons

    @property
    def question_reasons(self) -> tuple[QuestionRule, ...]:
        """With `questions_invalid`: every rule the questions to register break."""
        return self.body.question_reasons

    @property
    def blocked_until(self) -> datetime | None:
        """With `too_many_attempts`: when the block ends."""
        return self.body.blocked_until

    @property
    def field(self) -> str | None:
        """The request field the error is about, if any."""
        return self.body.field


class BackendUnavailable(ClientError):
    """The backend could not be reached (connection refused, reset, DNS …)."""


class BackendTimeout(ClientError):
    """The backend did not answer in time; the request may or may not have been applied."""


class ProtocolError(ClientError):
    """The backend answered something that is not the API contract (bad status, bad JSON, wrong shape)."""
