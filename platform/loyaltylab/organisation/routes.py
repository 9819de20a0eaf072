"""The organisation settings page, for owners: the time zone its pages show and read times in,
and the way to each study's privacy settings."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from loyaltylab import access, i18n, timeutil
from loyaltylab.accounts.models import Organisation
from loyaltylab.db import SessionDep
from loyaltylab.deps import OrgContext, OwnerDep
from loyaltylab.studies.models import Study
from loyaltylab.web import flash, redirect, render

router = APIRouter(include_in_schema=False)


def _page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    *,
    time_zone: str,
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    studies = session.exec(access.owned(Study, ctx.organisation_id).order_by(Study.name)).all()
    return render(
        request,
        "organisation/settings.html",
        {
            "chosen": time_zone,
            "common": timeutil.COMMON_TIME_ZONES,
            "zones": timeutil.all_time_zones(),
            "errors": errors,
            "studies": studies,
        },
        status_code=status_code,
    )


@router.get("/org/settings", response_class=HTMLResponse)
def settings_page(request: Request, session: SessionDep, ctx: OwnerDep) -> HTMLResponse:
    return _page(request, session, ctx, time_zone=ctx.organisation.time_zone, errors={})


@router.post("/org/settings", response_class=HTMLResponse)
def save_settings(
    request: Request,
    session: SessionDep,
    ctx: OwnerDep,
    time_zone: Annotated[str, Form()] = "",
) -> Response:
    if not timeutil.is_time_zone(time_zone):
        errors = {"time_zone": i18n.gettext("Choose a time zone from the list.")}
        return _page(request, session, ctx, time_zone=time_zone, errors=errors, status_code=400)
    organisation = session.get(Organisation, ctx.organisation_id)
    organisation.time_zone = time_zone
    session.add(organisation)
    flash(request, "The settings have been saved.", "success")
    return redirect("/org/settings")
