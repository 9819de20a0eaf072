"""The start page and two JSON routes about the signed-in browser's user and studies.

They answer to the browser's session only; other systems use the API (``/api/v1``) with a key.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse

from loyaltylab.db import SessionDep
from loyaltylab.deps import OptionalUserDep, OrgDep
from loyaltylab.studies import service as studies
from loyaltylab.web import redirect

router = APIRouter()


@router.get("/", include_in_schema=False)
def home(request: Request, user: OptionalUserDep) -> RedirectResponse:
    return redirect("/studies" if user else "/login", status_code=303)


@router.get("/api/session/me")
def me(ctx: OrgDep) -> dict[str, object]:
    return {
        "email": ctx.user.email,
        "name": ctx.user.name,
        "organisation": {"id": ctx.organisation_id, "name": ctx.organisation.name},
        "role": ctx.role.value,
    }


@router.get("/api/session/studies")
def api_studies(session: SessionDep, ctx: OrgDep) -> list[dict[str, object]]:
    return [
        {"id": study.id, "name": study.name, "company_name": study.company_name}
        for study in studies.list_studies(session, ctx)
    ]
