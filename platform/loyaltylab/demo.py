"""The demo: a research agency, its client, three users, a loyalty study and a short survey
to try. Idempotent.

The loyalty study has a published satisfaction -> value -> loyalty questionnaire, 300 customers
and two closed quarterly waves of simulated answers (:mod:`surveys.simulate`, fixed seed), so
that every page, analysis and report has data to show. The short survey is the agency's own (no
client sees it): a bilingual satisfaction and NPS questionnaire with one open wave, whose public
link lets anyone try the respondent form.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from sqlalchemy import insert, update
from sqlmodel import Session, select

from loyaltylab import workflows
from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    Response,
    ResponseStatus,
    Wave,
    WaveInvitation,
)
from loyaltylab.jobs.queue import JobQueue
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web.models import Report
from loyaltylab.security import hash_password, verify_password
from loyaltylab.studies.models import Study
from surveys.definition import MatrixItem, QuestionnaireDefinition
from surveys.simulate import Respondent, simulate_contacts, simulate_responses

RESEARCH_ORG = "Northwind Research"
CLIENT_ORG = "Contoso Retail"
STUDY_NAME = "Contoso customer loyalty tracker"
COMPANY_NAME = "Contoso"
DEMO_PASSWORDS = {
    "owner": "demo-owner-2026",
    "researcher": "demo-researcher-2026",
    "client": "demo-client-2026",
}
DEMO_USERS = (
    ("owner@northwind.example", "Wang Fang", Role.owner, RESEARCH_ORG),
    ("researcher@northwind.example", "Li Wei", Role.researcher, RESEARCH_ORG),
    ("client@contoso.example", "Chen Jing", Role.client, CLIENT_ORG),
)


DEMO_SEED = 2026
CONTACT_COUNT = 300
DEMO_WAVES = (
    ("2026-Q2", datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 7, 1, tzinfo=UTC)),
    ("2026-Q3", datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)),
)
TRY_STUDY_NAME = "Quick satisfaction survey (try the respondent form)"
"""The agency's own study with an open wave: not commissioned by the demo client."""
TRY_COMPANY_NAMES = {"en": "Fabrikam Coffee", "zh-CN": "Fabrikam咖啡"}
TRY_TITLE = {
    "zh-CN": "Fabrikam咖啡满意度快速调查",
    "en": "Fabrikam Coffee quick satisfaction survey",
}
TRY_INTRODUCTION = {
    "zh-CN": "这是LoyaltyLab的演示问卷：两页简短的问题，约需两分钟。您的回答仅用于演示。",
    "en": "A LoyaltyLab demo questionnaire: two short pages, about two minutes. "
    "Your answers are only used for the demo.",
}
TRY_SECTIONS = (
    (
        "experience",
        {"zh-CN": "您对Fabrikam咖啡的体验", "en": "Your experience with Fabrikam Coffee"},
        ("SAT",),
    ),
    (
        "recommend",
        {"zh-CN": "推荐与建议", "en": "Recommending and improving"},
        ("nps", "improve"),
    ),
)
"""The short questionnaire's pages (code, title, library entries): satisfaction, then the NPS
and a comment."""
TRY_WAVE = "Open demo wave"
INVITED_COMPLETES = 240
"""Of the 300 customers invited to a wave, this many answer their personal link."""
PUBLIC_COMPLETES = 360
"""Complete answers through the wave's public link (anonymous, e.g. from a receipt QR code)."""
PUBLIC_PARTIALS = 30
"""Public-link respondents who stopped after the first page."""
CARELESS = {"speeding": 8, "straightlining": 6, "attention": 5}


@dataclass
class DemoSummary:
    study_name: str
    users: list[tuple[str, str]] = field(default_factory=list)
    waves: list[tuple[str, int]] = field(default_factory=list)
    """Name and number of complete responses of each demo wave."""
    report_job_id: int | None = None
    """The job of the client report of the latest wave, when this run queued it."""
    try_path: str = ""
    """The path of the public link of the short survey's open wave (``/s/...``)."""


