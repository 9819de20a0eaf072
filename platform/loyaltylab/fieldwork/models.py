"""Tables of fieldwork: waves, contacts, invitations, responses and submission keys.

Foreign keys name tables by string: ``surveys`` never imports the web package. Every table
carries ``organisation_id`` so that every query can be scoped to one tenant.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, DateTime, Index, UniqueConstraint
from sqlalchemy import Enum as SAEnum
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field, SQLModel

import loyaltylab.questionnaires.models
import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.timeutil import utcnow

# JSONB on PostgreSQL for small documents queried by key; the answer arrays stay plain JSON so
# that their stored text is read back as is.
JsonColumnType = JSON().with_variant(JSONB(), "postgresql")


def _enum(enum: type[StrEnum], *, server_default: str | None = None) -> Column:
    # VARCHAR, not a native enum type: nothing to migrate when a value is added.
    return Column(
        SAEnum(enum, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]),
        nullable=False,
        server_default=server_default,
    )


def _moment() -> Any:
    """An optional timezone-aware timestamp."""
    return Field(default=None, sa_column=Column(DateTime(timezone=True), nullable=True))


def _now() -> Any:
    """A timezone-aware timestamp set when the row is created."""
    return Field(default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False))


def _json(*, server_default: str | None = None) -> Column:
    return Column(JsonColumnType, nullable=False, server_default=server_default)


DEFAULT_EVENT_DELAY_MINUTES = 60
DEFAULT_EVENT_COOLDOWN_DAYS = 90


class WaveStatus(StrEnum):
    draft = "draft"
    open = "open"
    closed = "closed"


class Channel(StrEnum):
    web = "web"
    """The wave's public link."""
    invitation = "invitation"
    """A contact's personal single-use link."""
    phone = "phone"
    """A telephone interview entered by a researcher."""


class ContactChannel(StrEnum):
    """How a contact prefers to get invitations and reminders."""

    email = "email"
    sms = "sms"


class ResponseStatus(StrEnum):
    partial = "partial"
    complete = "complete"


class QuotaSource(StrEnum):
    contact = "contact"
    """Quota cells are a contact attribute's values: only invited (or phoned) contacts count."""
    answer = "answer"
    """Quota cells are the options of a question: every respondent counts, public link too."""


