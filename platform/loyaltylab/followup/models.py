"""Tables of the closed loop: alert rules, the alerts they raise, follow-up cases with notes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, UniqueConstraint
from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import enum_column, timestamp_column
from loyaltylab.timeutil import utcnow

DEFAULT_SLA_HOURS = 48


class AlertKind(StrEnum):
    nps = "nps"
    """The likelihood-to-recommend answer at or below ``threshold`` (detractors: 6)."""
    construct = "construct"
    """The mean of a construct's items (reverse-keyed turned round) at most ``threshold``."""
    choice = "choice"
    """A choice question answered with one of ``values`` (e.g. "I want to complain")."""
    words = "words"
    """An open answer containing one of ``values`` (English words or Chinese phrases)."""


class CaseStatus(StrEnum):
    open = "open"
    in_progress = "in_progress"
    closed = "closed"


class AlertRule(SQLModel, table=True):
    """A condition on a wave's complete responses that raises an alert."""

    __tablename__ = "alert_rule"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    wave_id: int = Field(foreign_key="wave.id", index=True, ondelete="CASCADE")
    kind: AlertKind = Field(sa_column=enum_column(AlertKind))
    target: str = Field(default="", max_length=100)
    """The item (nps, choice, words; empty: every open answer) or construct code it reads."""
    threshold: float | None = None
    values: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    sla_hours: int = Field(default=DEFAULT_SLA_HOURS, ge=1)
    """Hours a case it opens has until it is due."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class FollowUpCase(SQLModel, table=True):
    """A respondent who agreed to be contacted and raised at least one alert: one per response."""

    __tablename__ = "followup_case"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    """The research organisation running the study."""
    client_organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True, ondelete="SET NULL"
    )
    """The commissioning company whose case handlers work on it."""
    study_id: int = Field(foreign_key="study.id", index=True, ondelete="CASCADE")
    wave_id: int = Field(foreign_key="wave.id", index=True, ondelete="CASCADE")
    response_id: int = Field(foreign_key="response.id", unique=True, ondelete="CASCADE")
    contact_id: int | None = Field(
        default=None, foreign_key="contact.id", index=True, ondelete="SET NULL"
    )
    assignee_id: int | None = Field(
        default=None, foreign_key="user_account.id", index=True, ondelete="SET NULL"
    )
    status: CaseStatus = Field(default=CaseStatus.open, sa_column=enum_column(CaseStatus))
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    due_at: datetime = Field(sa_column=timestamp_column())
    closed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    followup_wave_id: int | None = Field(default=None, foreign_key="wave.id", ondelete="SET NULL")
    """The wave whose survey was sent when the case closed (the complaint-handling survey)."""


class Alert(SQLModel, table=True):
    """A rule a complete response met; with the case it opened (None: no permission to contact)."""

    __tablename__ = "alert"
    __table_args__ = (UniqueConstraint("rule_id", "response_id", name="uq_alert_rule_response"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    rule_id: int = Field(foreign_key="alert_rule.id", index=True, ondelete="CASCADE")
    wave_id: int = Field(foreign_key="wave.id", index=True, ondelete="CASCADE")
    response_id: int = Field(foreign_key="response.id", index=True, ondelete="CASCADE")
    case_id: int | None = Field(
        default=None, foreign_key="followup_case.id", index=True, ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class CaseNote(SQLModel, table=True):
    __tablename__ = "case_note"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    case_id: int = Field(foreign_key="followup_case.id", index=True, ondelete="CASCADE")
    author_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    text: str = Field(max_length=4000)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


__all__ = [
    "Alert",
    "AlertKind",
    "AlertRule",
    "CaseNote",
    "CaseStatus",
    "FollowUpCase",
]
