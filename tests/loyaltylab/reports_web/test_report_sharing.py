"""Reports reach the commissioning client when shared; the client sees its dashboard and those
reports and nothing of the fieldwork; the progress panel shows one state; a bootstrap with
nothing to bootstrap is refused before a job starts; the response rate stays below 100%."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from loyaltylab.accounts.models import Organisation, Role, User
from loyaltylab.audit.models import AuditEvent
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Contact, Response, ResponseStatus, Wave
from loyaltylab.jobs.models import Job, JobKind, JobStatus
from loyaltylab.mail import OutboxMessage
from loyaltylab.notifications.models import Notification
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web import service
from loyaltylab.reports_web.models import FILE_KINDS, Report, ReportFile
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow
from loyaltylab.workflows import job_queue
from surveys.simulate import Respondent, simulate_responses
from tests.loyaltylab.reports_support import fielded_waves

CLIENT_EMAIL = "viewer@contoso.example"
UNSHARED_TITLE = "Researchers' working draft"
DRAFT_WAVE = "2027-Q1 (draft)"


@pytest.fixture
def waves(session: Session, study: Study, managed_client: Organisation):
    return fielded_waves(session, study, names=("2026-Q2", "2026-Q3"), completes=60)


@pytest.fixture
def client_user(
    app: FastAPI, client_organisation: Organisation, make_member: Callable, login: Callable
) -> TestClient:
    make_member(client_organisation, email=CLIENT_EMAIL, role=Role.client)
    browser = TestClient(app, base_url="https://testserver")
    login(browser, CLIENT_EMAIL)
    return browser


@pytest.fixture
def researcher(app: FastAPI, owner: User, login: Callable) -> TestClient:
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    return browser


def _report(session: Session, study: Study, wave: Wave, title: str, *, generated: bool) -> Report:
    """A researcher's report of the study (generated: with its files), made by no job here."""
    author = session.exec(select(User).order_by(User.id)).first()
    report = Report(
        organisation_id=study.organisation_id,
        study_id=study.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        title=title,
        language="en",
        formats=["pdf"],
        wave_ids=[wave.id],
        created_by=author.id,
        generated_at=utcnow() if generated else None,
    )
    session.add(report)
    session.flush()
    if generated:
        session.add_all(
            ReportFile(report_id=report.id, kind=kind, size=4, content=b"%PDF")
            for kind in FILE_KINDS
        )
    session.commit()
    return report


def _post(browser: TestClient, page: str, action: str, csrf: Callable, **data: str) -> Any:
    return browser.post(
        action, data={"csrf_token": csrf(browser, page), **data}, follow_redirects=False
    )


def test_a_report_reaches_the_client_once_shared_and_leaves_when_unshared(
    session: Session,
    study: Study,
    waves: list[Wave],
    owner: User,
    researcher: TestClient,
    client_user: TestClient,
    csrf: Callable,
) -> None:
    report = _report(session, study, waves[-1], "Tracker Q3", generated=True)
    urls = [f"/reports/{report.id}", f"/reports/{report.id}/files/pdf"]
    assert "Tracker Q3" not in client_user.get(f"/studies/{study.id}/reports").text
    assert [client_user.get(url).status_code for url in urls] == [404, 404]

    shared = _post(researcher, urls[0], f"/reports/{report.id}/share", csrf, shared="1")
    assert shared.status_code == 303
    listing = client_user.get(f"/studies/{study.id}/reports").text
    assert "Tracker Q3" in listing and "The reports the research team has shared" in listing
    assert [client_user.get(url).status_code for url in urls] == [200, 200]
    session.expire_all()
    (notice,) = session.exec(select(Notification)).all()
    (mail,) = session.exec(select(OutboxMessage)).all()
    assert notice.report_id == report.id and mail.to == CLIENT_EMAIL
    assert mail.subject == f"A report on {study.name} has been shared with you"
    assert f"/reports/{report.id}" in mail.body
    page = researcher.get(urls[0]).text
    assert "Shared with Contoso Retail since" in page and "Stop sharing" in page
    # Besides the share, the audit log holds the client's download of the file.
    (event,) = session.exec(select(AuditEvent).where(AuditEvent.action == "report.share")).all()
    assert (event.object_id, event.details) == (str(report.id), {"shared": True})
    (download,) = session.exec(select(AuditEvent).where(AuditEvent.action == "export.report")).all()
    assert download.object_id == str(report.id)

    _post(researcher, urls[0], f"/reports/{report.id}/share", csrf, shared="0")
    assert [client_user.get(url).status_code for url in urls] == [404, 404]
    assert "Tracker Q3" not in client_user.get(f"/studies/{study.id}/reports").text
    # A client cannot share: the form is not theirs (404 as for any report not shown).
    refused = client_user.post(
        f"/reports/{report.id}/share",
        data={"csrf_token": csrf(client_user, "/studies"), "shared": "1"},
    )
    assert refused.status_code == 404


