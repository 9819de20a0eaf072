"""The REST API: keys (shown once, hashed, scoped, expiring, revocable, rate-limited, audited),
every route with every scope, another organisation's key getting 404 for every object, and
problem details for every error."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from schemathesis import checks
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, OrganisationKind, Role, User
from loyaltylab.api import service as api_service
from loyaltylab.api.models import ApiKey, ApiScope
from loyaltylab.api.routes import API_PREFIX
from loyaltylab.app import create_app
from loyaltylab.audit.models import AuditEvent
from loyaltylab.deps import OrgContext
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.events import send_due_invitations
from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    ContactEvent,
    Response,
    ResponseStatus,
    Wave,
)
from loyaltylab.mail import OutboxMessage
from loyaltylab.reports_web.models import Report, ReportFile
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.loyaltylab.forms_support import submit
from tests.loyaltylab.tenancy_support import app_endpoints
from tests.web_support import create_member

PROBLEM = "application/problem+json"


def make_key(
    session: Session,
    organisation: Organisation,
    *,
    scope: ApiScope = ApiScope.write,
    expires_at: datetime | None = None,
    name: str = "CRM sync",
) -> str:
    """A key of the organisation, created as its owner would; the raw token."""
    owner = session.exec(
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.organisation_id == organisation.id, Membership.role == Role.owner)
    ).first() or create_member(session, organisation, email=f"owner{organisation.id}@x.example")
    membership = session.exec(
        select(Membership).where(
            Membership.user_id == owner.id, Membership.organisation_id == organisation.id
        )
    ).one()
    ctx = OrgContext(user=owner, organisation=organisation, membership=membership)
    created = api_service.create_key(
        session,
        ctx,
        name=name,
        scope=scope,
        expires_at=expires_at,
        now=datetime(2000, 1, 1, tzinfo=UTC),
    )
    session.commit()
    return created.token


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def is_problem(response: Any, status: int) -> bool:
    body = response.json()
    return (
        response.status_code == status
        and response.headers["content-type"].startswith(PROBLEM)
        and body["status"] == status
        and {"type", "title", "detail", "instance"} <= set(body)
        and bool(body["detail"])
    )


@pytest.fixture
def data(session: Session, study: Study, wave: Wave) -> dict[str, Any]:
    """Organisation A's objects: a study, its open wave, contacts, a response, a report."""
    contacts = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[
            {
                "external_id": "C1",
                "email": "wang@example.cn",
                "language": "zh-CN",
                "attributes": {"tier": "gold"},
            },
            {"external_id": "C2", "email": "ann@example.com", "language": "en"},
        ],
    )
    response = Response(
        organisation_id=study.organisation_id,
        wave_id=wave.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        channel=Channel.invitation,
        contact_id=contacts[0].id,
        language="zh-CN",
        status=ResponseStatus.complete,
        # complained, visits, ch1, ch2, nps, sat1, channels, region, attn, why, improve
        answer_values=["yes", 12, 5, 3, 9, 5, ["web", "store"], "north", "app", None, "更快"],
        submitted_at=datetime(2026, 12, 1, tzinfo=UTC),
    )
    session.add(response)
    report = Report(
        organisation_id=study.organisation_id,
        study_id=study.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        title="Loyalty 2026-Q3",
        language="en",
        formats=["pdf"],
        wave_ids=[wave.id],
        result={"reliability": [{"construct": "CH", "alpha": 0.81}]},
        generated_at=datetime(2026, 12, 2, tzinfo=UTC),
    )
    session.add(report)
    session.flush()
    session.add(ReportFile(report_id=report.id, kind="pdf", size=9, content=b"%PDF-1.7\n"))
    session.commit()
    return {
        "study": study,
        "wave": wave,
        "contacts": contacts,
        "response": response,
        "report": report,
    }


@pytest.fixture
def write_key(session: Session, organisation: Organisation) -> str:
    return make_key(session, organisation, scope=ApiScope.write)


@pytest.fixture
def read_key(session: Session, organisation: Organisation) -> str:
    return make_key(session, organisation, scope=ApiScope.read, name="BI tool")


