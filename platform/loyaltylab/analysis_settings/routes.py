"""The analysis settings page of a study, for editors of the research organisation."""

from __future__ import annotations

from collections.abc import Mapping

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session

from loyaltylab import access, i18n
from loyaltylab.analysis_settings import schemas, service
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, form_errors, redirect, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    session: Session,
    ctx: OrgContext,
    study: Study,
    *,
    values: Mapping[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    scales = service.questionnaire_scales(session, ctx, study)
    if values is None:
        settings = service.settings_of(study)
        values = {
            "method": settings.method,
            "estimator": settings.estimator,
            "pls_scheme": settings.pls_scheme,
            "consistent": "1" if settings.consistent else "",
            "resamples": str(settings.resamples),
        } | {
            scale.field: ", ".join(f"{code:g}" for code in settings.missing_codes.get(scale.id, ()))
            for scale in scales
        }
    return render(
        request,
        "analysis_settings/settings.html",
        {
            "study": study,
            "scales": scales,
            "values": values,
            "errors": errors or {},
            "methods": [(key, i18n.gettext(label)) for key, label in schemas.METHODS.items()],
            "estimators": [(key, i18n.gettext(label)) for key, label in schemas.ESTIMATORS.items()],
            "schemes": [(key, i18n.gettext(label)) for key, label in schemas.PLS_SCHEMES.items()],
            "max_resamples": schemas.MAX_RESAMPLES,
        },
        status_code=status_code,
    )


@router.get("/studies/{study_id}/analysis", response_class=HTMLResponse)
def settings_page(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int
) -> HTMLResponse:
    study = access.editable_study(session, ctx, study_id)
    return _page(request, session, ctx, study)


@router.post("/studies/{study_id}/analysis", response_class=HTMLResponse)
async def save_settings(
    request: Request, session: SessionDep, ctx: EditorDep, study_id: int
) -> Response:
    study = access.editable_study(session, ctx, study_id)
    form = {key: value for key, value in (await request.form()).items() if isinstance(value, str)}
    problems = service.save_settings(
        session, study, form, service.questionnaire_scales(session, ctx, study)
    )
    if problems:
        errors: dict[str, str] = {}
        for problem in problems:
            for field, message in form_errors(problem).items():
                errors.setdefault(field, message)
        return _page(request, session, ctx, study, values=form, errors=errors, status_code=400)
    audit.record(
        session, ctx, "study.analysis", object_type="study", object_id=study.id,
        **study.analysis_settings,
    )  # fmt: skip
    flash(request, "The analysis settings have been saved.", "success")
    return redirect(f"/studies/{study.id}/analysis")