def _organisation(session: Session, name: str, **values: object) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        org = Organisation(name=name, **values)
        session.add(org)
        session.flush()
    return org


def _study(session: Session, research: Organisation, name: str, **values: object) -> Study:
    """The agency's demo study of this name, created (with the agency's contact) if missing."""
    study = session.exec(
        select(Study).where(Study.organisation_id == research.id, Study.name == name)
    ).first()
    if study is None:
        study = Study(
            organisation_id=research.id,
            name=name,
            contact_name="Li Wei",
            contact_email="research@northwind.example",
            **values,
        )
        session.add(study)
        session.flush()
    return study


def _user(
    session: Session, *, email: str, name: str, role: Role, organisation: Organisation
) -> User:
    password = DEMO_PASSWORDS[role.value]
    user = session.exec(select(User).where(User.email == email)).first()
    if user is None:
        user = User(email=email, name=name, password_hash=hash_password(password))
        session.add(user)
        session.flush()
    elif not verify_password(user.password_hash, password):
        user.password_hash = hash_password(password)
        session.add(user)
    membership = session.exec(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    ).first()
    if membership is None:
        session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    session.flush()
    return user


def seed_demo(session: Session, queue: JobQueue | None = None) -> DemoSummary:
    """Create what is missing; with a ``queue``, also the client report of the latest wave (its
    job runs once the session commits: :func:`generate_demo_report`, or a consumer)."""
    research = _organisation(session, RESEARCH_ORG, kind=OrganisationKind.research)
    client = _organisation(
        session,
        CLIENT_ORG,
        kind=OrganisationKind.client,
        managing_organisation_id=research.id,
    )
    organisations = {RESEARCH_ORG: research, CLIENT_ORG: client}
    summary = DemoSummary(study_name=STUDY_NAME)
    users = {}
    for email, name, role, org_name in DEMO_USERS:
        users[role] = _user(
            session, email=email, name=name, role=role, organisation=organisations[org_name]
        )
        summary.users.append((email, role.value))
    study = _study(
        session,
        research,
        STUDY_NAME,
        client_organisation_id=client.id,
        company_name=COMPANY_NAME,
        description=(
            "Quarterly satisfaction and loyalty assessment of Contoso's retail customers: "
            "satisfaction, perceived value, trust and loyalty, with NPS."
        ),
    )
    version = _questionnaire(session, study, published_by=users[Role.owner])
    if version is not None:
        summary.waves = _waves(session, study, version)
    if queue is not None:
        summary.report_job_id = _client_report(session, study, queue)
    summary.try_path = _try_wave(session, research, published_by=users[Role.owner])
    return summary


def _try_wave(session: Session, research: Organisation, *, published_by: User) -> str:
    """The agency's short bilingual survey with its open wave, unless they exist; the path of
    the wave's public link.

    The study has no client organisation: the demo client's studies, dashboard and reports stay
    those of the loyalty study.
    """
    study = _study(
        session,
        research,
        TRY_STUDY_NAME,
        company_name=TRY_COMPANY_NAMES["en"],
        company_names=TRY_COMPANY_NAMES,
        description=(
            "A short satisfaction and NPS questionnaire in Chinese and English with an open "
            "wave: open its public link to answer it as a respondent would."
        ),
    )
    wave = session.exec(
        select(Wave).where(Wave.study_id == study.id, Wave.name == TRY_WAVE)
    ).first()
    if wave is None:
        version = _short_questionnaire(session, study, published_by=published_by)
        wave = fieldwork.create_wave(
            session,
            fieldwork.WaveSettings(name=TRY_WAVE),
            study_id=study.id,
            organisation_id=study.organisation_id,
            version_id=version.id,
        )
        fieldwork.open_wave(session, wave)
    return f"/s/{wave.public_slug}"


