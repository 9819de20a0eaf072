"""Report snapshots and their files.

The files are kept in the database (``report_file.content``), not under ``var/``: a worker on
another machine (Redis mode) saves them in the same transaction that marks its job done, with
no shared file system; a backup of the database is a backup of the reports; and a file is
reachable only through its report, which carries the organisation.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, LargeBinary, UniqueConstraint
from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import timestamp_column
from loyaltylab.timeutil import utcnow

REPORT_FORMATS = ("pdf", "docx", "xlsx")
"""Formats a researcher chooses; the HTML version is always made (it is the in-app view)."""
FILE_KINDS = ("html", *REPORT_FORMATS, "bundle")
"""``bundle``: the reproducibility zip (data, model, results), for the owning organisation only."""


def _json() -> Any:
    return Field(default_factory=list, sa_column=Column(JSON, nullable=False))


class Report(SQLModel, table=True):
    """A snapshot: questionnaire version, waves, the responses included, options and results."""

    __tablename__ = "report"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    study_id: int = Field(foreign_key="study.id", index=True, ondelete="CASCADE")
    questionnaire_version_id: int = Field(
        foreign_key="questionnaire_version.id", ondelete="RESTRICT"
    )
    title: str = Field(max_length=200)
    language: str = Field(max_length=5)
    """Report language: ``en`` or ``zh``."""
    formats: list[str] = _json()
    wave_ids: list[int] = _json()
    response_ids: list[int] = _json()
    """The complete, included responses when the report was (re)generated."""
    options: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON, nullable=False))
    """The analysis options (``analysis.pipeline.analyze`` keywords, model included)."""
    result: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON, nullable=True))
    job_id: int | None = Field(default=None, foreign_key="job.id", ondelete="SET NULL")
    """The latest generation job."""
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    generated_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    notify_client: bool = False
    """Tell the commissioning client's users when the generation finishes (then cleared)."""
    shared_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    """When the report was shared with the commissioning client, whose users see only shared
    reports that have been generated; None while it is the researchers' own."""

    @property
    def bootstrap(self) -> int:
        return int(self.options.get("bootstrap") or 0)


class ReportFile(SQLModel, table=True):
    __tablename__ = "report_file"
    __table_args__ = (UniqueConstraint("report_id", "kind"),)

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True, ondelete="CASCADE")
    kind: str = Field(max_length=10)
    size: int
    content: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
