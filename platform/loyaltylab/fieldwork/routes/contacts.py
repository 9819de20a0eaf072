"""A study's contacts: the list and the contact file upload."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, func, select
from starlette.datastructures import UploadFile as StarletteUploadFile

from languages import locale_of
from loyaltylab import access, i18n
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork import service, texts
from loyaltylab.fieldwork.contacts_import import MAX_BYTES as MAX_CONTACT_BYTES
from loyaltylab.fieldwork.contacts_import import (
    ContactFileRejected,
    EncodingUnsure,
    read_contacts,
)
from loyaltylab.fieldwork.models import (
    Contact,
    ContactChannel,
)
from loyaltylab.i18n import N_
from loyaltylab.sms import service as texting
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render

router = APIRouter()


CONTACTS_SHOWN = 200
CHANNEL_LABELS = {ContactChannel.email: N_("E-mail"), ContactChannel.sms: N_("SMS")}


@router.get("/studies/{study_id}/contacts", response_class=HTMLResponse)
def list_contacts(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int
) -> HTMLResponse:
    study = access.editable_study(session, ctx, study_id)
    return _contacts_page(request, session, study, problems=[], error="")


def _contacts_page(
    request: Request,
    session: Session,
    study: Study,
    *,
    problems: list[str],
    error: str,
    previews: dict[str, list[list[Any]]] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """``previews``: the first rows of an upload as each plausible encoding reads it, shown
    when the encoding could not be told for certain."""
    total = session.exec(select(func.count(Contact.id)).where(Contact.study_id == study.id)).one()
    contacts = session.exec(
        select(Contact)
        .where(Contact.study_id == study.id)
        .order_by(Contact.id)
        .limit(CONTACTS_SHOWN)
    ).all()
    names = list(dict.fromkeys(name for contact in contacts for name in contact.attributes))
    country_code = request.app.state.settings.sms_country_code
    numbers = {
        contact.id: texting.e164(contact.phone, country_code=country_code)
        for contact in contacts
        if contact.phone
    }
    stopped = texting.opted_out_numbers(session, numbers.values())
    return render(
        request,
        "fieldwork/contacts.html",
        {
            "study": study,
            "total": total,
            "contacts": contacts,
            "attribute_names": names,
            # The language a contact is written to, by name (中文), not as its stored tag (zh-CN).
            "language_names": {
                contact.language: i18n.LOCALE_NAMES.get(
                    locale_of(contact.language) or "", contact.language
                )
                for contact in contacts
                if contact.language
            },
            "channel_labels": {
                channel: i18n.gettext(label) for channel, label in CHANNEL_LABELS.items()
            },
            "sms_stopped": {id_ for id_, number in numbers.items() if number in stopped},
            "problems": problems,
            "error": error,
            "max_mb": MAX_CONTACT_BYTES // (1024 * 1024),
            "encodings": {
                code: i18n.gettext(label) for code, label in texts.ENCODING_LABELS.items()
            },
            "previews": previews or {},
        },
        status_code=status_code,
    )


@router.post("/studies/{study_id}/contacts", response_class=HTMLResponse)
async def upload_contacts(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int
) -> Response:
    study = access.editable_study(session, ctx, study_id)
    form = await request.form()
    file = form.get("file")
    encoding = form.get("encoding") or None
    if not isinstance(file, StarletteUploadFile) or not file.filename:
        error = i18n.gettext("Choose a CSV or XLSX file to upload.")
        return _contacts_page(request, session, study, problems=[], error=error, status_code=400)
    if encoding is not None and encoding not in texts.ENCODING_LABELS:
        raise InvalidInput("The submitted data was incomplete or invalid.")
    content = await file.read(MAX_CONTACT_BYTES + 1)
    try:
        parsed = read_contacts(content, file.filename, encoding=encoding)
    except ContactFileRejected as refused:
        previews = refused.previews if isinstance(refused, EncodingUnsure) else None
        return _contacts_page(
            request,
            session,
            study,
            problems=[],
            error=refused.text(),
            previews=previews,
            status_code=400,
        )
    if not parsed.ok:
        problems = [texts.row_problem(problem) for problem in parsed.problems]
        error = i18n.ngettext(
            "%(num)d row has a problem; nothing was imported.",
            "%(num)d rows have problems; nothing was imported.",
            len({problem.row for problem in parsed.problems}),
        )
        return _contacts_page(
            request, session, study, problems=problems, error=error, status_code=400
        )
    service.add_contacts(
        session, study_id=study.id, organisation_id=study.organisation_id, rows=parsed.rows
    )
    flash(request, "Contacts imported: %(count)s.", "success", count=len(parsed.rows))
    return redirect(f"/studies/{study.id}/contacts")
