"""Tables of the accounts domain."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, DateTime, UniqueConstraint, false
from sqlalchemy import Enum as SAEnum
from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.timeutil import DEFAULT_TIME_ZONE, utcnow


def timestamp_column(*, nullable: bool = False) -> Column:
    return Column(DateTime(timezone=True), nullable=nullable)


def enum_column(enum: type[StrEnum]) -> Column:
    """Stored as VARCHAR (no native enum types to migrate), read back as the enum."""
    return Column(
        SAEnum(enum, native_enum=False, length=20, values_callable=_values), nullable=False
    )


def _values(enum: type[StrEnum]) -> list[str]:
    return [member.value for member in enum]


class OrganisationKind(StrEnum):
    research = "research"
    client = "client"


class Role(StrEnum):
    owner = "owner"
    researcher = "researcher"
    client = "client"

    @property
    def can_edit(self) -> bool:
        return self is not Role.client


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=200)
    kind: OrganisationKind = Field(
        default=OrganisationKind.research, sa_column=enum_column(OrganisationKind)
    )
    # A client organisation is set up by the research organisation that runs its studies.
    managing_organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True, ondelete="SET NULL"
    )
    time_zone: str = Field(default=DEFAULT_TIME_ZONE, max_length=64)
    """The IANA zone its pages show times in and its wave forms read them in (stored: UTC)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class User(SQLModel, table=True):
    __tablename__ = "user_account"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True, index=True)
    name: str = Field(default="", max_length=200)
    password_hash: str = Field(max_length=255)
    locale: str | None = Field(default=None, max_length=10)
    is_active: bool = True
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


def client_company_field() -> Any:
    """The client company a client-role member of a research organisation represents; leaving
    with the company (a member of no company would see nothing)."""
    return Field(default=None, foreign_key="organisation.id", index=True, ondelete="CASCADE")


class Membership(SQLModel, table=True):
    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    role: Role = Field(sa_column=enum_column(Role))
    # Set for a client-role member of a research organisation: it sees only the studies this
    # company commissioned, as the company's own members do (None everywhere else).
    client_organisation_id: int | None = client_company_field()
    case_handler: bool = Field(default=False, sa_column_kwargs={"server_default": false()})
    """Granted by an owner to a client-role member: works on the company's follow-up cases."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class Invitation(SQLModel, table=True):
    """A link that lets someone join an organisation with a role; usable once."""

    __tablename__ = "invitation"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    email: str = Field(max_length=320)
    role: Role = Field(sa_column=enum_column(Role))
    client_organisation_id: int | None = client_company_field()
    token_hash: str = Field(max_length=64, unique=True)
    invited_by_id: int | None = Field(
        default=None, foreign_key="user_account.id", ondelete="SET NULL"
    )
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column())
    accepted_at: datetime | None = Field(default=None, sa_column=timestamp_column(nullable=True))


class LoginFailure(SQLModel, table=True):
    """Failed sign-ins, kept briefly for throttling by account and by client address.

    In the database, not in process memory, so that every worker process counts the same.
    """

    __tablename__ = "login_failure"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, index=True)
    ip: str = Field(max_length=64, index=True)
    at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())


class UserSession(SQLModel, table=True):
    """A signed-in browser. The cookie carries a random token; only its digest is stored, so
    deleting the row (log out, password change, sign out everywhere) ends the session on the
    server, and a leaked database holds no usable session."""

    __tablename__ = "user_session"

    id: int | None = Field(default=None, primary_key=True)
    user_id: int = Field(foreign_key="user_account.id", index=True, ondelete="CASCADE")
    token_hash: str = Field(max_length=64, unique=True)
    user_agent: str = Field(default="", max_length=300)
    ip: str = Field(default="", max_length=64)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    last_seen_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column())


class PendingSignup(SQLModel, table=True):
    """A sign-up waiting for its address to be confirmed: no account exists until the link
    mailed to the address is opened, so nobody can claim an address that is not theirs."""

    __tablename__ = "pending_signup"

    id: int | None = Field(default=None, primary_key=True)
    email: str = Field(max_length=320, unique=True)
    name: str = Field(max_length=200)
    organisation_name: str = Field(max_length=200)
    password_hash: str = Field(max_length=255)
    locale: str | None = Field(default=None, max_length=10)
    token_hash: str = Field(max_length=64, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    expires_at: datetime = Field(sa_column=timestamp_column())