class Wave(SQLModel, table=True):
    """One fielding of a published questionnaire version in a study (e.g. "2026-Q3")."""

    __tablename__ = "wave"
    __table_args__ = (UniqueConstraint("study_id", "name", name="uq_wave_study_name"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    study_id: int = Field(foreign_key="study.id", index=True, ondelete="CASCADE")
    questionnaire_version_id: int = Field(
        foreign_key="questionnaire_version.id", index=True, ondelete="RESTRICT"
    )
    name: str = Field(max_length=100)
    opens_at: datetime | None = _moment()
    closes_at: datetime | None = _moment()
    target: int | None = Field(default=None, ge=1)
    status: WaveStatus = Field(default=WaveStatus.draft, sa_column=_enum(WaveStatus))
    public_slug: str = Field(max_length=64, unique=True, index=True)
    quota_attribute: str | None = Field(default=None, max_length=64)
    """What quotas are set on: a contact attribute (e.g. ``tier``) or a question's code, by
    ``quota_source``; None without quotas."""
    quota_source: QuotaSource = Field(
        default=QuotaSource.contact,
        sa_column=_enum(QuotaSource, server_default=QuotaSource.contact.value),
    )
    quotas: dict[str, int] = Field(default_factory=dict, sa_column=_json())
    """Attribute value (or answer) -> number of complete responses wanted (``{"gold": 200}``)."""
    mail_texts: dict[str, dict[str, dict[str, str]]] = Field(
        default_factory=dict, sa_column=_json(server_default="{}")
    )
    """The researcher's own e-mail texts: kind (``invitation``, ``reminder``) -> language ->
    ``{"subject": ..., "body": ...}``; what is missing is the platform's default text."""
    event_delay_minutes: int = Field(
        default=DEFAULT_EVENT_DELAY_MINUTES,
        ge=0,
        sa_column_kwargs={"server_default": str(DEFAULT_EVENT_DELAY_MINUTES)},
    )
    """How long after a reported event (a closed complaint) its invitation is sent."""
    event_cooldown_days: int = Field(
        default=DEFAULT_EVENT_COOLDOWN_DAYS,
        ge=0,
        sa_column_kwargs={"server_default": str(DEFAULT_EVENT_COOLDOWN_DAYS)},
    )
    """An event-triggered invitation reaches a contact at most once in this many days."""
    created_at: datetime = _now()


class Contact(SQLModel, table=True):
    """A customer who can be invited; keeps one pseudonymous id across waves."""

    __tablename__ = "contact"
    __table_args__ = (
        UniqueConstraint("study_id", "external_id", name="uq_contact_study_external_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    study_id: int = Field(foreign_key="study.id", index=True, ondelete="CASCADE")
    external_id: str = Field(max_length=100)
    pseudonym: str = Field(max_length=32, unique=True, index=True)
    """Random id used in analysis data instead of the customer's own id."""
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    name: str | None = Field(default=None, max_length=200)
    """How e-mails address the contact (the contact file's ``name`` column)."""
    language: str | None = Field(default=None, max_length=20)
    """The language the contact is written to and first shown the questionnaire in (a BCP-47
    tag as the file gives it, e.g. ``en`` or ``zh-CN``); None: the questionnaire's first."""
    channel: str | None = Field(default=None, max_length=10)
    """A :class:`ContactChannel` from the contact file's ``channel`` column; None: e-mail when
    there is an address, else SMS."""
    attributes: dict[str, Any] = Field(default_factory=dict, sa_column=_json())
    opted_out_at: datetime | None = _moment()
    """Set when the contact follows the opt-out link of an e-mail: no further invitations."""
    created_at: datetime = _now()


class WaveInvitation(SQLModel, table=True):
    """A contact's invitation to one wave, reached through any of its links."""

    __tablename__ = "wave_invitation"
    __table_args__ = (UniqueConstraint("wave_id", "contact_id", name="uq_invitation_wave_contact"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    wave_id: int = Field(foreign_key="wave.id", index=True, ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    created_at: datetime = _now()
    expires_at: datetime | None = _moment()
    emailed_at: datetime | None = _moment()
    """When the invitation e-mail went out (None: not e-mailed, e.g. a link handed out)."""
    texted_at: datetime | None = _moment()
    """When the invitation SMS went out."""
    reminded_at: datetime | None = _moment()
    """When the latest reminder (e-mail or SMS) went out."""
    used_at: datetime | None = _moment()
    """Set, once, by the conditional update that completes the invitation's response."""
    response_id: int | None = Field(default=None, index=True)


class EventStatus(StrEnum):
    scheduled = "scheduled"
    """The invitation goes out at ``send_at``."""
    sent = "sent"
    cooled_down = "cooled_down"
    """Not sent: the contact had an event-triggered invitation within the cool-down."""
    opted_out = "opted_out"
    """Not sent: the contact has opted out of the study's e-mails."""
    cancelled = "cancelled"
    """Scheduled, but at sending time it could not go out (``reason`` says why)."""


class ContactEvent(SQLModel, table=True):
    """Something the CRM reported about a contact (``complaint_closed``) that sends them a
    wave's invitation after the wave's delay; the caller's ``event_id`` makes it idempotent."""

    __tablename__ = "contact_event"
    __table_args__ = (
        UniqueConstraint("organisation_id", "event_id", name="uq_contact_event_org_event_id"),
        Index("ix_contact_event_status_send_at", "status", "send_at"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    wave_id: int = Field(foreign_key="wave.id", index=True, ondelete="CASCADE")
    contact_id: int = Field(foreign_key="contact.id", index=True, ondelete="CASCADE")
    event: str = Field(max_length=64)
    event_id: str = Field(max_length=200)
    status: EventStatus = Field(sa_column=_enum(EventStatus))
    reason: str = Field(default="", max_length=40)
    """Why a scheduled invitation was cancelled (``wave_closed``, ``answered``, ...)."""
    received_at: datetime = _now()
    send_at: datetime | None = _moment()
    sent_at: datetime | None = _moment()
    invitation_id: int | None = Field(
        default=None, foreign_key="wave_invitation.id", ondelete="SET NULL"
    )


class InvitationLink(SQLModel, table=True):
    """One personal link of an invitation; only a hash of its token is stored.

    The invitation, each reminder and each download of links carry a link of their own (the
    raw token is never stored, so it cannot be sent again); every one of them stays valid and
    leads to the invitation's one response.
    """

    __tablename__ = "invitation_link"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    invitation_id: int = Field(foreign_key="wave_invitation.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = _now()


class StudyConsent(SQLModel, table=True):
    """The consent text respondents of a study agree to, by language."""

    __tablename__ = "study_consent"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    study_id: int = Field(foreign_key="study.id", unique=True, ondelete="CASCADE")
    texts: dict[str, str] = Field(default_factory=dict, sa_column=_json())


class Response(SQLModel, table=True):
    """One respondent's answers to one wave.

    ``answer_values`` holds the typed answers as one JSON array in the order of the version's
    variables (``QuestionnaireDefinition.variables()``; null = not answered). Published
    versions are frozen, so the order never changes; arrays parse about twice as fast as
    objects repeating every code, which is what lets 100,000 x 40 load in under 2 s.
    """

    __tablename__ = "response"
    __table_args__ = (Index("ix_response_wave_status", "wave_id", "status"),)

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    wave_id: int = Field(foreign_key="wave.id", ondelete="CASCADE")
    questionnaire_version_id: int = Field(
        foreign_key="questionnaire_version.id", ondelete="RESTRICT"
    )
    channel: Channel = Field(sa_column=_enum(Channel))
    contact_id: int | None = Field(
        default=None, foreign_key="contact.id", index=True, ondelete="SET NULL"
    )
    invitation_id: int | None = Field(
        default=None, foreign_key="wave_invitation.id", unique=True, ondelete="SET NULL"
    )
    """Unique: a personal link never has more than one response."""
    interviewer_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    language: str = Field(max_length=20)
    status: ResponseStatus = Field(default=ResponseStatus.partial, sa_column=_enum(ResponseStatus))
    excluded: bool = False
    """Set by a researcher (e.g. quality flags); excluded responses stay out of analysis."""
    exclusion_reason: str | None = Field(default=None, max_length=200)
    """Why the researcher excluded the response (kept with the data for the methods report)."""
    current_page: int = 0
    """Index of the section the respondent is on (where a resume link leads)."""
    resume_token_hash: str | None = Field(default=None, max_length=64, unique=True)
    quota_cell: str | None = Field(default=None, max_length=100)
    answer_values: list[Any] = Field(default_factory=list, sa_column=Column(JSON, nullable=False))
    started_at: datetime = _now()
    updated_at: datetime = _now()
    submitted_at: datetime | None = _moment()
    duration_seconds: float | None = None


class SubmissionKey(SQLModel, table=True):
    """A submitted form's key: inserted in the same transaction as the form's writes.

    A repeated submit hits the UNIQUE key, is rolled back, and gets the stored outcome.
    """

    __tablename__ = "submission_key"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    key: str = Field(max_length=64, unique=True)
    response_id: int | None = Field(
        default=None, foreign_key="response.id", index=True, ondelete="CASCADE"
    )
    outcome: str = Field(default="", max_length=200)
    """What the first submit led to (the page to go to), returned to repeats."""
    created_at: datetime = _now()


class Frequency(StrEnum):
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"


class StudySchedule(SQLModel, table=True):
    """How often a study's waves recur; ``loyaltylab schedule-waves`` prepares the next one."""

    __tablename__ = "study_schedule"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    study_id: int = Field(foreign_key="study.id", unique=True, ondelete="CASCADE")
    frequency: Frequency = Field(sa_column=_enum(Frequency))
    created_at: datetime = _now()
    updated_at: datetime = _now()
