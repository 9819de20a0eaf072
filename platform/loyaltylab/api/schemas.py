"""What the API reads and writes, as its OpenAPI document describes it.

Texts refuse control characters (PostgreSQL stores no NUL, and no CRM id needs one) and ids
are bounded to what the database's integers hold: malformed input is a 422 naming the field,
never a server error.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from loyaltylab.api.models import ApiScope
from loyaltylab.fieldwork.events import Outcome
from loyaltylab.fieldwork.models import Channel, ResponseStatus, WaveStatus
from loyaltylab.timeutil import as_utc

MAX_ID = 2**31 - 1
MAX_BATCH = 1000
PRINTABLE = r"^[^\x00-\x1f\x7f]+$"


def text(max_length: int, pattern: str = PRINTABLE) -> Any:
    return Annotated[
        str,
        StringConstraints(
            strip_whitespace=True, min_length=1, max_length=max_length, pattern=pattern
        ),
    ]


ExternalId = text(100)
EventName = text(64, r"^[A-Za-z0-9_.:-]+$")
EventId = text(200, r"^[!-~]+$")
AttributeName = text(64, r"^[A-Za-z0-9_.-]+$")
AttributeText = text(500)
AttributeValue = Annotated[
    AttributeText | Annotated[float, Field(allow_inf_nan=False)] | int | bool,
    Field(union_mode="left_to_right"),
]
Email = text(320, r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$")
Phone = text(40)
PersonName = text(200)
LanguageTag = text(20, r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]{2,8})*$")
Label = text(100)
Moment = Annotated[datetime, AfterValidator(as_utc)]
"""A stored time, always sent with its zone (UTC): SQLite gives back naive ones."""
Number = Annotated[float, Field(ge=0, le=1e12, allow_inf_nan=False)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class FieldProblem(BaseModel):
    field: str = Field(description="Where the problem is, e.g. `contacts[2].email`.")
    message: str


class Problem(BaseModel):
    """An error, as RFC 9457 problem details (``application/problem+json``)."""

    type: str = Field(default="about:blank", description="A URI naming the kind of problem.")
    title: str = Field(description="The HTTP status's short name.")
    status: int
    detail: str = Field(description="What went wrong, in the caller's language.")
    instance: str = Field(description="The path of the request.")
    errors: list[FieldProblem] | None = Field(
        default=None, description="For invalid requests: each field and what is wrong with it."
    )


class OrganisationOut(BaseModel):
    id: int
    name: str


class KeyOut(BaseModel):
    name: str
    prefix: str
    scope: ApiScope
    expires_at: Moment | None


class MeOut(BaseModel):
    organisation: OrganisationOut
    key: KeyOut


class StudyOut(BaseModel):
    id: int
    name: str
    company_name: str
    description: str
    created_at: Moment


class WaveCountsOut(BaseModel):
    invited: int
    started: int
    completed: int
    partial: int


class WaveOut(BaseModel):
    id: int
    study_id: int
    name: str
    status: WaveStatus
    opens_at: Moment | None
    closes_at: Moment | None
    target: int | None
    event_delay_minutes: int
    event_cooldown_days: int
    counts: WaveCountsOut


class ContactIn(_In):
    external_id: ExternalId = Field(description="The CRM's id of the customer.")
    email: Email | None = None
    phone: Phone | None = None
    name: PersonName | None = None
    language: LanguageTag | None = Field(
        default=None, description="BCP-47 tag (`en`, `zh-CN`): the e-mails' language."
    )
    tier: Label | None = Field(default=None, description="e.g. gold, silver, bronze.")
    region: Label | None = None
    tenure: Number | None = Field(default=None, description="Months as a customer.")
    spend: Number | None = None
    channel: Literal["email", "sms"] | None = Field(
        default=None, description="The channel the customer prefers to be invited by."
    )
    attributes: dict[AttributeName, AttributeValue] = Field(
        default_factory=dict,
        max_length=50,
        description="Further attributes, which become analysis variables.",
    )


class ContactsIn(_In):
    contacts: list[ContactIn] = Field(min_length=1, max_length=MAX_BATCH)


class ContactOut(BaseModel):
    id: int
    external_id: str
    pseudonym: str
    opted_out: bool


class ContactsOut(BaseModel):
    created: int
    updated: int
    contacts: list[ContactOut]


class ErasureOut(BaseModel):
    external_id: str
    responses_erased: int


class InvitationsIn(_In):
    external_ids: list[ExternalId] = Field(min_length=1, max_length=MAX_BATCH)
    send_at: AwareDatetime | None = Field(
        default=None, description="When to send (with a time zone); now when left out."
    )


class Skipped(BaseModel):
    external_id: str
    reason: Literal["unknown", "opted_out", "answered", "no_email", "duplicate"]


class InvitationsOut(BaseModel):
    sent: list[str] = Field(description="External ids e-mailed now.")
    scheduled: list[str] = Field(description="External ids to be e-mailed at `send_at`.")
    send_at: Moment | None
    skipped: list[Skipped]


class EventIn(_In):
    external_id: ExternalId = Field(description="The contact the event happened to.")
    event: EventName = Field(description="What happened, e.g. `complaint_closed`.")
    event_id: EventId = Field(
        description="Your unique id of the event: reporting it again changes nothing."
    )


class EventOut(BaseModel):
    outcome: Outcome
    event: str
    event_id: str
    external_id: str
    received_at: Moment
    send_at: Moment | None = Field(description="When the invitation goes out, if it does.")


class AnswerOut(BaseModel):
    value: Any
    label: Any = Field(description="The value's label in the requested language, or null.")


class ResponseOut(BaseModel):
    id: int
    status: ResponseStatus
    channel: Channel
    language: str
    external_id: str | None = Field(description="The contact's external id, if invited.")
    excluded: bool
    started_at: Moment
    updated_at: Moment
    submitted_at: Moment | None
    answers: dict[str, AnswerOut]


class ResponsePageOut(BaseModel):
    items: list[ResponseOut]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null: done.")


class AnalysisOut(BaseModel):
    study_id: int
    report_id: int
    title: str
    generated_at: Moment
    result: dict[str, Any]


class ReportFileOut(BaseModel):
    kind: str
    size: int
    url: str


class ReportOut(BaseModel):
    id: int
    title: str
    language: str
    generated_at: Moment | None
    files: list[ReportFileOut]
