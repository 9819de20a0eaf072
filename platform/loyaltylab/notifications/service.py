"""A commissioned wave closes -> its PDF report is generated -> the client's users are told.

Closing happens on the wave page or, once ``closes_at`` has passed, in ``loyaltylab
schedule-waves``; both call :func:`report_closed_wave`. The report job calls
:func:`notify_report_ready` in the transaction that saves the files, so the e-mail (outbox,
then SMTP when configured) and the in-app notice exist only for a report that is there.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import Session, select

from loyaltylab import i18n
from loyaltylab.accounts.models import Membership, Role, User
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork import schedule
from loyaltylab.fieldwork import service as fieldwork
from loyaltylab.fieldwork.models import Wave
from loyaltylab.i18n import N_
from loyaltylab.jobs.queue import JobQueue
from loyaltylab.mail import OutboxMessage, queue_mail
from loyaltylab.notifications.models import Notification
from loyaltylab.questionnaires import service as questionnaires
from loyaltylab.questionnaires.models import QuestionnaireVersion
from loyaltylab.reports_web import service as reports
from loyaltylab.reports_web.models import Report
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow
from loyaltylab.webhooks import service as webhooks
from loyaltylab.webhooks.models import WebhookEvent

logger = logging.getLogger(__name__)
READY_SUBJECT = N_("The report of wave %(wave)s of %(study)s is ready")
READY_BODY = N_("Wave %(wave)s of %(study)s has closed and its report has been generated.")
READY_LINK = N_("Read it and download the PDF here:")
SHARED_SUBJECT = N_("A report on %(study)s has been shared with you")
SHARED_BODY = N_("The research team has shared the report “%(title)s” (waves %(wave)s).")
SHARED_LINK = N_("Read it and download it here:")


def client_users(session: Session, study: Study) -> list[User]:
    """The client users of the study's company: its own members, and the client-role members
    of research organisations who represent it."""
    if study.client_organisation_id is None:
        return []
    return list(
        session.exec(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                or_(
                    Membership.organisation_id == study.client_organisation_id,
                    Membership.client_organisation_id == study.client_organisation_id,
                ),
                Membership.role == Role.client,
            )
            .distinct()
            .order_by(User.id)
        ).all()
    )


def report_language(session: Session, study: Study, wave: Wave) -> str:
    """The client's users' language (the first who chose one), else the questionnaire's."""
    for user in client_users(session, study):
        if user.locale:
            return "zh" if user.locale.startswith("zh") else "en"
    version = session.get(QuestionnaireVersion, wave.questionnaire_version_id)
    default = questionnaires.definition_of(version).languages[0] if version else "en"
    return "zh" if default.startswith("zh") else "en"


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


def notify_report_ready(
    session: Session, report: Report, settings: Settings
) -> list[OutboxMessage]:
    """An e-mail and an in-app notice for each client user, in their language, that the
    report (shared with them) is ready; flushes only."""
    study = session.get(Study, report.study_id)
    waves = [w for w in (session.get(Wave, i) for i in report.wave_ids) if w is not None]
    if study is None or study.client_organisation_id is None:
        return []
    wave_name = ", ".join(wave.name for wave in waves)
    link = settings.absolute_url(f"/reports/{report.id}")
    messages = []
    for user in client_users(session, study):
        session.add(
            Notification(
                organisation_id=study.client_organisation_id,
                user_id=user.id,
                study_id=study.id,
                report_id=report.id,
                wave_name=wave_name,
            )
        )
        translate = i18n.translations(i18n.normalise_locale(user.locale) or "en").ugettext
        params = {"wave": wave_name, "study": study.name, "title": report.title}
        # A report made when its wave closed, or one a researcher made and shared.
        texts = (
            (READY_SUBJECT, READY_BODY, READY_LINK)
            if report.created_by is None
            else (SHARED_SUBJECT, SHARED_BODY, SHARED_LINK)
        )
        subject, text, link_text = (translate(message) for message in texts)
        body = f"{text % params}\n\n{link_text}\n{link}\n"
        subject %= params
        messages.append(
            queue_mail(
                session,
                to=user.email,
                subject=subject,
                body=body,
                organisation_id=study.client_organisation_id,
            )
        )
    report.notify_client = False
    session.add(report)
    session.flush()
    return messages


def unread(session: Session, ctx: OrgContext) -> list[tuple[Notification, Study]]:
    return [
        (notice, study)
        for notice, study in session.exec(
            select(Notification, Study)
            .join(Study, Study.id == Notification.study_id)
            .where(
                Notification.user_id == ctx.user.id,
                Notification.organisation_id == ctx.organisation_id,
                Notification.read_at.is_(None),
            )
            .order_by(Notification.created_at.desc(), Notification.id.desc())
        ).all()
    ]


def mark_read(session: Session, ctx: OrgContext, report_id: int) -> None:
    """The user has opened the report: its notice has done its job."""
    session.execute(
        update(Notification)
        .where(
            Notification.user_id == ctx.user.id,
            Notification.report_id == report_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
    )
