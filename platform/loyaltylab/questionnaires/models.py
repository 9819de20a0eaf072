"""Tables of the questionnaire domain.

A questionnaire belongs to a study (and, for tenancy scoping, to the study's organisation); its
versions store the whole definition as JSON. Published versions are frozen; responses point to
the version they answered. The tables of other domains are referenced by table name only.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, CheckConstraint, Column, DateTime, UniqueConstraint
from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.timeutil import utcnow


def _timestamp(*, nullable: bool = False) -> Any:
    return Field(
        default_factory=utcnow if not nullable else None,
        sa_column=Column(DateTime(timezone=True), nullable=nullable),
    )


class VersionStatus(StrEnum):
    draft = "draft"
    published = "published"


class Questionnaire(SQLModel, table=True):
    """A questionnaire of a study; its content lives in its versions."""

    __tablename__ = "questionnaire"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    study_id: int = Field(foreign_key="study.id", index=True, ondelete="CASCADE")
    title: str = Field(max_length=200)
    created_at: datetime = _timestamp()
    updated_at: datetime = _timestamp()


class QuestionnaireVersion(SQLModel, table=True):
    """One version of a questionnaire: a draft being edited, or a frozen published version."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (
        UniqueConstraint("questionnaire_id", "number", name="uq_questionnaire_version_number"),
        CheckConstraint("status IN ('draft', 'published')", name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    questionnaire_id: int = Field(foreign_key="questionnaire.id", index=True, ondelete="CASCADE")
    number: int
    status: str = Field(default=VersionStatus.draft.value, max_length=16)
    definition: dict[str, Any] = Field(sa_column=Column(JSON, nullable=False))
    created_at: datetime = _timestamp()
    published_at: datetime | None = _timestamp(nullable=True)
    published_by: int | None = Field(
        default=None, foreign_key="user_account.id", nullable=True, ondelete="SET NULL"
    )

    @property
    def is_published(self) -> bool:
        return self.status == VersionStatus.published
