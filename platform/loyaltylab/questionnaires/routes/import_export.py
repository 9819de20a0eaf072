"""Import (JSON or XLSForm, as a new questionnaire or into a draft) and export."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from loyaltylab import i18n
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgDep
from loyaltylab.questionnaires import service
from loyaltylab.questionnaires.routes.common import (
    DesignerRoute,
    FormDep,
    QuestionnaireDep,
    StudyDep,
    apply_change,
    back_to_designer,
    designer_page,
    uploaded_file,
    version_number,
)
from loyaltylab.questionnaires.routes.details import start_page
from loyaltylab.web import flash
from surveys.errors import InvalidQuestionnaire
from surveys.problems import Problem

router = APIRouter(route_class=DesignerRoute, include_in_schema=False)


@router.post("/studies/{study_id}/questionnaires/import")
def import_questionnaire(
    request: Request, session: SessionDep, study: StudyDep, ctx: EditorDep, form: FormDep
) -> Response:
    upload = uploaded_file(form)
    if upload is None:
        errors = {"file": i18n.gettext("Choose a .json or .xlsx file to upload.")}
        return start_page(request, study, errors=errors, status_code=400)
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
        return start_page(request, study, problems=exc.problems, status_code=400)
    flash(request, "The questionnaire has been imported.", "success")
    return back_to_designer(questionnaire)


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
        number=version_number(version),
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
    upload = uploaded_file(form)
    if upload is None:
        problem = Problem("import.empty")
        return designer_page(
            request, session, ctx, questionnaire, problems=[problem], status_code=400
        )
    data, filename = upload

    def replace_draft() -> Response:
        service.import_into(
            session, ctx.organisation_id, questionnaire.id, data=data, filename=filename
        )
        flash(request, "The draft has been replaced by the imported file.", "success")
        return back_to_designer(questionnaire)

    return apply_change(request, session, ctx, questionnaire, replace_draft)
