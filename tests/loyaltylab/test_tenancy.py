"""Every route of the app, enumerated: sign-in required, CSRF enforced, other tenants get 404.

The routes are read from the application itself, so routes added later are covered without
editing this file, except for two maps a new route may need: ``PATH_PARAM_FIXTURES`` (which
fixture creates organisation A's object for a path parameter) and ``FORM_VALUES`` (a valid value
for a form field, so the request reaches the tenancy check instead of stopping at validation).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from tests.loyaltylab.tenancy_support import (
    A_MARKERS,
    ENDPOINTS,
    PUBLIC_ROUTES,
    SESSION_ENDING,
    UNSAFE_METHODS,
    Endpoint,
    app_endpoints,
    endpoint_url,
    footprint,
    form_data,
    path_values,
    walking_order,
)

# POST routes that legitimately work without a CSRF token: none.
CSRF_EXEMPT: frozenset[tuple[str, str]] = frozenset()


def test_the_enumeration_sees_the_routes_of_every_router() -> None:
    labels = {endpoint.label for endpoint in ENDPOINTS}
    assert {"GET /studies/{study_id}", "POST /org/members/{membership_id}/role"} <= labels
    assert {"GET /api/session/studies", "GET /healthz", "POST /login"} <= labels
    public = {f"{method} {path}" for method, path in PUBLIC_ROUTES}
    assert labels >= public, "a public route listed here no longer exists"


def test_the_enumeration_includes_router_prefixes() -> None:
    from fastapi import APIRouter

    inner = APIRouter(prefix="/waves")

    @inner.get("/{wave_id}")
    def wave(wave_id: int) -> dict[str, int]:
        return {"id": wave_id}

    outer = APIRouter()
    outer.include_router(inner, prefix="/studies/{study_id}")
    app = FastAPI()
    app.include_router(outer)
    assert [e.label for e in app_endpoints(app)][-1] == "GET /studies/{study_id}/waves/{wave_id}"


# --- the two tenants --------------------------------------------------------------------------


@pytest.fixture
def member_of_b(
    app: FastAPI, session: Session, make_member: Callable[..., User], login: Callable[..., None]
) -> TestClient:
    """A signed-in test client of the owner of another research organisation, B."""
    org_b = Organisation(name="Fabrikam Insights", kind=OrganisationKind.research)
    session.add(org_b)
    session.commit()
    make_member(org_b, email="owner@fabrikam.example", role=Role.owner)
    client = TestClient(app, base_url="https://testserver")
    login(client, "owner@fabrikam.example")
    return client


# --- organisation A's footprint in the database -----------------------------------------------


def test_footprint_follows_foreign_keys(
    engine: Engine, tenant_a: dict[str, Any], researcher_membership: Membership, session: Session
) -> None:
    before = footprint(engine, {tenant_a["organisation"].id})
    assert len(before["study"]) == 1
    assert len(before["membership"]) == 2
    assert len(before["user_account"]) == 2
    assert len(before["organisation"]) == 2  # A and the client it manages
    user = session.get(User, researcher_membership.user_id)
    user.locale = "zh_CN"
    session.add(user)
    session.commit()
    assert footprint(engine, {tenant_a["organisation"].id}) != before


# --- the enumerated checks ----------------------------------------------------------------------


def _is_login_redirect(response: Any) -> bool:
    location = response.headers.get("location", "")
    return response.status_code in (302, 303, 307) and urlsplit(location).path == "/login"


def test_anonymous_users_are_sent_to_log_in_or_get_401(
    client: TestClient, tenant_a: dict[str, Any], request: pytest.FixtureRequest, csrf: Callable
) -> None:
    token = csrf(client, "/login")  # a valid token, so that POSTs reach the sign-in check
    problems = []
    for endpoint in ENDPOINTS:
        if endpoint.is_public:
            continue
        values = path_values(endpoint, request)
        if isinstance(values, str):
            problems.append(values)
            continue
        url = endpoint_url(endpoint, values)
        if endpoint.method in UNSAFE_METHODS:
            data = {**form_data(endpoint, tenant_a), "csrf_token": token}
            response = client.request(endpoint.method, url, data=data, follow_redirects=False)
        else:
            response = client.get(url, follow_redirects=False)
        if endpoint.path.startswith("/api/"):
            if response.status_code != 401:
                problems.append(f"{endpoint.label}: {response.status_code}, expected 401")
        elif not _is_login_redirect(response):
            problems.append(
                f"{endpoint.label}: {response.status_code} "
                f"{response.headers.get('location')}, expected a redirect to /login"
            )
        elif (
            endpoint.method == "GET"
            and url != "/"
            and urlsplit(response.headers["location"]).query != f"next={url}"
        ):
            problems.append(f"{endpoint.label}: the login redirect does not come back here")
        if any(marker in response.text for marker in A_MARKERS):
            problems.append(f"{endpoint.label}: shows organisation A's data to anonymous users")
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_another_organisation_cannot_read_or_change_anything(
    app: FastAPI,
    engine: Engine,
    tenant_a: dict[str, Any],
    member_of_b: TestClient,
    request: pytest.FixtureRequest,
    csrf: Callable,
) -> None:
    a_ids = {tenant_a["organisation"].id, tenant_a["client"].id}
    problems = []
    checked_with_ids = 0
    for endpoint in sorted(ENDPOINTS, key=walking_order):
        if endpoint.is_public:
            continue
        values = path_values(endpoint, request)
        if isinstance(values, str):
            problems.append(values)
            continue
        url = endpoint_url(endpoint, values)
        before = footprint(engine, a_ids)
        if endpoint.method in UNSAFE_METHODS:
            data = {**form_data(endpoint, tenant_a), "csrf_token": csrf(member_of_b, "/studies")}
            response = member_of_b.request(endpoint.method, url, data=data, follow_redirects=False)
        else:
            response = member_of_b.get(url, follow_redirects=False)
        if values and response.status_code != 404:
            problems.append(f"{endpoint.label} with A's ids: {response.status_code}, expected 404")
        checked_with_ids += bool(values)
        signed_out = endpoint.path in SESSION_ENDING and _is_login_redirect(response)
        if response.status_code in (401, 403) or (_is_login_redirect(response) and not signed_out):
            problems.append(f"{endpoint.label}: B was not treated as signed in")
        leaked = [marker for marker in A_MARKERS if marker in response.text]
        if leaked:
            problems.append(f"{endpoint.label}: shows organisation A's data {leaked} to B")
        if footprint(engine, a_ids) != before:
            problems.append(f"{endpoint.label}: changed organisation A's data")
    assert checked_with_ids >= 4
    assert not problems, "\n".join(problems)


@pytest.mark.slow
def test_every_state_changing_route_rejects_a_missing_or_forged_csrf_token(
    tenant_a: dict[str, Any],
    app: FastAPI,
    engine: Engine,
    request: pytest.FixtureRequest,
    login: Callable,
    csrf: Callable,
) -> None:
    """Signed in as A's owner, who may do everything: only the CSRF check can refuse."""
    a_ids = {tenant_a["organisation"].id, tenant_a["client"].id}
    signed_in = TestClient(app, base_url="https://testserver")
    login(signed_in, tenant_a["owner"].email)
    problems = []
    unsafe = [e for e in ENDPOINTS if e.method in UNSAFE_METHODS and e.label not in CSRF_EXEMPT]
    assert len(unsafe) >= 10
    for endpoint in unsafe:
        values = path_values(endpoint, request)
        if isinstance(values, str):
            problems.append(values)
            continue
        url = endpoint_url(endpoint, values)
        form = form_data(endpoint, tenant_a)
        other_session = TestClient(app, base_url="https://testserver")
        attempts = {
            "missing": ({}, form),
            "forged": ({}, {**form, "csrf_token": "forged-" + "x" * 36}),
            "forged header": ({"X-CSRF-Token": "forged"}, form),
            "another session's": ({}, {**form, "csrf_token": csrf(other_session, "/login")}),
        }
        for kind, (headers, data) in attempts.items():
            before = footprint(engine, a_ids)
            response = signed_in.request(
                endpoint.method, url, data=data, headers=headers, follow_redirects=False
            )
            if response.status_code != 403:
                problems.append(f"{endpoint.label}, {kind} token: {response.status_code}")
            if footprint(engine, a_ids) != before:
                problems.append(f"{endpoint.label}, {kind} token: changed data")
        response = signed_in.request(
            endpoint.method, url, json={"csrf_token": "x"}, follow_redirects=False
        )
        if response.status_code != 403:
            problems.append(f"{endpoint.label}, JSON body without header: {response.status_code}")
    assert not problems, "\n".join(problems)
    # Still signed in: a rejected request changes nothing about the session.
    assert signed_in.get("/studies", follow_redirects=False).status_code == 200


