"""Questionnaire designer pages: create, edit, preview, publish, compare, import and export.

Handlers parse the form (:mod:`loyaltylab.questionnaires.forms`), call
:mod:`loyaltylab.questionnaires.service` and render. A refused change
(:class:`~surveys.errors.InvalidQuestionnaire`) is rolled back and the page is shown again with
every problem in the reader's language; nothing partial is saved.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute
from starlette.datastructures import FormData, UploadFile

from loyaltylab import i18n
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, OrgDep, load_owned
from loyaltylab.errors import NotFound
from loyaltylab.i18n import N_
from loyaltylab.questionnaires import forms, logic, service
from loyaltylab.questionnaires.models import Questionnaire
from loyaltylab.respond import preview as respond_preview
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render
from surveys import library
from surveys.conditions import Condition
from surveys.definition import (
    ITEM_TYPES,
    Item,
    MatrixItem,
    MatrixRow,
    QuestionnaireDefinition,
    Section,
    text_for,
)
from surveys.errors import InvalidQuestionnaire
from surveys.errors import NotFound as SurveyNotFound
from surveys.json_format import MAX_UPLOAD_BYTES
from surveys.problems import Problem

LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文"}
MAX_MOVE_STEPS = 500


class DesignerRoute(APIRoute):
    """Questionnaire lookups that find nothing (another tenant's included) answer 404."""

    def get_route_handler(self) -> Callable:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except SurveyNotFound:
                raise NotFound("Not found.") from None

        return route


router = APIRouter(route_class=DesignerRoute, include_in_schema=False)


def owned_study(session: SessionDep, ctx: OrgDep, study_id: int) -> Study:
    return load_owned(session, Study, study_id, ctx)


def owned_questionnaire(session: SessionDep, ctx: OrgDep, questionnaire_id: int) -> Questionnaire:
    try:
        return service.get_questionnaire(session, ctx.organisation_id, questionnaire_id)
    except SurveyNotFound:
        raise NotFound("Not found.") from None


async def form_data(request: Request) -> FormData:
    return await request.form()


StudyDep = Annotated[Study, Depends(owned_study)]
QuestionnaireDep = Annotated[Questionnaire, Depends(owned_questionnaire)]
FormDep = Annotated[FormData, Depends(form_data)]


# Helpers -------------------------------------------------------------------------------------


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag, tag)


def display_language(definition: QuestionnaireDefinition) -> str:
    """The questionnaire language closest to the UI language (texts are shown in it)."""
    wanted = "zh-CN" if i18n.get_locale().startswith("zh") else "en"
    return wanted if wanted in definition.languages else definition.languages[0]


def _translator(definition: QuestionnaireDefinition, language: str) -> Callable[[dict], str]:
    return lambda texts: text_for(texts or {}, language, definition.languages)


def _problem_lines(problems: list[Problem]) -> list[dict[str, str]]:
    locale = i18n.get_locale()
    return [
        {"location": problem.location(locale), "message": problem.message(locale)}
        for problem in problems
    ]


def _context(
    session: SessionDep, ctx: OrgContext, questionnaire: Questionnaire, **extra: Any
) -> dict[str, Any]:
    version = service.get_version(session, ctx.organisation_id, questionnaire.id)
    definition = service.definition_of(version)
    language = display_language(definition)
    return {
        "ctx": ctx,
        "can_edit": ctx.role.can_edit,
        "questionnaire": questionnaire,
        "study": session.get(Study, questionnaire.study_id),
        "version": version,
        "definition": definition,
        "languages": definition.languages,
        "language_name": language_name,
        "tr": _translator(definition, language),
        "problems": [],
        "errors": {},
        **extra,
    }


