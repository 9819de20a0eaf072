"""The wave page's settings of event-triggered invitations: the delay and the cool-down."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from loyaltylab import access
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork import events
from loyaltylab.web import flash, redirect

router = APIRouter()


def _whole_number(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None


@router.post("/waves/{wave_id}/event-settings")
def save_event_settings(
    request: Request,
    session: SessionDep,
    ctx: EditorDep,
    wave_id: int,
    delay_minutes: Annotated[str, Form()] = "",
    cooldown_days: Annotated[str, Form()] = "",
) -> Response:
    wave, _study = access.editable_wave(session, ctx, wave_id)
    delay, cooldown = _whole_number(delay_minutes), _whole_number(cooldown_days)
    try:
        if delay is None or cooldown is None:
            raise InvalidInput("Enter the delay and the cool-down as whole numbers.")
        events.set_event_settings(session, wave, delay_minutes=delay, cooldown_days=cooldown)
    except InvalidInput as problem:
        flash(request, problem.message, "error", **problem.params)
        return redirect(f"/waves/{wave.id}#events-title")
    flash(request, "The settings of event-triggered invitations have been saved.", "success")
    return redirect(f"/waves/{wave.id}#events-title")
