"""The SMS outbox and the phone numbers that replied to opt out."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import timestamp_column
from loyaltylab.timeutil import utcnow


class SmsMessage(SQLModel, table=True):
    """A text message, written in the transaction that decided to send it and handed to the
    gateway after the commit (kept for the outbox page either way)."""

    __tablename__ = "sms_message"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    to: str = Field(max_length=40)
    """E.164 (``+8613800138000``)."""
    body: str = Field(max_length=1000)
    gateway: str = Field(default="", max_length=20)
    provider_id: str = Field(default="", max_length=100)
    """The gateway's message id once it took the message."""
    error: str = Field(default="", max_length=300)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class SmsOptOut(SQLModel, table=True):
    """A phone number that replied an opt-out keyword: no further SMS to it from this platform.

    Not per organisation: the reply reaches the platform's sender number, which texts for every
    organisation, and the person asked that number to stop.
    """

    __tablename__ = "sms_opt_out"

    id: int | None = Field(default=None, primary_key=True)
    phone: str = Field(max_length=40, unique=True)
    """E.164, as :func:`loyaltylab.sms.service.e164` writes it."""
    keyword: str = Field(max_length=20)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
