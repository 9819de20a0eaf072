"""The API keys of organisations: only a hash of each key is stored."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import enum_column, timestamp_column
from loyaltylab.timeutil import utcnow


class ApiScope(StrEnum):
    read = "read"
    write = "write"
    """Reading and changing: contacts, invitations, events."""

    def allows(self, needed: ApiScope) -> bool:
        return self is ApiScope.write or needed is ApiScope.read


class ApiKey(SQLModel, table=True):
    """A bearer key of one organisation, shown once when created."""

    __tablename__ = "api_key"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    name: str = Field(max_length=100)
    """What the owner calls it (``CRM sync``), to tell keys apart on the page and in the log."""
    prefix: str = Field(max_length=16)
    """The key's first characters, shown on the page and in the log to recognise it."""
    key_hash: str = Field(max_length=64, unique=True, index=True)
    scope: ApiScope = Field(sa_column=enum_column(ApiScope))
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    revoked_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    last_used_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    window_started_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    """The minute the rate limit is counting calls in."""
    window_calls: int = 0
