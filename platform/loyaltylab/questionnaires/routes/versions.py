"""Preview (phone and desktop, as the respondent sees it), publishing and the version history."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from loyaltylab import i18n
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, OrgDep
from loyaltylab.questionnaires import service
from loyaltylab.questionnaires.models import Questionnaire
from loyaltylab.questionnaires.routes.common import (
    DesignerRoute,
    QuestionnaireDep,
    apply_change,
    back_to_designer,
    designer_context,
    display_language,
    version_number,
)
from loyaltylab.respond import preview as respond_preview
from loyaltylab.web import flash, render
from surveys.definition import (
    QuestionnaireDefinition,
)

router = APIRouter(route_class=DesignerRoute, include_in_schema=False)


PREVIEW_DEVICES = ("phone", "desktop")


def _previewed(
    session: SessionDep, ctx: OrgContext, questionnaire: Questionnaire, lang: str, version: str
) -> tuple[Any, QuestionnaireDefinition, str]:
    """The version a preview shows (the draft unless ``version`` names one), its definition
    and the language asked for (the questionnaire's default when it has not that one)."""
    shown = service.get_version(
        session, ctx.organisation_id, questionnaire.id, version_number(version)
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
    context = designer_context(session, ctx, questionnaire)
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
        return back_to_designer(questionnaire)

    return apply_change(request, session, ctx, questionnaire, publish_draft)


@router.get("/questionnaires/{questionnaire_id}/versions", response_class=HTMLResponse)
def versions(
    request: Request,
    session: SessionDep,
    questionnaire: QuestionnaireDep,
    ctx: OrgDep,
    old: str = "",
    new: str = "",
) -> HTMLResponse:
    context = designer_context(session, ctx, questionnaire)
    all_versions = service.list_versions(session, ctx.organisation_id, questionnaire.id)
    old_number, new_number = version_number(old), version_number(new)
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
