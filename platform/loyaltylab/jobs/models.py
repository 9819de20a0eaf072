"""The job table: what the pages show while a background job runs."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import enum_column, timestamp_column
from loyaltylab.timeutil import utcnow


class JobStatus(StrEnum):
    queued = "queued"
    running = "running"
    done = "done"
    failed = "failed"
    cancelled = "cancelled"

    @property
    def active(self) -> bool:
        return self in (JobStatus.queued, JobStatus.running)


class JobKind(StrEnum):
    report = "report"
    """Analyse a report's snapshot (with its bootstrap) and render its files."""


class Job(SQLModel, table=True):
    """One run of background work, written by the worker and read by the pages."""

    __tablename__ = "job"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    kind: JobKind = Field(sa_column=enum_column(JobKind))
    subject_id: int
    """The id of what the job works on (for ``report``: the report)."""
    status: JobStatus = Field(default=JobStatus.queued, sa_column=enum_column(JobStatus))
    percent: int = 0
    stage: str = Field(default="queued", max_length=200)
    """A stage code (``analysis``, ``bootstrap 12/500``, ``render pdf``...), labelled by pages."""
    error: str = Field(default="", max_length=2000)
    cancel_requested: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    started_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    finished_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
