"""Every download of respondent data is in the audit log: one row per download, with the user,
the organisation whose data it is, the object and the format.

The downloads are found by walking every GET route of the app (as the tenancy tests do) and
keeping the answers that are attachments, so a download added later is covered without
editing this file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlmodel import Session, func, select

from loyaltylab.accounts.models import Organisation, Role, User
from loyaltylab.audit.models import AuditEvent
from loyaltylab.reports_web.models import FILE_KINDS
from loyaltylab.security import CSRF_HEADER
from tests.loyaltylab.tenancy_support import ENDPOINTS, PATH_PARAM_FIXTURES
from tests.web_support import csrf_from

# Attachments that hold no respondent data: the questionnaire itself.
# A questionnaire's file and a wave's printed poster (its public link) hold no answers.
NOT_RESPONDENT_DATA = frozenset(
    {"GET /questionnaires/{questionnaire_id}/export", "GET /waves/{wave_id}/poster.pdf"}
)
# Downloads that are answers to a form (a POST), listed because the walk covers GETs only.
POST_DOWNLOADS = ("/waves/{wave_id}/invitations/links",)


def _events(session: Session) -> list[AuditEvent]:
    session.expire_all()
    return list(session.exec(select(AuditEvent).order_by(AuditEvent.id)).all())


def _downloads(request: pytest.FixtureRequest) -> list[tuple[str, str, dict[str, str]]]:
    """(label, URL, path values) of every GET route's request, one per report file kind."""
    requests = []
    for endpoint in ENDPOINTS:
        if endpoint.method != "GET" or endpoint.is_public:
            continue
        values = {
            name: str(request.getfixturevalue(PATH_PARAM_FIXTURES[name]).id)
            for name in endpoint.path_params
        }
        for kind in FILE_KINDS if "kind" in values else [None]:
            if kind is not None:
                values = {**values, "kind": kind}
            url = endpoint.path.format(**values) + ("?download=true" if kind else "")
            requests.append((endpoint.label, url, values))
    return requests


def test_every_download_of_respondent_data_is_audited(
    request: pytest.FixtureRequest,
    client: TestClient,
    session: Session,
    owner: User,
    organisation: Organisation,
    report: Any,
    login: Callable,
) -> None:
    login(client, owner.email)
    downloaded: dict[str, set[str]] = {}
    for label, url, values in _downloads(request):
        before = len(_events(session))
        response = client.get(url, follow_redirects=False)
        if not response.headers.get("content-disposition", "").startswith("attachment"):
            continue
        assert response.status_code == 200, url
        if label in NOT_RESPONDENT_DATA:
            continue
        new = _events(session)[before:]
        assert len(new) == 1, f"{url}: {len(new)} audit rows"
        (event,) = new
        assert (event.user_id, event.user_email) == (owner.id, owner.email), url
        assert event.organisation_id == organisation.id, url
        assert event.object_id in values.values(), url
        assert event.details["format"], url
        downloaded.setdefault(label, set()).add(event.details["format"])
    assert downloaded == {
        "GET /studies/{study_id}/exports/data.csv": {"csv"},
        "GET /studies/{study_id}/exports/data.xlsx": {"xlsx"},
        "GET /studies/{study_id}/exports/data.sav": {"sav"},
        "GET /studies/{study_id}/exports/codebook.csv": {"codebook"},
        "GET /waves/{wave_id}/export.csv": {"csv"},
        "GET /waves/{wave_id}/export.xlsx": {"xlsx"},
        "GET /reports/{report_id}/files/{kind}": set(FILE_KINDS),
    }


def test_the_invitation_links_download_is_audited(
    client: TestClient, session: Session, owner: User, wave: Any, contact: Any, login: Callable
) -> None:
    login(client, owner.email)
    client.headers[CSRF_HEADER] = csrf_from(client, "/account")
    (path,) = POST_DOWNLOADS
    response = client.post(path.format(wave_id=wave.id))
    assert response.headers["content-disposition"].startswith("attachment")
    (event,) = _events(session)
    assert (event.action, event.object_id, event.user_id) == (
        "export.links",
        str(wave.id),
        owner.id,
    )
    assert event.details == {"format": "csv", "contacts": 1}


def test_a_clients_report_download_is_in_the_research_organisations_log(
    client: TestClient,
    session: Session,
    organisation: Organisation,
    client_organisation: Organisation,
    report: Any,
    make_member: Callable,
    login: Callable,
) -> None:
    reader = make_member(client_organisation, email="cfo@contoso.example", role=Role.owner)
    login(client, reader.email)
    response = client.get(f"/reports/{report.id}/files/pdf")
    assert response.status_code == 200
    (event,) = _events(session)
    assert event.organisation_id == organisation.id
    assert (event.user_id, event.action, event.object_id) == (
        reader.id,
        "export.report",
        str(report.id),
    )
    assert session.exec(select(func.count()).select_from(AuditEvent)).one() == 1
