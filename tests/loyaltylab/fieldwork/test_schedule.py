"""Study schedules: the next wave is prepared for the coming period, once, with a fixed clock."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, func, select

from loyaltylab.accounts.models import Role
from loyaltylab.fieldwork import schedule as schedules
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Frequency, Wave, WaveInvitation, WaveStatus
from loyaltylab.questionnaires import service as questionnaires
from surveys.definition import ShortTextItem


def at(year: int, month: int, day: int = 1) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


@pytest.mark.parametrize(
    ("frequency", "moment", "name", "start", "end"),
    [
        (Frequency.monthly, at(2026, 12, 31), "2026-12", at(2026, 12), at(2027, 1)),
        (Frequency.quarterly, at(2026, 11, 23), "2026-Q4", at(2026, 10), at(2027, 1)),
        (Frequency.quarterly, at(2026, 4, 1), "2026-Q2", at(2026, 4), at(2026, 7)),
        (Frequency.yearly, at(2026, 6, 15), "2026", at(2026, 1), at(2027, 1)),
    ],
)
def test_periods(frequency, moment, name, start, end) -> None:
    period = schedules.period_of(moment, frequency)
    assert (period.name, period.start, period.end) == (name, start, end)
    assert period.next().start == end


@pytest.fixture
def fielded(session: Session, study, version):
    """A closed 2026-Q3 wave that invited three of the study's four contacts."""
    contacts = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": f"C{n}", "attributes": {"tier": "gold"}} for n in range(4)],
    )
    wave = fieldwork.create_wave(
        session,
        fieldwork.WaveSettings(
            name="2026-Q3", opens_at=at(2026, 7), closes_at=at(2026, 10), target=300
        ),
        study_id=study.id,
        organisation_id=study.organisation_id,
        version_id=version.id,
    )
    fieldwork.issue_invitations(session, wave, contacts[:3])
    session.commit()
    return wave, contacts


def invited(session: Session, wave: Wave) -> list[int]:
    return sorted(
        session.exec(
            select(WaveInvitation.contact_id).where(WaveInvitation.wave_id == wave.id)
        ).all()
    )


def test_next_wave_continues_the_series_once(session: Session, study, version, fielded) -> None:
    previous, contacts = fielded
    assert schedules.prepare_next_wave(session, study, now=at(2026, 11, 23)) is None  # no schedule
    schedules.set_schedule(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        frequency=Frequency.quarterly,
    )
    # A newer published version of the questionnaire is what the next wave fields.
    questionnaires.add_item(
        session,
        study.organisation_id,
        version.questionnaire_id,
        ShortTextItem(code="store", label={"en": "Which store?", "zh-CN": "哪家门店?"}),
        section=0,
    )
    newer = questionnaires.publish(
        session, study.organisation_id, version.questionnaire_id, user_id=None
    )
    wave = schedules.prepare_next_wave(session, study, now=at(2026, 11, 23))
    session.commit()
    assert wave is not None
    # Q4 has begun already: the series goes on with the coming quarter.
    assert (wave.name, wave.status, wave.questionnaire_version_id) == (
        "2027-Q1",
        WaveStatus.draft,
        newer.id,
    )
    assert (wave.opens_at, wave.closes_at, wave.target) == (at(2027, 1), at(2027, 4), 300)
    # The same panel: the contacts invited last time (their pseudonyms link the waves).
    assert invited(session, wave) == invited(session, previous) == [c.id for c in contacts[:3]]
    assert schedules.prepare_next_wave(session, study, now=at(2026, 11, 23)) is None
    assert schedules.prepare_next_wave(session, study, now=at(2026, 12, 31)) is None
    later = schedules.prepare_next_wave(session, study, now=at(2027, 1, 2))
    assert later is not None and later.name == "2027-Q2"


