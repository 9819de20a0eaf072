"""The access policy: what a member acting in an organisation may read and change.

Each resource has a WHERE clause of what an :class:`~loyaltylab.deps.OrgContext` may read (and
one of what it may edit), the SELECT built on it, and a loader that runs that SELECT for one id
and raises :class:`~loyaltylab.errors.NotFound` when nothing comes back. Tenancy is inside the
query: a missing object, another tenant's and one the role may not open look the same (404).
Routes and services load by id only through this module; what they reach from an object it
loaded (its study, its waves) follows that object's foreign keys.

Who is who (the roles of :class:`~loyaltylab.accounts.models.Role`):

- the study's **team** — owners and researchers of the organisation running the study: they
  read everything of it (fieldwork internals: waves, links, contacts, responses, drafts, raw
  data) and, as editors, change it;
- the commissioning **client** — the client company's own members and the client-role members
  of the research organisation (who act for the company, ``ctx.organisation``): they read the
  study, its dashboard and the generated reports shared with them, nothing else;
- **case handlers** — client-role members granted the right: they also work on the company's
  follow-up cases, which other client users never open.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, false, or_
from sqlmodel import Session, SQLModel, select
from sqlmodel.sql.expression import Select, SelectOfScalar

from loyaltylab.accounts.models import Role
from loyaltylab.deps import OrgContext
from loyaltylab.errors import NotFound, PermissionDenied
from loyaltylab.fieldwork.models import Contact, Wave
from loyaltylab.followup.models import FollowUpCase
from loyaltylab.i18n import N_
from loyaltylab.reports_web.models import Report
from loyaltylab.studies.models import Study

NOT_FOUND = N_("Not found.")

ModelT = TypeVar("ModelT", bound=SQLModel)
RowT = TypeVar("RowT")


def found(
    session: Session,
    statement: SelectOfScalar[RowT] | Select[RowT],
    *,
    message: str = NOT_FOUND,
) -> RowT:
    """The statement's first row, else NotFound (with ``message``): a loader's last step.

    Also for an object reached through one the policy loaded, by the parent's key in the same
    WHERE (a response of this wave, a rule of this wave), never by a check after loading.
    """
    row = session.exec(statement).first()
    if row is None:
        raise NotFound(message)
    return row


# --- any table of one organisation ----------------------------------------------------------------


def owned(model: type[ModelT], organisation_id: int) -> SelectOfScalar[ModelT]:
    """The organisation's rows of ``model`` (a table with ``organisation_id``)."""
    return select(model).where(model.organisation_id == organisation_id)


def load_owned(
    session: Session, model: type[ModelT], object_id: Any, organisation_id: int
) -> ModelT:
    """An object of the organisation by id (API keys, questionnaires), else NotFound."""
    return found(session, owned(model, organisation_id).where(model.id == object_id))


# --- studies --------------------------------------------------------------------------------------


def study_readable(ctx: OrgContext) -> ColumnElement[bool]:
    """Researchers read their organisation's studies and those commissioned by it (when it is
    a client company); client users only the studies their company commissioned."""
    if ctx.role is Role.client:
        return Study.client_organisation_id == ctx.organisation_id
    return or_(
        Study.organisation_id == ctx.organisation_id,
        Study.client_organisation_id == ctx.organisation_id,
    )


def study_team(ctx: OrgContext) -> ColumnElement[bool]:
    """The studies whose team the member is in: run by its organisation, not as a client."""
    if ctx.role is Role.client:
        return false()
    return Study.organisation_id == ctx.organisation_id


def study_editable(ctx: OrgContext) -> ColumnElement[bool]:
    """The studies the member may change: its organisation's, for an editing role."""
    if not ctx.role.can_edit:
        return false()
    return Study.organisation_id == ctx.organisation_id


def readable_studies(ctx: OrgContext) -> SelectOfScalar[Study]:
    return select(Study).where(study_readable(ctx))


def readable_study(session: Session, ctx: OrgContext, study_id: int) -> Study:
    """A study the member may see at all (its dashboard, the reports shared with it)."""
    return found(session, readable_studies(ctx).where(Study.id == study_id))


def team_study(session: Session, ctx: OrgContext, study_id: int) -> Study:
    """A study for its team's pages (fieldwork internals, drafts, raw data exports)."""
    return found(session, select(Study).where(Study.id == study_id, study_team(ctx)))


