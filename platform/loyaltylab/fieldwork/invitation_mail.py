"""The wave's personal e-mails: a contact's new personal link, in the e-mail texts of the wave,
in the contact's language, from the research organisation, with an opt-out link.

Shared by the wave page's e-mails (:mod:`loyaltylab.fieldwork.routes.invitations`), the API's
invitations and the event-triggered ones (:mod:`loyaltylab.fieldwork.events`). The messages
go to the outbox in the caller's transaction; the caller delivers them once it commits.
"""

from __future__ import annotations

from sqlmodel import Session

from loyaltylab.accounts.models import Organisation
from loyaltylab.fieldwork import mail_texts, service
from loyaltylab.fieldwork.mail_texts import Recipient
from loyaltylab.fieldwork.models import Contact, Wave
from loyaltylab.mail import OutboxMessage, queue_mail
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study


def personal_link(settings: Settings, token: str) -> str:
    return settings.absolute_url(f"/i/{token}")


def opt_out_url(settings: Settings, contact: Contact) -> str:
    token = service.opt_out_token(contact, secret=settings.secret_key)
    return settings.absolute_url(f"/o/{token}")


def wave_languages(session: Session, wave: Wave) -> list[str]:
    return service.definition_for(session, wave.questionnaire_version_id).languages


def mail_recipient(
    settings: Settings,
    organisation: Organisation,
    wave: Wave,
    study: Study,
    contact: Contact,
    *,
    language: str,
    link: str,
) -> Recipient:
    closes = None
    if wave.closes_at is not None:
        closes = mail_texts.closing_time(wave.closes_at, language, organisation.time_zone)
    return Recipient(
        name=contact.name,
        company=study.company_in(language),
        organisation=organisation.name,
        link=link,
        opt_out=opt_out_url(settings, contact),
        closes=closes,
    )


def _queue_personal_mail(
    session: Session,
    settings: Settings,
    organisation: Organisation,
    wave: Wave,
    study: Study,
    issued: service.IssuedInvitation,
    *,
    kind: str,
    languages: list[str],
) -> OutboxMessage:
    """Queue the wave's ``kind`` e-mail with an issued personal link, in the contact's
    language; the caller records the mailing and delivers once the session commits."""
    contact = issued.contact
    language = service.preferred_language(contact.language, languages)
    recipient = mail_recipient(
        settings,
        organisation,
        wave,
        study,
        contact,
        language=language,
        link=personal_link(settings, issued.token),
    )
    text = mail_texts.compose(
        mail_texts.wave_text(wave.mail_texts, kind, language), recipient, language
    )
    return queue_mail(
        session,
        to=contact.email,
        subject=text.subject,
        body=text.body,
        organisation_id=wave.organisation_id,
        sender_name=organisation.name,
        unsubscribe_url=recipient.opt_out,
    )


def mail_contacts(
    session: Session,
    settings: Settings,
    organisation: Organisation,
    wave: Wave,
    study: Study,
    contacts: list[Contact],
    *,
    kind: str,
) -> list[tuple[Contact, OutboxMessage]]:
    """Queue the wave's ``kind`` e-mail with a new personal link to each of ``contacts`` who
    has not answered nor opted out, and record the mailing; the contacts written to, with
    their message (the caller delivers the messages once the session commits)."""
    languages = wave_languages(session, wave)
    issued = service.issue_invitations(session, wave, contacts)
    mailed = [
        (
            item.contact,
            _queue_personal_mail(
                session, settings, organisation, wave, study, item, kind=kind, languages=languages
            ),
        )
        for item in issued
    ]
    service.record_mailing(session, [item.invitation for item in issued], kind)
    return mailed
