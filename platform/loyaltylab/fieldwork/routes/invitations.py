"""E-mail of fieldwork: a wave's invitation and reminder texts (edited with a preview), sending
them in each contact's language, the links download, the outbox and the contacts' opt-out.

Every personal link a contact is sent stays valid: a reminder's link and the invitation's lead
to the same response. The opt-out link of every e-mail stops further invitations to the
contact (for every wave of the study).
"""

from __future__ import annotations

import csv
import io
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

import languages
from loyaltylab import access, i18n
from loyaltylab.accounts.models import Organisation
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, SettingsDep, job_queue
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.fieldwork import mail_texts, service
from loyaltylab.fieldwork.invitation_mail import (
    mail_contacts,
    mail_recipient,
    opt_out_url,
    personal_link,
    wave_languages,
)
from loyaltylab.fieldwork.mail_texts import KINDS, MailText
from loyaltylab.fieldwork.models import Contact, Wave
from loyaltylab.fieldwork.routes.sending import Sending, add_send_routes
from loyaltylab.mail import OutboxMessage
from loyaltylab.respond.texts import LANGUAGE_NAMES
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render
from reports.exports import neutralise

router = APIRouter()
OUTBOX_SHOWN = 200
KIND_LABELS = {"invitation": i18n.N_("Invitation"), "reminder": i18n.N_("Reminder")}
SENT_MESSAGES = {
    "invitation": i18n.N_("Invitations e-mailed: %(count)s."),
    "reminder": i18n.N_("Reminders e-mailed: %(count)s."),
}
SAMPLE_LINK_TOKEN = "example-personal-link"


def _send(sending: Sending, kind: str) -> int:
    """Mail a new personal link to every contact who should get this kind of e-mail (see
    :func:`loyaltylab.fieldwork.service.contacts_to_mail`), in their language."""
    session, settings, wave = sending.session, sending.settings, sending.wave
    contacts = service.contacts_to_mail(session, wave, kind)
    organisation, study = sending.ctx.organisation, sending.study
    mailed = mail_contacts(session, settings, organisation, wave, study, contacts, kind=kind)
    messages = [message for _contact, message in mailed]
    if settings.smtp_url and messages:
        # After the response: the session dependency has committed the outbox rows by then.
        sending.background.add_task(job_queue(sending.request).send_mail, [m.id for m in messages])
    return len(messages)


add_send_routes(
    router,
    channel="email",
    paths={
        "invitation": "/waves/{wave_id}/invitations/email",
        "reminder": "/waves/{wave_id}/invitations/remind",
    },
    send=_send,
    sent_messages=SENT_MESSAGES,
)


@router.post("/waves/{wave_id}/invitations/links")
def download_links(
    session: SessionDep, ctx: EditorDep, settings: SettingsDep, wave_id: int
) -> Response:
    """A new personal link for every contact who has not answered nor opted out, as CSV, to
    send by other means; links sent before keep working."""
    wave, _study = access.editable_wave(session, ctx, wave_id)
    languages = wave_languages(session, wave)
    issued = service.issue_invitations(
        session, wave, service.contacts_to_invite(session, wave, invited=None)
    )
    audit.record(
        session,
        ctx,
        "export.links",
        object_type="wave",
        object_id=wave.id,
        format="csv",
        contacts=len(issued),
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["external_id", "name", "email", "phone", "language", "link", "opt_out"])
    for item in issued:
        contact = item.contact
        language = service.preferred_language(contact.language, languages)
        row = [contact.external_id, contact.name, contact.email, contact.phone, language]
        writer.writerow(
            [neutralise(value or "") for value in row]
            + [personal_link(settings, item.token), opt_out_url(settings, contact)]
        )
    return Response(
        buffer.getvalue().encode("utf-8-sig"),
        media_type="text/csv; charset=utf-8",
        headers={
            "content-disposition": f'attachment; filename="wave-{wave.id}-links.csv"',
            "cache-control": "no-store",
        },
    )


# --- the texts of a wave's e-mails -----------------------------------------------------------


def _field(kind: str, language: str, part: str) -> str:
    return f"{kind}-{language}-{part}"


