"""Privacy pages of a study, for editors of the research organisation.

Settings: whether the client may read open-text answers, and how long contact data is kept.
Erasure: a contact and all their responses, after a confirmation page, recorded in the audit log.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, func, select

from loyaltylab import access, i18n
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep
from loyaltylab.fieldwork.models import Response as SurveyResponse
from loyaltylab.fieldwork.service import find_contacts
from loyaltylab.guards import whole_number
from loyaltylab.privacy.service import erase_contact
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render

router = APIRouter(include_in_schema=False)
MAX_RETENTION_MONTHS = 240
MATCHES_SHOWN = 20


def _page(
    request: Request,
    session: Session,
    study: Study,
    *,
    q: str = "",
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    matches = find_contacts(session, study.id, q, include_email=True, limit=MATCHES_SHOWN)
    return render(
        request,
        "privacy/study.html",
        {
            "study": study,
            "q": q,
            "matches": matches,
            "values": values
            or {
                "release_open_text": study.release_open_text,
                "retention_months": str(study.retention_months or ""),
            },
            "errors": errors or {},
            "max_months": MAX_RETENTION_MONTHS,
        },
        status_code=status_code,
    )


@router.get("/studies/{study_id}/privacy", response_class=HTMLResponse)
def privacy_page(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int, q: str = ""
) -> HTMLResponse:
    study = access.editable_study(session, ctx, study_id)
    return _page(request, session, study, q=q)


@router.post("/studies/{study_id}/privacy", response_class=HTMLResponse)
def save_privacy(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    study_id: int,
    release_open_text: Annotated[str, Form()] = "",
    retention_months: Annotated[str, Form()] = "",
) -> Response:
    study = access.editable_study(session, ctx, study_id)
    months = retention_months.strip()
    number = whole_number(months, maximum=MAX_RETENTION_MONTHS)
    if months and not number:  # empty: no retention limit; 0 or beyond the maximum: refused
        values = {"release_open_text": release_open_text == "1", "retention_months": months}
        errors = {
            "retention_months": i18n.gettext(
                "Enter a whole number of months from 1 to %(max)s, or leave it empty.",
                max=MAX_RETENTION_MONTHS,
            )
        }
        return _page(request, session, study, values=values, errors=errors, status_code=400)
    study.release_open_text = release_open_text == "1"
    study.retention_months = number
    session.add(study)
    audit.record(
        session,
        ctx,
        "study.privacy",
        object_type="study",
        object_id=study.id,
        release_open_text=study.release_open_text,
        retention_months=study.retention_months,
    )
    flash(request, "The privacy settings have been saved.", "success")
    return redirect(f"/studies/{study.id}/privacy")


@router.get("/contacts/{contact_id}/erase", response_class=HTMLResponse)
def confirm_erase(
    request: Request, session: SessionDep, ctx: EditorDep, contact_id: int
) -> HTMLResponse:
    contact, study = access.editable_contact(session, ctx, contact_id)
    responses = session.exec(
        select(func.count(SurveyResponse.id)).where(SurveyResponse.contact_id == contact.id)
    ).one()
    return render(
        request,
        "privacy/erase.html",
        {"contact": contact, "study": study, "responses": responses},
    )


@router.post("/contacts/{contact_id}/erase")
def erase(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    contact_id: int,
    confirm: Annotated[str, Form()] = "",
) -> Response:
    contact, study = access.editable_contact(session, ctx, contact_id)
    if confirm != "erase":
        flash(request, "Tick the box to confirm the erasure.", "error")
        return redirect(f"/contacts/{contact.id}/erase")
    erasure = erase_contact(session, contact, by=ctx, study_id=study.id)
    flash(
        request,
        "The contact and %(count)s responses have been erased.",
        "success",
        count=erasure.responses,
    )
    return redirect(f"/studies/{study.id}/privacy")
