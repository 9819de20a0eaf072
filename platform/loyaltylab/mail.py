"""Outgoing e-mail: through SMTP when ``LOYALTYLAB_SMTP_URL`` is set, always kept in the outbox.

The outbox row is written in the request's transaction, so a message exists only if the action
that caused it was committed. The first attempt runs right after the response; a failure is
logged, recorded on the row (shown in the outbox) and retried by the job queue with exponential
backoff (:meth:`loyaltylab.jobs.queue.JobQueue.send_mail`) until the attempts run out.

Mail servers are reached over TLS: ``smtps://`` (port 465) with implicit TLS,
``smtp+starttls://`` or any URL on port 587 with STARTTLS, which must succeed before anything,
credentials included, is sent. Plain ``smtp://`` is for a relay on this machine (or development).
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formataddr
from typing import Literal
from urllib.parse import unquote, urlsplit

from sqlalchemy import func
from sqlalchemy.engine import Engine
from sqlmodel import Field, Session, SQLModel, select

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import timestamp_column
from loyaltylab.settings import LOOPBACK_HOSTS, Settings
from loyaltylab.timeutil import utcnow

logger = logging.getLogger(__name__)
SENDER_ADDRESS = "no-reply@loyaltylab.invalid"
SENDER_NAME = "LoyaltyLab"
SMTP_TIMEOUT_SECONDS = 10
SUBMISSION_PORT = 587
"""The mail submission port: STARTTLS is always required on it, whatever the scheme says."""
MAX_ERROR_LENGTH = 500


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
    attempts: int = 0
    """Delivery attempts made so far (successful or not)."""
    last_error: str = Field(default="", max_length=MAX_ERROR_LENGTH)
    """What the mail server (or the network) answered to the last failed attempt."""
    next_attempt_at: datetime | None = Field(
        default=None, sa_column=timestamp_column(nullable=True)
    )
    failed_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))
    """Given up: the server refused it for good, or every attempt failed."""

    @property
    def delivery_status(self) -> str:
        """``sent``, ``failed``, ``retrying`` (an attempt failed, another is scheduled) or
        ``waiting`` (not tried: no mail server, or the first attempt is under way)."""
        if self.sent_at is not None:
            return "sent"
        if self.failed_at is not None:
            return "failed"
        return "retrying" if self.attempts else "waiting"


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


INSECURE_PASSWORD = (
    "LOYALTYLAB_SMTP_URL: refusing to send the SMTP password to %(host)s without TLS: "
    "use smtp+starttls://host:587 or smtps://host:465"
)


def undelivered_count(session: Session, organisation_id: int) -> int:
    """The organisation's e-mails given up as undeliverable (the wave page points to them)."""
    return session.exec(
        select(func.count(OutboxMessage.id)).where(
            OutboxMessage.organisation_id == organisation_id, OutboxMessage.failed_at.is_not(None)
        )
    ).one()


class InsecureMailServer(smtplib.SMTPException):
    """The URL would send the SMTP password to another machine without TLS."""


@dataclass(frozen=True)
class SmtpServer:
    """Where and how to reach the mail server, from ``LOYALTYLAB_SMTP_URL``."""

    host: str
    port: int
    security: Literal["tls", "starttls", "plain"]
    """``tls`` (implicit, smtps), ``starttls`` or ``plain`` (a relay on this machine)."""
    username: str | None
    password: str

    @classmethod
    def from_url(cls, url: str) -> SmtpServer:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme not in ("smtp", "smtps", "smtp+starttls"):
            raise ValueError(
                f"LOYALTYLAB_SMTP_URL: the scheme must be smtp+starttls://, smtps:// or smtp://, "
                f"not {parts.scheme}://"
            )
        security: Literal["tls", "starttls", "plain"]
        if scheme == "smtps":
            security, default_port = "tls", 465
        elif scheme == "smtp+starttls" or parts.port == SUBMISSION_PORT:
            security, default_port = "starttls", SUBMISSION_PORT
        else:
            security, default_port = "plain", 25
        return cls(
            host=parts.hostname or "localhost",
            port=parts.port or default_port,
            security=security,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password or ""),
        )

    @property
    def local(self) -> bool:
        return self.host.lower() in LOOPBACK_HOSTS

    @property
    def password_in_clear(self) -> bool:
        """Would the password cross the network unencrypted? (Never allowed.)"""
        return self.security == "plain" and self.username is not None and not self.local

    def check_secure(self) -> None:
        if self.password_in_clear:
            raise InsecureMailServer(INSECURE_PASSWORD % {"host": self.host})

    def connect(self) -> smtplib.SMTP:
        """An open connection, encrypted unless plain, signed in when the URL has a user."""
        self.check_secure()
        # Certificates are checked against the system's CAs (SSL_CERT_FILE for a private CA).
        context = ssl.create_default_context()
        if self.security == "tls":
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=context
            )
        else:
            smtp = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        try:
            if self.security == "starttls":
                # Raises SMTPNotSupportedError when the server does not offer STARTTLS: the
                # message (and the password) is never sent in clear text instead.
                smtp.starttls(context=context)
            if self.username:
                smtp.login(self.username, self.password)
        except BaseException:
            smtp.close()
            raise
        return smtp


