"""Studies: listing what a member may see, creating and editing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import func
from sqlmodel import Session, select

from loyaltylab import access
from loyaltylab.accounts.models import Organisation, OrganisationKind
from loyaltylab.accounts.schemas import EMAIL_PATTERN, clean_name
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Response, ResponseStatus, Wave, WaveStatus
from loyaltylab.i18n import N_
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow

PRIVACY_NOTE_MAX_LENGTH = 4000


def list_studies(session: Session, ctx: OrgContext) -> list[Study]:
    return list(session.exec(access.readable_studies(ctx).order_by(Study.name)).all())


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


COMPANY_LANGUAGES = ("en", "zh-CN")
"""The languages a study names its company in: those of the questionnaire library."""
DESCRIPTION_MAX_LENGTH = 4000


def study_problems(
    session: Session,
    ctx: OrgContext,
    *,
    name: str,
    company_names: Mapping[str, str],
    description: str,
    client_organisation_id: int | None,
    contact_email: str = "",
    privacy_notes: Mapping[str, str] | None = None,
) -> list[InvalidInput]:
    """Every rule the study's fields break, each naming its field."""
    problems = []
    try:
        clean_name(name, field="name")
    except InvalidInput as problem:
        problems.append(problem)
    for language, company in company_names.items():
        if len(" ".join(company.split())) > 200:
            problems.append(
                InvalidInput(
                    "Use at most %(max)s characters.", field=_company_field(language), max=200
                )
            )
    if len(description) > DESCRIPTION_MAX_LENGTH:
        problems.append(
            InvalidInput(
                "Use at most %(max)s characters.", field="description", max=DESCRIPTION_MAX_LENGTH
            )
        )
    if client_organisation_id is not None:
        client = session.exec(
            select(Organisation).where(
                Organisation.id == client_organisation_id,
                Organisation.managing_organisation_id == ctx.organisation_id,
            )
        ).first()
        if client is None:
            problems.append(
                InvalidInput("Choose a client organisation from the list.", field="client")
            )
    if contact_email.strip() and not EMAIL_PATTERN.match(contact_email.strip()):
        problems.append(InvalidInput("Enter a valid e-mail address.", field="contact_email"))
    for language, note in (privacy_notes or {}).items():
        if len(note) > PRIVACY_NOTE_MAX_LENGTH:
            problems.append(
                InvalidInput(
                    "Use at most %(max)s characters.",
                    field=privacy_field(language),
                    max=PRIVACY_NOTE_MAX_LENGTH,
                )
            )
    return problems


def _company_field(language: str) -> str:
    """The study form's field of the company name in ``language``."""
    return "company_name_" + language.split("-")[0]


def save_study(
    session: Session,
    ctx: OrgContext,
    study: Study | None,
    *,
    name: str,
    company_names: Mapping[str, str] | None = None,
    description: str = "",
    client_organisation_id: int | None = None,
    contact_name: str = "",
    contact_email: str = "",
    privacy_notes: dict[str, str] | None = None,
) -> Study:
    """Create a study (``study=None``) or update one of the acting organisation's studies.

    ``company_names``: the company's name by language tag; the first one given is also the
    name of the languages without their own. Raises the first of :func:`study_problems`.
    ``contact_name``, ``contact_email`` and ``privacy_notes`` (language -> text) are what its
    respondents read on the consent page; ``privacy_notes=None`` leaves the notes as they are.
    """
    ctx.require_editor()
    names = {
        language: " ".join(company.split())
        for language, company in (company_names or {}).items()
        if company.strip()
    }
    problems = study_problems(
        session,
        ctx,
        name=name,
        company_names=names,
        description=description,
        client_organisation_id=client_organisation_id,
        contact_email=contact_email,
        privacy_notes=privacy_notes,
    )
    if problems:
        raise problems[0]
    if study is None:
        study = Study(organisation_id=ctx.organisation_id, name="")
    study.name = clean_name(name, field="name")
    study.company_names = names
    study.company_name = next(iter(names.values()), "")
    study.description = description.strip()
    study.contact_name = " ".join(contact_name.split())[:200]
    study.contact_email = contact_email.strip()
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


