"""The questionnaire list of a study, starting a questionnaire, the designer page, the
questionnaire's details and its structural model.
"""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from loyaltylab import i18n
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, OrgDep
from loyaltylab.errors import InvalidQuestionnaire
from loyaltylab.questionnaires import forms, service
from loyaltylab.questionnaires.models import Questionnaire
from loyaltylab.questionnaires.routes.common import (
    LANGUAGE_NAMES,
    DraftDep,
    FormDep,
    QuestionnaireDep,
    StudyDep,
    back_to_designer,
    designer_context,
    designer_page,
    form_context,
    language_name,
    problem_lines,
)
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render
from surveys import library
from surveys.definition import (
    QuestionnaireDefinition,
    text_for,
)
from surveys.problems import Problem

router = APIRouter(include_in_schema=False)


@router.get("/studies/{study_id}/questionnaires", response_class=HTMLResponse)
def list_questionnaires(
    request: Request, session: SessionDep, study: StudyDep, ctx: OrgDep
) -> HTMLResponse:
    questionnaires = service.list_questionnaires(session, ctx.organisation_id, study_id=study.id)
    latest = {q.id: service.get_version(session, ctx.organisation_id, q.id) for q in questionnaires}
    return render(
        request,
        "designer/list.html",
        {"study": study, "ctx": ctx, "questionnaires": questionnaires, "latest": latest},
    )


def start_page(
    request: Request,
    study: Study,
    *,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    locale_language = i18n.html_lang()
    return render(
        request,
        "designer/new.html",
        {
            "study": study,
            "templates": library.templates(),
            "tr": lambda texts: text_for(texts, locale_language, library.LIBRARY_LANGUAGES),
            "values": values or {"start": library.DEFAULT_TEMPLATE},
            "problems": problem_lines(problems or []),
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/studies/{study_id}/questionnaires/new", response_class=HTMLResponse)
def new_questionnaire(request: Request, study: StudyDep, ctx: EditorDep) -> HTMLResponse:
    return start_page(request, study)


@router.post("/studies/{study_id}/questionnaires")
def create_questionnaire(
    request: Request, session: SessionDep, study: StudyDep, ctx: EditorDep, form: FormDep
) -> Response:
    start = forms.field_text(form, "start")
    title = forms.field_text(form, "title")
    templates = {template.code for template in library.templates()}
    if start not in templates and start != "blank":
        errors = {"start": i18n.gettext("Choose a template or a blank questionnaire.")}
        return start_page(request, study, values=dict(form), errors=errors, status_code=400)
    if len(title) > service.TITLE_MAX_LENGTH:
        errors = {"title": i18n.gettext("Use at most %(max)s characters.", max=200)}
        return start_page(request, study, values=dict(form), errors=errors, status_code=400)
    questionnaire = service.create_questionnaire(
        session,
        organisation_id=ctx.organisation_id,
        study_id=study.id,
        template=None if start == "blank" else start,
        title=title or None,
    )
    flash(request, "The questionnaire has been created.", "success")
    return back_to_designer(questionnaire)


@router.get("/questionnaires/{questionnaire_id}", response_class=HTMLResponse)
def designer(
    request: Request, session: SessionDep, questionnaire: QuestionnaireDep, ctx: OrgDep
) -> HTMLResponse:
    return designer_page(request, session, ctx, questionnaire)


def _offered_languages(definition: QuestionnaireDefinition) -> list[str]:
    """The languages the respondent pages speak, and any other the questionnaire already has."""
    return list(dict.fromkeys([*LANGUAGE_NAMES, *definition.languages]))


def _details_page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    *,
    details: forms.Details | None = None,
    problems: list[Problem] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = form_context(session, ctx, questionnaire, problems=problems, errors=errors)
    definition: QuestionnaireDefinition = context["definition"]
    context.update(
        details=details
        or forms.Details(
            title=definition.title,
            introduction=definition.introduction,
            languages=definition.languages,
            confirmed_removal=False,
        ),
        offered=_offered_languages(definition),
    )
    return render(request, "designer/details.html", context, status_code=status_code)


@router.get("/questionnaires/{questionnaire_id}/details", response_class=HTMLResponse)
def edit_details(
    request: Request, session: SessionDep, questionnaire: QuestionnaireDep, ctx: EditorDep
) -> HTMLResponse:
    return _details_page(request, session, ctx, questionnaire)


@router.post("/questionnaires/{questionnaire_id}/details")
def save_details(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    definition: DraftDep,
    form: FormDep,
) -> Response:
    details, errors = forms.parse_details(form, definition)
    removed = [tag for tag in definition.languages if tag not in details.languages]
    added = [tag for tag in details.languages if tag not in definition.languages]
    lost = sum(service.texts_in(definition, tag) for tag in removed)
    if lost and not details.confirmed_removal and not errors:
        errors["remove_texts"] = i18n.ngettext(
            "Removing %(languages)s deletes its %(num)s text from this draft (published versions "
            "keep theirs): tick the box to confirm.",
            "Removing %(languages)s deletes its %(num)s texts from this draft (published versions "
            "keep theirs): tick the box to confirm.",
            lost,
            languages=", ".join(map(language_name, removed)),
        )
    page = partial(_details_page, request, session, ctx, questionnaire, details=details)
    if errors:
        return page(errors=errors, status_code=400)
    try:
        service.save_details(
            session,
            ctx.organisation_id,
            questionnaire.id,
            title=details.title,
            introduction=details.introduction,
            languages=details.languages,
        )
    except InvalidQuestionnaire as exc:
        return page(problems=exc.problems, status_code=400)
    if added:
        # The new language's title and introduction are written on this page.
        flash(
            request,
            "%(languages)s added: write the title and introduction in it below; the list of "
            "things to fix before publishing shows every other text to translate.",
            "success",
            languages=", ".join(map(language_name, added)),
        )
        return redirect(f"/questionnaires/{questionnaire.id}/details")
    flash(request, "The title, introduction and languages have been saved.", "success")
    return back_to_designer(questionnaire)


@router.get("/questionnaires/{questionnaire_id}/model", response_class=HTMLResponse)
def model_page(
    request: Request, session: SessionDep, questionnaire: QuestionnaireDep, ctx: OrgDep
) -> HTMLResponse:
    context = designer_context(session, ctx, questionnaire)
    definition = context["definition"]
    context.update(
        rows=forms.construct_rows(definition.constructs),
        model=definition.model,
        construct_items=definition.construct_items(),
    )
    return render(request, "designer/model.html", context)


@router.post("/questionnaires/{questionnaire_id}/model")
def save_model(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    definition: DraftDep,
    form: FormDep,
) -> Response:
    constructs = forms.parse_constructs(form, definition.languages)
    model = forms.field_text(form, "model")
    changed = forms.with_constructs(definition, constructs, model)
    try:
        service.save_definition(session, ctx.organisation_id, questionnaire.id, changed)
    except InvalidQuestionnaire as exc:
        context = form_context(
            session,
            ctx,
            questionnaire,
            problems=exc.problems,
            errors=None,
            rows=forms.construct_rows(constructs),
            model=model,
            construct_items=changed.construct_items(),
        )
        return render(request, "designer/model.html", context, status_code=400)
    flash(request, "The constructs and the model have been saved.", "success")
    return redirect(f"/questionnaires/{questionnaire.id}/model")
