"""The FastAPI application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import text
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Route
from starlette.types import Receive, Scope
from threadpoolctl import threadpool_limits

from loyaltylab import i18n, workflows
from loyaltylab.api.routes import API_PREFIX, create_api_app
from loyaltylab.db import make_engine
from loyaltylab.deps import optional_user
from loyaltylab.errors import DomainError, LoginRequired, Throttled
from loyaltylab.fieldwork.service.errors import FieldworkError
from loyaltylab.guards import refuse_unusable_input
from loyaltylab.middleware import EdgeMiddleware, SessionCookie
from loyaltylab.respond.routes import RESPONDENT_BODY_LIMITS
from loyaltylab.respond.steps import is_respondent_request, respondent_status_page
from loyaltylab.security import CSRF_HEADER, require_csrf
from loyaltylab.settings import Settings, get_settings
from loyaltylab.web import redirect, render, templates

STATIC_DIR = Path(__file__).resolve().parents[2] / "static"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SESSION_COOKIE = "loyaltylab_session"
# Answered whatever the Host header: load balancers address them to the machine.
HEALTH_CHECKS = ("/healthz", "/readyz")
# How uvicorn must serve the app: the app reads X-Forwarded-For itself, from the proxies in
# LOYALTYLAB_TRUSTED_PROXIES only; uvicorn's own handling would rewrite the client address from
# any loopback peer's header before the app sees it.
SERVER_OPTIONS = {"proxy_headers": False}

logger = logging.getLogger("loyaltylab")


async def verify_csrf(request: Request) -> None:
    """Every state-changing request carries the session's CSRF token (form field or header)."""
    if request.method not in UNSAFE_METHODS:
        return
    header = request.headers.get(CSRF_HEADER)
    form = None
    if header is None:
        content_type = request.headers.get("content-type", "")
        if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
            form = await request.form()
    require_csrf(request.session, header=header, form=form)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def _error_page(request: Request, status_code: int, message: str) -> Response:
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status_code)
    return render(
        request,
        "error.html",
        {"status_code": status_code, "message": message},
        status_code=status_code,
    )