def _designer(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    *,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The designer page, with the refused change's problems when given."""
    if problems is not None:
        session.rollback()
    context = _context(session, ctx, questionnaire, problems=_problem_lines(problems or []))
    context["publication_problems"] = _problem_lines(
        service.publication_problems(session, ctx.organisation_id, questionnaire.id)
    )
    context["item_types"] = ITEM_TYPES
    return render(request, "designer/designer.html", context, status_code=status_code)


def _form_context(
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    *,
    problems: list[Problem] | None,
    errors: dict[str, str] | None,
    **extra: Any,
) -> dict[str, Any]:
    """A form page's context; a refused submission is rolled back before reading again."""
    if problems is not None or errors:
        session.rollback()
    return _context(
        session,
        ctx,
        questionnaire,
        problems=_problem_lines(problems or []),
        errors=errors or {},
        **extra,
    )


def _back(questionnaire: Questionnaire, code: str | None = None) -> Response:
    anchor = f"#part-{code}" if code else ""
    return redirect(f"/questionnaires/{questionnaire.id}{anchor}")


def _change(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    change: Callable[[], Response],
) -> Response:
    """Run ``change`` (a service mutation that answers with its redirect); when the service
    refuses it, the designer is shown again with every problem in the reader's language."""
    try:
        return change()
    except InvalidQuestionnaire as exc:
        return _designer(
            request, session, ctx, questionnaire, problems=exc.problems, status_code=400
        )


def _find(definition: QuestionnaireDefinition, code: str) -> Any:
    """The section or item ``code`` of the definition, else 404."""
    for section in definition.sections:
        if section.code == code:
            return section
        for item in section.items:
            if item.code == code:
                return item
    raise NotFound("Not found.")


def _upload(form: FormData) -> tuple[bytes, str] | None:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    # One byte over the limit is enough for the importer to report the size.
    return upload.file.read(MAX_UPLOAD_BYTES + 1), upload.filename


# Study level: list, start, import --------------------------------------------------------------


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


def _start_page(
    request: Request,
    study: Study,
    *,
    values: dict[str, str] | None = None,
    problems: list[Problem] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    locale_language = "zh-CN" if i18n.get_locale().startswith("zh") else "en"
    return render(
        request,
        "designer/new.html",
        {
            "study": study,
            "templates": library.templates(),
            "tr": lambda texts: text_for(texts, locale_language, library.LIBRARY_LANGUAGES),
            "values": values or {"start": library.DEFAULT_TEMPLATE},
            "problems": _problem_lines(problems or []),
            "errors": errors or {},
        },
        status_code=status_code,
    )


@router.get("/studies/{study_id}/questionnaires/new", response_class=HTMLResponse)
def new_questionnaire(request: Request, study: StudyDep, ctx: EditorDep) -> HTMLResponse:
    return _start_page(request, study)


@router.post("/studies/{study_id}/questionnaires")
def create_questionnaire(
    request: Request, session: SessionDep, study: StudyDep, ctx: EditorDep, form: FormDep
) -> Response:
    start = forms.field_text(form, "start")
    title = forms.field_text(form, "title")
    templates = {template.code for template in library.templates()}
    if start not in templates and start != "blank":
        errors = {"start": i18n.gettext("Choose a template or a blank questionnaire.")}
        return _start_page(request, study, values=dict(form), errors=errors, status_code=400)
    if len(title) > service.TITLE_MAX_LENGTH:
        errors = {"title": i18n.gettext("Use at most %(max)s characters.", max=200)}
        return _start_page(request, study, values=dict(form), errors=errors, status_code=400)
    questionnaire = service.create_questionnaire(
        session,
        organisation_id=ctx.organisation_id,
        study_id=study.id,
        template=None if start == "blank" else start,
        title=title or None,
    )
    flash(request, "The questionnaire has been created.", "success")
    return _back(questionnaire)


@router.post("/studies/{study_id}/questionnaires/import")
def import_questionnaire(
    request: Request, session: SessionDep, study: StudyDep, ctx: EditorDep, form: FormDep
) -> Response:
    upload = _upload(form)
    if upload is None:
        errors = {"file": i18n.gettext("Choose a .json or .xlsx file to upload.")}
        return _start_page(request, study, errors=errors, status_code=400)
    data, filename = upload
    try:
        questionnaire = service.import_questionnaire(
            session,
            organisation_id=ctx.organisation_id,
            study_id=study.id,
            data=data,
            filename=filename,
        )
    except InvalidQuestionnaire as exc:
        session.rollback()
        return _start_page(request, study, problems=exc.problems, status_code=400)
    flash(request, "The questionnaire has been imported.", "success")
    return _back(questionnaire)


# The designer ----------------------------------------------------------------------------------


@router.get("/questionnaires/{questionnaire_id}", response_class=HTMLResponse)
def designer(
    request: Request, session: SessionDep, questionnaire: QuestionnaireDep, ctx: OrgDep
) -> HTMLResponse:
    return _designer(request, session, ctx, questionnaire)


# Title, introduction and languages --------------------------------------------------------------


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
    context = _form_context(session, ctx, questionnaire, problems=problems, errors=errors)
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
    form: FormDep,
) -> Response:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
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
    return _back(questionnaire)


# Items ------------------------------------------------------------------------------------------


def _item_page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    *,
    item_type: str,
    values: dict[str, Any],
    code: str | None = None,
    section: int | None = None,
    problems: list[Problem] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = _form_context(
        session,
        ctx,
        questionnaire,
        problems=problems,
        errors=errors,
        item_type=item_type,
        values=values,
        code=code,
        section=section,
        blank_rows=forms.BLANK_ROWS,
    )
    if item_type in forms.SCALE_TYPES:
        context["agree_anchors"] = forms.agree_anchor_lines(context["languages"])
    found = context["definition"].find_item(code) if code else None
    context["row_conditions"] = {
        row.code: row.condition for row in getattr(found[2] if found else None, "rows", ())
    }
    return render(request, "designer/item.html", context, status_code=status_code)


def _section_index(definition: QuestionnaireDefinition, raw: str | None) -> int:
    try:
        index = int(raw or "")
    except ValueError:
        raise NotFound("Not found.") from None
    if not 0 <= index < len(definition.sections):
        raise NotFound("Not found.")
    return index


@router.get("/questionnaires/{questionnaire_id}/items/new", response_class=HTMLResponse)
def new_item(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    section: str = "",
    type: str = "likert",
) -> HTMLResponse:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    index = _section_index(definition, section)
    item_type = type if type in ITEM_TYPES else "likert"
    values = forms.new_item_values(item_type, definition.languages)
    return _item_page(
        request, session, ctx, questionnaire, item_type=item_type, values=values, section=index
    )


@router.post("/questionnaires/{questionnaire_id}/items")
def add_item(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    form: FormDep,
) -> Response:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    index = _section_index(definition, forms.field_text(form, "section"))
    item_type = forms.field_text(form, "type")
    if item_type not in ITEM_TYPES:
        raise NotFound("Not found.")
    return _submit_item(
        request,
        session,
        ctx,
        questionnaire,
        form,
        item_type=item_type,
        languages=definition.languages,
        place={"section": index},
        save=lambda item: service.add_item(
            session, ctx.organisation_id, questionnaire.id, item, section=index
        ),
        done_message=N_("The question has been added."),
    )


def _submit_item(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    form: FormData,
    *,
    item_type: str,
    languages: list[str],
    place: dict[str, Any],
    save: Callable[[Item], object],
    done_message: str,
    edited: Item | None = None,
) -> Response:
    """Read the item form and ``save`` the item; unreadable fields or a refused change show the
    form again, as submitted, with the messages. ``place`` is the new item's ``section`` index or
    the edited item's ``code``."""
    parsed = forms.parse_item(form, item_type, languages, edited=edited)
    submitted = forms.item_data(form, item_type, languages).value
    page = {"item_type": item_type, "values": forms.item_values(submitted), **place}
    if parsed.value is None:
        return _item_page(
            request, session, ctx, questionnaire, errors=parsed.errors, status_code=400, **page
        )
    try:
        save(parsed.value)
    except InvalidQuestionnaire as exc:
        return _item_page(
            request, session, ctx, questionnaire, problems=exc.problems, status_code=400, **page
        )
    flash(request, done_message, "success")
    return _back(questionnaire, parsed.value.code)


def _section_page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    section: Section,
    *,
    problems: list[Problem] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    context = _form_context(
        session, ctx, questionnaire, problems=problems, errors=None, section=section
    )
    return render(request, "designer/section.html", context, status_code=status_code)


@router.get("/questionnaires/{questionnaire_id}/items/{code}", response_class=HTMLResponse)
def edit_item(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    code: str,
) -> HTMLResponse:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    part = _find(definition, code)
    if isinstance(part, Section):
        return _section_page(request, session, ctx, questionnaire, part)
    values = forms.item_values(part.model_dump(by_alias=True))
    return _item_page(
        request, session, ctx, questionnaire, item_type=part.type, values=values, code=code
    )


@router.post("/questionnaires/{questionnaire_id}/items/{code}")
def save_item(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    code: str,
    form: FormDep,
) -> Response:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    part = _find(definition, code)
    if isinstance(part, Section):
        return _save_section(request, session, ctx, questionnaire, definition, part, form)
    return _submit_item(
        request,
        session,
        ctx,
        questionnaire,
        form,
        item_type=part.type,
        languages=definition.languages,
        place={"code": code},
        save=lambda item: service.replace_item(
            session, ctx.organisation_id, questionnaire.id, code, item
        ),
        done_message=N_("The question has been saved."),
        edited=part,
    )


def _save_section(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    definition: QuestionnaireDefinition,
    section: Section,
    form: FormData,
) -> Response:
    """Save the section's title and description; a refusal shows the section form again."""
    texts = {
        "title": forms.field_texts(form, "title", definition.languages),
        "description": forms.field_texts(form, "description", definition.languages),
    }
    try:
        changed = forms.with_section_texts(definition, section.code, **texts)
        service.save_definition(session, ctx.organisation_id, questionnaire.id, changed)
    except InvalidQuestionnaire as exc:
        submitted = section.model_copy(update=texts)
        return _section_page(
            request, session, ctx, questionnaire, submitted, problems=exc.problems, status_code=400
        )
    flash(request, "The section has been saved.", "success")
    return _back(questionnaire, section.code)


@router.post("/questionnaires/{questionnaire_id}/items/{code}/duplicate")
def duplicate_item(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    code: str,
) -> Response:
    def duplicate() -> Response:
        new_code = service.duplicate_item(session, ctx.organisation_id, questionnaire.id, code)
        flash(request, "Duplicated as %(code)s.", "success", code=new_code)
        return _back(questionnaire, new_code)

    return _change(request, session, ctx, questionnaire, duplicate)


@router.get("/questionnaires/{questionnaire_id}/items/{code}/delete", response_class=HTMLResponse)
def confirm_delete(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    code: str,
) -> HTMLResponse:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    context = _context(session, ctx, questionnaire, part=_find(definition, code))
    return render(request, "designer/delete.html", context)


@router.post("/questionnaires/{questionnaire_id}/items/{code}/delete")
def delete_item(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    code: str,
) -> Response:
    def delete() -> Response:
        service.delete_item(session, ctx.organisation_id, questionnaire.id, code)
        flash(request, "%(code)s has been deleted.", "success", code=code)
        return _back(questionnaire)

    return _change(request, session, ctx, questionnaire, delete)


@router.post("/questionnaires/{questionnaire_id}/items/{code}/move")
def move_item(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    code: str,
    form: FormDep,
) -> Response:
    direction = forms.field_text(form, "direction")
    if direction not in ("up", "down"):
        return _back(questionnaire, code)
    # A drag and drop (designer.js) moves several places at once.
    steps = forms.field_text(form, "steps")
    count = min(int(steps), MAX_MOVE_STEPS) if steps.isdigit() else 1

    def move() -> Response:
        for _ in range(count):
            service.move_item(session, ctx.organisation_id, questionnaire.id, code, direction)
        return _back(questionnaire, code)

    return _change(request, session, ctx, questionnaire, move)


# Display logic ----------------------------------------------------------------------------------


def _conditional(
    definition: QuestionnaireDefinition, code: str
) -> tuple[Section | Item | MatrixRow, MatrixItem | None]:
    """The section, item or matrix row ``code`` (with its matrix for a row), else 404."""
    for section in definition.sections:
        if section.code == code:
            return section, None
        for item in section.items:
            if item.code == code:
                return item, None
            for row in item.rows if isinstance(item, MatrixItem) else ():
                if row.code == code:
                    return row, item
    raise NotFound("Not found.")


def _condition_page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    questionnaire: Questionnaire,
    code: str,
    *,
    clauses: list[logic.Clause] | None = None,
    condition_json: str = "",
    focus: int | None = None,
    problems: list[Problem] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The condition builder of ``code``; without ``clauses``, the saved condition's."""
    context = _form_context(session, ctx, questionnaire, problems=problems, errors=errors)
    definition: QuestionnaireDefinition = context["definition"]
    part, matrix = _conditional(definition, code)
    unbuildable = False
    if clauses is None:
        clauses = logic.clauses_of(part.condition)
        unbuildable = clauses is None
        if unbuildable and part.condition is not None:
            condition_json = logic.as_json(part.condition)
    variables = forms.earlier_variables(definition, code)
    context.update(
        code=code,
        part=part,
        matrix=matrix,
        variables=variables,
        variable_by_code={variable.code: variable for variable in variables},
        clauses=clauses or [logic.Clause()],
        unbuildable=unbuildable,
        condition_json=condition_json,
        focus=focus,
        max_clauses=logic.MAX_CLAUSES,
        new_clause=logic.Clause(op=""),
        operators=logic.OPERATORS,
        all_operators=logic.ALL_OPERATORS,
        no_value=logic.NO_VALUE,
        kind_of=logic.kind_of,
        answers_of=logic.answers_of,
    )
    return render(request, "designer/condition.html", context, status_code=status_code)


@router.get(
    "/questionnaires/{questionnaire_id}/items/{code}/condition", response_class=HTMLResponse
)
def edit_condition(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    code: str,
) -> HTMLResponse:
    return _condition_page(request, session, ctx, questionnaire, code)


@router.post("/questionnaires/{questionnaire_id}/items/{code}/condition")
def save_condition(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    code: str,
    form: FormDep,
) -> Response:
    """Save (or remove) the condition; the builder's own buttons (add or remove a row, show a
    question's answers) show the page again with the rows as submitted, saving nothing."""
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    _conditional(definition, code)
    action = forms.field_text(form, "action")
    clauses = logic.clauses_from_form(form)
    condition_json = forms.field_text(form, "condition_json")
    page = partial(
        _condition_page,
        request,
        session,
        ctx,
        questionnaire,
        code,
        clauses=clauses,
        condition_json=condition_json,
    )
    if action == "add":
        if len(clauses) < logic.MAX_CLAUSES:
            clauses.append(logic.Clause())
        return page(focus=len(clauses) - 1)
    if action.startswith("drop-"):
        number = action.removeprefix("drop-")
        if number.isdigit() and int(number) < len(clauses):
            del clauses[int(number)]
            return page(focus=min(int(number), len(clauses) - 1) if clauses else 0)
        return page()
    if action == "refresh":
        return page()
    condition: Condition | None = None
    if action != "remove":
        if condition_json:
            condition, message = logic.parse_json(condition_json)
            errors = {"condition_json": message} if condition is None else {}
        else:
            built = logic.build(clauses, forms.earlier_variables(definition, code))
            condition, errors = built.condition, built.errors
        if errors:
            return page(errors=errors, status_code=400)
    changed = forms.with_condition(definition, code, condition)
    try:
        service.save_definition(session, ctx.organisation_id, questionnaire.id, changed)
    except InvalidQuestionnaire as exc:
        return page(problems=exc.problems, status_code=400)
    message = (
        N_("The display condition has been removed.")
        if condition is None
        else N_("The display condition has been saved.")
    )
    flash(request, message, "success")
    return _back(questionnaire, code)


# Sections and the library ----------------------------------------------------------------------


@router.post("/questionnaires/{questionnaire_id}/sections")
def add_section(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    form: FormDep,
) -> Response:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    title = forms.field_texts(form, "title", definition.languages)

    def add() -> Response:
        code = service.add_section(session, ctx.organisation_id, questionnaire.id, title=title)
        flash(request, "The section has been added.", "success")
        return _back(questionnaire, code)

    return _change(request, session, ctx, questionnaire, add)


@router.get("/questionnaires/{questionnaire_id}/library", response_class=HTMLResponse)
def library_page(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    section: str = "",
) -> HTMLResponse:
    context = _context(session, ctx, questionnaire)
    definition = context["definition"]
    target = _section_index(definition, section) if section else None
    locale_language = "zh-CN" if i18n.get_locale().startswith("zh") else "en"
    context.update(
        section=target,
        constructs=library.constructs(),
        entries=library.entries(),
        ltr=lambda texts: text_for(texts, locale_language, library.LIBRARY_LANGUAGES),
    )
    return render(request, "designer/library.html", context)


@router.post("/questionnaires/{questionnaire_id}/library")
def add_from_library(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    form: FormDep,
) -> Response:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    raw_section = forms.field_text(form, "section")
    section = _section_index(definition, raw_section) if raw_section else None
    entry = forms.field_text(form, "entry")

    def add() -> Response:
        added = service.add_from_library(
            session, ctx.organisation_id, questionnaire.id, entry, section=section
        )
        flash(request, "Added from the library: %(codes)s.", "success", codes=", ".join(added))
        return _back(questionnaire, added[0] if added else None)

    return _change(request, session, ctx, questionnaire, add)


# Constructs and model ---------------------------------------------------------------------------


@router.get("/questionnaires/{questionnaire_id}/model", response_class=HTMLResponse)
def model_page(
    request: Request, session: SessionDep, questionnaire: QuestionnaireDep, ctx: OrgDep
) -> HTMLResponse:
    context = _context(session, ctx, questionnaire)
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
    form: FormDep,
) -> Response:
    definition = service.draft_definition(session, ctx.organisation_id, questionnaire.id)
    constructs = forms.parse_constructs(form, definition.languages)
    model = forms.field_text(form, "model")
    changed = forms.with_constructs(definition, constructs, model)
    try:
        service.save_definition(session, ctx.organisation_id, questionnaire.id, changed)
    except InvalidQuestionnaire as exc:
        context = _form_context(
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


# Preview, publishing, versions ------------------------------------------------------------------


def _version_number(raw: str) -> int | None:
    return int(raw) if raw.isdigit() else None


PREVIEW_DEVICES = ("phone", "desktop")


def _previewed(
    session: SessionDep, ctx: OrgContext, questionnaire: Questionnaire, lang: str, version: str
) -> tuple[Any, QuestionnaireDefinition, str]:
    """The version a preview shows (the draft unless ``version`` names one), its definition
    and the language asked for (the questionnaire's default when it has not that one)."""
    shown = service.get_version(
        session, ctx.organisation_id, questionnaire.id, _version_number(version)
    )
    definition = service.definition_of(shown)
    language = lang if lang in definition.languages else display_language(definition)
    return shown, definition, language


@router.get("/questionnaires/{questionnaire_id}/preview", response_class=HTMLResponse)
def preview(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: OrgDep,
    lang: str = "",
    version: str = "",
    device: str = "phone",
) -> HTMLResponse:
    """The preview page: the respondent form in a frame the size of a phone (or a desktop)."""
    context = _context(session, ctx, questionnaire)
    shown, definition, language = _previewed(session, ctx, questionnaire, lang, version)
    context.update(
        shown=shown,
        definition=definition,
        preview_language=language,
        device=device if device in PREVIEW_DEVICES else PREVIEW_DEVICES[0],
    )
    return render(request, "designer/preview.html", context)


@router.get("/questionnaires/{questionnaire_id}/preview/respondent", response_class=HTMLResponse)
def preview_respondent(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: OrgDep,
    lang: str = "",
    version: str = "",
) -> HTMLResponse:
    """What the preview's frame shows: the respondent form's own pages."""
    _shown, definition, language = _previewed(session, ctx, questionnaire, lang, version)
    return respond_preview.preview_response(request, definition, language)


@router.post("/questionnaires/{questionnaire_id}/publish")
def publish(
    request: Request, session: SessionDep, questionnaire: QuestionnaireDep, ctx: EditorDep
) -> Response:
    def publish_draft() -> Response:
        version = service.publish(
            session, ctx.organisation_id, questionnaire.id, user_id=ctx.user.id
        )
        audit.record(
            session,
            ctx,
            "questionnaire.publish",
            object_type="questionnaire",
            object_id=questionnaire.id,
            version=version.number,
        )
        flash(request, "Version %(number)s has been published.", "success", number=version.number)
        return _back(questionnaire)

    return _change(request, session, ctx, questionnaire, publish_draft)


@router.get("/questionnaires/{questionnaire_id}/versions", response_class=HTMLResponse)
def versions(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: OrgDep,
    old: str = "",
    new: str = "",
) -> HTMLResponse:
    context = _context(session, ctx, questionnaire)
    all_versions = service.list_versions(session, ctx.organisation_id, questionnaire.id)
    old_number, new_number = _version_number(old), _version_number(new)
    diff = None
    if old_number is not None and new_number is not None:
        diff = service.diff_versions(
            session, ctx.organisation_id, questionnaire.id, old_number, new_number
        )
    elif len(all_versions) > 1:
        old_number, new_number = all_versions[-2].number, all_versions[-1].number
    context.update(
        versions=all_versions,
        diff=diff,
        old_number=old_number,
        new_number=new_number,
        locale=i18n.get_locale(),
    )
    return render(request, "designer/versions.html", context)


# Import and export ------------------------------------------------------------------------------


@router.get("/questionnaires/{questionnaire_id}/export")
def export(
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: OrgDep,
    format: str = "json",
    version: str = "",
) -> Response:
    content, filename, media_type = service.export_questionnaire(
        session,
        ctx.organisation_id,
        questionnaire.id,
        file_format="xlsx" if format == "xlsx" else "json",
        number=_version_number(version),
    )
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.post("/questionnaires/{questionnaire_id}/import")
def import_into(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    form: FormDep,
) -> Response:
    upload = _upload(form)
    if upload is None:
        problem = Problem("import.empty")
        return _designer(request, session, ctx, questionnaire, problems=[problem], status_code=400)
    data, filename = upload

    def replace_draft() -> Response:
        service.import_into(
            session, ctx.organisation_id, questionnaire.id, data=data, filename=filename
        )
        flash(request, "The draft has been replaced by the imported file.", "success")
        return _back(questionnaire)

    return _change(request, session, ctx, questionnaire, replace_draft)
