"""Erasing a contact with their responses, and retention with a controlled clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlmodel import Session, select
from typer.testing import CliRunner

from loyaltylab.audit.models import AuditEvent
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Channel, Contact, Response, ResponseStatus, WaveInvitation
from loyaltylab.mail import OutboxMessage, queue_mail
from loyaltylab.privacy.service import ANONYMISED_PREFIX, apply_retention
from loyaltylab.studies.models import Study

JAN = datetime(2026, 1, 15, tzinfo=UTC)


def _contact_with_response(session: Session, wave: Any, external_id: str, at: datetime):
    (contact,) = fieldwork.add_contacts(
        session,
        study_id=wave.study_id,
        organisation_id=wave.organisation_id,
        rows=[
            {
                "external_id": external_id,
                "email": f"{external_id}@customer.example",
                "phone": "+86 138 0000 0000",
                "attributes": {"tier": "gold"},
            }
        ],
    )
    contact.created_at = at
    response = Response(
        organisation_id=wave.organisation_id,
        wave_id=wave.id,
        questionnaire_version_id=wave.questionnaire_version_id,
        channel=Channel.invitation,
        contact_id=contact.id,
        language="en",
        status=ResponseStatus.complete,
        answer_values=[],
        started_at=at,
        updated_at=at,
    )
    session.add_all([contact, response])
    queue_mail(
        session,
        to=contact.email,
        subject="s",
        body="b",
        organisation_id=wave.organisation_id,
    )
    session.commit()
    return contact, response


def test_erasure_needs_confirmation_deletes_everything_and_is_logged(
    app: FastAPI, session: Session, wave: Any, owner: Any, login: Callable, csrf: Callable
) -> None:
    contact, response = _contact_with_response(session, wave, "E-1", JAN)
    keep, _ = _contact_with_response(session, wave, "E-2", JAN)
    contact_id, response_id, keep_id = contact.id, response.id, keep.id
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    page = browser.get(f"/contacts/{contact.id}/erase")
    assert page.status_code == 200 and "1 response" in page.text
    token = csrf(browser, f"/contacts/{contact.id}/erase")
    unconfirmed = browser.post(
        f"/contacts/{contact.id}/erase", data={"csrf_token": token}, follow_redirects=False
    )
    assert unconfirmed.status_code == 303
    session.expire_all()
    assert session.get(Contact, contact_id) is not None
    done = browser.post(
        f"/contacts/{contact_id}/erase",
        data={"csrf_token": token, "confirm": "erase"},
        follow_redirects=False,
    )
    assert done.status_code == 303
    session.expire_all()
    assert session.get(Contact, contact_id) is None
    assert session.get(Response, response_id) is None
    assert session.get(Contact, keep_id) is not None
    assert not session.exec(
        select(OutboxMessage).where(OutboxMessage.to == "E-1@customer.example")
    ).all()
    assert session.exec(
        select(OutboxMessage).where(OutboxMessage.to == "E-2@customer.example")
    ).all()
    event = session.exec(select(AuditEvent).where(AuditEvent.action == "contact.erase")).one()
    assert event.user_id == owner.id and event.details["responses"] == 1
    assert "E-1@customer.example" not in str(event.details)


def test_retention_anonymises_only_expired_contacts_and_keeps_responses(
    session: Session, wave: Any
) -> None:
    old, old_response = _contact_with_response(session, wave, "R-old", JAN)
    recent, _ = _contact_with_response(session, wave, "R-new", datetime(2026, 6, 1, tzinfo=UTC))
    fieldwork.issue_invitations(session, wave, [old])
    session.commit()
    now = datetime(2026, 8, 1, tzinfo=UTC)
    assert apply_retention(session, {wave.study_id: 6}, now=now) == {wave.study_id: 1}
    session.commit()
    session.expire_all()
    old = session.get(Contact, old.id)
    assert old.external_id == ANONYMISED_PREFIX + old.pseudonym
    assert (old.email, old.phone, old.attributes) == (None, None, {})
    assert session.get(Response, old_response.id).contact_id == old.id
    assert not session.exec(select(WaveInvitation).where(WaveInvitation.contact_id == old.id)).all()
    assert session.get(Contact, recent.id).email == "R-new@customer.example"
    # Idempotent: a second run finds nothing more; a later clock reaches the recent contact.
    assert apply_retention(session, {wave.study_id: 6}, now=now) == {wave.study_id: 0}
    later = datetime(2027, 1, 1, tzinfo=UTC)
    assert apply_retention(session, {wave.study_id: 6}, now=later) == {wave.study_id: 1}


def test_the_cli_applies_each_studys_retention(
    session: Session, wave: Any, study: Study, settings: Any, monkeypatch: Any
) -> None:
    from loyaltylab import cli, timeutil

    contact, _ = _contact_with_response(session, wave, "C-1", JAN)
    study.retention_months = 3
    session.add(study)
    session.commit()
    monkeypatch.setenv("LOYALTYLAB_DATABASE_URL", settings.database_url)
    monkeypatch.setattr(cli, "get_settings", lambda: settings)
    monkeypatch.setattr(timeutil, "utcnow", lambda: datetime(2026, 3, 1, tzinfo=UTC))
    result = CliRunner().invoke(cli.app, ["apply-retention"])
    assert result.exit_code == 0, result.output
    assert "Anonymised 0 contacts" in result.output
    monkeypatch.setattr(timeutil, "utcnow", lambda: datetime(2026, 5, 1, tzinfo=UTC))
    result = CliRunner().invoke(cli.app, ["apply-retention"])
    assert "Anonymised 1 contacts in 1 studies" in result.output
    session.expire_all()
    assert session.get(Contact, contact.id).email is None


def test_the_privacy_page_finds_contacts_by_email_id_or_phone(
    app: FastAPI, session: Session, wave: Any, owner: Any, login: Callable
) -> None:
    found, _ = _contact_with_response(session, wave, "FIND-7", JAN)
    other, _ = _contact_with_response(session, wave, "OTHER-8", JAN)
    browser = TestClient(app, base_url="https://testserver")
    login(browser, owner.email)
    page = f"/studies/{wave.study_id}/privacy"
    by_email = browser.get(page, params={"q": "find-7@customer"}).text
    assert f"/contacts/{found.id}/erase" in by_email
    assert f"/contacts/{other.id}/erase" not in by_email
    by_phone = browser.get(page, params={"q": "138 0000"}).text
    assert f"/contacts/{found.id}/erase" in by_phone and f"/contacts/{other.id}/erase" in by_phone
    assert f"/contacts/{found.id}/erase" not in browser.get(page, params={"q": "nobody"}).text
