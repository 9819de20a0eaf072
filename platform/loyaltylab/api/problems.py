"""Every error of the API as RFC 9457 problem details (``application/problem+json``).

One shape for all of them: the domain's exceptions, unknown paths and methods, invalid requests
(each field named, with what is wrong in the caller's language) and unexpected failures.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from loyaltylab import i18n
from loyaltylab.api.schemas import FieldProblem, Problem
from loyaltylab.errors import DomainError, LoginRequired, Throttled

logger = logging.getLogger("loyaltylab.api")

MEDIA_TYPE = "application/problem+json"
INVALID_REQUEST_TYPE = "/api/docs#invalid-request"
# Pydantic's error types -> a message in the caller's language (its own text is English only).
FIELD_MESSAGES = {
    "missing": i18n.N_("This field is required."),
    "extra_forbidden": i18n.N_("This field is not known."),
    "string_too_short": i18n.N_("This text is too short (at least %(min_length)s characters)."),
    "string_too_long": i18n.N_("This text is too long (at most %(max_length)s characters)."),
    "string_pattern_mismatch": i18n.N_("This text has a form or characters that are not allowed."),
    "string_type": i18n.N_("Give a text here."),
    "int_parsing": i18n.N_("Give a whole number here."),
    "int_type": i18n.N_("Give a whole number here."),
    "float_parsing": i18n.N_("Give a number here."),
    "float_type": i18n.N_("Give a number here."),
    "greater_than_equal": i18n.N_("Give a number of at least %(ge)s."),
    "less_than_equal": i18n.N_("Give a number of at most %(le)s."),
    "too_short": i18n.N_("Give at least %(min_length)s entries."),
    "too_long": i18n.N_("Give at most %(max_length)s entries."),
    "datetime_parsing": i18n.N_("Give a date and time such as 2026-12-06T09:30:00+08:00."),
    "datetime_type": i18n.N_("Give a date and time such as 2026-12-06T09:30:00+08:00."),
    "timezone_aware": i18n.N_("Give the time with its time zone, e.g. +08:00 or Z."),
    "literal_error": i18n.N_("Give one of: %(expected)s."),
    "enum": i18n.N_("Give one of: %(expected)s."),
    "json_invalid": i18n.N_("The request body is not valid JSON."),
    "model_attributes_type": i18n.N_("Give a JSON object here."),
    "dict_type": i18n.N_("Give a JSON object here."),
    "list_type": i18n.N_("Give a JSON array here."),
}
RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": Problem, "content": {MEDIA_TYPE: {}}, "description": description}
    for status, description in (
        (401, "No API key, or one that is not valid, revoked or expired."),
        (403, "The key's scope does not allow this."),
        (404, "Not found (or another organisation's)."),
        (422, "The request is invalid: `errors` names each field."),
        (429, "Too many calls with this key: wait `Retry-After` seconds."),
        ("default", "Any other problem, in the same shape."),
    )
}
"""The problems every route may answer with, for the OpenAPI document."""


def problem_response(
    status: int,
    detail: str,
    *,
    instance: str,
    type_: str = "about:blank",
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = Problem(
        type=type_,
        title=HTTPStatus(status).phrase,
        status=status,
        detail=detail,
        instance=instance,
        errors=errors,
    )
    return JSONResponse(
        body.model_dump(exclude_none=True),
        status_code=status,
        media_type=MEDIA_TYPE,
        headers=headers,
    )


def problem(
    request: Request,
    status: int,
    detail: str,
    *,
    type_: str = "about:blank",
    errors: list[FieldProblem] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    return problem_response(
        status, detail, instance=request.url.path, type_=type_, errors=errors, headers=headers
    )


async def handle_domain_error(request: Request, exc: DomainError) -> JSONResponse:
    """The API's rendering of the one family of domain errors (``loyaltylab.errors``), the web
    pages' being ``app.handle_domain_error``."""
    headers = {}
    if isinstance(exc, LoginRequired):
        headers["WWW-Authenticate"] = 'Bearer realm="LoyaltyLab API"'
    if isinstance(exc, Throttled):
        headers["Retry-After"] = str(exc.retry_after)
    return problem(request, exc.status_code, exc.text(), headers=headers)


async def handle_http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    details = {
        404: i18n.gettext("The API has no such path: see /api/docs."),
        405: i18n.gettext("This path does not take this method: see /api/docs."),
    }
    detail = details.get(exc.status_code, str(exc.detail or HTTPStatus(exc.status_code).phrase))
    return problem(request, exc.status_code, detail, headers=exc.headers)


def field_name(location: tuple[Any, ...]) -> str:
    """``("body", "contacts", 2, "email")`` -> ``contacts[2].email``; ``("query", "limit")``
    -> ``limit``."""
    name = ""
    for part in location[1:] if location and location[0] in ("body", "query", "path") else location:
        if isinstance(part, int):
            name += f"[{part}]"
        else:
            name += f".{part}" if name else str(part)
    return name or str(location[0] if location else "body")


def field_message(error: dict[str, Any]) -> str:
    message = FIELD_MESSAGES.get(error["type"])
    if message is None:
        return error["msg"]
    context = {key: str(value) for key, value in (error.get("ctx") or {}).items()}
    try:
        return i18n.gettext(message, **context)
    except (KeyError, ValueError):
        return error["msg"]


async def handle_validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = [
        FieldProblem(
            # A body that is not JSON at all is located at a character offset: name the body.
            field="body" if error["type"] == "json_invalid" else field_name(tuple(error["loc"])),
            message=field_message(error),
        )
        for error in exc.errors()
    ]
    fields = ", ".join(dict.fromkeys(error.field for error in errors))
    detail = i18n.gettext("The request is invalid: %(fields)s.", fields=fields)
    return problem(request, 422, detail, type_=INVALID_REQUEST_TYPE, errors=errors)


async def handle_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Starlette's ServerErrorMiddleware calls this and then re-raises, which logs the trace.
    return problem(
        request, 500, i18n.gettext("Something went wrong on our side. Please try again later.")
    )
