"""Recurring waves: a study's schedule (monthly, quarterly, yearly) prepares its next wave.

The next wave is prepared one period ahead: during a period, the wave of the coming period is
created as a draft (named after it: "2026-12", "2027-Q1", "2027", opening and closing with it)
so the researcher can review it before it opens. It continues the series after the study's
latest wave but never starts a period that has already begun (a late study skips to the coming
period). It fields the latest published version of the questionnaire the latest wave used and
invites the same contacts, whose pseudonymous ids link their answers across waves. Preparing is
idempotent: once the coming period has its wave, nothing is due. Waves whose closing time has
passed are closed by :func:`close_due_waves`. Services flush, never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import partial
from typing import Protocol

from sqlmodel import Session, select

from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import (
    Contact,
    Frequency,
    StudySchedule,
    Wave,
    WaveInvitation,
    WaveStatus,
    utcnow,
)
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion

MONTHS = {Frequency.monthly: 1, Frequency.quarterly: 3, Frequency.yearly: 12}


@dataclass(frozen=True)
class Period:
    frequency: Frequency
    start: datetime
    end: datetime
    """Exclusive: the start of the next period."""

    @property
    def name(self) -> str:
        if self.frequency is Frequency.monthly:
            return f"{self.start.year}-{self.start.month:02d}"
        if self.frequency is Frequency.quarterly:
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        return str(self.start.year)

    def next(self) -> Period:
        return period_of(self.end, self.frequency)


class Identified(Protocol):
    id: int | None


def _utc(moment: datetime) -> datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; every stored time is UTC.
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def _month_start(year: int, month: int) -> datetime:
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return datetime(year, month, 1, tzinfo=UTC)


def period_of(moment: datetime, frequency: Frequency) -> Period:
    """The period (UTC calendar month, quarter or year) that contains ``moment``."""
    moment = _utc(moment)
    months = MONTHS[frequency]
    first_month = (moment.month - 1) // months * months + 1
    start = _month_start(moment.year, first_month)
    return Period(frequency, start, _month_start(moment.year, first_month + months))


def get_schedule(session: Session, study_id: int) -> StudySchedule | None:
    return session.exec(select(StudySchedule).where(StudySchedule.study_id == study_id)).first()


def set_schedule(
    session: Session, *, study_id: int, organisation_id: int, frequency: Frequency | None
) -> StudySchedule | None:
    """Set (or, with ``frequency=None``, remove) a study's schedule."""
    schedule = get_schedule(session, study_id)
    if frequency is None:
        if schedule is not None:
            session.delete(schedule)
            session.flush()
        return None
    if schedule is None:
        schedule = StudySchedule(
            study_id=study_id, organisation_id=organisation_id, frequency=frequency
        )
    schedule.frequency = Frequency(frequency)
    schedule.updated_at = utcnow()
    session.add(schedule)
    session.flush()
    return schedule


def _latest_wave(session: Session, study_id: int) -> Wave | None:
    waves = session.exec(select(Wave).where(Wave.study_id == study_id)).all()
    # Fielding order: by opening date where there is one, else by creation.
    return max(
        waves,
        key=lambda w: (_utc(w.opens_at or w.created_at), w.id),
        default=None,
    )


def next_period(session: Session, schedule: StudySchedule, *, now: datetime) -> Period:
    """The period of the study's next wave: after its latest wave's, and not yet begun."""
    latest = _latest_wave(session, schedule.study_id)
    anchor = (latest.opens_at or latest.created_at) if latest else now
    period = period_of(anchor, schedule.frequency).next()
    while period.start <= now:
        period = period.next()
    return period


def is_due(session: Session, schedule: StudySchedule, *, now: datetime) -> bool:
    """Whether the coming period still lacks its wave."""
    return next_period(session, schedule, now=now) == period_of(now, schedule.frequency).next()


