"""Study pages: list, create, view, edit."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from loyaltylab import access, i18n
from loyaltylab.accounts.models import Organisation
from loyaltylab.accounts.schemas import clean_name
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgDep
from loyaltylab.errors import InvalidInput
from loyaltylab.guards import whole_number
from loyaltylab.i18n import N_
from loyaltylab.notifications import service as notifications
from loyaltylab.studies import service
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, form_errors, redirect, render

router = APIRouter()


class StudyForm(BaseModel):
    """The fields of the study form, as submitted."""

    name: str = ""
    company_name_en: str = ""
    company_name_zh: str = ""
    description: str = ""
    client: str = ""
    new_client: str = ""
    contact_name: str = ""
    contact_email: str = ""
    privacy_en: str = ""
    privacy_zh_cn: str = ""

    def company_names(self) -> dict[str, str]:
        return {"en": self.company_name_en, "zh-CN": self.company_name_zh}

    def privacy_notes(self) -> dict[str, str]:
        return {language: getattr(self, service.privacy_field(language)) for language in PRIVACY}

    @classmethod
    def of(cls, study: Study, privacy_notes: dict[str, str]) -> StudyForm:
        return cls(
            name=study.name,
            company_name_en=study.company_names.get("en", study.company_name),
            company_name_zh=study.company_names.get("zh-CN", study.company_name),
            description=study.description,
            client=str(study.client_organisation_id or ""),
            contact_name=study.contact_name,
            contact_email=study.contact_email,
            **{service.privacy_field(language): note for language, note in privacy_notes.items()},
        )


PRIVACY = {"en": N_("Privacy note in English"), "zh-CN": N_("Privacy note in Chinese")}
"""The languages of the respondents' privacy note on the study form, with their labels."""


FIELD_LABELS = {
    "name": N_("Study name"),
    "company_name_en": N_("Company surveyed, in English"),
    "company_name_zh": N_("Company surveyed, in Chinese"),
    "description": N_("Description"),
    "client": N_("Client organisation"),
    "new_client": N_("Or add a new client organisation"),
    "contact_name": N_("Contact person"),
    "contact_email": N_("Contact e-mail"),
    **{service.privacy_field(language): label for language, label in PRIVACY.items()},
}


def _form_errors(
    session: SessionDep, ctx: EditorDep, form: StudyForm
) -> tuple[int | None, dict[str, str]]:
    """The client organisation chosen (None: none, or a new one) and every problem of the
    form, each at its field."""
    problems: list[InvalidInput] = []
    client_id = None
    if form.client and not form.new_client.strip():
        client_id = whole_number(form.client)
        if client_id is None:
            problems.append(
                InvalidInput("Choose a client organisation from the list.", field="client")
            )
    if form.new_client.strip():
        try:
            clean_name(form.new_client, field="new_client")
        except InvalidInput as problem:
            problems.append(problem)
    problems += service.study_problems(
        session,
        ctx,
        name=form.name,
        company_names=form.company_names(),
        description=form.description,
        client_organisation_id=client_id,
        contact_email=form.contact_email,
        privacy_notes=form.privacy_notes(),
    )
    errors: dict[str, str] = {}
    for problem in problems:
        for field, message in form_errors(problem, default_field="name").items():
            errors.setdefault(field, message)
    return client_id, errors


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
            "labels": {field: i18n.gettext(label) for field, label in FIELD_LABELS.items()},
            "clients": service.client_organisations(session, ctx),
            "privacy_fields": [
                (service.privacy_field(language), label) for language, label in PRIVACY.items()
            ],
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
    client_id, errors = _form_errors(session, ctx, form)
    if errors:
        return _form_page(
            request,
            session,
            ctx,
            study=study,
            values=form.model_dump(),
            errors=errors,
            status_code=400,
        )
    if form.new_client.strip():
        client_id = service.add_client_organisation(session, ctx, name=form.new_client).id
    saved = service.save_study(
        session,
        ctx,
        study,
        name=form.name,
        company_names=form.company_names(),
        description=form.description,
        client_organisation_id=client_id,
        contact_name=form.contact_name,
        contact_email=form.contact_email,
        privacy_notes=form.privacy_notes(),
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
    study = access.readable_study(session, ctx, study_id)
    team = access.is_study_team(ctx, study)
    client = (
        session.get(Organisation, study.client_organisation_id)
        if study.client_organisation_id
        else None
    )
    return render(
        request,
        "studies/detail.html",
        {
            "study": study,
            "ctx": ctx,
            "client": client,
            "study_team": team,
            "overview": service.study_overview(session, ctx, study) if team else None,
        },
    )


@router.get("/studies/{study_id}/edit", response_class=HTMLResponse)
def edit_study(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int
) -> HTMLResponse:
    study = access.editable_study(session, ctx, study_id)
    values = StudyForm.of(study, service.privacy_notes(session, study)).model_dump()
    return _form_page(request, session, ctx, study=study, values=values, errors={})


@router.post("/studies/{study_id}", response_class=HTMLResponse)
def update_study(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    study_id: int,
    form: Annotated[StudyForm, Form()],
) -> Response:
    study = access.editable_study(session, ctx, study_id)
    return _submit(request, session, ctx, study, form, done_message=N_("The study has been saved."))