async def handle_domain_error(request: Request, exc: DomainError) -> Response:
    """The one handler of the domain errors (``loyaltylab.errors``) for the web pages, their
    subclasses included: a login for a visitor who must sign in, the respondent's status page
    for a fieldwork rule on a respondent link (in the respondent's language, without the
    researchers' layout), else the error page (JSON for a caller asking for it)."""
    if isinstance(exc, LoginRequired) and not _wants_json(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?next={quote(target)}")
    if isinstance(exc, FieldworkError) and is_respondent_request(request):
        return respondent_status_page(request, exc.reason)
    response = _error_page(request, exc.status_code, exc.text())
    if isinstance(exc, Throttled):
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


async def handle_http_error(request: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 404 and not hasattr(request.state, "user"):
        # No route ran, so no dependency loaded the user: do it here for the page's top bar.
        with Session(request.app.state.engine, expire_on_commit=False) as session:
            request.state.user = optional_user(request, session)
    messages = {
        404: i18n.gettext("This page does not exist."),
        405: i18n.gettext("This action is not allowed here."),
    }
    return _error_page(
        request, exc.status_code, messages.get(exc.status_code, str(exc.detail or ""))
    )


async def handle_validation_error(request: Request, exc: Exception) -> Response:
    return _error_page(request, 400, i18n.gettext("The submitted data was incomplete or invalid."))


async def server_error_response(scope: Scope, receive: Receive) -> Response:
    """The branded 500 page (JSON for the API), for :class:`EdgeMiddleware`."""
    request = Request(scope, receive)
    message = i18n.gettext(
        "Something went wrong on our side. Please try again; if it happens again, tell us the "
        "reference %(request_id)s.",
        request_id=scope.get("state", {}).get("request_id", ""),
    )
    try:
        return _error_page(request, 500, message)
    except Exception:  # the page itself failed (a broken template, a lost session): plain text
        return PlainTextResponse(message, status_code=500)


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    # Requests run in a thread pool and the statistics work on small matrices: BLAS threads per
    # request only fight each other (the demo dashboard took 0.9 s under load, 0.23 s with one).
    threadpool_limits(limits=1, user_api="blas")
    app = FastAPI(
        title="LoyaltyLab",
        docs_url=None,
        redoc_url=None,
        # The pages have no OpenAPI document: the API's is at /api/v1/openapi.json.
        openapi_url=None,
        dependencies=[Depends(verify_csrf), Depends(refuse_unusable_input)],
    )
    app.state.settings = settings
    # Checking every template file's modification time on each render is for editing them
    # while the server runs, not for serving.
    templates.env.auto_reload = settings.env == "development"
    app.state.engine = make_engine(settings.database_url)
    app.state.make_job_queue = workflows.job_queue

    app.add_exception_handler(DomainError, handle_domain_error)  # type: ignore[arg-type]
    app.add_exception_handler(StarletteHTTPException, handle_http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, handle_validation_error)

    # One layer of our own (request id and log, Host, client address, size limit, session and
    # language, security headers, the 500 page); FastAPI adds its few around and inside it.
    app.add_middleware(
        EdgeMiddleware,
        session=SessionCookie(
            settings.secret_key,
            name=SESSION_COOKIE,
            max_age=settings.session_max_age,
            https_only=settings.https,
        ),
        hosts=settings.accepted_hosts,
        exempt_paths=HEALTH_CHECKS,
        trusted=settings.trusted_proxy_networks,
        max_body_bytes=settings.max_body_bytes,
        limits_by_prefix=RESPONDENT_BODY_LIMITS,
        https=settings.https,
        error_response=server_error_response,
    )

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.mount(API_PREFIX, create_api_app(settings, app.state.engine), name="api")
    _include_routers(app)
    return app


def _include_routers(app: FastAPI) -> None:
    """Routers in the order requests are matched: the router tries routes one by one, and each
    failed match costs FastAPI ~10-40 µs. Health checks and the respondent pages (the traffic
    that scales) come first, right after the ``/static`` and API mounts; nothing else lives
    under their paths, so their position changes no other match."""
    from loyaltylab.accounts.routes import router as accounts_router
    from loyaltylab.actions.routes import router as actions_router
    from loyaltylab.analysis_settings.routes import router as analysis_settings_router
    from loyaltylab.api.pages import router as api_pages_router
    from loyaltylab.audit.routes import router as audit_router
    from loyaltylab.dashboard.routes import router as dashboard_router
    from loyaltylab.fieldwork.routes import router as fieldwork_router
    from loyaltylab.followup.routes import router as followup_router
    from loyaltylab.organisation.routes import router as organisation_router
    from loyaltylab.pages import router as pages_router
    from loyaltylab.privacy.routes import router as privacy_router
    from loyaltylab.questionnaires.routes import router as questionnaires_router
    from loyaltylab.reports_web.routes import router as reports_router
    from loyaltylab.respond.routes import install as install_respondent_pages
    from loyaltylab.sms.routes import install as install_sms_inbound
    from loyaltylab.sms.routes import router as sms_router
    from loyaltylab.studies.routes import router as studies_router
    from loyaltylab.webhooks.routes import router as webhooks_router

    app.router.routes.extend(HEALTH_ROUTES)
    install_respondent_pages(app)
    app.include_router(pages_router)
    app.include_router(accounts_router)
    app.include_router(studies_router)
    app.include_router(fieldwork_router)
    app.include_router(questionnaires_router)
    app.include_router(reports_router)
    app.include_router(audit_router)
    app.include_router(privacy_router)
    app.include_router(analysis_settings_router)
    app.include_router(organisation_router)
    app.include_router(dashboard_router)
    app.include_router(followup_router)
    app.include_router(actions_router)
    app.include_router(webhooks_router)
    app.include_router(sms_router)
    install_sms_inbound(app)
    app.include_router(api_pages_router)


async def healthz(request: Request) -> PlainTextResponse:
    return PlainTextResponse("ok")


def readyz(request: Request) -> PlainTextResponse:
    try:
        with request.app.state.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception:
        logger.exception("readiness check failed")
        return PlainTextResponse("database unreachable", status_code=503)
    return PlainTextResponse("ok")


# Plain Starlette routes: no dependencies to solve (the app's CSRF and input checks have nothing
# to check here). healthz answers on the event loop; readyz waits for the database in a thread.
HEALTH_ROUTES = [Route("/healthz", healthz), Route("/readyz", readyz)]