@pytest.fixture
def other_key(session: Session) -> str:
    """A write key of organisation B, which has a study of its own."""
    other = Organisation(name="Elsewhere Research", kind=OrganisationKind.research)
    session.add(other)
    session.commit()
    session.add(Study(organisation_id=other.id, name="B's study"))
    session.commit()
    return make_key(session, other, scope=ApiScope.write)


# --- every route ---------------------------------------------------------------------------


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route of the mounted API, read from the application."""
    api = next(route.app for route in app.routes if getattr(route, "path", "") == API_PREFIX)
    return sorted(
        (endpoint.method, endpoint.path)
        for endpoint in app_endpoints(api)
        if getattr(endpoint.route, "include_in_schema", True)
    )


def _bodies(data: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """A valid body for each route that takes one."""
    return {
        ("POST", "/studies/{study_id}/contacts"): {
            "contacts": [{"external_id": "C9", "email": "new@example.com", "tier": "silver"}]
        },
        ("POST", "/waves/{wave_id}/invitations"): {"external_ids": ["C2"]},
        ("POST", "/waves/{wave_id}/events"): {
            "external_id": "C2",
            "event": "complaint_closed",
            "event_id": "crm-77",
        },
    }


def _url(path: str, data: dict[str, Any]) -> str:
    values = {
        "study_id": data["study"].id,
        "wave_id": data["wave"].id,
        "report_id": data["report"].id,
        "kind": "pdf",
        "external_id": "C1",
    }
    return API_PREFIX + re.sub(r"\{(\w+)\}", lambda m: str(values[m.group(1)]), path)


def test_the_api_document_lists_the_api_routes_only(client: TestClient, app: FastAPI) -> None:
    document = client.get(f"{API_PREFIX}/openapi.json").json()
    routes = {(method.lower(), path) for method, path in api_routes(app)}
    listed = {(method, path) for path, item in document["paths"].items() for method in item}
    assert listed == routes
    assert len(routes) >= 12
    assert client.get("/api/openapi.json").status_code == 404  # the pages have no document
    reference = client.get("/api/docs")
    assert reference.status_code == 200
    for method, path in api_routes(app):
        assert f"{method} {API_PREFIX}{path}" in reference.text


def test_every_route_works_with_its_scope_and_refuses_a_read_key_to_write(
    app: FastAPI, client: TestClient, data: dict[str, Any], read_key: str, write_key: str
) -> None:
    bodies = _bodies(data)
    problems = []
    for method, path in api_routes(app):
        url, body = _url(path, data), bodies.get((method, path))
        if method == "GET":
            for key in (read_key, write_key):
                response = client.get(url, headers=bearer(key))
                if response.status_code != 200:
                    problems.append(f"{method} {path}: {response.status_code} {response.text}")
            continue
        refused = client.request(method, url, json=body, headers=bearer(read_key))
        if not is_problem(refused, 403):
            problems.append(f"{method} {path} with a read key: {refused.status_code}")
        done = client.request(method, url, json=body, headers=bearer(write_key))
        if done.status_code not in (200, 202):
            problems.append(f"{method} {path}: {done.status_code} {done.text}")
    assert not problems, "\n".join(problems)


def test_another_organisations_key_gets_404_for_every_object(
    app: FastAPI,
    client: TestClient,
    engine: Engine,
    session: Session,
    data: dict[str, Any],
    other_key: str,
) -> None:
    bodies = _bodies(data)
    before = _footprint(session, data["study"].organisation_id)
    with_objects = [(m, p) for m, p in api_routes(app) if "{" in p]
    assert len(with_objects) >= 10
    problems = []
    for method, path in with_objects:
        response = client.request(
            method, _url(path, data), json=bodies.get((method, path)), headers=bearer(other_key)
        )
        if not is_problem(response, 404):
            problems.append(f"{method} {path}: {response.status_code} {response.text}")
        if any(marker in response.text for marker in ("Customer loyalty", "2026-Q3", "@example")):
            problems.append(f"{method} {path}: shows organisation A's data")
    assert not problems, "\n".join(problems)
    assert _footprint(session, data["study"].organisation_id) == before
    # Its lists hold only its own objects.
    studies = client.get(f"{API_PREFIX}/studies", headers=bearer(other_key)).json()
    assert [study["name"] for study in studies] == ["B's study"]


def _footprint(session: Session, organisation_id: int) -> tuple[int, ...]:
    session.expire_all()
    counts = []
    for model in (Contact, Response, ContactEvent, OutboxMessage):
        rows = session.exec(select(model).where(model.organisation_id == organisation_id)).all()
        counts.append(len(rows))
    return tuple(counts)


# --- keys ----------------------------------------------------------------------------------


def test_owners_create_a_key_shown_once_stored_hashed_and_revoke_it(
    client: TestClient,
    session: Session,
    organisation: Organisation,
    owner: User,
    make_member: Callable,
    login: Callable,
) -> None:
    login(client, owner.email)
    created = submit(
        client,
        "/org/api-keys",
        "/org/api-keys",
        name="CRM sync",
        scope="write",
        expires_on="2099-12-31",
    )
    assert created.status_code == 201
    assert created.headers["cache-control"] == "no-store"
    token = re.search(r'value="(llk_[A-Za-z0-9_-]{40,})"', created.text).group(1)
    key = session.exec(select(ApiKey)).one()
    assert key.key_hash == hashlib.sha256(token.encode()).hexdigest()
    assert token.startswith(key.prefix) and len(key.prefix) < 16
    assert key.scope is ApiScope.write and key.created_by == owner.id
    assert token not in client.get("/org/api-keys").text  # shown once
    me = client.get(f"{API_PREFIX}/me", headers=bearer(token)).json()
    assert me["organisation"]["name"] == organisation.name and me["key"]["scope"] == "write"
    submit(client, "/org/api-keys", f"/org/api-keys/{key.id}/revoke")
    refused = client.get(f"{API_PREFIX}/me", headers=bearer(token))
    assert is_problem(refused, 401) and "revoked" in refused.json()["detail"]
    actions = session.exec(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions[:2] == ["api_key.create", "api.call"] and "api_key.revoke" in actions
    # Only owners manage keys.
    make_member(organisation, email="r@northwind.example", role=Role.researcher)
    researcher = TestClient(client.app, base_url="https://testserver")
    login(researcher, "r@northwind.example")
    assert researcher.get("/org/api-keys").status_code == 403


def test_the_key_form_explains_what_is_wrong(
    client: TestClient, owner: User, login: Callable
) -> None:
    login(client, owner.email)
    refused = submit(
        client, "/org/api-keys", "/org/api-keys", name="", scope="write", expires_on="2001-01-01"
    )
    assert refused.status_code == 400
    assert "Give the key a name" in refused.text
    chinese = TestClient(
        client.app, base_url="https://testserver", headers={"Accept-Language": "zh-CN"}
    )
    login(chinese, owner.email)
    assert "API 密钥" in chinese.get("/org/api-keys").text


def test_missing_unknown_expired_and_revoked_keys_get_401(
    client: TestClient, session: Session, organisation: Organisation
) -> None:
    expired = make_key(session, organisation, expires_at=datetime.now(UTC) - timedelta(seconds=1))
    revoked = make_key(session, organisation, name="old")
    key = session.exec(select(ApiKey).where(ApiKey.name == "old")).one()
    key.revoked_at = datetime.now(UTC)
    session.add(key)
    session.commit()
    url = f"{API_PREFIX}/studies"
    cases = {
        "none": ({}, "Authorization: Bearer"),
        "unknown": (bearer("llk_" + "x" * 43), "not valid"),
        "not ours": (bearer("sk_live_123"), "not a LoyaltyLab API key"),
        "expired": (bearer(expired), "expired"),
        "revoked": (bearer(revoked), "revoked"),
    }
    for case, (headers, says) in cases.items():
        response = client.get(url, headers=headers)
        assert is_problem(response, 401), case
        assert says in response.json()["detail"], case
        assert response.headers["www-authenticate"].startswith("Bearer"), case


def test_keys_never_open_pages_and_sessions_never_call_the_api(
    client: TestClient, owner: User, login: Callable, write_key: str, data: dict[str, Any]
) -> None:
    page = client.get("/studies", headers=bearer(write_key), follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    login(client, owner.email)
    # Signed in, with the session cookie and no key: the API does not know the browser.
    assert is_problem(client.get(f"{API_PREFIX}/studies"), 401)
    changed = client.post(
        f"{API_PREFIX}/studies/{data['study'].id}/contacts",
        json={"contacts": [{"external_id": "X"}]},
    )
    assert is_problem(changed, 401)


def test_a_key_over_its_rate_limit_gets_429_with_retry_after(
    settings: Settings, session: Session, organisation: Organisation
) -> None:
    app = create_app(settings.model_copy(update={"api_calls_per_minute": 3}))
    try:
        token = make_key(session, organisation)
        with TestClient(app, base_url="https://testserver") as client:
            statuses = [
                client.get(f"{API_PREFIX}/studies", headers=bearer(token)) for _ in range(5)
            ]
    finally:
        app.state.engine.dispose()
    assert [r.status_code for r in statuses[:3]] == [200, 200, 200]
    limited = statuses[3]
    assert is_problem(limited, 429)
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # Each call, the refused ones too, is in the audit log with its outcome.
    session.expire_all()
    logged = session.exec(select(AuditEvent).where(AuditEvent.action == "api.call")).all()
    assert [event.details["status"] for event in logged] == [200, 200, 200, 429, 429]
    assert logged[0].details["path"] == f"{API_PREFIX}/studies"
    assert logged[0].user_email.startswith("API key llk_")


def test_rate_limit_counts_per_key_and_minute(
    engine: Engine, session: Session, organisation: Organisation
) -> None:
    make_key(session, organisation)
    key = session.exec(select(ApiKey)).one()
    minute = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
    results = [
        api_service.count_call(engine, key.id, now=minute + timedelta(seconds=s), limit=2)
        for s in (0, 10, 20)
    ]
    assert results == [None, None, 40]
    assert (
        api_service.count_call(engine, key.id, now=minute + timedelta(minutes=1), limit=2) is None
    )


# --- contacts, invitations, events ---------------------------------------------------------


def test_contacts_are_upserted_by_external_id_with_their_attributes(
    client: TestClient, session: Session, data: dict[str, Any], write_key: str
) -> None:
    url = f"{API_PREFIX}/studies/{data['study'].id}/contacts"
    body = {
        "contacts": [
            {"external_id": "C1", "region": "east", "spend": 1200.5, "channel": "sms"},
            {
                "external_id": "C3",
                "email": "li@example.cn",
                "name": "李雷",
                "language": "zh_CN",
                "tier": "silver",
                "tenure": 14,
                "attributes": {"store": "Shanghai-01"},
            },
        ]
    }
    response = client.post(url, json=body, headers=bearer(write_key))
    assert response.status_code == 200, response.text
    assert (response.json()["created"], response.json()["updated"]) == (1, 1)
    session.expire_all()
    by_id = {c.external_id: c for c in session.exec(select(Contact))}
    assert by_id["C1"].attributes == {
        "tier": "gold",
        "region": "east",
        "spend": 1200.5,
        "channel": "sms",
    }
    assert by_id["C1"].email == "wang@example.cn"  # left out: kept
    assert by_id["C3"].language == "zh-CN"
    assert by_id["C3"].attributes == {"store": "Shanghai-01", "tier": "silver", "tenure": 14}


def test_invalid_requests_name_the_field_in_the_callers_language(
    client: TestClient, data: dict[str, Any], write_key: str
) -> None:
    url = f"{API_PREFIX}/studies/{data['study'].id}/contacts"
    body = {"contacts": [{"external_id": "C1"}, {"external_id": "C4", "email": "not-an-email"}]}
    response = client.post(url, json=body, headers=bearer(write_key))
    assert is_problem(response, 422)
    problem = response.json()
    assert problem["errors"][0]["field"] == "contacts[1].email"
    assert "contacts[1].email" in problem["detail"]
    chinese = client.post(
        url, json={"contacts": []}, headers={**bearer(write_key), "Accept-Language": "zh-CN"}
    )
    assert is_problem(chinese, 422)
    assert chinese.json()["errors"][0]["field"] == "contacts"
    assert re.search(r"[\u4e00-\u9fff]", chinese.json()["detail"])
    not_json = client.post(
        url, content=b"{", headers={**bearer(write_key), "content-type": "application/json"}
    )
    assert is_problem(not_json, 422)


def test_a_body_over_the_size_limit_is_refused_as_a_problem(
    client: TestClient, settings: Settings, data: dict[str, Any], write_key: str
) -> None:
    url = f"{API_PREFIX}/studies/{data['study'].id}/contacts"
    body = b'{"contacts": [' + b" " * settings.max_body_bytes + b"]}"
    refused = client.post(
        url, content=body, headers={**bearer(write_key), "content-type": "application/json"}
    )
    assert is_problem(refused, 413) and "too large" in refused.json()["detail"]


def test_deleting_a_contact_erases_them_as_the_privacy_page_does(
    client: TestClient, session: Session, data: dict[str, Any], write_key: str
) -> None:
    contact = data["contacts"][0]
    contact_id, pseudonym, response_id = contact.id, contact.pseudonym, data["response"].id
    url = f"{API_PREFIX}/studies/{data['study'].id}/contacts/C1"
    response = client.delete(url, headers=bearer(write_key))
    assert response.json() == {"external_id": "C1", "responses_erased": 1}
    session.expire_all()
    assert session.get(Contact, contact_id) is None
    assert session.get(Response, response_id) is None
    erased = session.exec(select(AuditEvent).where(AuditEvent.action == "contact.erase")).one()
    assert erased.details["pseudonym"] == pseudonym
    assert "C1" not in str(erased.details) and erased.user_email.startswith("API key")
    assert is_problem(client.delete(url, headers=bearer(write_key)), 404)


def test_invitations_go_out_now_or_at_the_time_asked(
    client: TestClient,
    engine: Engine,
    settings: Settings,
    session: Session,
    data: dict[str, Any],
    write_key: str,
) -> None:
    url = f"{API_PREFIX}/waves/{data['wave'].id}/invitations"
    now = client.post(url, json={"external_ids": ["C2", "C7"]}, headers=bearer(write_key)).json()
    assert now["sent"] == ["C2"] and now["skipped"] == [{"external_id": "C7", "reason": "unknown"}]
    [mail] = session.exec(select(OutboxMessage)).all()
    assert mail.to == "ann@example.com" and "/i/" in mail.body
    later = datetime.now(UTC) + timedelta(days=2)
    body = {"external_ids": ["C1"], "send_at": later.isoformat()}
    scheduled = client.post(url, json=body, headers=bearer(write_key)).json()
    assert scheduled["scheduled"] == ["C1"] and scheduled["sent"] == []
    again = client.post(url, json=body, headers=bearer(write_key)).json()
    assert again["skipped"] == [{"external_id": "C1", "reason": "duplicate"}]
    assert send_due_invitations(engine, settings, now=later - timedelta(minutes=1)) == []
    assert len(send_due_invitations(engine, settings, now=later)) == 1
    session.expire_all()
    assert {m.to for m in session.exec(select(OutboxMessage))} == {
        "ann@example.com",
        "wang@example.cn",
    }
    naive = client.post(
        url,
        json={"external_ids": ["C1"], "send_at": "2030-01-01T09:00:00"},
        headers=bearer(write_key),
    )
    assert is_problem(naive, 422) and naive.json()["errors"][0]["field"] == "send_at"
    fieldwork.close_wave(session, session.get(Wave, data["wave"].id))
    session.commit()
    closed = client.post(url, json={"external_ids": ["C2"]}, headers=bearer(write_key))
    assert is_problem(closed, 409)


def test_an_event_schedules_the_invitation_once(
    client: TestClient, session: Session, data: dict[str, Any], write_key: str
) -> None:
    url = f"{API_PREFIX}/waves/{data['wave'].id}/events"
    body = {"external_id": "C2", "event": "complaint_closed", "event_id": "crm-case-4711"}
    first = client.post(url, json=body, headers=bearer(write_key))
    assert first.status_code == 202
    assert first.json()["outcome"] == "scheduled" and first.json()["send_at"]
    repeat = client.post(url, json=body, headers=bearer(write_key))
    assert repeat.status_code == 200 and repeat.json()["outcome"] == "duplicate"
    assert repeat.json()["send_at"] == first.json()["send_at"]
    second = client.post(url, json={**body, "event_id": "crm-case-4712"}, headers=bearer(write_key))
    assert second.json()["outcome"] == "cooled_down" and second.json()["send_at"] is None
    unknown = client.post(url, json={**body, "external_id": "nobody"}, headers=bearer(write_key))
    assert is_problem(unknown, 404)
    fieldwork.close_wave(session, session.get(Wave, data["wave"].id))
    session.commit()
    closed = client.post(url, json={**body, "event_id": "crm-9"}, headers=bearer(write_key))
    assert is_problem(closed, 409)


# --- reading -------------------------------------------------------------------------------


def test_waves_come_with_their_status_and_counts(
    client: TestClient, data: dict[str, Any], read_key: str
) -> None:
    waves = client.get(
        f"{API_PREFIX}/studies/{data['study'].id}/waves", headers=bearer(read_key)
    ).json()
    assert [(w["name"], w["status"]) for w in waves] == [("2026-Q3", "open")]
    assert waves[0]["counts"] == {"invited": 0, "started": 1, "completed": 1, "partial": 0}


def test_responses_come_in_pages_with_labelled_values(
    client: TestClient, session: Session, data: dict[str, Any], read_key: str
) -> None:
    wave = data["wave"]
    base = datetime(2026, 12, 3, tzinfo=UTC)
    for minute in range(4):  # four more, changed one minute apart
        session.add(
            Response(
                organisation_id=wave.organisation_id,
                wave_id=wave.id,
                questionnaire_version_id=wave.questionnaire_version_id,
                channel=Channel.web,
                language="en",
                answer_values=["no", minute] + [None] * 9,
                updated_at=base + timedelta(minutes=minute),
            )
        )
    session.commit()
    url = f"{API_PREFIX}/waves/{wave.id}/responses"
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "language": "en", **({"cursor": cursor} if cursor else {})}
        page = client.get(url, params=params, headers=bearer(read_key)).json()
        seen += page["items"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == 5 and len({item["id"] for item in seen}) == 5
    assert [item["updated_at"] for item in seen] == sorted(item["updated_at"] for item in seen)
    answered = next(item for item in seen if item["external_id"] == "C1")
    answers = answered["answers"]
    assert answers["complained"] == {"value": "yes", "label": "Yes"}
    assert answers["ch1"] == {"value": 5, "label": "Agree"}
    assert answers["ch2"] == {"value": 3, "label": None}  # an unlabelled middle point
    assert answers["channels"] == {"value": ["web", "store"], "label": ["Web", "Store"]}
    assert answers["visits"] == {"value": 12, "label": None} and "why" not in answers
    chinese = client.get(url, params={"language": "zh-CN"}, headers=bearer(read_key)).json()
    answered = next(item for item in chinese["items"] if item["external_id"] == "C1")
    assert answered["answers"]["complained"]["label"] == "选项yes"
    since = client.get(
        url,
        params={"updated_since": (base + timedelta(minutes=2)).isoformat()},
        headers=bearer(read_key),
    ).json()
    # The two changed since, and the fixture's response, changed today.
    assert [item["answers"]["visits"]["value"] for item in since["items"]] == [2, 3, 12]
    broken = client.get(url, params={"cursor": "bm9wZQ"}, headers=bearer(read_key))
    assert is_problem(broken, 400)


def test_the_latest_analysis_and_report_files(
    client: TestClient, data: dict[str, Any], read_key: str
) -> None:
    study, report = data["study"], data["report"]
    analysis = client.get(f"{API_PREFIX}/studies/{study.id}/analysis", headers=bearer(read_key))
    assert analysis.json()["result"] == report.result
    assert analysis.json()["report_id"] == report.id
    reports = client.get(f"{API_PREFIX}/studies/{study.id}/reports", headers=bearer(read_key))
    [listed] = reports.json()
    [file] = listed["files"]
    assert (file["kind"], file["size"]) == ("pdf", 9)
    download = client.get(file["url"], headers=bearer(read_key))
    assert download.content == b"%PDF-1.7\n"
    assert download.headers["content-type"] == "application/pdf"
    assert "attachment" in download.headers["content-disposition"]
    missing = client.get(f"{API_PREFIX}/reports/{report.id}/files/docx", headers=bearer(read_key))
    assert is_problem(missing, 404)


# --- the whole schema, property-based --------------------------------------------------------

EXAMPLES_PER_OPERATION = 25


@pytest.mark.slow
def test_no_generated_request_fails_or_gets_an_answer_its_schema_does_not_allow(
    app: FastAPI, data: dict[str, Any], write_key: str
) -> None:
    """Schemathesis generates requests for every operation of the API's own OpenAPI document
    (valid and invalid ones), called in process with a write key while organisation A's
    objects exist (ids 1, the ones generated most often): no answer is a server error or
    breaks the document's status codes, media types or schemas."""
    schema = schemathesis.openapi.from_asgi(f"{API_PREFIX}/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == len(api_routes(app))

    for operation in operations:

        @hypothesis.given(case=operation.as_strategy())
        @hypothesis.settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            derandomize=True,
            database=None,
            suppress_health_check=list(hypothesis.HealthCheck),
        )
        def call(case: Any) -> None:
            case.call_and_validate(
                headers=bearer(write_key),
                checks=[
                    checks.not_a_server_error,
                    checks.status_code_conformance,
                    checks.content_type_conformance,
                    checks.response_schema_conformance,
                ],
            )

        call()


