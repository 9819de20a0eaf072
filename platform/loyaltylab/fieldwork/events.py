"""Event-triggered invitations: the CRM reports an event about a contact (``complaint_closed``)
and the wave's invitation reaches them after the wave's delay.

:func:`record_event` only writes a :class:`ContactEvent` row in the caller's transaction (it
exists exactly when the caller's action is committed). The job queue's consumers send what is
due once a minute (:func:`send_due_invitations`, a periodic task of
:class:`loyaltylab.jobs.queue.JobQueue`), through the same personal links, texts and outbox as
the wave page's e-mails. Kept in the database rather than as a delayed queue message, a
scheduled invitation survives a restart of Redis or of the workers, and an erased contact's
events go with them.

Each event is sent at most once: the sender claims it with a conditional update
(``scheduled`` -> ``sent``) in the transaction that issues the link and queues the e-mail.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, func, select

from loyaltylab.accounts.models import Organisation
from loyaltylab.errors import Conflict, InvalidInput
from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.invitation_mail import mail_contacts
from loyaltylab.fieldwork.models import (
    Contact,
    ContactEvent,
    EventStatus,
    Wave,
    WaveInvitation,
    WaveStatus,
)
from loyaltylab.i18n import N_
from loyaltylab.mail import deliver_all
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import as_utc, utcnow

logger = logging.getLogger("loyaltylab.events")

MAX_EVENT_NAME = 64
MAX_EVENT_ID = 200
MAX_DELAY_MINUTES = 30 * 24 * 60
MAX_COOLDOWN_DAYS = 3 * 365
SENT_PER_RUN = 500
"""Due invitations one run sends at most; the next minute's run sends the rest."""
# Events whose invitation reached (or is about to reach) the contact: they start a cool-down.
_INVITING = (EventStatus.scheduled, EventStatus.sent)


class Outcome(StrEnum):
    scheduled = "scheduled"
    """The invitation goes out at ``send_at``."""
    duplicate = "duplicate"
    """The event id was reported before: nothing new happened (``event`` is the first one)."""
    cooled_down = "cooled_down"
    """Not sent: the contact had an event-triggered invitation within the wave's cool-down."""
    opted_out = "opted_out"
    """Not sent: the contact opted out of the study's e-mails."""


@dataclass(frozen=True)
class EventOutcome:
    status: Outcome
    event: ContactEvent
    """The stored event: this call's, or for a duplicate the one first recorded."""

    @property
    def send_at(self) -> datetime | None:
        return self.event.send_at if self.event.status is EventStatus.scheduled else None


class WaveNotTakingEvents(Conflict):
    """Events reach only an open wave: its invitations must lead somewhere."""


SCHEDULED_INVITATION = "invitation"
"""The event of an invitation scheduled for a time (through the API): it is sent like an event's,
but neither starts nor waits for a cool-down. Callers cannot report an event of this name."""


def record_event(
    session: Session, *, wave: Wave, contact: Contact, event: str, event_id: str, now: datetime
) -> EventOutcome:
    """Record that ``event`` happened to ``contact`` and schedule the wave's invitation.

    Idempotent on the organisation's ``event_id``: a repeat returns ``duplicate`` with the
    first record, whatever its other arguments. The invitation is scheduled for ``now`` plus
    the wave's delay, unless the contact opted out or had an event-triggered invitation (of
    any wave of the study) within the wave's cool-down. Flushes only.

    Raises :class:`WaveNotTakingEvents` unless the wave is open, :class:`InvalidInput` for an
    empty or overlong event name or id, ValueError for a contact of another study.
    """
    event, event_id = event.strip(), event_id.strip()
    if not event or len(event) > MAX_EVENT_NAME:
        raise InvalidInput("The event needs a name of 1 to %(max)s characters.", max=MAX_EVENT_NAME)
    if event == SCHEDULED_INVITATION:
        raise InvalidInput("The event name %(name)s is reserved.", name=SCHEDULED_INVITATION)
    if not event_id or len(event_id) > MAX_EVENT_ID:
        raise InvalidInput("The event needs an id of 1 to %(max)s characters.", max=MAX_EVENT_ID)
    delay = timedelta(minutes=wave.event_delay_minutes)
    return _record(
        session,
        wave=wave,
        contact=contact,
        event=event,
        event_id=event_id,
        now=now,
        send_at=now + delay,
        cooldown=timedelta(days=wave.event_cooldown_days),
    )


def schedule_invitation(
    session: Session, *, wave: Wave, contact: Contact, send_at: datetime, now: datetime
) -> EventOutcome:
    """Schedule the wave's invitation to ``contact`` for ``send_at``: ``scheduled``, or
    ``duplicate`` when it was scheduled for that time already, or ``opted_out``. Flushes only."""
    moment = as_utc(send_at).isoformat(timespec="seconds")
    return _record(
        session,
        wave=wave,
        contact=contact,
        event=SCHEDULED_INVITATION,
        event_id=f"{SCHEDULED_INVITATION}:{wave.id}:{contact.id}:{moment}",
        now=now,
        send_at=max(send_at, now),
        cooldown=None,
    )


