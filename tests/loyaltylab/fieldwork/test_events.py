"""Event-triggered invitations: an event reported about a contact sends the wave's invitation
after the wave's delay, once per event id, at most once per contact per cool-down, through the
job queue's periodic task and the wave's personal links and e-mail texts."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from loyaltylab import workflows
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.events import (
    Outcome,
    WaveNotTakingEvents,
    record_event,
    send_due_invitations,
)
from loyaltylab.fieldwork.models import Contact, ContactEvent, EventStatus, Wave, WaveInvitation
from loyaltylab.mail import OutboxMessage
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from tests.loyaltylab.forms_support import submit

NOW = datetime(2026, 12, 6, 8, 0, tzinfo=UTC)
LINK = re.compile(r"https://loyaltylab\.example(/i/\S+)")


@pytest.fixture
def customers(session: Session, study: Study) -> dict[str, Contact]:
    contacts = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[
            {"external_id": "C1", "email": "wang@example.cn", "name": "王芳", "language": "zh-CN"},
            {"external_id": "C2", "email": "ann@example.com", "name": "Ann Lee", "language": "en"},
            {"external_id": "C3", "phone": "+8613800000000"},
        ],
    )
    session.commit()
    return {contact.external_id: contact for contact in contacts}


def _record(session: Session, wave: Wave, contact: Contact, event_id: str, now: datetime):
    outcome = record_event(
        session, wave=wave, contact=contact, event="complaint_closed", event_id=event_id, now=now
    )
    session.commit()
    return outcome


def _outbox(session: Session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.exec(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_an_event_schedules_the_invitation_after_the_delay_and_a_repeat_is_a_duplicate(
    session: Session, wave: Wave, customers: dict[str, Contact]
) -> None:
    first = _record(session, wave, customers["C2"], "crm-1001", NOW)
    assert first.status is Outcome.scheduled
    assert first.send_at == NOW + timedelta(minutes=60)  # the default delay
    again = _record(session, wave, customers["C2"], "crm-1001", NOW + timedelta(hours=2))
    assert again.status is Outcome.duplicate
    assert again.event.id == first.event.id
    # Idempotent whatever else the repeat says: the id is the caller's key.
    other_contact = _record(session, wave, customers["C1"], "crm-1001", NOW)
    assert other_contact.status is Outcome.duplicate
    assert len(session.exec(select(ContactEvent)).all()) == 1


def test_one_event_invitation_per_contact_per_cool_down(
    session: Session, wave: Wave, customers: dict[str, Contact]
) -> None:
    wave.event_cooldown_days = 30
    session.add(wave)
    session.commit()
    contact = customers["C2"]
    assert _record(session, wave, contact, "e1", NOW).status is Outcome.scheduled
    within = _record(session, wave, contact, "e2", NOW + timedelta(days=29))
    assert within.status is Outcome.cooled_down and within.send_at is None
    # Another contact is not held back by this one's cool-down.
    assert _record(session, wave, customers["C1"], "e3", NOW).status is Outcome.scheduled
    after = _record(session, wave, contact, "e4", NOW + timedelta(days=31))
    assert after.status is Outcome.scheduled


def test_opted_out_contacts_and_closed_waves_get_no_invitation(
    session: Session, wave: Wave, customers: dict[str, Contact]
) -> None:
    fieldwork.opt_out(session, customers["C1"])
    session.commit()
    assert _record(session, wave, customers["C1"], "e1", NOW).status is Outcome.opted_out
    fieldwork.close_wave(session, wave)
    session.commit()
    with pytest.raises(WaveNotTakingEvents):
        record_event(
            session,
            wave=wave,
            contact=customers["C2"],
            event="complaint_closed",
            event_id="e2",
            now=NOW,
        )


def test_due_invitations_are_e_mailed_once_in_the_contacts_language_with_a_working_link(
    session: Session,
    engine: Engine,
    settings: Settings,
    wave: Wave,
    customers: dict[str, Contact],
    client: TestClient,
) -> None:
    chinese = _record(session, wave, customers["C1"], "e-zh", NOW)
    english = _record(session, wave, customers["C2"], "e-en", NOW + timedelta(minutes=30))
    assert send_due_invitations(engine, settings, now=NOW + timedelta(minutes=59)) == []
    assert _outbox(session) == []
    assert send_due_invitations(engine, settings, now=NOW + timedelta(minutes=60)) == [
        chinese.event.id
    ]
    [mail] = _outbox(session)
    assert mail.to == "wang@example.cn"
    assert mail.body.startswith("尊敬的王芳：")
    assert send_due_invitations(engine, settings, now=NOW + timedelta(minutes=95)) == [
        english.event.id
    ]
    mails = _outbox(session)
    assert [m.to for m in mails] == ["wang@example.cn", "ann@example.com"]
    assert mails[1].body.startswith("Dear Ann Lee,")
    # Nothing twice, however often the task runs.
    assert send_due_invitations(engine, settings, now=NOW + timedelta(days=1)) == []
    assert len(_outbox(session)) == 2
    sent = session.get(ContactEvent, english.event.id)
    invitation = session.get(WaveInvitation, sent.invitation_id)
    assert sent.status is EventStatus.sent and invitation.emailed_at is not None
    assert invitation.contact_id == customers["C2"].id
    # The personal link opens the questionnaire in the contact's language.
    link = LINK.search(mails[1].body).group(1)
    assert '<html lang="en">' in client.get(link).text


def test_what_can_no_longer_go_out_is_cancelled_with_the_reason(
    session: Session, engine: Engine, settings: Settings, wave: Wave, customers: dict[str, Contact]
) -> None:
    no_email = _record(session, wave, customers["C3"], "e-phone", NOW)
    opted = _record(session, wave, customers["C1"], "e-opted", NOW)
    fieldwork.opt_out(session, session.get(Contact, customers["C1"].id))
    session.commit()
    assert send_due_invitations(engine, settings, now=NOW + timedelta(hours=1)) == []
    session.expire_all()
    assert session.get(ContactEvent, no_email.event.id).reason == "no_email"
    assert session.get(ContactEvent, opted.event.id).reason == "opted_out"
    closed = _record(session, wave, customers["C2"], "e-closed", NOW)
    fieldwork.close_wave(session, session.get(Wave, wave.id))
    session.commit()
    assert send_due_invitations(engine, settings, now=NOW + timedelta(hours=1)) == []
    session.expire_all()
    event = session.get(ContactEvent, closed.event.id)
    assert (event.status, event.reason) == (EventStatus.cancelled, "wave_closed")
    assert _outbox(session) == []


def test_the_job_queue_sends_due_invitations_every_minute(
    app: FastAPI,
    session: Session,
    settings: Settings,
    wave: Wave,
    customers: dict[str, Contact],
    tmp_path: Path,
) -> None:
    queue = workflows.job_queue(settings, name="events", sqlite_path=tmp_path / "jobs.db")
    try:
        periodic = {task.name for task in queue.huey._registry.periodic_tasks}
        assert "loyaltylab.send_event_invitations" in periodic
        event = _record(session, wave, customers["C2"], "e1", NOW)
        assert workflows.send_event_invitations(queue, now=NOW + timedelta(hours=1)) == [
            event.event.id
        ]
    finally:
        queue.close()
    assert [m.to for m in _outbox(session)] == ["ann@example.com"]


def test_editors_set_the_delay_and_cool_down_on_the_wave_page(
    researcher: TestClient, session: Session, wave: Wave
) -> None:
    page = f"/waves/{wave.id}"
    assert "Event-triggered invitations" in researcher.get(page).text
    saved = submit(
        researcher,
        page,
        f"/waves/{wave.id}/event-settings",
        delay_minutes="15",
        cooldown_days="30",
    )
    assert saved.status_code == 303
    session.expire_all()
    stored = session.get(Wave, wave.id)
    assert (stored.event_delay_minutes, stored.event_cooldown_days) == (15, 30)
    refused = submit(
        researcher,
        page,
        f"/waves/{wave.id}/event-settings",
        delay_minutes="-5",
        cooldown_days="30",
    )
    assert refused.status_code == 303
    shown = researcher.get(page).text
    assert "Enter the delay and the cool-down as whole numbers." in shown
    session.expire_all()
    assert session.get(Wave, wave.id).event_delay_minutes == 15
