"""Exceptions raised by the `atoms_mock` package."""

from __future__ import annotations

from typing import Any


class AtomsMockError(RuntimeError):
    """The server could not start, or a control API call failed.

    Attributes:
        status: the HTTP status of a failed control API call (`None` when
            the server itself failed, e.g. it exited before it was ready).
        body: the decoded JSON answer of a failed call, or its text.
    """

    def __init__(self, message: str, status: int | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.body = body


class WaitTimeoutError(AtomsMockError, TimeoutError):
    """A long-poll (`wait_for_request`, `wait_for_delivery`) ended with 408:
    nothing matched within the timeout."""


class WebhookSignatureError(AssertionError):
    """A webhook's `X-Signature` is missing or is not the HMAC-SHA256 of
    its body under the receiver's secret."""
