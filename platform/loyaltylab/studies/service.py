"""Studies: listing what a member may see, creating and editing."""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import Session, select

from loyaltylab.accounts.models import Organisation, OrganisationKind, Role
from loyaltylab.accounts.schemas import EMAIL_PATTERN, clean_name
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow
from surveys.fieldwork import service as fieldwork

PRIVACY_NOTE_MAX_LENGTH = 4000


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
    contact_name: str = "",
    contact_email: str = "",
    privacy_notes: dict[str, str] | None = None,
) -> Study:
    """Create a study (``study=None``) or update one of the acting organisation's studies.

    ``contact_name``, ``contact_email`` and ``privacy_notes`` (language -> text) are what its
    respondents read on the consent page; ``privacy_notes=None`` leaves the notes as they are.
    """
    ctx.require_editor()
    if study is None:
        study = Study(organisation_id=ctx.organisation_id, name="")
    study.name = clean_name(name, field="name")
    study.company_name = " ".join(company_name.split())[:200]
    if len(description) > 4000:
        raise InvalidInput("Use at most %(max)s characters.", field="description", max=4000)
    study.description = description.strip()
    study.contact_name = " ".join(contact_name.split())[:200]
    study.contact_email = contact_email.strip()
    if study.contact_email and not EMAIL_PATTERN.match(study.contact_email):
        raise InvalidInput("Enter a valid e-mail address.", field="contact_email")
    for language, note in (privacy_notes or {}).items():
        if len(note) > PRIVACY_NOTE_MAX_LENGTH:
            raise InvalidInput(
                "Use at most %(max)s characters.",
                field=privacy_field(language),
                max=PRIVACY_NOTE_MAX_LENGTH,
            )
    if client_organisation_id is not None:
        client = session.get(Organisation, client_organisation_id)
        if client is None or client.managing_organisation_id != ctx.organisation_id:
            raise InvalidInput("Choose a client organisation from the list.", field="client")
    study.client_organisation_id = client_organisation_id
    study.updated_at = utcnow()
    session.add(study)
    session.flush()
    if privacy_notes is not None:
        fieldwork.set_consent_texts(
            session, study_id=study.id, organisation_id=study.organisation_id, texts=privacy_notes
        )
    return study


def privacy_field(language: str) -> str:
    """The study form's field of the privacy note in ``language`` (``zh-CN``: privacy_zh_cn)."""
    return "privacy_" + language.replace("-", "_").lower()


def privacy_notes(session: Session, study: Study) -> dict[str, str]:
    """The study's privacy note for its respondents, by language."""
    return fieldwork.consent_texts(session, study.id)
