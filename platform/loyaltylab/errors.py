r"""The one family of domain errors, mapped to responses by one handler per application:
``app.handle_domain_error`` for the web pages (an HTML page, JSON for a caller asking for it, a
respondent's status page on the respondent links) and ``api.problems.handle_domain_error`` for
the ``/api/v1`` application (RFC 9457 problem details). No handler is registered for a subclass.

Services raise these; routes never build error responses by hand. Messages are English msgids
translated when rendered (:meth:`DomainError.text`). Each domain's own errors subclass one of
these (fieldwork's rules are :class:`Conflict`\ s, a refused questionnaire is
:class:`InvalidQuestionnaire`, a refused contact file is an :class:`InvalidInput`), so an error a
route does not catch still reaches the user as a clear page, never a 500.

Exceptions that never reach a user stay outside the family: a job's cancellation
(``jobs.queue.JobCancelled``, control flow inside the worker), a gateway's refusal of a text
message (``sms.gateways.SmsError``, kept on the message for the outbox page) and a refused backup
(``backup.BackupError``, for the operator at the command line).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from loyaltylab import i18n
from surveys.problems import Problem


class DomainError(Exception):
    status_code = 400

    def __init__(self, message: str = "", **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def text(self) -> str:
        """The message in the request's language (empty when there is none)."""
        return i18n.gettext(self.message, **self.params) if self.message else ""


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