def _record(
    session: Session,
    *,
    wave: Wave,
    contact: Contact,
    event: str,
    event_id: str,
    now: datetime,
    send_at: datetime,
    cooldown: timedelta | None,
) -> EventOutcome:
    if contact.study_id != wave.study_id or contact.organisation_id != wave.organisation_id:
        raise ValueError("the contact must belong to the wave's study")
    # Events of one contact take turns (PostgreSQL): two at once cannot both pass the cool-down.
    session.exec(select(Contact.id).where(Contact.id == contact.id).with_for_update()).one()
    first = _event_by_id(session, wave.organisation_id, event_id)
    if first is not None:
        return EventOutcome(Outcome.duplicate, first)
    if wave.status != WaveStatus.open or not service.is_accepting(wave, send_at):
        raise WaveNotTakingEvents(N_("The wave is not open: it cannot send invitations."))
    status = EventStatus.scheduled
    if contact.opted_out_at is not None:
        status = EventStatus.opted_out
    elif cooldown is not None and _invited_within(session, contact, since=now - cooldown):
        status = EventStatus.cooled_down
    record = ContactEvent(
        organisation_id=wave.organisation_id,
        wave_id=wave.id,
        contact_id=contact.id,
        event=event,
        event_id=event_id,
        status=status,
        received_at=now,
        send_at=send_at if status is EventStatus.scheduled else None,
    )
    try:
        with session.begin_nested():
            session.add(record)
    except IntegrityError:
        # The same id for another contact, committed meanwhile: still the first one wins.
        first = _event_by_id(session, wave.organisation_id, event_id)
        if first is None:
            raise
        return EventOutcome(Outcome.duplicate, first)
    return EventOutcome(Outcome(status.value), record)


def _event_by_id(session: Session, organisation_id: int, event_id: str) -> ContactEvent | None:
    return session.exec(
        select(ContactEvent).where(
            ContactEvent.organisation_id == organisation_id, ContactEvent.event_id == event_id
        )
    ).first()


def _invited_within(session: Session, contact: Contact, *, since: datetime) -> bool:
    return (
        session.exec(
            select(ContactEvent.id)
            .where(
                ContactEvent.contact_id == contact.id,
                ContactEvent.event != SCHEDULED_INVITATION,
                ContactEvent.status.in_(_INVITING),
                ContactEvent.received_at > since,
            )
            .limit(1)
        ).first()
        is not None
    )


def set_event_settings(
    session: Session, wave: Wave, *, delay_minutes: int, cooldown_days: int
) -> Wave:
    """Change the wave's delay and cool-down (scheduled invitations keep their time)."""
    if not 0 <= delay_minutes <= MAX_DELAY_MINUTES:
        raise InvalidInput("Enter a delay from 0 to %(max)s minutes.", max=MAX_DELAY_MINUTES)
    if not 0 <= cooldown_days <= MAX_COOLDOWN_DAYS:
        raise InvalidInput("Enter a cool-down from 0 to %(max)s days.", max=MAX_COOLDOWN_DAYS)
    wave.event_delay_minutes = delay_minutes
    wave.event_cooldown_days = cooldown_days
    session.add(wave)
    session.flush()
    return wave


def event_counts(session: Session, wave: Wave) -> dict[EventStatus, int]:
    """How many of the wave's events are in each state (every state, zeros included)."""
    rows = session.exec(
        select(ContactEvent.status, func.count())
        .where(ContactEvent.wave_id == wave.id)
        .group_by(ContactEvent.status)
    ).all()
    counts = dict.fromkeys(EventStatus, 0)
    counts.update({EventStatus(status): count for status, count in rows})
    return counts


# --- sending (in the job queue's consumers) ------------------------------------------------


def send_due_invitations(
    engine: Engine, settings: Settings, *, now: datetime | None = None
) -> list[int]:
    """Send the invitations of events due by ``now``, each in a transaction of its own; the
    ids of the events sent. Consumers call this every minute; running it twice at once sends
    nothing twice."""
    now = now or utcnow()
    with Session(engine) as session:
        due = session.exec(
            select(ContactEvent.id)
            .where(ContactEvent.status == EventStatus.scheduled, ContactEvent.send_at <= now)
            .order_by(ContactEvent.send_at, ContactEvent.id)
            .limit(SENT_PER_RUN)
        ).all()
    sent, messages = [], []
    for event_id in due:
        with Session(engine) as session:
            message_id = _send(session, settings, event_id, now)
            session.commit()
        if message_id is not None:
            sent.append(event_id)
            messages.append(message_id)
    if settings.smtp_url and messages:
        deliver_all(engine, messages, settings.smtp_url)
    if due:
        logger.info("event-triggered invitations: %s due, %s e-mailed", len(due), len(sent))
    return sent


def _send(session: Session, settings: Settings, event_id: int, now: datetime) -> int | None:
    """Claim one due event and e-mail its invitation; the outbox message's id, or None when
    another consumer claimed it first or it can no longer go out (then cancelled, with why)."""
    claimed = session.execute(
        update(ContactEvent)
        .where(ContactEvent.id == event_id, ContactEvent.status == EventStatus.scheduled)
        .values(status=EventStatus.sent, sent_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    event = session.get(ContactEvent, event_id)
    wave = session.get(Wave, event.wave_id)
    contact = session.get(Contact, event.contact_id)
    reason = _why_not(wave, contact, now)
    mailed = []
    if not reason:
        study = session.get(Study, wave.study_id)
        organisation = session.get(Organisation, wave.organisation_id)
        mailed = mail_contacts(
            session, settings, organisation, wave, study, [contact], kind="invitation"
        )
        reason = "" if mailed else "answered"  # the contact's invitation to it is used
    if reason:
        event.status, event.reason, event.sent_at = EventStatus.cancelled, reason, None
    else:
        event.invitation_id = session.exec(
            select(WaveInvitation.id).where(
                WaveInvitation.wave_id == wave.id, WaveInvitation.contact_id == contact.id
            )
        ).one()
    session.add(event)
    session.flush()
    return mailed[0][1].id if mailed else None


def _why_not(wave: Wave, contact: Contact, now: datetime) -> str:
    """Why the invitation can no longer go out ("" when it can)."""
    if not service.is_accepting(wave, now):
        return "wave_closed"
    if contact.opted_out_at is not None:
        return "opted_out"
    if not contact.email:
        return "no_email"
    return ""
