"""The API's pages in the web app: owners' API keys, and the API reference at ``/api/docs``.

The reference is rendered here from the API's own OpenAPI document, without the usual
JavaScript viewer: the site's content security policy loads no script from elsewhere, and a
page of the app's own reads in both languages and without JavaScript.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from loyaltylab import i18n
from loyaltylab.api import service
from loyaltylab.api.models import ApiScope
from loyaltylab.db import SessionDep
from loyaltylab.deps import OrgContext, OwnerDep
from loyaltylab.errors import InvalidInput
from loyaltylab.timeutil import from_local, utcnow
from loyaltylab.web import flash, redirect, render

router = APIRouter(include_in_schema=False)
SCOPE_LABELS = {
    ApiScope.read: i18n.N_("Read: studies, waves, responses, results and reports"),
    ApiScope.write: i18n.N_("Read and write: also contacts, invitations and events"),
}
FIELD_LABELS = {
    "name": i18n.N_("Key name"),
    "scope": i18n.N_("Scope"),
    "expires_on": i18n.N_("Expires on"),
}
HTTP_METHODS = ("get", "post", "put", "patch", "delete")


def _keys_page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    new_token: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    now = utcnow()
    response = render(
        request,
        "api/keys.html",
        {
            "keys": [
                (key, service.key_state(key, now))
                for key in service.list_keys(session, ctx.organisation_id)
            ],
            "scopes": [(scope.value, i18n.gettext(label)) for scope, label in SCOPE_LABELS.items()],
            "values": values or {"scope": ApiScope.read.value},
            "errors": errors or {},
            "labels": {field: i18n.gettext(label) for field, label in FIELD_LABELS.items()},
            "new_token": new_token,
        },
        status_code=status_code,
    )
    # The new key is on this page once: never kept by a browser or proxy cache.
    response.headers["cache-control"] = "no-store"
    return response


@router.get("/org/api-keys", response_class=HTMLResponse)
def keys_page(request: Request, session: SessionDep, ctx: OwnerDep) -> HTMLResponse:
    return _keys_page(request, session, ctx)


def _expiry(text: str, time_zone: str) -> datetime | None:
    """The end of the chosen day in the organisation's zone; None for no expiry."""
    if not text.strip():
        return None
    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        raise InvalidInput("Enter the date as YYYY-MM-DD, or leave it empty.") from None
    return from_local(datetime.combine(day, time(23, 59, 59)), time_zone)


@router.post("/org/api-keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    session: SessionDep,
    ctx: OwnerDep,
    name: Annotated[str, Form()] = "",
    scope: Annotated[str, Form()] = "",
    expires_on: Annotated[str, Form()] = "",
) -> HTMLResponse:
    values = {"name": name, "scope": scope, "expires_on": expires_on}
    errors = {}
    if scope not in ApiScope.__members__:
        errors["scope"] = i18n.gettext("Choose what the key may do.")
    expires_at = None
    try:
        expires_at = _expiry(expires_on, ctx.organisation.time_zone)
    except InvalidInput as problem:
        errors["expires_on"] = i18n.gettext(problem.message)
    if not errors:
        try:
            created = service.create_key(
                session, ctx, name=name, scope=ApiScope(scope), expires_at=expires_at
            )
        except InvalidInput as problem:
            field = "expires_on" if "expiry" in problem.message else "name"
            errors[field] = i18n.gettext(problem.message, **problem.params)
        else:
            return _keys_page(request, session, ctx, new_token=created.token, status_code=201)
    return _keys_page(request, session, ctx, values=values, errors=errors, status_code=400)


@router.post("/org/api-keys/{key_id}/revoke")
def revoke_key(request: Request, session: SessionDep, ctx: OwnerDep, key_id: int) -> Response:
    key = service.revoke_key(session, ctx, key_id)
    flash(
        request, "The key %(name)s has been revoked: it no longer works.", "success", name=key.name
    )
    return redirect("/org/api-keys")


# --- the reference -------------------------------------------------------------------------


def _operations(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The document's operations in its order, each with its method, path and parts."""
    found = []
    for path, item in document.get("paths", {}).items():
        for method in HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            body = operation.get("requestBody", {}).get("content", {}).get("application/json")
            found.append(
                {
                    "method": method.upper(),
                    "path": path,
                    "id": operation.get("operationId", f"{method}-{path}"),
                    "summary": operation.get("summary", ""),
                    "description": operation.get("description", ""),
                    "tag": (operation.get("tags") or [""])[0],
                    "parameters": operation.get("parameters", []),
                    "body": _schema_name(body["schema"]) if body else "",
                    "responses": {
                        status: response.get("description", "")
                        for status, response in operation.get("responses", {}).items()
                    },
                    "writes": method != "get",
                }
            )
    return found


def _schema_name(schema: dict[str, Any]) -> str:
    return schema.get("$ref", "").rsplit("/", 1)[-1] or schema.get("type", "")


@router.get("/api/docs", response_class=HTMLResponse)
def reference(request: Request) -> HTMLResponse:
    """Public, as the OpenAPI document is: it describes the API, never an organisation's data."""
    from loyaltylab.api.routes import API_PREFIX

    api = next(
        route.app for route in request.app.routes if getattr(route, "path", "") == API_PREFIX
    )
    document = api.openapi()
    return render(
        request,
        "api/docs.html",
        {
            "document": document,
            "operations": _operations(document),
            "schemas": document.get("components", {}).get("schemas", {}),
            "prefix": API_PREFIX,
            "base_url": request.app.state.settings.base_url,
        },
    )
