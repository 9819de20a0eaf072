"""Tables of the studies domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column
from sqlmodel import Field, SQLModel

import loyaltylab.tables  # noqa: F401 (constraint names: before any table is defined)
from loyaltylab.accounts.models import timestamp_column
from loyaltylab.timeutil import utcnow


class Study(SQLModel, table=True):
    """A research project of a research organisation, optionally commissioned by a client."""

    __tablename__ = "study"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", index=True, ondelete="CASCADE")
    client_organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", index=True, ondelete="SET NULL"
    )
    name: str = Field(max_length=200)
    company_name: str = Field(default="", max_length=200)
    """The company's name for any language without a name of its own in ``company_names``."""
    company_names: dict[str, str] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    """The company's name by questionnaire language (e.g. ``{"en": "Fabrikam Coffee",
    "zh-CN": "Fabrikam咖啡"}``): what ``[Co.]`` becomes and what e-mails name."""
    description: str = Field(default="", max_length=4000)
    release_open_text: bool = False
    """Set by researchers: the client's users may read open-text answers."""
    contact_name: str = Field(default="", max_length=200)
    """Who respondents may ask about the study; named on the consent page."""
    contact_email: str = Field(default="", max_length=320)
    share_reports: bool = False
    """Set by researchers: every new report of the study is shared with the client."""
    retention_months: int | None = Field(default=None, ge=1)
    """Months after a contact's last response (or creation) before their personal data is
    removed by ``loyaltylab apply-retention``; None keeps it."""
    analysis_settings: dict[str, Any] = Field(
        default_factory=dict, sa_column=Column(JSON, nullable=False, server_default="{}")
    )
    """How the study's reports analyse the answers: method, estimator, PLS options and missing-
    value codes per questionnaire (:class:`loyaltylab.analysis_settings.schemas.AnalysisSettings`
    as a dict; empty: the defaults)."""
    created_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())
    updated_at: datetime = Field(default_factory=utcnow, sa_column=timestamp_column())

    def company_in(self, language: str) -> str:
        """The company's name in ``language`` (a BCP-47 tag), else its default name, else the
        study's name."""
        return self.company_names.get(language) or self.company_name or self.name
