"""Webhook subscriptions, their deliveries and every attempt at a delivery."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Column, Index
from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import enum_column, timestamp_column
from loyaltylab.timeutil import utcnow


class WebhookEvent(StrEnum):
    response_completed = "response.completed"
    wave_closed = "wave.closed"
    report_ready = "report.ready"
    alert_created = "alert.created"


class DeliveryStatus(StrEnum):
    pending = "pending"
    """Queued, or waiting for its next retry."""
    succeeded = "succeeded"
    failed = "failed"
    """Every attempt failed (or the target was refused): only a redelivery sends it again."""


class WebhookSubscription(SQLModel, table=True):
    """An organisation's endpoint and the events it receives."""

    __tablename__ = "webhook_subscription"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    url: str = Field(max_length=2000)
    description: str = Field(default="", max_length=200)
    events: list[str] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    secret: str = Field(max_length=100)
    """The HMAC key shared with the receiver: kept readable, the signature needs it."""
    active: bool = True
    created_by: int | None = Field(default=None, foreign_key="user_account.id", ondelete="SET NULL")
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class WebhookDelivery(SQLModel, table=True):
    """One event sent (or to be sent) to one subscription; its attempts are the log."""

    __tablename__ = "webhook_delivery"
    # The minute's sweep looks for pending deliveries long overdue.
    __table_args__ = (Index("ix_webhook_delivery_due", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    subscription_id: int = Field(
        foreign_key="webhook_subscription.id", index=True, ondelete="CASCADE"
    )
    event: str = Field(max_length=50)
    event_id: str = Field(max_length=64)
    """The same for every delivery of one event (redeliveries included): receivers deduplicate."""
    body: str
    """The JSON sent, byte for byte what the signature covers."""
    status: DeliveryStatus = Field(
        default=DeliveryStatus.pending, sa_column=enum_column(DeliveryStatus)
    )
    attempts: int = 0
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class WebhookAttempt(SQLModel, table=True):
    """One HTTP request of a delivery, as the log shows it."""

    __tablename__ = "webhook_attempt"

    id: int | None = Field(default=None, primary_key=True)
    delivery_id: int = Field(foreign_key="webhook_delivery.id", index=True, ondelete="CASCADE")
    number: int
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    status_code: int | None = None
    """The receiver's HTTP status; None when no response came (refused, timeout, no route)."""
    error: str = Field(default="", max_length=500)
    duration_ms: int = 0
