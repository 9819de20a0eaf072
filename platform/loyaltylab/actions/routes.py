"""Action plans, made and followed on the study's dashboard by its researchers and client."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from pydantic import BaseModel

from loyaltylab import access
from loyaltylab.actions import service
from loyaltylab.dashboard.routes import dashboard_response
from loyaltylab.dashboard.service import fielded_waves
from loyaltylab.db import SessionDep
from loyaltylab.deps import OrgDep
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork.service import definition_for
from loyaltylab.web import flash, form_errors, redirect

router = APIRouter(include_in_schema=False)
FormStr = Annotated[str, Form()]


class ActionForm(BaseModel):
    """The fields of the dashboard's new-action form, as submitted."""

    construct_code: str = ""
    description: str = ""
    owner: str = ""
    due_on: str = ""
    baseline_wave: str = ""


@router.post("/studies/{study_id}/actions")
def create_action(
    request: Request,
    session: SessionDep,
    ctx: OrgDep,
    study_id: int,
    form: Annotated[ActionForm, Form()],
) -> Response:
    study = access.readable_study(session, ctx, study_id)
    waves = fielded_waves(session, study)
    constructs = {
        defined.code: defined.name
        for version_id in {wave.questionnaire_version_id for wave in waves}
        for defined in definition_for(session, version_id).constructs
    }
    try:
        service.create_action(
            session,
            ctx,
            study,
            constructs=constructs,
            waves=waves,
            construct=form.construct_code,
            description=form.description,
            owner=form.owner,
            due_on=form.due_on,
            baseline_wave_id=form.baseline_wave,
        )
    except InvalidInput as exc:
        session.rollback()
        study = access.readable_study(session, ctx, study_id)
        return dashboard_response(
            request,
            session,
            ctx,
            study,
            action_values=form.model_dump(),
            action_errors=form_errors(exc),
            status_code=400,
        )
    flash(request, "The action has been added to the plan.", "success")
    return redirect(f"/studies/{study.id}/dashboard#actions")


@router.post("/studies/{study_id}/actions/{action_id}/status")
def set_action_status(
    request: Request,
    session: SessionDep,
    ctx: OrgDep,
    study_id: int,
    action_id: int,
    status: FormStr = "",
) -> Response:
    study = access.readable_study(session, ctx, study_id)
    action = service.get_action(session, study, action_id)
    service.set_status(session, action, status)
    flash(request, "The action's status has been changed.", "success")
    return redirect(f"/studies/{study.id}/dashboard#actions")
