"""Server-rendered pages: the Jinja2 environment, rendering, flash messages and form errors."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, pass_context
from jinja2.runtime import Context

from loyaltylab import i18n, timeutil
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork.service import preferred_language
from loyaltylab.security import CSRF_FIELD, csrf_token

TEMPLATE_DIR = Path(__file__).parent / "templates"

templates = Jinja2Templates(
    env=Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
)
templates.env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)


@pass_context
def url_for(context: dict[str, Any], name: str, /, **path_params: Any) -> str:
    """A root-relative URL: Starlette's absolute one takes its host from the request's Host
    header, which the client chooses."""
    request: Request = context["request"]
    path = request.app.url_path_for(name, **path_params)
    return request.scope.get("root_path", "") + str(path)


def ui_text(texts: dict[str, str] | None) -> str:
    """A questionnaire text (language tag -> text) in the interface language where it has one,
    else in the first language it has."""
    if not texts:
        return ""
    wanted = i18n.html_lang()
    available = [language for language, text in texts.items() if text.strip()]
    if not available:
        return ""
    return texts[preferred_language(wanted, available)]


@pass_context
def local_datetime(context: Context, moment: datetime | None) -> str:
    """A stored time as ``2026-07-01 09:00`` in the organisation's time zone."""
    if moment is None:
        return "—"
    return timeutil.local(moment, context.get("time_zone")).strftime("%Y-%m-%d %H:%M")


@pass_context
def local_date(context: Context, moment: datetime | date | None) -> str:
    """A stored time's day (``2026-07-01``) in the organisation's time zone."""
    if moment is None:
        return "—"
    if not isinstance(moment, datetime):
        return moment.isoformat()
    return timeutil.local_date(moment, context.get("time_zone")).isoformat()


templates.env.filters.update(local_datetime=local_datetime, local_date=local_date)
templates.env.globals.update(
    url_for=url_for,
    LOCALE_NAMES=i18n.LOCALE_NAMES,
    CSRF_FIELD=CSRF_FIELD,
    get_locale=i18n.get_locale,
    html_lang=i18n.html_lang,
    role_label=i18n.role_label,
    ui_text=ui_text,
    utc_offset=timeutil.utc_offset,
)


def flash(request: Request, message: str, category: str = "info", **params: Any) -> None:
    """Queue a message (an English msgid, translated when shown) for the next page."""
    request.session.setdefault("flash", []).append(
        {"message": message, "category": category, "params": params}
    )


def _pop_flashes(request: Request) -> list[dict[str, str]]:
    queued = request.session.pop("flash", [])
    return [{"category": item["category"], "text": _flash_text(item)} for item in queued]


def _flash_text(item: dict[str, Any]) -> str:
    # Bound to names first: in gettext(item["message"]) babel would extract "message" as a msgid.
    message, params = item["message"], item["params"]
    return i18n.gettext(message, **params)


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> HTMLResponse:
    context = dict(context or {})
    context.setdefault("current_user", getattr(request.state, "user", None))
    context.setdefault("current_membership", getattr(request.state, "membership", None))
    context["csrf_token"] = csrf_token(request.session)
    context["flashes"] = _pop_flashes(request)
    context["locale"] = i18n.get_locale()
    organisation = getattr(request.state, "organisation", None)
    context.setdefault("time_zone", organisation.time_zone if organisation else None)
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def form_errors(exc: InvalidInput, *, default_field: str = "form") -> dict[str, str]:
    """The refused input as ``{field: message}`` in the reader's language, for the form to show
    beside the field named by the exception (``default_field`` when it names none)."""
    params = {name: value for name, value in exc.params.items() if name != "field"}
    return {exc.params.get("field", default_field): i18n.gettext(exc.message, **params)}


def redirect(url: str, *, status_code: int = 303) -> RedirectResponse:
    return RedirectResponse(url, status_code=status_code)


def safe_next(target: str | None, default: str = "/") -> str:
    """Only same-site relative paths: never an open redirect."""
    if not target:
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return default
    return target
