"""The typed async client of the backend's `/v1` API (httpx), in-process or over the network."""

from kiosk.services.client.backend_client import ASGIApp, BackendClient, RetryPolicy, request_timeouts
from kiosk.services.client.errors import ApiError, BackendTimeout, BackendUnavailable, ClientError, ProtocolError

__all__ = [
    "ASGIApp",
    "ApiError",
    "BackendClient",
    "BackendTimeout",
    "BackendUnavailable",
    "ClientError",
    "ProtocolError",
    "RetryPolicy",
    "request_timeouts",
]
