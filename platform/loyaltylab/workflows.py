"""Where the web domains meet: the job queue's handlers and the wave-closed workflow.

The job queue knows no domain and the domains know each other only one way; what ties them
together (a report job, a closed wave that starts its client's report) is assembled here, so
``jobs``, ``reports_web`` and ``notifications`` import no cycle.

A commissioned wave closes -> its PDF report is generated -> the client's users are told.
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
from loyaltylab.fieldwork.models import Wave
from loyaltylab.jobs import DEFAULT_QUEUE
from loyaltylab.jobs.models import JobKind
from loyaltylab.jobs.queue import Handler, JobQueue
from loyaltylab.notifications.service import client_users
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web import service as reports
from loyaltylab.reports_web.generate import generate_report
from loyaltylab.reports_web.models import Report
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from reports.i18n import language_for

logger = logging.getLogger(__name__)

JOB_HANDLERS: Mapping[JobKind, Handler] = {JobKind.report: generate_report}


def job_queue(
    settings: Settings, *, name: str = DEFAULT_QUEUE, sqlite_path: Path | None = None
) -> JobQueue:
    """The queue the app, the CLI and the workers submit to and consume, with every handler."""
    return JobQueue(settings, handlers=JOB_HANDLERS, name=name, sqlite_path=sqlite_path)


def report_language(session: Session, study: Study, wave: Wave) -> str:
    """The client's users' language (the first who chose one), else the questionnaire's."""
    for user in client_users(session, study):
        if user.locale:
            return language_for(user.locale)
    version = session.get(QuestionnaireVersion, wave.questionnaire_version_id)
    default = questionnaires.definition_of(version).languages[0] if version else "en"
    return language_for(default)


def report_closed_wave(session: Session, wave: Wave, queue: JobQueue) -> Report | None:
    """Start the client's report of a wave that has just closed (None: no client, or no data)."""
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
