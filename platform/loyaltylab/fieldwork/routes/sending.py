"""The two routes of a channel that reaches a wave's contacts (e-mail here in fieldwork, SMS in
:mod:`loyaltylab.sms.routes`): send the invitations, send the reminders, then back to the wave
page saying how many went out. Only the channel's way of sending differs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from fastapi import APIRouter, BackgroundTasks, Request
from fastapi.responses import Response
from sqlmodel import Session

from loyaltylab import access
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep, OrgContext, SettingsDep
from loyaltylab.fieldwork.models import Wave, WaveStatus
from loyaltylab.i18n import N_
from loyaltylab.settings import Settings
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect

KINDS = ("invitation", "reminder")


@dataclass(frozen=True)
class Sending:
    """The request sending a wave's messages, and what a channel sends them with."""

    request: Request
    session: Session
    ctx: OrgContext
    settings: Settings
    background: BackgroundTasks
    wave: Wave
    study: Study


Send = Callable[[Sending, str], int]
"""Send one kind of message (``invitation`` or ``reminder``) to the wave's contacts who should
get it; how many were sent. It only records them: the delivery runs after the response."""


def add_send_routes(
    router: APIRouter,
    *,
    channel: str,
    paths: Mapping[str, str],
    send: Send,
    sent_messages: Mapping[str, str],
) -> None:
    """``POST paths[kind]`` for each kind: ``send`` it, flash ``sent_messages[kind]`` (a msgid
    with ``%(count)s``) and go back to the wave page."""
    for kind in KINDS:
        router.add_api_route(
            paths[kind],
            _send_route(kind, send, sent_messages[kind]),
            methods=["POST"],
            name=f"{channel}_{kind}s",
        )


def _send_route(kind: str, send: Send, sent_message: str) -> Callable[..., Response]:
    def send_kind(
        request: Request,
        session: SessionDep,
        ctx: EditorDep,
        settings: SettingsDep,
        background: BackgroundTasks,
        wave_id: int,
    ) -> Response:
        wave, study = access.editable_wave(session, ctx, wave_id)
        if wave.status == WaveStatus.closed:
            # Its links would only say that the survey has closed.
            flash(request, N_("The wave is closed: no invitations or reminders go out."), "error")
            return redirect(f"/waves/{wave.id}")
        count = send(Sending(request, session, ctx, settings, background, wave, study), kind)
        flash(request, sent_message, "success", count=count)
        return redirect(f"/waves/{wave.id}")

    return send_kind