@dataclass(frozen=True)
class QuestionnaireSummary:
    id: int
    title: dict[str, str]
    """By language tag, as the latest version has it."""
    version: int
    published: bool
    """Whether some version is published (fieldable)."""


@dataclass(frozen=True)
class WaveSummary:
    wave: Wave
    completes: int


@dataclass(frozen=True)
class NextStep:
    """The one thing to do next in the study's workflow (questionnaire -> wave -> report)."""

    message: str
    """An English msgid (translated on the page)."""
    action: str
    """The button's msgid."""
    url: str


@dataclass(frozen=True)
class StudyOverview:
    questionnaires: list[QuestionnaireSummary]
    waves: list[WaveSummary]
    next_step: NextStep


def study_overview(session: Session, ctx: OrgContext, study: Study) -> StudyOverview:
    """The study's questionnaires and waves, in workflow order, and the next step: for its
    research team (the commissioning client sees the dashboard and shared reports instead)."""
    if not access.is_study_team(ctx, study):
        raise NotFound("Not found.")
    summaries = []
    for questionnaire in questionnaires.list_questionnaires(
        session, ctx.organisation_id, study_id=study.id
    ):
        versions = questionnaires.list_versions(session, ctx.organisation_id, questionnaire.id)
        latest = versions[-1]
        summaries.append(
            QuestionnaireSummary(
                questionnaire.id,
                dict(latest.definition.get("title") or {"und": questionnaire.title}),
                latest.number,
                any(version.is_published for version in versions),
            )
        )
    completes = dict(
        session.exec(
            select(Response.wave_id, func.count())
            .where(Response.status == ResponseStatus.complete)
            .join(Wave, Wave.id == Response.wave_id)
            .where(Wave.study_id == study.id)
            .group_by(Response.wave_id)
        ).all()
    )
    waves = [
        WaveSummary(wave, int(completes.get(wave.id, 0)))
        for wave in session.exec(
            select(Wave).where(Wave.study_id == study.id).order_by(Wave.created_at.desc(), Wave.id)
        )
    ]
    return StudyOverview(summaries, waves, _next_step(study, summaries, waves))


def _next_step(
    study: Study, summaries: list[QuestionnaireSummary], waves: list[WaveSummary]
) -> NextStep:
    if not summaries:
        return NextStep(
            N_("Start with the questionnaire: from a model template or the scale library."),
            N_("Create the questionnaire"),
            f"/studies/{study.id}/questionnaires/new",
        )
    if not any(summary.published for summary in summaries):
        return NextStep(
            N_(
                "Preview the questionnaire in each language, then publish it: a wave fields a "
                "published version."
            ),
            N_("Open the questionnaire"),
            f"/questionnaires/{summaries[0].id}",
        )
    if not waves:
        return NextStep(
            N_(
                "The questionnaire is published. Next, field it: create a wave with its dates, "
                "target and quotas."
            ),
            N_("Create a wave"),
            f"/studies/{study.id}/waves#new",
        )
    latest = waves[0]
    if latest.wave.status == WaveStatus.draft:
        return NextStep(
            N_("Upload contacts, check the e-mail texts, then open the wave."),
            N_("Go to the wave"),
            f"/waves/{latest.wave.id}",
        )
    if latest.wave.status == WaveStatus.open:
        return NextStep(
            N_(
                "The wave is open: invite contacts, share the public link and follow the responses."
            ),
            N_("Follow the fieldwork"),
            f"/waves/{latest.wave.id}",
        )
    return NextStep(
        N_("The wave is closed: produce the research report."),
        N_("Create a report"),
        f"/studies/{study.id}/reports",
    )
