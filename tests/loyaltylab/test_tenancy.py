"""Every route of the app, enumerated: sign-in required, CSRF enforced, other tenants get 404.

The routes are read from the application itself, so routes added later are covered without
editing this file, except for two maps a new route may need: ``PATH_PARAM_FIXTURES`` (which
fixture creates organisation A's object for a path parameter) and ``FORM_VALUES`` (a valid value
for a form field, so the request reaches the tenancy check instead of stopping at validation).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select as select_rows
from sqlalchemy.engine import Engine
from sqlmodel import Session, SQLModel, select
from starlette.routing import Mount, Route

from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from loyaltylab.app import create_app
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study

# Reachable without signing in, by design. Anything else must send anonymous users to log in.
PUBLIC_ROUTES = frozenset(
    {
        ("GET", "/signup"),
        ("POST", "/signup"),
        ("GET", "/signup/confirm/{token}"),
        ("POST", "/signup/confirm/{token}"),
        ("GET", "/login"),
        ("POST", "/login"),
        ("POST", "/logout"),
        ("POST", "/language"),
        ("GET", "/password/forgot"),
        ("POST", "/password/forgot"),
        ("GET", "/password/reset/{token}"),
        ("POST", "/password/reset/{token}"),
        ("GET", "/invite/{token}"),
        ("POST", "/invite/{token}"),
        ("GET", "/healthz"),
        ("GET", "/readyz"),
        # The API's reference describes the API, never an organisation's data.
        ("GET", "/api/docs"),
        # A contact opts out of a study's e-mails through the signed link in every e-mail.
        ("GET", "/o/{token}"),
        ("POST", "/o/{token}"),
        # Respondents answer through a public (/s/) or personal (/i/) link, without an account.
        *(
            (method, prefix + page)
            for prefix in ("/s/{key}", "/i/{key}")
            for method, page in (
                ("GET", ""),
                ("POST", "/start"),
                ("GET", "/page/{page}"),
                ("POST", "/page/{page}"),
                ("GET", "/done"),
                ("GET", "/saved"),
                ("POST", "/language"),
            )
        ),
        ("GET", "/s/{key}/resume/{token}"),
    }
)
# /sms/inbound: the SMS gateway posts replies there, authenticated by its signature or token
# (tests/loyaltylab/test_sms.py), not by a browser session.
PUBLIC_MOUNTS = frozenset({"/static", "/sms"})
# Applications of their own that sessions never reach: the API takes organisation keys, and
# tests/loyaltylab/test_api.py walks its routes the same way with a second organisation's key.
KEY_MOUNTS = frozenset({"/api/v1"})
# POST routes that legitimately work without a CSRF token: none.
CSRF_EXEMPT: frozenset[tuple[str, str]] = frozenset()

# Path parameter -> fixture creating organisation A's object (with an ``id``) for it.
PATH_PARAM_FIXTURES = {
    "study_id": "study",
    "membership_id": "researcher_membership",
    "wave_id": "wave",
    "response_id": "phone_response",
    "page": "first_page",
    "questionnaire_id": "questionnaire",
    "code": "questionnaire_item",
    "contact_id": "contact",
    "report_id": "report",
    "kind": "report_file_kind",
    "session_id": "owner_session",
    "rule_id": "alert_rule",
    "case_id": "followup_case",
    "action_id": "improvement_action",
    "subscription_id": "webhook",
    "delivery_id": "webhook_delivery",
    "key_id": "organisation_api_key",
}
# Path parameters of public routes: secrets in the link, not object ids.
PUBLIC_PATH_PARAMS = {"token": "not-a-valid-token", "key": "not-a-valid-key", "page": "1"}

UNSAFE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
# Routes that end the caller's own session: walked last.
SESSION_ENDING = frozenset({"/logout", "/account/sessions/end-all"})


def walking_order(endpoint: Endpoint) -> tuple[bool, bool]:
    """Reads first, then changes, then whatever signs the walker out."""
    return endpoint.method in UNSAFE_METHODS, endpoint.path in SESSION_ENDING


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    route: APIRoute | Route

    @property
    def label(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def is_public(self) -> bool:
        return (self.method, self.path) in PUBLIC_ROUTES

    @property
    def path_params(self) -> list[str]:
        return list(getattr(self.route, "param_convertors", {}))


def _walk(routes: list[Any], prefix: str) -> Iterator[Endpoint]:
    for route in routes:
        if hasattr(route, "original_router"):  # FastAPI 0.165: an include_router() branch
            yield from _walk(route.original_router.routes, prefix + route.include_context.prefix)
        elif isinstance(route, Mount):
            if prefix + route.path not in PUBLIC_MOUNTS | KEY_MOUNTS:
                raise AssertionError(
                    f"Mount {prefix + route.path} is not covered: enumerate its routes here "
                    "or list it in PUBLIC_MOUNTS if it is public."
                )
        elif isinstance(route, APIRoute | Route):
            for method in sorted((route.methods or set()) - {"HEAD"}):
                yield Endpoint(method, prefix + route.path, route)
        else:
            raise AssertionError(f"Unknown kind of route {route!r}: teach _walk about it.")


def app_endpoints(app: FastAPI) -> list[Endpoint]:
    return list(_walk(app.routes, ""))


def _enumerated() -> list[Endpoint]:
    probe = create_app(
        Settings(env="test", database_url="sqlite://", secret_key="k" * 40, base_url="https://x")
    )
    try:
        return app_endpoints(probe)
    finally:
        probe.state.engine.dispose()


ENDPOINTS = _enumerated()


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


CONTACT_EMAIL = "maria.lopez@customer.example"
CONTACT_PHONE = "+86 138 0013 8000"


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


# Strings that only organisation A's data contains: none may show up in B's responses.
A_STUDY_NAME = "Northwind private tracker"
A_MARKERS = (A_STUDY_NAME, "owner@northwind.example", "Northwind Research", "Contoso Retail")


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


def _path_values(endpoint: Endpoint, request: pytest.FixtureRequest) -> dict[str, str] | str:
    """Organisation A's object id for each path parameter, or an explanation of what's missing."""
    values = {}
    for name in endpoint.path_params:
        if endpoint.is_public and name in PUBLIC_PATH_PARAMS:
            values[name] = PUBLIC_PATH_PARAMS[name]
        elif name in PATH_PARAM_FIXTURES:
            values[name] = str(request.getfixturevalue(PATH_PARAM_FIXTURES[name]).id)
        else:
            return (
                f"{endpoint.label}: unknown path parameter {{{name}}}. Add it to "
                "PATH_PARAM_FIXTURES in tests/loyaltylab/test_tenancy.py with a fixture that "
                "creates organisation A's object, so that the tenancy tests cover this route. "
                "If the route is public by design (no sign-in), list it in PUBLIC_ROUTES and "
                "give its parameters a value in PUBLIC_PATH_PARAMS instead."
            )
    return values


def _url(endpoint: Endpoint, values: dict[str, str]) -> str:
    return endpoint.path.format(**values)


# A valid value per form field name, so that a request gets past validation.
FORM_VALUES: dict[str, Callable[[dict[str, Any]], str]] = {
    "email": lambda a: "someone.new@fabrikam.example",
    "password": lambda a: "a brand new passphrase",
    "name": lambda a: "Probe",
    "organisation": lambda a: "Probe Ltd",
    "role": lambda a: Role.client.value,
    "lang": lambda a: "en",
    "next": lambda a: "/studies",
    "organisation_id": lambda a: str(a["organisation"].id),
    "client": lambda a: str(a["client"].id),
    "company_name_en": lambda a: "Probe",
    "company_name_zh": lambda a: "Probe",
    "description": lambda a: "Probe",
    "new_client": lambda a: "",
    "version_id": lambda a: "1",
    "action": lambda a: "close",
    "excluded": lambda a: "1",
    "confirm": lambda a: "erase",
    "release_open_text": lambda a: "1",
    "retention_months": lambda a: "12",
    "language": lambda a: "en",
    "bootstrap": lambda a: "0",
    "locale": lambda a: "en",
    "quota_source": lambda a: "contact",
    "quota_attribute": lambda a: "",
    "ids": lambda a: "1",
    "reason": lambda a: "probe",
    "back": lambda a: "",
    "time_zone": lambda a: "Asia/Shanghai",
}


def _form(endpoint: Endpoint, tenant: dict[str, Any]) -> dict[str, str]:
    """Every form field the route reads, filled with a valid value (ids of organisation A)."""
    fields: dict[str, str] = {}
    dependant = getattr(endpoint.route, "dependant", None)
    for param in getattr(dependant, "body_params", []):
        annotation = param.field_info.annotation
        names = list(getattr(annotation, "model_fields", {})) or [param.alias]
        for name in names:
            fields[name] = FORM_VALUES[name](tenant) if name in FORM_VALUES else "probe"
    return fields


# --- organisation A's footprint in the database -----------------------------------------------


def footprint(engine: Engine, organisation_ids: set[int]) -> dict[str, dict[Any, tuple]]:
    """Every row belonging to these organisations, followed through foreign keys.

    A row belongs to them if a foreign key leads to a row that does (a study of A, a question of
    that study, ...), plus the rows such rows refer to (A's members' accounts).
    """
    tables = SQLModel.metadata.sorted_tables
    with engine.connect() as connection:
        rows = {
            table.name: {
                tuple(row._mapping[c.name] for c in table.primary_key.columns): dict(row._mapping)
                for row in connection.execute(select_rows(table))
            }
            for table in tables
        }
    owned: dict[str, set[Any]] = defaultdict(set)
    owned["organisation"] = {(org_id,) for org_id in organisation_ids}

    def refers_to_owned(table: Any, row: dict[str, Any]) -> bool:
        return any(
            (row[fk.parent.name],) in owned[fk.column.table.name]
            for fk in table.foreign_keys
            if row[fk.parent.name] is not None
        )

    grew = True
    while grew:
        grew = False
        for table in tables:
            for key, row in rows[table.name].items():
                if key not in owned[table.name] and refers_to_owned(table, row):
                    owned[table.name].add(key)
                    grew = True
    referenced: dict[str, set[Any]] = defaultdict(set)
    for table in tables:
        for key in owned[table.name]:
            for fk in table.foreign_keys:
                value = rows[table.name][key][fk.parent.name]
                if value is not None:
                    referenced[fk.column.table.name].add((value,))
    return {
        table.name: {
            key: tuple(sorted(rows[table.name][key].items()))
            for key in (owned[table.name] | referenced[table.name]) & rows[table.name].keys()
        }
        for table in tables
    }


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
        values = _path_values(endpoint, request)
        if isinstance(values, str):
            problems.append(values)
            continue
        url = _url(endpoint, values)
        if endpoint.method in UNSAFE_METHODS:
            data = {**_form(endpoint, tenant_a), "csrf_token": token}
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
        values = _path_values(endpoint, request)
        if isinstance(values, str):
            problems.append(values)
            continue
        url = _url(endpoint, values)
        before = footprint(engine, a_ids)
        if endpoint.method in UNSAFE_METHODS:
            data = {**_form(endpoint, tenant_a), "csrf_token": csrf(member_of_b, "/studies")}
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
        values = _path_values(endpoint, request)
        if isinstance(values, str):
            problems.append(values)
            continue
        url = _url(endpoint, values)
        form = _form(endpoint, tenant_a)
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
        values = _path_values(endpoint, request)
        if isinstance(values, str):
            problems.append(values)
            continue
        response = signed_in.get(_url(endpoint, values), follow_redirects=False)
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
    message = _path_values(Endpoint("GET", route.path, route), request)
    assert isinstance(message, str)
    assert "{survey_id}" in message and "PATH_PARAM_FIXTURES" in message