def _email(message: OutboxMessage) -> EmailMessage:
    email = EmailMessage()
    email["From"] = formataddr((message.sender_name or SENDER_NAME, SENDER_ADDRESS))
    email["To"] = message.to
    email["Subject"] = message.subject
    if message.unsubscribe_url:
        email["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
    email.set_content(message.body)
    return email


def deliver(message: OutboxMessage, smtp_url: str) -> None:
    """Send one message through the server of ``smtp_url``; raises when it is not accepted."""
    with SmtpServer.from_url(smtp_url).connect() as smtp:
        smtp.send_message(_email(message))
    message.sent_at = utcnow()


def _is_permanent(error: Exception) -> bool:
    """A refusal that another attempt would meet again: an SMTP 5xx answer, or a server that
    cannot be reached securely. Network errors and 4xx answers are worth retrying."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return all(code >= 500 for code, _ in error.recipients.values())
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code >= 500
    return isinstance(error, smtplib.SMTPNotSupportedError | InsecureMailServer)


def _describe(error: Exception) -> str:
    if isinstance(error, smtplib.SMTPResponseException):
        answer = error.smtp_error
        text = answer.decode(errors="replace") if isinstance(answer, bytes) else str(answer)
        return f"{error.smtp_code} {text}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "; ".join(
            f"{code} {answer.decode(errors='replace')}"
            for code, answer in error.recipients.values()
        )
    return f"{type(error).__name__}: {error}"


def retry_delay(settings: Settings, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: the first delay, doubled each time."""
    return settings.mail_retry_seconds * 2 ** (attempts - 1)


def attempt(session: Session, message: OutboxMessage, settings: Settings) -> float | None:
    """One delivery attempt, recorded on the message (flushes only); the delay before the next
    attempt when it failed and may be retried, else None (sent, or given up)."""
    if settings.smtp_url is None:
        return None
    message.attempts += 1
    delay = None
    try:
        deliver(message, settings.smtp_url)
    except (OSError, smtplib.SMTPException) as error:
        message.last_error = _describe(error)[:MAX_ERROR_LENGTH]
        if _is_permanent(error) or message.attempts >= settings.mail_max_attempts:
            message.failed_at = utcnow()
            message.next_attempt_at = None
            logger.error(
                "mail %s to %s not delivered after %s attempt(s), given up: %s",
                message.id,
                message.to,
                message.attempts,
                message.last_error,
            )
        else:
            delay = retry_delay(settings, message.attempts)
            message.next_attempt_at = utcnow() + timedelta(seconds=delay)
            logger.warning(
                "mail %s to %s not delivered (attempt %s), retrying in %.0f s: %s",
                message.id,
                message.to,
                message.attempts,
                delay,
                message.last_error,
            )
    else:
        message.last_error = ""
        message.next_attempt_at = None
    session.add(message)
    session.flush()
    return delay


def deliver_all(engine: Engine, message_ids: list[int], settings: Settings) -> dict[int, float]:
    """Try to send committed outbox messages, each in its own transaction; the messages to try
    again, with the delay before their next attempt."""
    retries: dict[int, float] = {}
    with Session(engine) as session:
        for message_id in message_ids:
            message = session.get(OutboxMessage, message_id)
            if message is None or message.sent_at is not None or message.failed_at is not None:
                continue
            delay = attempt(session, message, settings)
            session.commit()
            if delay is not None:
                retries[message_id] = delay
    return retries
