"""Where the web domains meet: the job queue's handlers and tasks, and the wave-closed workflow.

The job queue knows no domain and the domains know each other only one way; what ties them
together (a report job, a closed wave that starts its client's report) is assembled here, so
``jobs``, ``reports_web`` and ``notifications`` import no cycle.

Every consumer also sends the event-triggered invitations that are due and queues again the
webhook deliveries the queue lost, once a minute.

A commissioned wave closes -> the ``wave.closed`` webhook, and its PDF report is generated ->
the client's users are told.
Closing happens on the wave page or, once ``closes_at`` has passed, in ``loyaltylab
schedule-waves``; both call :func:`report_closed_wave`. The report job calls
:func:`loyaltylab.notifications.service.notify_report_ready` in the transaction that saves the
files, so the e-mail and the in-app notice exist only for a report that is there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from sqlmodel import Session

from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork import schedule
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.events import send_due_invitations
from loyaltylab.fieldwork.models import Wave
from loyaltylab.jobs import DEFAULT_QUEUE
from loyaltylab.jobs.models import JobKind
from loyaltylab.jobs.queue import Handler, JobQueue, Periodic, Task, make_queues_with
from loyaltylab.notifications.service import client_users
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web import service as reports
from loyaltylab.reports_web.generate import generate_report
from loyaltylab.reports_web.models import Report
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.webhooks import service as webhooks
from loyaltylab.webhooks.delivery import attempt_delivery, claim_overdue_deliveries
from loyaltylab.webhooks.models import WebhookEvent
from reports.i18n import language_for

logger = logging.getLogger(__name__)


def deliver_webhook(queue: JobQueue, delivery_id: int) -> None:
    """One attempt at a webhook delivery; a failure schedules the next one."""

    def retry(delivery_id: int, *, delay: float = 0) -> None:
        queue.enqueue(webhooks.DELIVER_TASK, delivery_id, delay=delay)

    attempt_delivery(queue.engine, queue.settings, delivery_id, retry=retry)


def requeue_webhooks(queue: JobQueue, now: datetime | None = None) -> list[int]:
    """Queue again the deliveries whose attempt is long overdue (the process died between its
    commit and the hand-over, or the queue lost the task)."""
    overdue = claim_overdue_deliveries(queue.engine, now=now)
    for delivery_id in overdue:
        queue.enqueue(webhooks.DELIVER_TASK, delivery_id)
    return overdue


def send_event_invitations(queue: JobQueue, now: datetime | None = None) -> list[int]:
    """E-mail the event-triggered invitations that are due."""
    return send_due_invitations(queue.engine, queue.settings, now=now)


JOB_HANDLERS: Mapping[JobKind, Handler] = {JobKind.report: generate_report}
TASKS: Mapping[str, Task] = {webhooks.DELIVER_TASK: deliver_webhook}
PERIODIC: Mapping[str, Periodic] = {
    "loyaltylab.send_event_invitations": send_event_invitations,
    "loyaltylab.requeue_webhooks": requeue_webhooks,
}


def job_queue(
    settings: Settings, *, name: str = DEFAULT_QUEUE, sqlite_path: Path | None = None
) -> JobQueue:
    """The queue the app, the CLI and the workers submit to and consume, with every handler."""
    return JobQueue(
        settings,
        handlers=JOB_HANDLERS,
        tasks=TASKS,
        periodic=PERIODIC,
        name=name,
        sqlite_path=sqlite_path,
    )


# Work handed over after a commit (a webhook delivery) without a queue at hand goes to one made
# here, with the handlers above, unless a worker or a test chose one with ``use_queue``.
make_queues_with(job_queue)


def report_language(session: Session, study: Study, wave: Wave) -> str:
    """The client's users' language (the first who chose one), else the questionnaire's."""
    for user in client_users(session, study):
        if user.locale:
            return language_for(user.locale)
    version = session.get(QuestionnaireVersion, wave.questionnaire_version_id)
    default = questionnaires.definition_of(version).languages[0] if version else "en"
    return language_for(default)


def report_closed_wave(session: Session, wave: Wave, queue: JobQueue) -> Report | None:
    """What follows a wave's closing: the ``wave.closed`` webhook, and the start of the
    client's report (returned; None: no client, or no data)."""
    webhooks.emit(
        session,
        organisation_id=wave.organisation_id,
        event=WebhookEvent.wave_closed,
        payload={
            "wave_id": wave.id,
            "study_id": wave.study_id,
            "name": wave.name,
            "closes_at": wave.closes_at,
            "completes": sum(fieldwork.completes_by_cell(session, wave.id).values()),
        },
    )
    study = session.get(Study, wave.study_id)
    if study is None or study.client_organisation_id is None:
        return None
    language = report_language(session, study, wave)
    try:
        with session.begin_nested():
            return reports.create_wave_report(session, study, wave, queue, language=language)
    except InvalidInput as problem:
        logger.info("no report for closed wave %s: %s", wave.id, problem.message)
        return None


def close_due_waves(
    session: Session, queue: JobQueue, *, now: datetime | None = None
) -> list[tuple[Wave, Report | None]]:
    """Close the open waves whose closing time has passed, each with its client report."""
    closed = schedule.close_due_waves(session, now=now)
    return [(wave, report_closed_wave(session, wave, queue)) for wave in closed]
