"""The action plan table."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import enum_column, timestamp_column
from loyaltylab.timeutil import utcnow


class ActionStatus(StrEnum):
    planned = "planned"
    in_progress = "in_progress"
    done = "done"


class ImprovementAction(SQLModel, table=True):
    """An action planned on a construct after a wave; judged by the construct's index in the
    next wave against that one."""

    __tablename__ = "improvement_action"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    study_id: int = Field(foreign_key="study.id", index=True, ondelete="CASCADE")
    baseline_wave_id: int | None = Field(default=None, foreign_key="wave.id", ondelete="SET NULL")
    """The wave whose results led to the action (the index before)."""
    construct_code: str = Field(max_length=100)
    description: str = Field(max_length=2000)
    owner: str = Field(default="", max_length=200)
    due_on: date | None = None
    status: ActionStatus = Field(default=ActionStatus.planned, sa_column=enum_column(ActionStatus))
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
