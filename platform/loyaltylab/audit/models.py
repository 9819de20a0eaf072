"""The audit log's table."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Index
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import timestamp_column
from loyaltylab.timeutil import utcnow


class AuditEvent(SQLModel, table=True):
    """One recorded action. Rows are only ever inserted; the user may later be deleted."""

    __tablename__ = "audit_event"
    __table_args__ = (Index("ix_audit_event_org_at", "organisation_id", "at"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    user_id: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    user_email: str = Field(default="", max_length=320)
    """Kept as it was at the time: the log still says who after the account is gone."""
    action: str = Field(max_length=50)
    object_type: str = Field(default="", max_length=50)
    object_id: str = Field(default="", max_length=64)
    details: dict[str, Any] = Field(
        default_factory=dict,
        sa_column=Column(JSON().with_variant(JSONB(), "postgresql"), nullable=False),
    )
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
