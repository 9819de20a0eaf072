"""Fieldwork fixtures: a published bilingual questionnaire (every item type, display logic)
and an open wave fielding it."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab import workflows
from loyaltylab.accounts.models import Membership, Organisation, Role, User
from loyaltylab.deps import OrgContext
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Wave
from loyaltylab.jobs.queue import JobQueue, start_consumer
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, Respondent, publish
from tests.loyaltylab.tenancy_support import A_STUDY_NAME, CONTACT_EMAIL, CONTACT_PHONE


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
        fieldwork.WaveSettings(name="2026-Q3", quota_attribute="tier", quotas={"gold": 1}),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    fieldwork.open_wave(session, created)
    session.commit()
    return created


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
def alert_rule(session: Session, wave: Any) -> Any:
    """An alert rule on organisation A's wave."""
    from loyaltylab.followup.models import AlertKind, AlertRule

    rule = AlertRule(
        organisation_id=wave.organisation_id,
        wave_id=wave.id,
        kind=AlertKind.nps,
        target="nps",
        threshold=6,
    )
    session.add(rule)
    session.commit()
    return rule


@pytest.fixture
def followup_case(session: Session, study: Study, wave: Any, phone_response: Any) -> Any:
    """A follow-up case of organisation A's study, for its client's case handlers."""
    from datetime import UTC, datetime

    from loyaltylab.followup.models import FollowUpCase

    case = FollowUpCase(
        organisation_id=study.organisation_id,
        client_organisation_id=study.client_organisation_id,
        study_id=study.id,
        wave_id=wave.id,
        response_id=phone_response.id,
        due_at=datetime(2026, 7, 1, tzinfo=UTC),
    )
    session.add(case)
    session.commit()
    return case


@pytest.fixture
def improvement_action(session: Session, study: Study, wave: Any) -> Any:
    """An action planned on organisation A's study."""
    from loyaltylab.actions.models import ImprovementAction

    action = ImprovementAction(
        organisation_id=study.organisation_id,
        study_id=study.id,
        baseline_wave_id=wave.id,
        construct_code="SAT",
        description="Train the staff",
    )
    session.add(action)
    session.commit()
    return action


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
def organisation_api_key(session: Session, study: Study) -> Any:
    """An API key of organisation A (the owners' keys page revokes it)."""
    from loyaltylab.api.models import ApiKey, ApiScope

    created = ApiKey(
        organisation_id=study.organisation_id,
        name="Northwind CRM",
        prefix="llk_tenancy",
        key_hash="0" * 64,
        scope=ApiScope.write,
    )
    session.add(created)
    session.commit()
    return created


@pytest.fixture
def report_file_kind() -> Any:
    """A file kind, not an object: the route's report is A's."""
    from types import SimpleNamespace

    return SimpleNamespace(id="pdf")


@pytest.fixture
def webhook(session: Session, study: Study) -> Any:
    """Organisation A's webhook (its URL names A, so a leak would show)."""
    from loyaltylab.webhooks.models import WebhookSubscription

    subscription = WebhookSubscription(
        organisation_id=study.organisation_id,
        url="https://crm.northwind.example/hook",
        description="Northwind Research CRM",
        events=["wave.closed"],
        secret="whsec_northwind",
    )
    session.add(subscription)
    session.commit()
    return subscription


@pytest.fixture
def webhook_delivery(session: Session, webhook: Any) -> Any:
    from loyaltylab.webhooks.models import WebhookDelivery

    delivery = WebhookDelivery(
        organisation_id=webhook.organisation_id,
        subscription_id=webhook.id,
        event="wave.closed",
        event_id="a-event",
        body='{"organisation": "Northwind Research"}',
    )
    session.add(delivery)
    session.commit()
    return delivery


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


@pytest.fixture
def managed_client(
    session: Session, organisation: Organisation, client_organisation: Organisation
) -> Organisation:
    """The client company, managed by the research organisation (whose client-role members
    may then represent it)."""
    client_organisation.managing_organisation_id = organisation.id
    session.add(client_organisation)
    session.commit()
    return client_organisation


@pytest.fixture
def tenant_a(
    request: pytest.FixtureRequest,
    owner: User,
    study: Study,
    organisation: Organisation,
    client_organisation: Organisation,
) -> dict[str, Any]:
    """Organisation A with an owner, a client it manages, a study and whatever routes need."""
    client_organisation.managing_organisation_id = organisation.id
    study.name = A_STUDY_NAME
    session: Session = request.getfixturevalue("session")
    session.add_all([client_organisation, study])
    session.commit()
    return {"organisation": organisation, "client": client_organisation, "owner": owner}


# CI names its Redis and then requires it; elsewhere a local Redis is used when one answers.
REQUIRED_REDIS_URL = os.environ.get("LOYALTYLAB_TEST_REDIS_URL")
REDIS_URL = REQUIRED_REDIS_URL or "redis://127.0.0.1:6379/0"


def _redis_available() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS_URL, socket_timeout=1).ping())
    except redis.RedisError:
        if REQUIRED_REDIS_URL:
            raise
        return False


@pytest.fixture(params=["sqlite", "redis"])
def queue(request: pytest.FixtureRequest, settings: Settings, tmp_path: Path) -> Iterator[JobQueue]:
    """A queue with a consumer of two worker threads; Redis under a queue name of its own."""
    if request.param == "redis":
        if not _redis_available():
            pytest.skip(f"no Redis at {REDIS_URL}")
        job_queue = workflows.job_queue(
            settings.model_copy(update={"redis_url": REDIS_URL}),
            name=f"loyaltylab-test-{uuid.uuid4().hex}",
        )
    else:
        job_queue = workflows.job_queue(settings, name="test", sqlite_path=tmp_path / "jobs.db")
    assert (
        type(job_queue.huey).__name__
        == {"sqlite": "SqliteHuey", "redis": "RedisHuey"}[request.param]
    )
    consumer = start_consumer(job_queue, workers=2)
    yield job_queue
    consumer.stop(graceful=True)
    job_queue.huey.flush()
    job_queue.close()
