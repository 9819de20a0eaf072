"""The audit log: publish, export and role changes are recorded; only owners read it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, Organisation, Role
from loyaltylab.audit.models import AuditEvent
from loyaltylab.questionnaires import service as questionnaires
from surveys.definition import QuestionnaireDefinition
from tests.loyaltylab.fieldwork_support import FIELDWORK_QUESTIONNAIRE


def _actions(session: Session) -> list[str]:
    session.expire_all()
    return [e.action for e in session.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]


def test_exports_and_role_changes_are_recorded_and_shown_to_owners_only(
    app: FastAPI,
    session: Session,
    wave: Any,
    owner: Any,
    organisation: Organisation,
    managed_client: Organisation,
    make_member: Callable,
    login: Callable,
    csrf: Callable,
) -> None:
    researcher = make_member(organisation, email="r@northwind.example", role=Role.researcher)
    membership = session.exec(select(Membership).where(Membership.user_id == researcher.id)).one()
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    assert browser.get(f"/waves/{wave.id}/export.xlsx").status_code == 200
    token = csrf(browser, "/org/members")
    changed = browser.post(
        f"/org/members/{membership.id}/role",
        data={"role": f"client:{managed_client.id}", "csrf_token": token},
        follow_redirects=False,
    )
    assert changed.status_code == 303
    assert _actions(session) == ["export.responses", "member.role"]
    role_event = session.exec(select(AuditEvent).where(AuditEvent.action == "member.role")).one()
    assert role_event.details == {
        "member": "r@northwind.example",
        "role": "client",
        "company": "Contoso Retail",
    }
    assert role_event.user_id == owner.id and role_event.organisation_id == organisation.id
    page = browser.get("/org/audit")
    assert page.status_code == 200
    assert "Exported raw responses" in page.text and "r@northwind.example" in page.text

    other = TestClient(app, base_url="https://testserver")
    login(other, "r@northwind.example")  # now a client of organisation A, for Contoso
    assert other.get("/org/audit").status_code == 403


def test_publishing_a_questionnaire_is_recorded(
    app: FastAPI, session: Session, study: Any, owner: Any, login: Callable, csrf: Callable
) -> None:
    questionnaire_with_item = questionnaires.create_questionnaire(
        session, organisation_id=study.organisation_id, study_id=study.id, template=None
    )
    definition = QuestionnaireDefinition.model_validate(FIELDWORK_QUESTIONNAIRE)
    questionnaires.save_definition(
        session, study.organisation_id, questionnaire_with_item.id, definition
    )
    session.commit()
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    token = csrf(browser, f"/questionnaires/{questionnaire_with_item.id}")
    response = browser.post(
        f"/questionnaires/{questionnaire_with_item.id}/publish",
        data={"csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303
    assert _actions(session) == ["questionnaire.publish"]


def test_a_failed_action_leaves_no_event(
    app: FastAPI, session: Session, owner: Any, login: Callable, csrf: Callable
) -> None:
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    own = session.exec(select(Membership).where(Membership.user_id == owner.id)).one()
    token = csrf(browser, "/org/members")
    # The last owner cannot stop being one: refused, and nothing is logged.
    refused = browser.post(
        f"/org/members/{own.id}/role", data={"role": "client", "csrf_token": token}
    )
    assert refused.status_code == 403
    assert _actions(session) == []