def editable_study(session: Session, ctx: OrgContext, study_id: int) -> Study:
    return found(session, select(Study).where(Study.id == study_id, study_editable(ctx)))


def is_study_team(ctx: OrgContext, study: Study) -> bool:
    """:func:`study_team` for a study already loaded (what a page shows to whom)."""
    return ctx.role is not Role.client and study.organisation_id == ctx.organisation_id


def may_edit(ctx: OrgContext, owned_object: Study | Wave) -> bool:
    """:func:`study_editable` for a loaded study or wave (whether a page offers changes)."""
    return ctx.role.can_edit and owned_object.organisation_id == ctx.organisation_id


# --- waves: fieldwork internals, for the study's team ---------------------------------------------


def readable_waves(ctx: OrgContext) -> Select[tuple[Wave, Study]]:
    """Waves with their studies, of the studies whose team the member is in: the commissioning
    client follows the dashboard and its shared reports instead."""
    return select(Wave, Study).join(Study, Study.id == Wave.study_id).where(study_team(ctx))


def editable_waves(ctx: OrgContext) -> Select[tuple[Wave, Study]]:
    return (
        select(Wave, Study)
        .join(Study, Study.id == Wave.study_id)
        .where(study_editable(ctx), Wave.organisation_id == ctx.organisation_id)
    )


def readable_wave(session: Session, ctx: OrgContext, wave_id: int) -> tuple[Wave, Study]:
    return found(session, readable_waves(ctx).where(Wave.id == wave_id))


def editable_wave(session: Session, ctx: OrgContext, wave_id: int) -> tuple[Wave, Study]:
    return found(session, editable_waves(ctx).where(Wave.id == wave_id))


# --- reports --------------------------------------------------------------------------------------


def report_readable(ctx: OrgContext) -> ColumnElement[bool]:
    """(Joined with the report's study.) The team reads every report of its studies; the
    client's users those shared with them once generated."""
    return and_(
        study_readable(ctx),
        or_(
            study_team(ctx),
            and_(Report.shared_at.is_not(None), Report.generated_at.is_not(None)),
        ),
    )


def readable_reports(ctx: OrgContext) -> Select[tuple[Report, Study]]:
    return (
        select(Report, Study).join(Study, Study.id == Report.study_id).where(report_readable(ctx))
    )


def editable_reports(ctx: OrgContext) -> Select[tuple[Report, Study]]:
    """Regenerating, cancelling and sharing: the study's editors."""
    return select(Report, Study).join(Study, Study.id == Report.study_id).where(study_editable(ctx))


def readable_report(session: Session, ctx: OrgContext, report_id: int) -> tuple[Report, Study]:
    return found(session, readable_reports(ctx).where(Report.id == report_id))


def editable_report(session: Session, ctx: OrgContext, report_id: int) -> tuple[Report, Study]:
    return found(session, editable_reports(ctx).where(Report.id == report_id))


# --- contacts -------------------------------------------------------------------------------------


def editable_contact(session: Session, ctx: OrgContext, contact_id: int) -> tuple[Contact, Study]:
    """A contact (personal data) with its study, for the study's editors (erasure)."""
    return found(
        session,
        select(Contact, Study)
        .join(Study, Study.id == Contact.study_id)
        .where(
            Contact.id == contact_id,
            Contact.organisation_id == ctx.organisation_id,
            study_editable(ctx),
        ),
    )


# --- follow-up cases ------------------------------------------------------------------------------


def _is_case_handler(ctx: OrgContext) -> bool:
    return ctx.role is Role.client and bool(ctx.membership.case_handler)


def require_case_reader(ctx: OrgContext) -> None:
    """The case list: the research team and the client's case handlers; other client users
    are told they may not (a single case is simply not found for them)."""
    if ctx.role is Role.client and not _is_case_handler(ctx):
        raise PermissionDenied("Only case handlers can open follow-up cases.")


def case_readable(ctx: OrgContext) -> ColumnElement[bool]:
    """The research organisation's cases for its team; the company's cases for its handlers."""
    if ctx.role is not Role.client:
        return FollowUpCase.organisation_id == ctx.organisation_id
    if not _is_case_handler(ctx):
        return false()
    return FollowUpCase.client_organisation_id == ctx.organisation_id


def readable_case(session: Session, ctx: OrgContext, case_id: int) -> FollowUpCase:
    """A case the member may work on (reading it is working on it)."""
    return found(
        session, select(FollowUpCase).where(FollowUpCase.id == case_id, case_readable(ctx))
    )
