"""Telephone interviews: the interviewer finds the contact, starts the interview and goes
through the respondent's pages (:mod:`loyaltylab.respond.steps`) on their behalf.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, select

from loyaltylab import access
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext
from loyaltylab.fieldwork import service, texts
from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    ResponseStatus,
    Wave,
)
from loyaltylab.fieldwork.models import Response as SurveyResponse
from loyaltylab.guards import whole_number
from loyaltylab.respond import service as respondent
from loyaltylab.respond import steps as respondent_steps
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render

router = APIRouter()


def _phone_access(
    session: Session, ctx: OrgContext, wave_id: int, response_id: int
) -> respondent_steps.Access:
    """The respondent form's access for a phone interview: its pages are reused as they are."""
    wave, _study = access.editable_wave(session, ctx, wave_id)
    response = access.found(
        session,
        select(SurveyResponse).where(
            SurveyResponse.id == response_id,
            SurveyResponse.wave_id == wave.id,
            SurveyResponse.channel == Channel.phone,
        ),
    )
    contact = session.get(Contact, response.contact_id) if response.contact_id else None
    return respondent_steps.Access(
        wave=wave,
        base=f"/waves/{wave.id}/phone/{response.id}",
        channel=Channel.phone,
        key="",
        contact=contact,
        response=respondent.StoredResponse.of(response),
    )


@router.get("/waves/{wave_id}/phone", response_class=HTMLResponse)
def phone_start(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, q: str = ""
) -> HTMLResponse:
    wave, study = access.editable_wave(session, ctx, wave_id)
    return _phone_page(request, session, wave, study, q=q, errors={})


def _phone_page(
    request: Request,
    session: Session,
    wave: Wave,
    study: Study,
    *,
    q: str,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    """``errors``: ``contact-<id>`` (the row of the contact the interview could not start
    for) or ``form`` -> message."""
    matches = service.find_contacts(session, study.id, q)
    interviews = session.exec(
        select(SurveyResponse)
        .where(SurveyResponse.wave_id == wave.id, SurveyResponse.channel == Channel.phone)
        .order_by(SurveyResponse.id.desc())
        .limit(50)
    ).all()
    return render(
        request,
        "fieldwork/phone.html",
        {
            "wave": wave,
            "study": study,
            "q": q,
            "matches": matches,
            "interviews": interviews,
            "errors": errors,
            "labels": {
                f"contact-{contact.id}": " · ".join(
                    filter(None, (contact.external_id, contact.phone))
                )
                for contact in matches
            },
            "submission_key": respondent.new_submission_key(),
        },
        status_code=status_code,
    )


@router.post("/waves/{wave_id}/phone")
def phone_begin(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    wave_id: int,
    contact_id: Annotated[str, Form()] = "",
    submission_key: Annotated[str, Form()] = "",
) -> Response:
    wave, study = access.editable_wave(session, ctx, wave_id)
    contact = None
    if contact_id.strip():
        contact = access.found(
            session,
            select(Contact).where(
                Contact.id == whole_number(contact_id), Contact.study_id == study.id
            ),
        )
    try:
        claim = respondent.claim_submission(
            session, submission_key, organisation_id=wave.organisation_id
        )
    except service.RepeatedSubmission:
        session.rollback()
        stored = respondent.stored_outcome(session, submission_key)
        target = f"/waves/{wave.id}/phone/{stored.response_id}" if stored else ""
        return redirect(f"{target}/page/0" if target else f"/waves/{wave.id}/phone")
    definition = service.definition_for(session, wave.questionnaire_version_id)
    try:
        response = respondent.start_response(
            session,
            wave,
            channel=Channel.phone,
            language=service.preferred_language(
                contact.language if contact else None, definition.languages
            ),
            claim=claim,
            contact=contact,
            interviewer_id=ctx.user.id,
        )
    except service.FieldworkError as exc:
        session.rollback()
        field = f"contact-{contact.id}" if contact else "form"
        return _phone_page(
            request,
            session,
            wave,
            study,
            q=contact.external_id if contact else "",
            errors={field: texts.fieldwork_error(exc.reason)},
            status_code=400,
        )
    return redirect(f"/waves/{wave.id}/phone/{response.id}/page/{response.current_page}")


@router.get("/waves/{wave_id}/phone/{response_id}/page/{page}")
def phone_show_page(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int, page: int
) -> Response:
    access = _phone_access(session, ctx, wave_id, response_id)
    return respondent_steps.show_page(request, session, access, page)


@router.post("/waves/{wave_id}/phone/{response_id}/page/{page}")
async def phone_save_page(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int, page: int
) -> Response:
    access = _phone_access(session, ctx, wave_id, response_id)
    return await respondent_steps.in_thread(
        respondent_steps.submit_page, request, session, access, page
    )


@router.post("/waves/{wave_id}/phone/{response_id}/language")
async def phone_language(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int
) -> Response:
    access = _phone_access(session, ctx, wave_id, response_id)
    return await respondent_steps.in_thread(
        respondent_steps.switch_language, request, session, access
    )


@router.get("/waves/{wave_id}/phone/{response_id}/done")
def phone_done(
    request: Request, session: SessionDep, ctx: EditorDep, wave_id: int, response_id: int
) -> Response:
    access = _phone_access(session, ctx, wave_id, response_id)
    if access.response.status != ResponseStatus.complete:
        return redirect(f"{access.base}/page/{access.response.current_page}")
    flash(request, "The telephone interview has been saved.", "success")
    return redirect(f"/waves/{wave_id}/phone")