def _typed_texts(form: dict[str, str], languages: list[str]) -> dict[str, dict[str, MailText]]:
    return {
        kind: {
            language: MailText(
                form.get(_field(kind, language, "subject"), "").strip(),
                form.get(_field(kind, language, "body"), "").replace("\r\n", "\n").strip(),
            )
            for language in languages
        }
        for kind in KINDS
    }


def _stored_texts(wave: Wave, languages: list[str]) -> dict[str, dict[str, MailText]]:
    return {
        kind: {
            language: mail_texts.wave_text(wave.mail_texts, kind, language)
            for language in languages
        }
        for kind in KINDS
    }


def _text_errors(texts: dict[str, dict[str, MailText]]) -> dict[str, str]:
    errors = {}
    for kind, by_language in texts.items():
        for language, text in by_language.items():
            found = mail_texts.problems(text)
            for part in ("subject", "body"):
                if part in found:
                    errors[_field(kind, language, part)] = mail_texts.problem_message(
                        found[part], found.get(f"{part}_placeholders", "")
                    )
    return errors


def _labels(languages: list[str]) -> dict[str, str]:
    """Each text field's name, for the error summary."""
    parts = {"subject": i18n.gettext("Subject"), "body": i18n.gettext("Text")}
    return {
        _field(kind, language, part): " · ".join(
            (i18n.gettext(KIND_LABELS[kind]), LANGUAGE_NAMES.get(language, language), label)
        )
        for kind in KINDS
        for language in languages
        for part, label in parts.items()
    }


def _sample_contact(session: Session, study: Study, language: str, languages: list[str]) -> Contact:
    """A contact of the study who reads ``language`` (one with a name if any), for previews;
    a made-up one when there is none."""
    for contact in session.exec(
        select(Contact)
        .where(Contact.study_id == study.id, Contact.opted_out_at.is_(None))
        .order_by(Contact.name.is_(None), Contact.id)
        .limit(500)
    ):
        if service.preferred_language(contact.language, languages) == language:
            return contact
    return Contact(id=0, study_id=study.id, external_id="", pseudonym="example", language=language)


