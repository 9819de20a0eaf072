"""Client users, enumerated over every route: their own commissioned studies' dashboards and
shared reports only; never another client's study, fieldwork internals (waves, links, QR codes,
response lists), contact data, raw exports or researcher tools.

Organisation A (research) runs a study commissioned by client C and one commissioned by client
D. A user of C walks every route of the app with the ids of C's study, then with D's. The user of
C is either a member of C's own organisation or a client-role member of A representing C: both
must reach exactly the same.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.studies.models import Study
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE, publish
from tests.loyaltylab.tenancy_support import (
    CONTACT_EMAIL,
    CONTACT_PHONE,
    ENDPOINTS,
    UNSAFE_METHODS,
    endpoint_url,
    footprint,
    form_data,
    path_values,
    walking_order,
)

# Forms a client may submit: the probe's placeholder values are refused as invalid input (400),
# which shows that the route let the client through.
CLIENT_FORMS = frozenset(
    {"POST /studies/{study_id}/actions", "POST /studies/{study_id}/actions/{action_id}/status"}
)
# What a client user may open for a study commissioned by their organisation (200 or a redirect).
CLIENT_ALLOWED = frozenset(
    {
        "GET /",
        "GET /studies",
        "GET /studies/{study_id}",
        "GET /studies/{study_id}/dashboard",
        "GET /org/members",
        "GET /api/session/me",
        "GET /api/session/studies",
        # Reports shared with the client (their data bundle is refused: see below).
        "GET /studies/{study_id}/reports",
        "GET /reports/{report_id}",
        "GET /reports/{report_id}/status.json",
        "GET /reports/{report_id}/view",
        "GET /reports/{report_id}/files/{kind}",
        # The action plan on the dashboard: researchers and the client's users plan actions.
        *CLIENT_FORMS,
    }
)
# Routes any signed-in user reaches whatever the role, not about a study (own account, jobs).
ROLE_INDEPENDENT_PREFIXES = ("/account", "/jobs")


CLIENT_KINDS = ("member of the client organisation", "client-role member of the research one")


@pytest.fixture(params=CLIENT_KINDS)
def client_kind(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def client_user(
    app: FastAPI,
    client_kind: str,
    study: Study,
    managed_client: Organisation,
    organisation: Organisation,
    session: Session,
    make_member: Callable[..., Any],
    login: Callable[..., None],
) -> TestClient:
    """A signed-in user of company C, as either kind of client user."""
    if client_kind == CLIENT_KINDS[0]:
        make_member(managed_client, email="viewer@contoso.example", role=Role.client)
    else:
        user = make_member(organisation, email="viewer@contoso.example", role=Role.client)
        membership = session.exec(select(Membership).where(Membership.user_id == user.id)).one()
        membership.client_organisation_id = managed_client.id
        session.add(membership)
        session.commit()
    browser = TestClient(app, base_url="https://testserver")
    login(browser, "viewer@contoso.example")
    return browser


@pytest.fixture
def client_allowed(client_kind: str) -> frozenset[str]:
    """What this client user may do: a member of A may also switch to A (its own membership)."""
    return CLIENT_ALLOWED | ({"POST /org/switch"} if client_kind == CLIENT_KINDS[1] else set())


@pytest.fixture
def other_client_study(session: Session, organisation: Organisation) -> dict[str, Any]:
    """A study of A commissioned by client D, with a published version and a wave."""
    client_d = Organisation(
        name="Dunder Paper", kind=OrganisationKind.client, managing_organisation_id=organisation.id
    )
    session.add(client_d)
    session.commit()
    study_d = Study(
        organisation_id=organisation.id,
        client_organisation_id=client_d.id,
        name="Dunder private tracker",
    )
    session.add(study_d)
    session.commit()
    version = publish(session, study_d, FIELDWORK_QUESTIONNAIRE)
    wave = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(name="D-1"),
        study_id=study_d.id,
        organisation_id=organisation.id,
        version_id=version.id,
    )
    session.commit()
    return {"study": study_d, "wave": wave}


def _path_values(
    endpoint: Any, request: pytest.FixtureRequest, ids: dict[str, str] | None = None
) -> dict[str, str]:
    """The fixtures' values of ``endpoint``'s path parameters, ``ids`` replacing those it names
    (the fixtures are made here: before a test takes the data's footprint)."""
    values = path_values(endpoint, request)
    assert not isinstance(values, str), values
    return values | {name: value for name, value in (ids or {}).items() if name in values}


def _request(
    browser: TestClient,
    endpoint: Any,
    values: dict[str, str],
    tenant: dict[str, Organisation],
    csrf: Callable,
):
    """``endpoint`` requested by ``browser`` at the path ``values``, with a form the tenant's
    organisations could post."""
    url = endpoint_url(endpoint, values)
    if endpoint.method in UNSAFE_METHODS:
        data = {**form_data(endpoint, tenant), "csrf_token": csrf(browser, "/studies")}
        return browser.request(endpoint.method, url, data=data, follow_redirects=False)
    return browser.get(url, follow_redirects=False)


@pytest.mark.slow
def test_a_client_reaches_only_the_allowed_routes_of_its_own_study(
    client_user: TestClient,
    client_allowed: frozenset[str],
    engine: Engine,
    study: Study,
    organisation: Organisation,
    client_organisation: Organisation,
    request: pytest.FixtureRequest,
    csrf: Callable,
) -> None:
    tenant = {"organisation": organisation, "client": client_organisation}
    ids = {organisation.id, client_organisation.id}
    problems, allowed_seen = [], set()
    for endpoint in sorted(ENDPOINTS, key=walking_order):
        if endpoint.is_public or endpoint.path.startswith(ROLE_INDEPENDENT_PREFIXES):
            continue
        values = _path_values(endpoint, request)
        before = footprint(engine, ids)
        response = _request(client_user, endpoint, values, tenant, csrf)
        status = response.status_code
        if endpoint.label in client_allowed:
            allowed_seen.add(endpoint.label)
            reached = (200, 303, 400) if endpoint.label in CLIENT_FORMS else (200, 303)
            if status not in reached:
                problems.append(f"{endpoint.label}: {status}, a client should reach it")
        elif status not in (403, 404):
            problems.append(f"{endpoint.label}: {status}, expected 403 or 404 for a client")
        for secret in (CONTACT_EMAIL, CONTACT_PHONE):
            if secret in response.text:
                problems.append(f"{endpoint.label}: shows a contact's {secret!r} to a client")
        if endpoint.label not in client_allowed and footprint(engine, ids) != before:
            problems.append(f"{endpoint.label}: a client changed data")
    assert allowed_seen == client_allowed, "an allowed route no longer exists"
    assert not problems, "\n".join(problems)


def test_a_client_reaches_nothing_of_another_clients_study(
    client_user: TestClient,
    other_client_study: dict[str, Any],
    organisation: Organisation,
    client_organisation: Organisation,
    request: pytest.FixtureRequest,
    csrf: Callable,
) -> None:
    tenant = {"organisation": organisation, "client": client_organisation}
    d_ids = {
        "study_id": str(other_client_study["study"].id),
        "wave_id": str(other_client_study["wave"].id),
    }
    problems, checked = [], 0
    for endpoint in sorted(ENDPOINTS, key=walking_order):
        params = set(endpoint.path_params)
        if endpoint.is_public or not params & d_ids.keys():
            continue
        values = _path_values(endpoint, request, d_ids)
        response = _request(client_user, endpoint, values, tenant, csrf)
        checked += 1
        if response.status_code not in (403, 404):
            problems.append(f"{endpoint.label} with D's ids: {response.status_code}")
        if "Dunder" in response.text:
            problems.append(f"{endpoint.label}: shows D's study to C's user")
    assert "Dunder" not in client_user.get("/studies").text
    assert checked >= 10
    assert not problems, "\n".join(problems)


def test_raw_exports_are_refused_to_clients_and_served_to_researchers(
    client_user: TestClient,
    wave: Any,
    report: Any,
    owner: Any,
    app: FastAPI,
    login: Callable[..., None],
) -> None:
    assert client_user.get(f"/waves/{wave.id}/export.csv").status_code == 403
    assert client_user.get(f"/reports/{report.id}/files/bundle").status_code in (403, 404)
    researcher = TestClient(app, base_url="https://testserver")
    login(researcher, owner.email)
    response = researcher.get(f"/waves/{wave.id}/export.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")


def test_the_clients_study_page_offers_its_dashboard_and_shared_reports_only(
    client_user: TestClient, study: Study, wave: Any
) -> None:
    page = client_user.get(f"/studies/{study.id}").text
    links = set(re.findall(r'href="(/(?:studies|waves|questionnaires|reports)[^"#]*)', page))
    assert links == {"/studies", f"/studies/{study.id}/dashboard", f"/studies/{study.id}/reports"}
    assert 'id="next-title"' not in page  # the research team's next step
    assert wave.name not in page
