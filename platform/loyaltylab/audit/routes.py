"""The audit log page, for owners."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from loyaltylab.audit import service
from loyaltylab.db import SessionDep
from loyaltylab.deps import OwnerDep
from loyaltylab.web import render

router = APIRouter(include_in_schema=False)


@router.get("/org/audit", response_class=HTMLResponse)
def audit_log(
    request: Request, session: SessionDep, ctx: OwnerDep, before: int | None = None
) -> HTMLResponse:
    events = service.list_events(session, ctx.organisation_id, before_id=before)
    more = len(events) == service.PAGE_SIZE
    return render(
        request,
        "audit/log.html",
        {
            "events": events,
            "labels": service.ACTIONS,
            "next_before": events[-1].id if more else None,
        },
    )
