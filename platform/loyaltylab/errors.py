r"""The one family of domain errors, mapped to responses by one handler (``app.py``: an HTML page,
or JSON under ``/api``).

Services raise these; routes never build error responses by hand. Messages are English msgids
translated when rendered. Each domain's own errors subclass one of these (fieldwork's rules are
:class:`Conflict`\ s, a refused questionnaire is :class:`InvalidQuestionnaire`), so an error a
route does not catch still reaches the user as a clear page, never a 500.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from surveys.problems import Problem


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


class InvalidQuestionnaire(InvalidInput):
    """The change, publication or import was refused; nothing was saved.

    ``problems`` lists every problem found, each with a message id, location and parameters
    (``problem.message(locale)`` renders English or Chinese); the designer shows them on the
    form, and the handler shows the first when no route does.
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("The submitted data was incomplete or invalid.")

    def __str__(self) -> str:
        summary = "; ".join(problem.describe() for problem in self.problems[:3])
        more = f" (+{len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        return f"{summary}{more}"


class Conflict(DomainError):
    """The request is valid but the state of what it acts on refuses it (a closed wave)."""

    status_code = 409


class Throttled(DomainError):
    status_code = 429

    def __init__(self, message: str = "", *, retry_after: int, **params: Any) -> None:
        super().__init__(message, **params)
        self.retry_after = retry_after


class CsrfFailed(DomainError):
    status_code = 403


class PayloadTooLarge(DomainError):
    status_code = 413