@pytest.mark.slow
def test_auto_share_shares_new_reports_and_tells_the_client_when_ready(
    app: FastAPI,
    session: Session,
    settings,
    study: Study,
    waves: list[Wave],
    researcher: TestClient,
    client_user: TestClient,
    csrf: Callable,
    tmp_path: Path,
) -> None:
    app.state.job_queue = queue = job_queue(settings, sqlite_path=tmp_path / "jobs.db")
    page = f"/studies/{study.id}/reports"
    assert "Share every new report with Contoso Retail" in researcher.get(page).text
    _post(researcher, page, f"/studies/{study.id}/reports/sharing", csrf, share_reports="1")
    created = _post(
        researcher,
        page,
        page,
        csrf,
        title="Auto-shared",
        language="en",
        formats="pdf",
        wave_ids=str(waves[0].id),
        bootstrap="0",
    )
    assert created.status_code == 303
    session.expire_all()
    report = session.exec(select(Report)).one()
    assert report.shared_at is not None and report.notify_client
    # Shared, but not generated yet: the client sees nothing, and nobody has been told.
    assert "Auto-shared" not in client_user.get(page).text
    assert session.exec(select(Notification)).all() == []

    queue.huey.execute(queue.huey.dequeue())
    queue.close()
    session.expire_all()
    assert session.get(Job, report.job_id).status == JobStatus.done
    assert "Auto-shared" in client_user.get(page).text
    (mail,) = session.exec(select(OutboxMessage)).all()
    assert "“Auto-shared”" in mail.body and "2026-Q2" in mail.body


def test_what_the_client_sees_has_no_fieldwork_and_every_link_opens(
    session: Session,
    study: Study,
    waves: list[Wave],
    client_user: TestClient,
) -> None:
    shared = _report(session, study, waves[-1], "Shared with Contoso", generated=True)
    shared.shared_at = utcnow()
    session.add(shared)
    _report(session, study, waves[-1], UNSHARED_TITLE, generated=True)
    fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(name=DRAFT_WAVE),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=waves[-1].questionnaire_version_id,
    )
    session.commit()
    pseudonyms = [c.pseudonym for c in session.exec(select(Contact)).all()]
    # Walk every link the client is shown, from the studies page on.
    queue, seen, pages = ["/studies"], set(), {}
    while queue and len(seen) < 80:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.add(url)
        response = client_user.get(url)
        assert response.status_code == 200, f"{url}: {response.status_code}"
        if response.headers["content-type"].startswith("text/html"):
            pages[url] = response.text
            for link in re.findall(r'href="(/[^"#]*)"', response.text):
                path = urlsplit(link).path
                if not path.startswith(("/static/", "/logout")):
                    queue.append(link.replace("&amp;", "&"))
    assert f"/studies/{study.id}/dashboard" in seen and f"/reports/{shared.id}" in seen
    assert f"/reports/{shared.id}/files/pdf" in seen
    for url, text in pages.items():
        for secret in (UNSHARED_TITLE, DRAFT_WAVE, "/waves/", "qr.png", *pseudonyms):
            assert secret not in text, f"{url} shows {secret!r}"


