"""Domain errors of the questionnaire domain (mapped to responses by the web layer)."""

from __future__ import annotations

from collections.abc import Sequence

from surveys.problems import Problem


class SurveyError(Exception):
    """Base class of the questionnaire domain's errors."""


class NotFound(SurveyError):
    """No such questionnaire, version or item for this organisation (another tenant's included)."""


class InvalidQuestionnaire(SurveyError):
    """The change, publication or import was refused; nothing was saved.

    ``problems`` lists every problem found, each with a message id, location and parameters
    (``problem.message(locale)`` renders English or Chinese).
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        summary = "; ".join(problem.describe() for problem in self.problems[:3])
        more = f" (+{len(self.problems) - 3} more)" if len(self.problems) > 3 else ""
        super().__init__(f"{summary}{more}")