def _emails_page(
    request: Request,
    session: Session,
    ctx: OrgContext,
    settings: Settings,
    wave: Wave,
    study: Study,
    *,
    texts: dict[str, dict[str, MailText]],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    languages = wave_languages(session, wave)
    previews: dict[str, dict[str, tuple[Contact, MailText] | None]] = {}
    samples = {
        language: _sample_contact(session, study, language, languages) for language in languages
    }
    for kind, by_language in texts.items():
        previews[kind] = {}
        for language, text in by_language.items():
            fields = (_field(kind, language, "subject"), _field(kind, language, "body"))
            if any(field in errors for field in fields):
                previews[kind][language] = None
                continue
            sample = samples[language]
            recipient = mail_recipient(
                settings,
                ctx.organisation,
                wave,
                study,
                sample,
                language=language,
                link=personal_link(settings, SAMPLE_LINK_TOKEN),
            )
            previews[kind][language] = (sample, mail_texts.compose(text, recipient, language))
    return render(
        request,
        "fieldwork/emails.html",
        {
            "wave": wave,
            "study": study,
            "languages": languages,
            "language_names": LANGUAGE_NAMES,
            "kinds": KINDS,
            "kind_labels": KIND_LABELS,
            "texts": texts,
            "own": {kind: set(wave.mail_texts.get(kind, {})) for kind in KINDS},
            "previews": previews,
            "errors": errors,
            "labels": _labels(languages),
            "field": _field,
            "sender": ctx.organisation.name,
        },
        status_code=status_code,
    )


@router.get("/waves/{wave_id}/emails", response_class=HTMLResponse)
def emails_page(
    request: Request, session: SessionDep, ctx: EditorDep, settings: SettingsDep, wave_id: int
) -> HTMLResponse:
    wave, study = access.editable_wave(session, ctx, wave_id)
    texts = _stored_texts(wave, wave_languages(session, wave))
    return _emails_page(request, session, ctx, settings, wave, study, texts=texts, errors={})


@router.post("/waves/{wave_id}/emails", response_class=HTMLResponse)
async def save_emails(
    request: Request, session: SessionDep, ctx: EditorDep, settings: SettingsDep, wave_id: int
) -> Response:
    """``action``: ``preview`` shows the typed texts as contacts would get them, ``save``
    stores them, ``reset-<kind>`` goes back to the platform's texts of that kind."""
    wave, study = access.editable_wave(session, ctx, wave_id)
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    action = form.get("action", "save")
    languages = wave_languages(session, wave)
    if action.startswith("reset-") and action.removeprefix("reset-") in KINDS:
        kind = action.removeprefix("reset-")
        service.set_mail_texts(
            session, wave, {k: v for k, v in wave.mail_texts.items() if k != kind}
        )
        flash(request, "The platform's texts are used again.", "success")
        return redirect(f"/waves/{wave.id}/emails")
    if action not in ("preview", "save"):
        raise InvalidInput("This action is not allowed here.")
    texts = _typed_texts(form, languages)
    errors = _text_errors(texts)
    if errors or action == "preview":
        status_code = 400 if errors else 200
        return _emails_page(
            request,
            session,
            ctx,
            settings,
            wave,
            study,
            texts=texts,
            errors=errors,
            status_code=status_code,
        )
    # Only what differs from the platform's text is the researcher's own (the rest follows
    # the platform's texts as they improve).
    own = {
        kind: {
            language: {"subject": text.subject, "body": text.body}
            for language, text in by_language.items()
            if text != mail_texts.default_text(kind, language)
        }
        for kind, by_language in texts.items()
    }
    service.set_mail_texts(session, wave, {kind: texts for kind, texts in own.items() if texts})
    flash(request, "The e-mail texts have been saved.", "success")
    return redirect(f"/waves/{wave.id}/emails")


# --- the outbox ------------------------------------------------------------------------------


@router.get("/outbox", response_class=HTMLResponse)
def outbox(request: Request, session: SessionDep, ctx: EditorDep) -> HTMLResponse:
    messages = session.exec(
        access.owned(OutboxMessage, ctx.organisation_id)
        .order_by(OutboxMessage.id.desc())
        .limit(OUTBOX_SHOWN)
    ).all()
    return render(request, "fieldwork/outbox.html", {"messages": messages, "shown": OUTBOX_SHOWN})


# --- opting out (the contact's pages) ------------------------------------------------------


def _opting_contact(
    session: Session, settings: Settings, token: str
) -> tuple[Contact, Organisation, Study]:
    contact = service.contact_by_opt_out_token(session, token, secret=settings.secret_key)
    if contact is None:
        raise NotFound("This link is not valid.")
    study = session.get(Study, contact.study_id)
    organisation = session.get(Organisation, contact.organisation_id)
    # The contact reads the page in their own language, whatever their browser says.
    locale = languages.locale_of(contact.language)
    if locale:
        i18n.set_locale(locale)
    return contact, organisation, study


def _opt_out_page(
    request: Request, contact: Contact, organisation: Organisation, study: Study
) -> HTMLResponse:
    language = i18n.html_lang()
    response = render(
        request,
        "fieldwork/opt_out.html",
        {
            "contact": contact,
            "organisation": organisation,
            "company": study.company_in(language),
            # What the respondent pages' layout shows: the organisation, in the reader's language.
            "title": organisation.name,
            "language": language,
            "static": request.app.url_path_for("static", path=""),
            "access": None,
        },
    )
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/o/{token}", response_class=HTMLResponse, include_in_schema=False)
def opt_out_page(
    request: Request, session: SessionDep, settings: SettingsDep, token: str
) -> HTMLResponse:
    """Asks before opting out: mail scanners follow links, and must not opt anyone out."""
    contact, organisation, study = _opting_contact(session, settings, token)
    return _opt_out_page(request, contact, organisation, study)


@router.post("/o/{token}", response_class=HTMLResponse, include_in_schema=False)
def opt_out(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    confirm: Annotated[str, Form()] = "",
) -> HTMLResponse:
    contact, organisation, study = _opting_contact(session, settings, token)
    if confirm == "yes":
        service.opt_out(session, contact)
    return _opt_out_page(request, contact, organisation, study)