def _short_questionnaire(
    session: Session, study: Study, *, published_by: User
) -> QuestionnaireVersion:
    """The study's short questionnaire from the library, published (the first questionnaire of
    the study when it has one: publishing a published version changes nothing)."""
    existing = questionnaires.list_questionnaires(session, study.organisation_id, study_id=study.id)
    if existing:
        questionnaire = existing[0]
    else:
        questionnaire = questionnaires.create_questionnaire(
            session, organisation_id=study.organisation_id, study_id=study.id, template=None
        )
        questionnaires.save_details(
            session,
            study.organisation_id,
            questionnaire.id,
            title=TRY_TITLE,
            introduction=TRY_INTRODUCTION,
            languages=list(TRY_TITLE),
        )
        for section, (code, title, entries) in enumerate(TRY_SECTIONS):
            questionnaires.add_section(
                session, study.organisation_id, questionnaire.id, title=title, code=code
            )
            for entry in entries:
                questionnaires.add_from_library(
                    session, study.organisation_id, questionnaire.id, entry, section=section
                )
    return questionnaires.publish(
        session, study.organisation_id, questionnaire.id, user_id=published_by.id
    )


def _client_report(session: Session, study: Study, queue: JobQueue) -> int | None:
    """The report the client gets when a wave closes, for the latest demo wave, unless it has
    one already; the new report's job id."""
    latest = session.exec(
        select(Wave).where(Wave.study_id == study.id, Wave.name == DEMO_WAVES[-1][0])
    ).first()
    if latest is None:
        return None
    reported = session.exec(select(Report.wave_ids).where(Report.study_id == study.id)).all()
    if any(wave_ids == [latest.id] for wave_ids in reported):
        return None
    report = workflows.report_closed_wave(session, latest, queue)
    return report.job_id if report else None


def generate_demo_report(queue: JobQueue, job_id: int) -> None:
    """Run the committed report job now, in this process: the real job runner, so the demo is
    complete without a consumer (the queued huey message then finds the job done and skips it)."""
    queue.run(job_id)


def _questionnaire(
    session: Session, study: Study, *, published_by: User
) -> QuestionnaireVersion | None:
    """A published bilingual satisfaction -> value -> loyalty questionnaire, unless one exists.

    Returns the published version of the study's first questionnaire (None if it has none).
    """
    existing = questionnaires.list_questionnaires(session, study.organisation_id, study_id=study.id)
    if existing:
        return questionnaires.latest_published(session, study.organisation_id, existing[0].id)
    questionnaire = questionnaires.create_questionnaire(
        session, organisation_id=study.organisation_id, study_id=study.id, template="svl"
    )
    # An instructed-response item after the loyalty matrix, so the demo shows that quality flag.
    questionnaires.add_from_library(
        session, study.organisation_id, questionnaire.id, "attention", section=1, position=1
    )
    return questionnaires.publish(
        session, study.organisation_id, questionnaire.id, user_id=published_by.id
    )


def _waves(session: Session, study: Study, version: QuestionnaireVersion) -> list[tuple[str, int]]:
    """The demo customers and the two closed waves; a wave that exists is left as it is."""
    contacts = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=simulate_contacts(CONTACT_COUNT, seed=DEMO_SEED),
    )
    existing = {
        wave.name: wave for wave in session.exec(select(Wave).where(Wave.study_id == study.id))
    }
    definition = fieldwork.definition_for(session, version.id)
    summary = []
    for index, (name, opens_at, closes_at) in enumerate(DEMO_WAVES):
        wave = existing.get(name)
        if wave is None:
            wave = fieldwork.create_wave(
                session,
                fieldwork.WaveSettings(
                    name=name,
                    opens_at=opens_at,
                    closes_at=closes_at,
                    target=INVITED_COMPLETES + PUBLIC_COMPLETES,
                ),
                study_id=study.id,
                organisation_id=study.organisation_id,
                version_id=version.id,
            )
            fieldwork.open_wave(session, wave)
            _field(session, wave, definition, contacts, wave_index=index)
            fieldwork.close_wave(session, wave)
        completes = fieldwork.completes_by_cell(session, wave.id)
        summary.append((name, sum(completes.values())))
    return summary