def _version_to_field(
    session: Session, study_id: int, latest: Wave | None
) -> QuestionnaireVersion | None:
    """The newest published version of the latest wave's questionnaire (else the study's)."""
    previous = latest and session.get(QuestionnaireVersion, latest.questionnaire_version_id)
    return next(
        (
            version
            for version in questionnaires.published_versions(session, study_id)
            if previous is None or version.questionnaire_id == previous.questionnaire_id
        ),
        None,
    )


def _panel(session: Session, study_id: int, latest: Wave | None) -> list[Contact]:
    """The latest wave's invitees; all of the study's contacts when it invited nobody."""
    if latest is not None:
        invited = session.exec(
            select(Contact)
            .join(WaveInvitation, WaveInvitation.contact_id == Contact.id)
            .where(WaveInvitation.wave_id == latest.id)
            .order_by(Contact.id)
        ).all()
        if invited:
            return list(invited)
    return list(
        session.exec(select(Contact).where(Contact.study_id == study_id).order_by(Contact.id))
    )


def prepare_next_wave(
    session: Session, study: Identified, *, now: datetime | None = None
) -> Wave | None:
    """Create the study's next scheduled wave as a draft, with its invitations.

    ``study`` is anything with an ``id`` (the web layer's ``Study``). Returns the new wave,
    or None when the study has no schedule, no published questionnaire, or the wave exists.
    """
    now = now or utcnow()
    study_id = int(study.id or 0)
    schedule = get_schedule(session, study_id)
    if schedule is None:
        return None
    latest = _latest_wave(session, study_id)
    version = _version_to_field(session, study_id, latest)
    if version is None:
        return None
    period = next_period(session, schedule, now=now)
    taken = session.exec(
        select(Wave.id).where(Wave.study_id == study_id, Wave.name == period.name)
    ).first()
    if not is_due(session, schedule, now=now) or taken is not None:
        return None
    without_quotas = service.WaveSettings(
        name=period.name,
        opens_at=period.start,
        closes_at=period.end,
        target=latest.target if latest else None,
    )
    settings = without_quotas
    if latest is not None:
        settings = replace(
            without_quotas,
            quota_source=latest.quota_source,
            quota_attribute=latest.quota_attribute,
            quotas=latest.quotas,
        )
    create = partial(
        service.create_wave,
        session,
        study_id=study_id,
        organisation_id=schedule.organisation_id,
        version_id=version.id,
        mail_texts=latest.mail_texts if latest else None,
    )
    try:
        wave = create(settings)
    except service.InvalidWave as error:
        if set(error.problems) != {"quotas"}:
            raise
        # The new version no longer asks the quota question: the researcher sets new quotas.
        wave = create(without_quotas)
    # Links are (re)issued with fresh tokens when the invitations are mailed or downloaded.
    service.issue_invitations(
        session, wave, _panel(session, study_id, latest), expires_at=period.end
    )
    return wave


def prepare_due_waves(session: Session, *, now: datetime | None = None) -> list[Wave]:
    """Run :func:`prepare_next_wave` for every scheduled study; the waves it created."""
    now = now or utcnow()
    schedules = session.exec(select(StudySchedule).order_by(StudySchedule.id)).all()
    created = []
    for schedule in schedules:
        wave = prepare_next_wave(session, _StudyId(schedule.study_id), now=now)
        if wave is not None:
            created.append(wave)
    return created


@dataclass(frozen=True)
class _StudyId:
    id: int


def close_due_waves(session: Session, *, now: datetime | None = None) -> list[Wave]:
    """Close every open wave whose closing time has passed; the waves it closed."""
    now = now or utcnow()
    open_waves = session.exec(
        select(Wave)
        .where(Wave.status == WaveStatus.open, Wave.closes_at.is_not(None))
        .order_by(Wave.id)
    ).all()
    return [service.close_wave(session, wave) for wave in open_waves if _utc(wave.closes_at) <= now]
