"""Domain exceptions and the one handler that maps them to responses.

Services raise these; routes never build error responses by hand. Messages are English msgids
translated when rendered.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str = "", **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params


class NotFound(DomainError):
    status_code = 404


class PermissionDenied(DomainError):
    status_code = 403


class LoginRequired(DomainError):
    status_code = 401


class InvalidInput(DomainError):
    """Bad user input: shown on the form it came from."""

    status_code = 400


class Throttled(DomainError):
    status_code = 429

    def __init__(self, message: str = "", *, retry_after: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after


class CsrfFailed(DomainError):
    status_code = 403


class PayloadTooLarge(DomainError):
    status_code = 413
