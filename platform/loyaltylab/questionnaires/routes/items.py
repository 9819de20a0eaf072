"""Sections and items: add, edit, duplicate, delete, move, and add from the scale library."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData

from loyaltylab import i18n
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext
from loyaltylab.errors import InvalidQuestionnaire, NotFound
from loyaltylab.guards import whole_number
from loyaltylab.i18n import N_
from loyaltylab.questionnaires import forms, service
from loyaltylab.questionnaires.models import Questionnaire
from loyaltylab.questionnaires.routes.common import (
    DraftDep,
    FormDep,
    QuestionnaireDep,
    apply_change,
    back_to_designer,
    designer_context,
    find_part,
    form_context,
)
from loyaltylab.web import flash, render
from surveys import library
from surveys.definition import (
    ITEM_TYPES,
    Item,
    QuestionnaireDefinition,
    Section,
    text_for,
)
from surveys.problems import Problem

router = APIRouter(include_in_schema=False)


MAX_MOVE_STEPS = 500


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
    context = form_context(
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
    definition: DraftDep,
    section: str = "",
    type: str = "likert",
) -> HTMLResponse:
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
    definition: DraftDep,
    form: FormDep,
) -> Response:
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
    return back_to_designer(questionnaire, parsed.value.code)


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
    context = form_context(
        session, ctx, questionnaire, problems=problems, errors=None, section=section
    )
    return render(request, "designer/section.html", context, status_code=status_code)


@router.get("/questionnaires/{questionnaire_id}/items/{code}", response_class=HTMLResponse)
def edit_item(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    definition: DraftDep,
    code: str,
) -> HTMLResponse:
    part = find_part(definition, code)
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
    definition: DraftDep,
    code: str,
    form: FormDep,
) -> Response:
    part = find_part(definition, code)
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
    return back_to_designer(questionnaire, section.code)


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
        return back_to_designer(questionnaire, new_code)

    return apply_change(request, session, ctx, questionnaire, duplicate)


@router.get("/questionnaires/{questionnaire_id}/items/{code}/delete", response_class=HTMLResponse)
def confirm_delete(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    definition: DraftDep,
    code: str,
) -> HTMLResponse:
    context = designer_context(session, ctx, questionnaire, part=find_part(definition, code))
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
        return back_to_designer(questionnaire)

    return apply_change(request, session, ctx, questionnaire, delete)


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
        return back_to_designer(questionnaire, code)
    # A drag and drop (designer.js) moves several places at once.
    steps = forms.field_text(form, "steps")
    count = min(whole_number(steps) or 1, MAX_MOVE_STEPS)

    def move() -> Response:
        for _ in range(count):
            service.move_item(session, ctx.organisation_id, questionnaire.id, code, direction)
        return back_to_designer(questionnaire, code)

    return apply_change(request, session, ctx, questionnaire, move)


@router.post("/questionnaires/{questionnaire_id}/sections")
def add_section(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    definition: DraftDep,
    form: FormDep,
) -> Response:
    title = forms.field_texts(form, "title", definition.languages)

    def add() -> Response:
        code = service.add_section(session, ctx.organisation_id, questionnaire.id, title=title)
        flash(request, "The section has been added.", "success")
        return back_to_designer(questionnaire, code)

    return apply_change(request, session, ctx, questionnaire, add)


@router.get("/questionnaires/{questionnaire_id}/library", response_class=HTMLResponse)
def library_page(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: EditorDep,
    section: str = "",
) -> HTMLResponse:
    context = designer_context(session, ctx, questionnaire)
    definition = context["definition"]
    target = _section_index(definition, section) if section else None
    locale_language = i18n.html_lang()
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
    definition: DraftDep,
    form: FormDep,
) -> Response:
    raw_section = forms.field_text(form, "section")
    section = _section_index(definition, raw_section) if raw_section else None
    entry = forms.field_text(form, "entry")

    def add() -> Response:
        added = service.add_from_library(
            session, ctx.organisation_id, questionnaire.id, entry, section=section
        )
        flash(request, "Added from the library: %(codes)s.", "success", codes=", ".join(added))
        return back_to_designer(questionnaire, added[0] if added else None)

    return apply_change(request, session, ctx, questionnaire, add)
