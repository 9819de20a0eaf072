"""The client's users are told of their reports: an e-mail (outbox, then SMTP when
configured) and an in-app notice each. The wave-closed workflow that starts those reports lives
in :mod:`loyaltylab.workflows`.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlmodel import Session, select

import languages
from loyaltylab import i18n
from loyaltylab.accounts import service as accounts
from loyaltylab.accounts.models import User
from loyaltylab.deps import OrgContext
from loyaltylab.fieldwork.models import Wave
from loyaltylab.i18n import N_
from loyaltylab.mail import OutboxMessage, queue_mail
from loyaltylab.notifications.models import Notification
from loyaltylab.reports_web.models import Report
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.timeutil import utcnow

READY_SUBJECT = N_("The report of wave %(wave)s of %(study)s is ready")
READY_BODY = N_("Wave %(wave)s of %(study)s has closed and its report has been generated.")
READY_LINK = N_("Read it and download the PDF here:")
SHARED_SUBJECT = N_("A report on %(study)s has been shared with you")
SHARED_BODY = N_("The research team has shared the report “%(title)s” (waves %(wave)s).")
SHARED_LINK = N_("Read it and download it here:")


def client_users(session: Session, study: Study) -> list[User]:
    """The client users of the study's company (:func:`accounts.service.client_users`)."""
    if study.client_organisation_id is None:
        return []
    return list(session.exec(accounts.client_users(study.client_organisation_id)).all())


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
        translate = i18n.translations(languages.locale_of(user.locale) or "en").ugettext
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
