"""Studies: listing what a member may see, creating and editing."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, select

from loyaltylab.accounts.models import Organisation, OrganisationKind, Role
from loyaltylab.accounts.schemas import clean_name
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow


def _visibility(ctx: OrgContext):
    """Researchers see their organisation's studies; clients the studies commissioned by theirs."""
    if ctx.role is Role.client:
        return Study.client_organisation_id == ctx.organisation_id
    return or_(
        Study.organisation_id == ctx.organisation_id,
        Study.client_organisation_id == ctx.organisation_id,
    )


def list_studies(session: Session, ctx: OrgContext) -> list[Study]:
    return list(session.exec(select(Study).where(_visibility(ctx)).order_by(Study.name)).all())


def get_visible_study(session: Session, ctx: OrgContext, study_id: int) -> Study:
    study = session.exec(select(Study).where(Study.id == study_id, _visibility(ctx))).first()
    if study is None:
        raise NotFound("Not found.")
    return study


def get_editable_study(session: Session, ctx: OrgContext, study_id: int) -> Study:
    ctx.require_editor()
    study = session.get(Study, study_id)
    if study is None or study.organisation_id != ctx.organisation_id:
        raise NotFound("Not found.")
    return study


def client_organisations(session: Session, ctx: OrgContext) -> list[Organisation]:
    """The client companies this research organisation works for."""
    return list(
        session.exec(
            select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.client,
                Organisation.managing_organisation_id == ctx.organisation_id,
            )
            .order_by(Organisation.name)
        ).all()
    )


def add_client_organisation(session: Session, ctx: OrgContext, *, name: str) -> Organisation:
    ctx.require_editor()
    client = Organisation(
        name=clean_name(name, field="new_client"),
        kind=OrganisationKind.client,
        managing_organisation_id=ctx.organisation_id,
    )
    session.add(client)
    session.flush()
    return client


def save_study(
    session: Session,
    ctx: OrgContext,
    study: Study | None,
    *,
    name: str,
    company_name: str = "",
    description: str = "",
    client_organisation_id: int | None = None,
) -> Study:
    """Create a study (``study=None``) or update one of the acting organisation's studies."""
    ctx.require_editor()
    if study is None:
        study = Study(organisation_id=ctx.organisation_id, name="")
    study.name = clean_name(name, field="name")
    study.company_name = " ".join(company_name.split())[:200]
    if len(description) > 4000:
        raise InvalidInput("Use at most %(max)s characters.", field="description", max=4000)
    study.description = description.strip()
    if client_organisation_id is not None:
        client = session.get(Organisation, client_organisation_id)
        if client is None or client.managing_organisation_id != ctx.organisation_id:
            raise InvalidInput("Choose a client organisation from the list.", field="client")
    study.client_organisation_id = client_organisation_id
    study.updated_at = utcnow()
    session.add(study)
    session.flush()
    return study
