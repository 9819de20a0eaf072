"""Display logic: the condition under which a section or item is shown."""

from __future__ import annotations

from functools import partial

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext
from loyaltylab.errors import InvalidQuestionnaire, NotFound
from loyaltylab.guards import whole_number
from loyaltylab.i18n import N_
from loyaltylab.questionnaires import forms, logic, service
from loyaltylab.questionnaires.models import Questionnaire
from loyaltylab.questionnaires.routes.common import (
    DraftDep,
    FormDep,
    QuestionnaireDep,
    back_to_designer,
    form_context,
)
from loyaltylab.web import flash, render
from surveys.conditions import Condition
from surveys.definition import (
    Item,
    MatrixItem,
    MatrixRow,
    QuestionnaireDefinition,
    Section,
)
from surveys.problems import Problem

router = APIRouter(include_in_schema=False)


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
    context = form_context(session, ctx, questionnaire, problems=problems, errors=errors)
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
    definition: DraftDep,
    code: str,
    form: FormDep,
) -> Response:
    """Save (or remove) the condition; the builder's own buttons (add or remove a row, show a
    question's answers) show the page again with the rows as submitted, saving nothing."""
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
        number = whole_number(action.removeprefix("drop-"))
        if number is not None and number < len(clauses):
            del clauses[number]
            return page(focus=min(number, len(clauses) - 1) if clauses else 0)
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
    return back_to_designer(questionnaire, code)
