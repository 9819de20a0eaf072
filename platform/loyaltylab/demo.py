"""The demo: a research agency, its client, three users and a loyalty study. Idempotent."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from loyaltylab.security import hash_password, verify_password
from loyaltylab.studies.models import Study
from surveys import service as questionnaires

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


@dataclass
class DemoSummary:
    study_name: str
    users: list[tuple[str, str]] = field(default_factory=list)


def _organisation(session: Session, name: str, **values: object) -> Organisation:
    org = session.exec(select(Organisation).where(Organisation.name == name)).first()
    if org is None:
        org = Organisation(name=name, **values)
        session.add(org)
        session.flush()
    return org


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


def seed_demo(session: Session) -> DemoSummary:
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
    study = session.exec(
        select(Study).where(Study.organisation_id == research.id, Study.name == STUDY_NAME)
    ).first()
    if study is None:
        study = Study(
            organisation_id=research.id,
            client_organisation_id=client.id,
            name=STUDY_NAME,
            company_name=COMPANY_NAME,
            description=(
                "Quarterly satisfaction and loyalty assessment of Contoso's retail customers: "
                "satisfaction, perceived value, trust and loyalty, with NPS."
            ),
        )
        session.add(study)
        session.flush()
    _questionnaire(session, study, published_by=users[Role.owner])
    return summary


def _questionnaire(session: Session, study: Study, *, published_by: User) -> None:
    """A published bilingual satisfaction -> value -> loyalty questionnaire, unless one exists."""
    if questionnaires.list_questionnaires(session, study.organisation_id, study_id=study.id):
        return
    questionnaire = questionnaires.create_questionnaire(
        session, organisation_id=study.organisation_id, study_id=study.id, template="svl"
    )
    questionnaires.publish(
        session, study.organisation_id, questionnaire.id, user_id=published_by.id
    )