def _field(
    session: Session,
    wave: Wave,
    definition: QuestionnaireDefinition,
    contacts: list[Contact],
    *,
    wave_index: int,
) -> None:
    """Invite every customer, then store the simulated answers in bulk (one INSERT)."""
    rng = np.random.default_rng([DEMO_SEED, wave_index])
    invitations = fieldwork.issue_invitations(session, wave, contacts, expires_at=wave.closes_at)
    answering = sorted(rng.choice(len(contacts), size=INVITED_COMPLETES, replace=False))
    respondents = [
        Respondent(
            person=int(position),
            tier=contacts[position].attributes.get("tier"),
            attributes=contacts[position].attributes,
        )
        for position in answering
    ] + [Respondent() for _ in range(PUBLIC_COMPLETES)]
    simulated = simulate_responses(
        definition, respondents, seed=DEMO_SEED, wave_index=wave_index, defects=CARELESS
    )
    field_days = (wave.closes_at - wave.opens_at).days
    rows: list[dict[str, Any]] = []
    for position, response in enumerate(simulated):
        invited = invitations[answering[position]] if position < len(answering) else None
        # Most answers arrive in the first days after the invitations go out.
        started = wave.opens_at + timedelta(
            minutes=float(min(rng.exponential(6.0), field_days - 1) * 24 * 60)
        )
        submitted = started + timedelta(seconds=response.duration_seconds)
        rows.append(
            _row(
                wave,
                channel=Channel.invitation if invited else Channel.web,
                contact_id=invited.contact.id if invited else None,
                invitation_id=invited.invitation.id if invited else None,
                language=response.language,
                status=ResponseStatus.complete,
                current_page=len(definition.sections) - 1,
                answer_values=response.answers,
                started_at=started,
                updated_at=submitted,
                submitted_at=submitted,
                duration_seconds=response.duration_seconds,
            )
        )
    rows += _partials(wave, definition, rng, wave_index=wave_index)
    ids = session.scalars(
        insert(Response).returning(Response.id, sort_by_parameter_order=True), rows
    ).all()
    used = [
        {"id": row["invitation_id"], "used_at": row["submitted_at"], "response_id": response_id}
        for row, response_id in zip(rows, ids, strict=True)
        if row["invitation_id"] is not None
    ]
    session.execute(update(WaveInvitation), used)
    session.flush()


def _partials(
    wave: Wave, definition: QuestionnaireDefinition, rng: np.random.Generator, *, wave_index: int
) -> list[dict[str, Any]]:
    """Public-link respondents who answered the first page and never came back."""
    simulated = simulate_responses(
        definition,
        [Respondent() for _ in range(PUBLIC_PARTIALS)],
        seed=DEMO_SEED + 1,
        wave_index=wave_index,
    )
    first_page = {
        code
        for item in definition.sections[0].items
        for code in (
            [row.code for row in item.rows] if isinstance(item, MatrixItem) else [item.code]
        )
    }
    codes = fieldwork.variable_codes(definition)
    rows = []
    for response in simulated:
        started = wave.opens_at + timedelta(days=float(rng.uniform(0, 30)))
        rows.append(
            _row(
                wave,
                channel=Channel.web,
                contact_id=None,
                invitation_id=None,
                language=response.language,
                status=ResponseStatus.partial,
                current_page=1,
                answer_values=[
                    value if code in first_page else None
                    for code, value in zip(codes, response.answers, strict=True)
                ],
                started_at=started,
                updated_at=started + timedelta(seconds=response.duration_seconds / 3),
                submitted_at=None,
                duration_seconds=None,
            )
        )
    return rows


def _row(wave: Wave, **values: Any) -> dict[str, Any]:
    return {
        "organisation_id": wave.organisation_id,
        "wave_id": wave.id,
        "questionnaire_version_id": wave.questionnaire_version_id,
        "interviewer_id": None,
        "excluded": False,
        "resume_token_hash": None,
        "quota_cell": None,
        **values,
    }