def test_the_progress_panel_shows_one_state(
    session: Session, study: Study, waves: list[Wave], researcher: TestClient
) -> None:
    report = _report(session, study, waves[-1], "Being made", generated=False)
    job = Job(
        kind=JobKind.report,
        organisation_id=study.organisation_id,
        subject_id=report.id,
        status=JobStatus.running,
        percent=40,
        stage="analysis",
        started_at=utcnow() - timedelta(seconds=30),
    )
    session.add(job)
    session.flush()
    report.job_id = job.id
    session.add(report)
    session.commit()
    state = researcher.get(f"/reports/{report.id}/status.json").json()
    page = researcher.get(f"/reports/{report.id}").text
    panel = page[page.index('class="card job"') : page.index("</section>", page.index("card job"))]
    assert (state["status_label"], state["percent"]) == ("Generating", 40)
    assert re.search(r"<h2 [^>]*data-status>Generating</h2>", panel)
    assert 'value="40"' in panel and "40%" in panel and "Estimating the model" in panel
    # No second, contradictory message ("reload to see it") inside a page that updates itself.
    assert "reload" not in panel.lower() and "Queued" not in panel


def test_a_bootstrap_with_nothing_to_bootstrap_is_refused_before_a_job(
    session: Session, study: Study, researcher: TestClient, csrf: Callable
) -> None:
    (wave,) = fielded_waves(
        session, study, names=("2026-Q2",), completes=60, model="VAL ~ SAT\nLOY ~ SAT + VAL"
    )
    page = f"/studies/{study.id}/reports"
    fields = {"language": "en", "formats": "pdf", "wave_ids": str(wave.id), "bootstrap": "500"}
    refused = _post(researcher, page, page, csrf, **fields)
    assert refused.status_code == 400
    assert "The model defines no indirect effect, so there is nothing to bootstrap" in refused.text
    chinese = researcher.post(
        page,
        data={"csrf_token": csrf(researcher, page), **fields},
        headers={"Accept-Language": "zh-CN"},
    )
    assert "模型未定义间接效应" in chinese.text
    assert session.exec(select(func.count(Report.id))).one() == 0
    assert session.exec(select(func.count(Job.id))).one() == 0


def test_the_svl_template_defines_the_indirect_effect_it_promises() -> None:
    from analysis.syntax import parse_model
    from surveys import library

    for template in library.templates():
        promised = any(
            word in text.lower()
            for text in template.description.values()
            for word in ("indirect", "间接")
        )
        spec = parse_model(template.model)
        labels = {row.label for row in spec.rows if row.label}
        if promised:
            assert spec.defined, f"{template.code} promises an indirect effect"
        for defined in spec.defined:
            assert set(defined.expression.names) <= labels, template.code


def test_the_response_rate_counts_personal_links_only(
    session: Session, study: Study, client_organisation: Organisation
) -> None:
    """The demo's make-up: 4 invited, 3 answer their link, 6 answer the public link."""
    (wave,) = fielded_waves(session, study, names=("2026-Q2",), completes=6)
    contacts = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": str(i), "attributes": {"tier": "gold"}} for i in range(4)],
    )
    invitations = fieldwork.issue_invitations(session, wave, contacts)
    definition = questionnaires.definition_of(
        session.get(QuestionnaireVersion, wave.questionnaire_version_id)
    )
    answers = simulate_responses(definition, [Respondent() for _ in range(3)], seed=3)
    for invited, answer in zip(invitations, answers, strict=False):
        response = Response(
            organisation_id=study.organisation_id,
            wave_id=wave.id,
            questionnaire_version_id=wave.questionnaire_version_id,
            channel=Channel.invitation,
            contact_id=invited.contact.id,
            invitation_id=invited.invitation.id,
            language="en",
            status=ResponseStatus.complete,
            answer_values=answer.answers,
            submitted_at=utcnow(),
        )
        session.add(response)
        invited.invitation.used_at = utcnow()
        session.add(invited.invitation)
    session.commit()
    report = Report(
        organisation_id=study.organisation_id,
        study_id=study.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        title="Rate",
        language="en",
        wave_ids=[wave.id],
        response_ids=service.included_response_ids(session, [wave.id]),
        options={"model": "LOY ~ SAT"},
    )
    request = service.report_request(session, report, definition, None)
    fieldwork_figures = request.fieldwork
    assert (fieldwork_figures.invitations, fieldwork_figures.invited_completes) == (4, 3)
    assert fieldwork_figures.public_completes == 6 and fieldwork_figures.completes == 9
    assert fieldwork_figures.response_rate == pytest.approx(75.0)
