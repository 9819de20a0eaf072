"""Fieldwork's domain errors: why a wave, link or answer was refused (``reason`` is the
message id the pages show).
"""

from __future__ import annotations

from collections.abc import Mapping


class FieldworkError(Exception):
    """A fieldwork rule was broken; ``reason`` is a stable id the web layer turns into a page."""

    reason = "invalid"

    def __init__(self, detail: str = "") -> None:
        super().__init__(detail or self.reason)


class WaveNotOpen(FieldworkError):
    reason = "closed"


class WaveNotYetOpen(WaveNotOpen):
    """A draft wave, or one whose opening time is still to come."""

    reason = "not_open"


class QuotaFull(FieldworkError):
    reason = "full"


class LinkUsed(FieldworkError):
    reason = "used"


class LinkExpired(FieldworkError):
    reason = "expired"


class InvalidTransition(FieldworkError):
    reason = "invalid_transition"


class RepeatedSubmission(FieldworkError):
    """The submission key was used before: roll back and answer with the stored outcome."""

    reason = "repeated"


class VersionFrozen(FieldworkError):
    """Only a draft wave may change the questionnaire version it fields."""

    reason = "version_frozen"


class InvalidWave(FieldworkError):
    """A wave's fields break its rules: ``problems`` maps each field at fault (``name``,
    ``version_id``, ``opens_at``, ``closes_at``, ``target``, ``quotas``) to the rule's id."""

    reason = "invalid_wave"

    def __init__(self, problems: Mapping[str, str]) -> None:
        super().__init__("; ".join(problems.values()))
        self.problems = dict(problems)
