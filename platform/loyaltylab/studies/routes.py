"""Study pages: list, create, view, edit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgDep
from loyaltylab.errors import InvalidInput
from loyaltylab.i18n import N_
from loyaltylab.notifications import service as notifications
from loyaltylab.studies import service
from loyaltylab.studies.access import is_study_team
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, form_errors, redirect, render

router = APIRouter()


class StudyForm(BaseModel):
    """The fields of the study form, as submitted."""

    name: str = ""
    company_name: str = ""
    description: str = ""
    client: str = ""
    new_client: str = ""


def _client_id(session: SessionDep, ctx: EditorDep, form: StudyForm) -> int | None:
    if form.new_client.strip():
        return service.add_client_organisation(session, ctx, name=form.new_client).id
    if not form.client:
        return None
    try:
        return int(form.client)
    except ValueError:
        raise InvalidInput("Choose a client organisation from the list.", field="client") from None


def _form_page(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    *,
    study: Study | None,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "studies/form.html",
        {
            "study": study,
            "values": values,
            "errors": errors,
            "clients": service.client_organisations(session, ctx),
        },
        status_code=status_code,
    )


@router.get("/studies", response_class=HTMLResponse)
def list_studies(request: Request, session: SessionDep, ctx: OrgDep) -> HTMLResponse:
    return render(
        request,
        "studies/list.html",
        {
            "studies": service.list_studies(session, ctx),
            "ctx": ctx,
            "notices": notifications.unread(session, ctx),
        },
    )


@router.get("/studies/new", response_class=HTMLResponse)
def new_study(request: Request, session: SessionDep, ctx: EditorDep) -> HTMLResponse:
    return _form_page(request, session, ctx, study=None, values={}, errors={})


def _submit(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    study: Study | None,
    form: StudyForm,
    *,
    done_message: str,
) -> Response:
    try:
        saved = service.save_study(
            session,
            ctx,
            study,
            name=form.name,
            company_name=form.company_name,
            description=form.description,
            client_organisation_id=_client_id(session, ctx, form),
        )
    except InvalidInput as exc:
        session.rollback()
        return _form_page(
            request,
            session,
            ctx,
            study=study,
            values=form.model_dump(),
            errors=form_errors(exc, default_field="name"),
            status_code=400,
        )
    flash(request, done_message, "success")
    return redirect(f"/studies/{saved.id}")


@router.post("/studies", response_class=HTMLResponse)
def create_study(
    request: Request, session: SessionDep, ctx: EditorDep, form: Annotated[StudyForm, Form()]
) -> Response:
    return _submit(
        request, session, ctx, None, form, done_message=N_("The study has been created.")
    )


@router.get("/studies/{study_id}", response_class=HTMLResponse)
def show_study(request: Request, session: SessionDep, ctx: OrgDep, study_id: int) -> HTMLResponse:
    study = service.get_visible_study(session, ctx, study_id)
    return render(
        request,
        "studies/detail.html",
        {"study": study, "ctx": ctx, "study_team": is_study_team(ctx, study)},
    )


@router.get("/studies/{study_id}/edit", response_class=HTMLResponse)
def edit_study(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int
) -> HTMLResponse:
    study = service.get_editable_study(session, ctx, study_id)
    values = {
        "name": study.name,
        "company_name": study.company_name,
        "description": study.description,
        "client": str(study.client_organisation_id or ""),
    }
    return _form_page(request, session, ctx, study=study, values=values, errors={})


@router.post("/studies/{study_id}", response_class=HTMLResponse)
def update_study(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    study_id: int,
    form: Annotated[StudyForm, Form()],
) -> Response:
    study = service.get_editable_study(session, ctx, study_id)
    return _submit(request, session, ctx, study, form, done_message=N_("The study has been saved."))
