"""Outgoing e-mail: through SMTP when ``LOYALTYLAB_SMTP_URL`` is set, always kept in the outbox.

The outbox row is written in the request's transaction, so a message exists only if the action
that caused it was committed.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage
from email.utils import formataddr
from urllib.parse import unquote, urlsplit

from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel

from loyaltylab.accounts.models import timestamp_column
from loyaltylab.timeutil import utcnow

logger = logging.getLogger(__name__)
SENDER_ADDRESS = "no-reply@loyaltylab.invalid"
SENDER_NAME = "LoyaltyLab"


class OutboxMessage(SQLModel, table=True):
    __tablename__ = "outbox_message"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True, ondelete="CASCADE"
    )
    to: str = Field(max_length=320, index=True)
    sender_name: str = Field(default="", max_length=200)
    """Who the message is from as the reader sees it (the research organisation's name)."""
    subject: str = Field(max_length=300)
    body: str
    unsubscribe_url: str | None = Field(default=None, max_length=500)
    """Sent as ``List-Unsubscribe``: mail programs show an unsubscribe button for it."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    sent_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


def queue_mail(
    session: Session,
    *,
    to: str,
    subject: str,
    body: str,
    organisation_id: int | None = None,
    sender_name: str = "",
    unsubscribe_url: str | None = None,
) -> OutboxMessage:
    message = OutboxMessage(
        to=to,
        subject=subject,
        body=body,
        organisation_id=organisation_id,
        sender_name=sender_name,
        unsubscribe_url=unsubscribe_url,
    )
    session.add(message)
    session.flush()
    return message


def deliver(message: OutboxMessage, smtp_url: str) -> None:
    """Send one message through ``smtp://user:password@host:port`` (``smtps://`` for TLS)."""
    parts = urlsplit(smtp_url)
    email = EmailMessage()
    email["From"] = formataddr((message.sender_name or SENDER_NAME, SENDER_ADDRESS))
    email["To"] = message.to
    email["Subject"] = message.subject
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
    email.set_content(message.body)
    smtp_class = smtplib.SMTP_SSL if parts.scheme == "smtps" else smtplib.SMTP
    with smtp_class(parts.hostname or "localhost", parts.port or 0, timeout=10) as smtp:
        if parts.username:
            smtp.login(unquote(parts.username), unquote(parts.password or ""))
        smtp.send_message(email)
    message.sent_at = utcnow()


def deliver_all(engine: Engine, message_ids: list[int], smtp_url: str) -> None:
    """Send committed outbox messages, each in its own transaction; a failure leaves it unsent."""
    with Session(engine) as session:
        for message_id in message_ids:
            message = session.get(OutboxMessage, message_id)
            if message is None or message.sent_at is not None:
                continue
            try:
                deliver(message, smtp_url)
            except OSError:
                continue  # stays unsent in the outbox; the page shows it
            session.add(message)
            session.commit()
