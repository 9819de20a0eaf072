"""Fieldwork fixtures: a published bilingual questionnaire (every item type, display logic)
and an open wave fielding it."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, Role, User
from loyaltylab.deps import OrgContext
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Wave
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, publish
from tests.loyaltylab.tenancy_support import CONTACT_EMAIL, CONTACT_PHONE


@pytest.fixture
def researcher(
    client: TestClient, organisation: Organisation, make_member: Callable, login: Callable
) -> TestClient:
    """The test client, signed in as a researcher of the organisation."""
    make_member(organisation, email="researcher@northwind.example", role=Role.researcher)
    login(client, "researcher@northwind.example")
    return client


@pytest.fixture
def ctx(session: Session, owner: User, organisation: Organisation) -> OrgContext:
    """The owner's request context, for calling services as a signed-in owner would."""
    membership = session.exec(select(Membership).where(Membership.user_id == owner.id)).one()
    return OrgContext(user=owner, organisation=organisation, membership=membership)


@pytest.fixture
def version(session: Session, study: Study) -> QuestionnaireVersion:
    return publish(session, study, FIELDWORK_QUESTIONNAIRE)


@pytest.fixture
def wave(session: Session, study: Study, version: QuestionnaireVersion) -> Wave:
    created = fieldwork.create_wave(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
        name="2026-Q3",
        quota_attribute="tier",
        quotas={"gold": 1},
    )
    fieldwork.open_wave(session, created)
    session.commit()
    return created


FORM_FIELD = re.compile(r'name="(csrf_token|submission_key)" value="([^"]+)"')


class Respondent:
    """Drives a test client through the respondent pages as a browser without JavaScript."""

    def __init__(self, client: Any, base: str) -> None:
        self.client = client
        self.base = base
        self.last_form: dict[str, str] = {}

    def get(self, path: str = "") -> Any:
        response = self.client.get(self.base + path)
        self.last_form = dict(FORM_FIELD.findall(response.text))
        return response

    def post(self, path: str, data: dict[str, Any], *, form: dict[str, str] | None = None) -> Any:
        return self.client.post(
            self.base + path, data={**(form or self.last_form), **data}, follow_redirects=False
        )

    def consent(self) -> Any:
        self.get()
        return self.post("/start", {"consent": "yes"})

    def answer(self, page: int, data: dict[str, Any], action: str = "next") -> Any:
        self.get(f"/page/{page}")
        return self.post(f"/page/{page}", {**data, "action": action})


@pytest.fixture
def respondent():
    """``respondent(client, "/s/slug")`` -> a :class:`Respondent`."""
    return Respondent


@pytest.fixture
def phone_response(session: Session, wave: Any) -> Any:
    """A telephone interview of organisation A's wave (``wave`` from tests/loyaltylab/conftest)."""
    from loyaltylab.fieldwork.models import Channel
    from loyaltylab.respond import service as respondent

    claim = respondent.claim_submission(
        session, "tenancy-phone", organisation_id=wave.organisation_id
    )
    response = respondent.start_response(
        session, wave, channel=Channel.phone, language="en", claim=claim
    )
    session.commit()
    return response


@pytest.fixture
def contact(session: Session, study: Study) -> Any:
    """A contact of organisation A's study, with personal data a client must never see."""
    from loyaltylab.fieldwork import service as fieldwork

    (created,) = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[
            {
                "external_id": "C-0001",
                "email": CONTACT_EMAIL,
                "phone": CONTACT_PHONE,
                "attributes": {"tier": "gold"},
            }
        ],
    )
    session.commit()
    return created


@pytest.fixture
def first_page() -> Any:
    """A page index, not an object: the route's wave and response are A's."""
    from types import SimpleNamespace

    return SimpleNamespace(id=0)


@pytest.fixture
def questionnaire(session: Session, study: Study) -> Any:
    from loyaltylab.questionnaires import service

    created = service.create_questionnaire(
        session, organisation_id=study.organisation_id, study_id=study.id
    )
    session.commit()
    return created


@pytest.fixture
def questionnaire_item(questionnaire: Any) -> Any:
    """The code of an item of organisation A's questionnaire, as the ``{code}`` path value."""
    from types import SimpleNamespace

    return SimpleNamespace(id="sat")


@pytest.fixture
def report(session: Session, study: Study, wave: Any) -> Any:
    """A generated report of organisation A's study, shared with its client, with a file of
    every kind."""
    from loyaltylab.reports_web.models import FILE_KINDS, Report, ReportFile
    from loyaltylab.timeutil import utcnow

    created = Report(
        shared_at=utcnow(),
        generated_at=utcnow(),
        organisation_id=study.organisation_id,
        study_id=study.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        title="Northwind private report",
        language="en",
        formats=["pdf"],
        wave_ids=[wave.id],
    )
    session.add(created)
    session.flush()
    session.add_all(
        ReportFile(report_id=created.id, kind=kind, size=1, content=b"x") for kind in FILE_KINDS
    )
    session.commit()
    return created


@pytest.fixture
def report_file_kind() -> Any:
    """A file kind, not an object: the route's report is A's."""
    from types import SimpleNamespace

    return SimpleNamespace(id="pdf")


@pytest.fixture
def owner_session(session: Session, owner: User, settings: Settings) -> Any:
    """A signed-in browser of organisation A's owner (the account page lists and ends them)."""
    from loyaltylab.accounts import service as accounts
    from loyaltylab.accounts.models import UserSession

    token = accounts.start_session(session, settings, owner, user_agent="Firefox/140", ip="")
    session.commit()
    return session.exec(
        select(UserSession).where(UserSession.token_hash == accounts.token_digest(token))
    ).one()


@pytest.fixture
def researcher_membership(
    session: Session, organisation: Organisation, make_member: Callable[..., User]
) -> Membership:
    user = make_member(organisation, email="researcher@northwind.example", role=Role.researcher)
    return session.exec(select(Membership).where(Membership.user_id == user.id)).one()