def test_periods_that_ended_are_skipped_and_monthly_names(session: Session, study, fielded) -> None:
    schedules.set_schedule(
        session, study_id=study.id, organisation_id=study.organisation_id, frequency="monthly"
    )
    wave = schedules.prepare_next_wave(session, study, now=at(2027, 3, 10))
    assert wave is not None
    assert (wave.name, wave.opens_at, wave.closes_at) == ("2027-04", at(2027, 4), at(2027, 5))
    schedules.set_schedule(
        session, study_id=study.id, organisation_id=study.organisation_id, frequency=None
    )
    assert schedules.get_schedule(session, study.id) is None


def test_a_study_without_waves_invites_all_its_contacts(session: Session, study, version) -> None:
    contacts = fieldwork.add_contacts(
        session,
        study_id=study.id,
        organisation_id=study.organisation_id,
        rows=[{"external_id": "A"}, {"external_id": "B"}],
    )
    schedules.set_schedule(
        session, study_id=study.id, organisation_id=study.organisation_id, frequency="yearly"
    )
    (wave,) = schedules.prepare_due_waves(session, now=at(2026, 11, 23))
    assert wave.name == "2027" and invited(session, wave) == [c.id for c in contacts]
    assert schedules.prepare_due_waves(session, now=at(2026, 11, 24)) == []


def test_schedule_form_on_the_waves_page(
    client, session: Session, study, version, fielded, make_member, login, csrf
) -> None:
    make_member(study_organisation(session, study), email="ed@northwind.example")
    login(client, "ed@northwind.example")
    page = f"/studies/{study.id}/waves"
    response = client.post(
        f"/studies/{study.id}/schedule",
        data={"frequency": "quarterly", "csrf_token": csrf(client, page)},
        follow_redirects=True,
    )
    assert response.status_code == 200
    assert "next wave is prepared as a draft" in response.text
    session.expire_all()
    names = session.exec(select(Wave.name).where(Wave.study_id == study.id)).all()
    assert len(names) == 2 and "2026-Q3" in names  # plus the coming quarter's draft
    zh = client.get(page, headers={"Accept-Language": "zh-CN"})
    assert "调查周期：每季度" in zh.text
    removed = client.post(
        f"/studies/{study.id}/schedule",
        data={"frequency": "", "csrf_token": csrf(client, page)},
        follow_redirects=True,
    )
    assert "The schedule has been removed." in removed.text
    bad = client.post(
        f"/studies/{study.id}/schedule",
        data={"frequency": "hourly", "csrf_token": csrf(client, page)},
    )
    assert bad.status_code == 400


def test_clients_cannot_set_a_schedule(
    client, session: Session, study, client_organisation, make_member, login, csrf
) -> None:
    make_member(client_organisation, email="cl@contoso.example", role=Role.client)
    login(client, "cl@contoso.example")
    token = csrf(client, "/studies")
    response = client.post(
        f"/studies/{study.id}/schedule", data={"frequency": "monthly", "csrf_token": token}
    )
    assert response.status_code in (403, 404)
    assert schedules.get_schedule(session, study.id) is None


def study_organisation(session: Session, study):
    from loyaltylab.accounts.models import Organisation

    return session.get(Organisation, study.organisation_id)


@pytest.mark.slow
def test_schedule_waves_command_is_idempotent(
    session: Session, database_url: str, study, version, fielded, tmp_path
) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("one database is enough for the command; the service runs on both")
    schedules.set_schedule(
        session, study_id=study.id, organisation_id=study.organisation_id, frequency="quarterly"
    )
    session.commit()
    env = {**os.environ, "LOYALTYLAB_DATABASE_URL": database_url, "LOYALTYLAB_ENV": "development"}
    env["LOYALTYLAB_VAR_DIR"] = str(tmp_path / "var")
    command = [sys.executable, "-m", "loyaltylab", "schedule-waves"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stderr
    assert "1 wave(s) prepared." in first.stdout and "0 wave(s) prepared." in second.stdout
    session.expire_all()
    assert session.exec(select(func.count()).select_from(Wave)).one() == 2
