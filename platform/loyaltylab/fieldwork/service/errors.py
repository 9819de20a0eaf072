"""Fieldwork's domain errors: why a wave, link or answer was refused.

Each rule is its own type, so that a caller catches the one it answers (a repeated submit, an
invalid transition); its ``reason`` is the stable id the pages show (the respondent's status
pages, a wave form's errors), given where the type is declared.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from loyaltylab.errors import Conflict
from loyaltylab.i18n import N_


class FieldworkError(Conflict):
    """A fieldwork rule was broken; ``reason`` is a stable id the web layer turns into a page
    (the respondent's status pages, a wave form's errors). One no route turns into its own page
    is a 409 with a general message."""

    reason = "invalid"

    def __init_subclass__(cls, *, reason: str = "", **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if reason:
            cls.reason = reason

    def __init__(self, detail: str = "") -> None:
        super().__init__(N_("This action is not allowed here."))
        self.detail = detail or self.reason

    def __str__(self) -> str:
        return self.detail


class WaveNotOpen(FieldworkError, reason="closed"):
    """The wave is closed, or its closing time has passed."""


class WaveNotYetOpen(WaveNotOpen, reason="not_open"):
    """A draft wave, or one whose opening time is still to come."""


class QuotaFull(FieldworkError, reason="full"):
    """The respondent's quota group has as many complete responses as its quota."""


class LinkUsed(FieldworkError, reason="used"):
    """The personal link (or the response) has been completed already."""


class LinkExpired(FieldworkError, reason="expired"):
    """The personal invitation's time to answer has passed."""


class InvalidTransition(FieldworkError, reason="invalid_transition"):
    """The wave is not in the status the change starts from (only a draft wave opens)."""


class RepeatedSubmission(FieldworkError, reason="repeated"):
    """The submission key was used before: roll back and answer with the stored outcome."""


class VersionFrozen(FieldworkError, reason="version_frozen"):
    """Only a draft wave may change the questionnaire version it fields."""


class InvalidWave(FieldworkError, reason="invalid_wave"):
    """A wave's fields break its rules: ``problems`` maps each field at fault (``name``,
    ``version_id``, ``opens_at``, ``closes_at``, ``target``, ``quotas``) to the rule's id."""

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = dict(problems)
