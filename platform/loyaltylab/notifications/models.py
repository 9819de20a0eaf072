"""In-app notices, one per user: shown on the studies page until the user opens the report."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import timestamp_column
from loyaltylab.timeutil import utcnow


class Notification(SQLModel, table=True):
    """The report of a closed wave is ready (the only notice so far; its text is made when shown,
    in the reader's language)."""

    __tablename__ = "notification"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    """The organisation the user reads it in (the client)."""
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    study_id: int = Field(foreign_key="study.id", ondelete="CASCADE")
    report_id: int = Field(foreign_key="report.id", ondelete="CASCADE")
    wave_name: str = Field(max_length=200)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    read_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
