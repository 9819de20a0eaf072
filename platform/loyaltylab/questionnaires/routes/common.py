"""What the designer's pages share: the questionnaire and study lookups (another
organisation's get 404), the page contexts and the way a refused change is shown again.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, Response
from starlette.datastructures import FormData, UploadFile

from loyaltylab import access, i18n
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, OrgDep
from loyaltylab.errors import InvalidQuestionnaire, NotFound
from loyaltylab.guards import whole_number
from loyaltylab.questionnaires import service
from loyaltylab.questionnaires.models import Questionnaire
from loyaltylab.studies.models import Study
from loyaltylab.web import redirect, render
from surveys.definition import (
    ITEM_TYPES,
    QuestionnaireDefinition,
    text_for,
)
from surveys.json_format import MAX_UPLOAD_BYTES
from surveys.problems import Problem

LANGUAGE_NAMES = {"en": "English", "zh-CN": "简体中文"}


def study_dependency(session: SessionDep, ctx: OrgDep, study_id: int) -> Study:
    return access.load_owned(session, Study, study_id, ctx.organisation_id)


def questionnaire_dependency(
    session: SessionDep, ctx: OrgDep, questionnaire_id: int
) -> Questionnaire:
    return access.load_owned(session, Questionnaire, questionnaire_id, ctx.organisation_id)


async def form_data(request: Request) -> FormData:
    return await request.form()


StudyDep = Annotated[Study, Depends(study_dependency)]
QuestionnaireDep = Annotated[Questionnaire, Depends(questionnaire_dependency)]
FormDep = Annotated[FormData, Depends(form_data)]


def draft_dependency(
    session: SessionDep, ctx: EditorDep, questionnaire: QuestionnaireDep
) -> QuestionnaireDefinition:
    """The definition an editing route starts from (an editor's only: others get 403)."""
    return service.draft_definition(session, ctx.organisation_id, questionnaire.id)


DraftDep = Annotated[QuestionnaireDefinition, Depends(draft_dependency)]


def language_name(tag: str) -> str:
    return LANGUAGE_NAMES.get(tag, tag)


def display_language(definition: QuestionnaireDefinition) -> str:
    """The questionnaire language closest to the UI language (texts are shown in it)."""
    wanted = i18n.html_lang()
    return wanted if wanted in definition.languages else definition.languages[0]


def translator(definition: QuestionnaireDefinition, language: str) -> Callable[[dict], str]:
    return lambda texts: text_for(texts or {}, language, definition.languages)


def problem_lines(problems: list[Problem]) -> list[dict[str, str]]:
    locale = i18n.get_locale()
    return [
        {"location": problem.location(locale), "message": problem.message(locale)}
        for problem in problems
    ]


def designer_context(
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
        "tr": translator(definition, language),
        "problems": [],
        "errors": {},
        **extra,
    }


def designer_page(
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
    context = designer_context(session, ctx, questionnaire, problems=problem_lines(problems or []))
    context["publication_problems"] = problem_lines(
        service.publication_problems(session, ctx.organisation_id, questionnaire.id)
    )
    context["item_types"] = ITEM_TYPES
    return render(request, "designer/designer.html", context, status_code=status_code)


def form_context(
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
    return designer_context(
        session,
        ctx,
        questionnaire,
        problems=problem_lines(problems or []),
        errors=errors or {},
        **extra,
    )


def back_to_designer(questionnaire: Questionnaire, code: str | None = None) -> Response:
    anchor = f"#part-{code}" if code else ""
    return redirect(f"/questionnaires/{questionnaire.id}{anchor}")


def apply_change(
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
        return designer_page(
            request, session, ctx, questionnaire, problems=exc.problems, status_code=400
        )


def find_part(definition: QuestionnaireDefinition, code: str) -> Any:
    """The section or item ``code`` of the definition, else 404."""
    for section in definition.sections:
        if section.code == code:
            return section
        for item in section.items:
            if item.code == code:
                return item
    raise NotFound("Not found.")


def uploaded_file(form: FormData) -> tuple[bytes, str] | None:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return None
    # One byte over the limit is enough for the importer to report the size.
    return upload.file.read(MAX_UPLOAD_BYTES + 1), upload.filename


def version_number(raw: str) -> int | None:
    return whole_number(raw)