_POST_FORM = re.compile(r"<form\b[^>]*method=\"post\"[^>]*>(.*?)</form>", re.S | re.I)
_TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')


def test_every_form_on_every_page_posts_the_session_csrf_token(
    tenant_a: dict[str, Any],
    app: FastAPI,
    request: pytest.FixtureRequest,
    login: Callable,
    csrf: Callable,
) -> None:
    """Each POST form a signed-in owner sees carries this session's token, so that a browser's
    submission passes the CSRF check (a form with an empty token fails only in the browser)."""
    signed_in = TestClient(app, base_url="https://testserver")
    login(signed_in, tenant_a["owner"].email)
    session_token = csrf(signed_in, "/studies")
    problems, forms_seen = [], 0
    for endpoint in ENDPOINTS:
        if endpoint.method != "GET":
            continue
        values = path_values(endpoint, request)
        if isinstance(values, str):
            problems.append(values)
            continue
        response = signed_in.get(endpoint_url(endpoint, values), follow_redirects=False)
        if "text/html" not in response.headers.get("content-type", ""):
            continue
        for form in _POST_FORM.findall(response.text):
            forms_seen += 1
            tokens = _TOKEN.findall(form)
            if tokens != [session_token]:
                problems.append(f"{endpoint.label}: a form posts the CSRF token(s) {tokens}")
    assert forms_seen >= 20
    assert not problems, "\n".join(problems)


def test_an_unknown_path_parameter_fails_with_instructions(
    request: pytest.FixtureRequest,
) -> None:
    route = APIRoute("/surveys/{survey_id}/report", endpoint=lambda: None)
    message = path_values(Endpoint("GET", route.path, route), request)
    assert isinstance(message, str)
    assert "{survey_id}" in message and "PATH_PARAM_FIXTURES" in message