# --- the documentation's CRM script ----------------------------------------------------------

CRM_SCRIPT = Path(__file__).resolve().parents[3] / "docs" / "examples" / "crm_sync.py"


def test_the_crm_example_pushes_customers_and_complaint_events_to_a_live_server(
    live_url: str, session: Session, data: dict[str, Any], write_key: str, tmp_path: Path
) -> None:
    (tmp_path / "customers.csv").write_text(
        "external_id,name,email,language,tier,region,tenure,spend,store\n"
        "C2,Ann Lee,ann@example.com,en,silver,north,14,230.5,Shanghai-01\n"
        "C5,Zhou Min,zhou@example.cn,zh-CN,gold,east,40,1200,Beijing-02\n",
        encoding="utf-8",
    )
    (tmp_path / "complaints.csv").write_text("external_id,case_id\nC5,4711\n", encoding="utf-8")
    arguments = [
        sys.executable,
        str(CRM_SCRIPT),
        "--base-url",
        live_url,
        "--study",
        str(data["study"].id),
        "--wave",
        str(data["wave"].id),
        "--customers",
        "customers.csv",
        "--complaints",
        "complaints.csv",
    ]
    environment = {**os.environ, "LOYALTYLAB_API_KEY": write_key}
    run = subprocess.run(
        arguments, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [
        "contacts: 1 created, 1 updated",
        "complaint events: 1 scheduled",
    ]
    again = subprocess.run(
        arguments, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60
    )
    assert again.stdout.splitlines()[-1] == "complaint events: 1 duplicate"
    session.expire_all()
    zhou = session.exec(select(Contact).where(Contact.external_id == "C5")).one()
    assert zhou.attributes == {
        "tier": "gold",
        "region": "east",
        "tenure": 40.0,
        "spend": 1200.0,
        "store": "Beijing-02",
    }
    event = session.exec(select(ContactEvent)).one()
    assert (event.event, event.event_id, event.contact_id) == (
        "complaint_closed",
        "complaint-4711",
        zhou.id,
    )
    refused = subprocess.run(
        arguments,
        cwd=tmp_path,
        env={**environment, "LOYALTYLAB_API_KEY": "llk_wrong"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert refused.returncode == 1 and "401" in refused.stderr
