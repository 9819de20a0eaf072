"""Respondent pages: ``/s/{slug}`` (a wave's public link) and ``/i/{token}`` (a personal link).

Both links share one flow: consent -> pages with back and next -> thank-you. Every POST carries
the CSRF token and a submission key; the key is inserted first in the request's transaction,
so a repeated submit is rolled back and redirected where the first one led. Answers are
validated and display logic evaluated on the server; a page with problems is shown again with
an error summary and nothing is written.

Each request makes one trip to a worker thread, which opens the session, finds the link, runs
the step and commits before the response is returned (so nothing is acknowledged that was not
committed). On SQLite the write transactions of one process take turns
(:class:`loyaltylab.db.TurnTakingSession`) instead of sleeping in SQLite's busy handler.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup, escape
from sqlmodel import Session
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData
from starlette.routing import Mount

from loyaltylab.db import TurnTakingSession
from loyaltylab.middleware import BodySizeLimitMiddleware
from loyaltylab.respond.texts import LANGUAGE_NAMES, text
from loyaltylab.web import redirect, render
from surveys.definition import (
    Item,
    LikertItem,
    MatrixItem,
    NpsItem,
    QuestionnaireDefinition,
    display_order,
    text_for,
)
from surveys.fieldwork import service
from surveys.fieldwork.models import Channel, Contact, ResponseStatus, Wave, WaveInvitation
from surveys.fieldwork.models import Response as SurveyResponse

RESPONDENT_PREFIXES = ("/s/", "/i/")
MAX_RESPONDENT_BODY = 256 * 1024
SESSION_LANGUAGE = "respond_lang"
STATUS_CODES = {"closed": 410, "full": 410, "used": 409, "expired": 410, "invalid": 404}

router = APIRouter(include_in_schema=False)

RESPONDENT_THREADS = 4
"""Respondent steps running at once per process; the rest wait in arrival order. With anyio's
default of 40, bench/ingest.py's p99 was twice as long (a writer holding the write turn waits
for the GIL behind every other thread); 2 and 4 measured alike, 4 leaves room for waits on
the database."""
_respondent_threads = anyio.CapacityLimiter(RESPONDENT_THREADS)


@dataclass
class Access:
    """Who is answering which wave through which link."""

    wave: Wave
    base: str
    channel: Channel
    key: str
    invitation: WaveInvitation | None = None
    contact: Contact | None = None
    response: SurveyResponse | None = None

    @property
    def resume_cookie(self) -> str:
        return f"loyaltylab_resume_{self.wave.id}"


class LinkInvalid(service.FieldworkError):
    reason = "invalid"


def public_access(request: Request, session: Session, key: str) -> Access:
    wave = service.wave_by_slug(session, key)
    if wave is None:
        raise LinkInvalid()
    access = Access(wave=wave, base=f"/s/{key}", channel=Channel.web, key=key)
    token = request.cookies.get(access.resume_cookie)
    if token:
        access.response = service.response_by_resume_token(session, wave.id, token)
    return access


def personal_access(request: Request, session: Session, key: str) -> Access:
    invitation = service.invitation_by_token(session, key)
    if invitation is None:
        raise LinkInvalid()
    return Access(
        wave=session.get(Wave, invitation.wave_id),
        base=f"/i/{key}",
        channel=Channel.invitation,
        key=key,
        invitation=invitation,
        contact=session.get(Contact, invitation.contact_id),
        response=service.response_for_invitation(session, invitation.id),
    )


def resume_token(request: Request, submission_key: str) -> str:
    """The public link's resume cookie, derived from the consent form's submission key.

    Derived, not stored: a repeated consent submit gets the same cookie back.
    """
    secret = request.app.state.settings.secret_key.encode()
    return hmac.new(secret, f"resume:{submission_key}".encode(), hashlib.sha256).hexdigest()


def _language(request: Request, access: Access, definition: QuestionnaireDefinition) -> str:
    if access.response is not None:
        return access.response.language
    chosen = request.session.get(SESSION_LANGUAGE)
    if chosen in definition.languages:
        return chosen
    if access.contact is not None and access.contact.language:
        # The language the contact was written to in (the contact file's language column).
        return service.preferred_language(access.contact.language, definition.languages)
    accept = request.headers.get("accept-language", "").lower()
    for language in definition.languages:
        if accept.startswith(language.lower().split("-")[0]):
            return language
    return definition.languages[0]


def _context(request: Request, session: Session, access: Access, **extra: Any) -> dict[str, Any]:
    definition = service.definition_for(session, access.wave.questionnaire_version_id)
    language = _language(request, access, definition)
    fallbacks = definition.languages

    def t(texts: dict[str, str]) -> str:
        return text_for(texts, language, fallbacks)

    def ui(key: str, **params: object) -> str:
        return text(key, language, **params)

    return {
        "access": access,
        "static": _static_prefix(request),
        "definition": definition,
        "language": language,
        "t": t,
        "ui": ui,
        "title": t(definition.title),
        "language_names": LANGUAGE_NAMES,
        "errors": {},
        "values": {},
        **extra,
    }


def _static_prefix(request: Request) -> str:
    """``/static/`` under the app's root path: found once per app (url_for walked the routes
    on every call, twice a page)."""
    prefix = getattr(request.app.state, "respond_static", None)
    if prefix is None:
        prefix = request.app.state.respond_static = str(request.app.url_path_for("static", path=""))
    return request.scope.get("root_path", "") + prefix


def _page(
    request: Request, template: str, context: dict[str, Any], *, status_code: int = 200
) -> HTMLResponse:
    response = render(request, template, context, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    return response


def status_page(
    request: Request, session: Session, access: Access | None, reason: str
) -> HTMLResponse:
    """Closed, full, used, expired or invalid: a clear page in the respondent's language."""
    reason = reason if reason in STATUS_CODES else "invalid"
    if access is None:
        language = request.session.get(SESSION_LANGUAGE) or "en"
        context = {
            "language": language,
            "static": _static_prefix(request),
            "ui": lambda key, **p: text(key, language, **p),
        }
    else:
        context = _context(request, session, access)
    context["reason"] = reason
    return _page(request, "respond/status.html", context, status_code=STATUS_CODES[reason])


async def handle_fieldwork_error(request: Request, exc: service.FieldworkError) -> Response:
    return status_page(request, None, None, exc.reason)


def _go(access: Access, outcome: str) -> Response:
    if outcome == service.DONE:
        return redirect(f"{access.base}/done")
    page = outcome.removeprefix("page:")
    return redirect(f"{access.base}/page/{page}" if page.isdigit() else access.base)


def _entry(request: Request, session: Session, access: Access) -> Response:
    response = access.response
    if response is not None:
        if response.status == ResponseStatus.complete:
            return status_page(request, session, access, "used")
        return redirect(f"{access.base}/page/{response.current_page}")
    try:
        if access.invitation is not None:
            service.check_invitation(access.invitation)
        service.check_entry(session, access.wave, access.contact)
    except service.FieldworkError as error:
        return status_page(request, session, access, error.reason)
    return _consent_page(request, session, access)


def _consent_page(
    request: Request, session: Session, access: Access, *, error: bool = False
) -> HTMLResponse:
    context = _context(request, session, access, submission_key=service.new_submission_key())
    consent = service.consent_texts(session, access.wave.study_id)
    context["consent_text"] = context["t"](consent) or context["ui"]("consent_default")
    if error:
        context["errors"] = {"consent": context["ui"]("consent_required")}
    return _page(request, "respond/consent.html", context, status_code=400 if error else 200)


def _start(request: Request, session: Session, access: Access, form: FormData) -> Response:
    key = str(form.get("submission_key", ""))
    if form.get("consent") != "yes":
        return _consent_page(request, session, access, error=True)
    definition = service.definition_for(session, access.wave.questionnaire_version_id)
    try:
        claim = service.claim_submission(session, key, organisation_id=access.wave.organisation_id)
    except service.RepeatedSubmission:
        session.rollback()
        stored = service.stored_outcome(session, key)
        result = _go(access, stored.outcome if stored else "")
    else:
        token = resume_token(request, key) if access.channel == Channel.web else None
        try:
            response = service.start_response(
                session,
                access.wave,
                channel=access.channel,
                language=_language(request, access, definition),
                claim=claim,
                contact=access.contact,
                invitation=access.invitation,
                resume_token=token,
            )
        except service.LinkUsed:
            # Another tab started first: continue with that response.
            session.rollback()
            return redirect(access.base)
        result = _go(access, f"page:{response.current_page}")
    if access.channel == Channel.web:
        result.set_cookie(
            access.resume_cookie,
            resume_token(request, key),
            max_age=90 * 24 * 3600,
            path=access.base,
            httponly=True,
            samesite="lax",
            secure=request.app.state.settings.https,
        )
    return result


def _page_context(
    request: Request, session: Session, access: Access, page: int, **extra: Any
) -> dict[str, Any]:
    context = _context(request, session, access, **extra)
    definition: QuestionnaireDefinition = context["definition"]
    response = access.response
    known = service.answers_of(response, definition)
    pages = service.shown_pages(definition, known)
    section = definition.sections[page]
    seed = f"{response.id}:{section.code}"
    t = context["t"]
    errors: dict[str, str] = context["errors"]
    values = extra.get("values") or known

    def selected(code: str) -> set[str]:
        current = values.get(code)
        if current is None:
            return set()
        return {str(value) for value in current} if isinstance(current, list) else {str(current)}

    def chosen(code: str, option: object) -> bool:
        return str(option) in selected(code)

    def shown(code: str) -> str:
        current = values.get(code)
        return "" if current is None or isinstance(current, list) else str(current)

    def question(
        code: str, label: str, help_text: str, options: list[tuple[str, str]] | None, kind: str
    ) -> Question:
        error = errors.get(code)
        described = _described(code, help_text, error)
        inputs = None
        if options is not None and kind:
            inputs = option_inputs(code, kind, options, selected(code), described)
        return Question(code, label, help_text, error, described, inputs, len(options or ()))

    items = []
    for item in display_order(section.items, randomize=section.randomize, seed=seed):
        if not service.item_shown(item, known):
            continue
        options = _options(item, t)
        kind = _INPUT_KINDS.get(item.type, "radio" if options is not None else "")
        entry = {
            "item": item,
            "options": options,
            "rows": None,
            "q": question(item.code, t(item.label), t(item.help or {}), options, kind),
        }
        if isinstance(item, MatrixItem):
            rows = display_order(item.rows, randomize=item.randomize, seed=f"{seed}:{item.code}")
            entry["rows"] = rows
            entry["row_questions"] = [
                question(row.code, t(row.label), "", options, "radio") for row in rows
            ]
        items.append(entry)

    context.update(
        section=section,
        page=page,
        items=items,
        values=values,
        position=pages.index(page) + 1,
        total=len(pages),
        first=pages.index(page) == 0,
        last=pages.index(page) == len(pages) - 1,
        submission_key=service.new_submission_key(),
        chosen=chosen,
        shown=shown,
    )
    return context


@dataclass
class Question:
    """A question (or matrix row) of a page as page.html writes it, in the respondent's
    language: texts resolved and the radios or checkboxes written once, here."""

    code: str
    label: str
    help: str
    error: str | None
    described: Markup
    """The aria attributes linking the field (or its first option) to the hint and error."""
    inputs: Markup | None
    """The radios or checkboxes (see :func:`option_inputs`); None for other fields."""
    points: int
    """How many options (the scale's CSS class)."""


# Items whose options are not radios: a dropdown is a select, written by the template.
_INPUT_KINDS = {"multiple_choice": "checkbox", "dropdown": "", "matrix": ""}


def _described(code: str, help_text: str, error: str | None) -> Markup:
    ids = [f"f-{code}-hint"] if help_text else []
    if error:
        ids.append(f"f-{code}-error")
    described = Markup(' aria-describedby="{}"').format(" ".join(ids)) if ids else Markup()
    return described + Markup(' aria-invalid="true"') if error else described


def _options(item: Item, t: Callable[[dict[str, str]], str]) -> list[tuple[str, str]] | None:
    """(value, label) of each radio or checkbox of a question, in the respondent's language."""
    if isinstance(item, LikertItem | MatrixItem):
        scale = item.scale
        options = []
        for point in range(1, scale.points + 1):
            anchor = scale.anchor_for(point)
            options.append((str(point), f"{point} · {t(anchor)}" if anchor else str(point)))
        if scale.not_applicable:
            options.append(("na", t(scale.not_applicable)))
        return options
    if isinstance(item, NpsItem):
        return [(str(point), str(point)) for point in range(11)]
    choices = getattr(item, "options", None)  # single, multiple, attention check, dropdown
    if choices is None:
        return None
    return [(str(option.value), t(option.label)) for option in choices]


def option_inputs(
    code: str, kind: str, options: list[tuple[str, str]], chosen: set[str], described: str
) -> Markup:
    """The ``<div class="r-option">`` input-and-label pairs of one question (see page.html).

    ``chosen`` values are checked; ``described`` (already markup: the aria attributes) goes on
    the first input. Every text is escaped here.
    """
    name = escape(code)
    parts = []
    for index, (value, label) in enumerate(options):
        field = f"f-{name}-{index}" if index else f"f-{name}"
        parts.append(
            f'\n<div class="r-option"><input type="{escape(kind)}" id="{field}" name="{name}"'
            f' value="{escape(value)}"{" checked" if value in chosen else ""}'
            f'{described if index == 0 else ""}><label for="{field}">{escape(label)}</label></div>'
        )
    return Markup("".join(parts))


def _show_page(request: Request, session: Session, access: Access, page: int) -> Response:
    response = access.response
    if response is None:
        return redirect(access.base)
    if response.status == ResponseStatus.complete:
        return redirect(f"{access.base}/done")
    definition = service.definition_for(session, access.wave.questionnaire_version_id)
    known = service.answers_of(response, definition)
    if page not in service.shown_pages(definition, known) or page > response.current_page:
        return redirect(f"{access.base}/page/{response.current_page}")
    return _page(request, "respond/page.html", _page_context(request, session, access, page))


def _save_page(
    request: Request, session: Session, access: Access, page: int, form: FormData
) -> Response:
    response = access.response
    if response is None:
        return redirect(access.base)
    if response.status == ResponseStatus.complete:
        return redirect(f"{access.base}/done")
    if not service.is_accepting(access.wave):
        raise service.WaveNotOpen()
    key = str(form.get("submission_key", ""))
    action = "back" if form.get("action") == "back" else "next"
    raw = {}
    for name in form:
        values = [str(value) for value in form.getlist(name)]
        raw[name] = values[0] if len(values) == 1 else values
    try:
        claim = service.claim_submission(session, key, organisation_id=access.wave.organisation_id)
    except service.RepeatedSubmission:
        session.rollback()
        stored = service.stored_outcome(session, key)
        return _go(access, stored.outcome if stored else "")
    try:
        result = service.save_page(
            session, response, page=page, raw=raw, action=action, claim=claim
        )
    except service.FieldworkError as error:
        # E.g. the respondent's quota group filled up: say so in the respondent's language.
        session.rollback()
        return status_page(request, session, access, error.reason)
    if result.ok:
        return _go(access, result.outcome)
    session.rollback()
    session.refresh(response)
    language = response.language
    errors = {code: problem.message(language) for code, problem in result.errors.items()}
    context = _page_context(request, session, access, page, errors=errors, values=result.values)
    return _page(request, "respond/page.html", context, status_code=400)


def _done(request: Request, session: Session, access: Access) -> Response:
    if access.response is None or access.response.status != ResponseStatus.complete:
        return redirect(access.base)
    return _page(request, "respond/done.html", _context(request, session, access))


def _switch_language(
    request: Request, session: Session, access: Access, form: FormData
) -> Response:
    language = str(form.get("language", ""))
    if access.response is not None:
        service.set_language(session, access.response, language)
    else:
        request.session[SESSION_LANGUAGE] = language
    target = str(form.get("next", ""))
    return redirect(target if target.startswith(access.base) else access.base)


async def _in_thread(handler: Callable[..., Response], request: Request, *args: Any) -> Response:
    """Parse the form here, then run the database work in a worker thread.

    A SQLite writer waiting for the lock must never block the event loop: the transaction it
    waits for commits in a worker thread scheduled by this very loop.
    """
    form = await request.form()
    return await run_in_threadpool(handler, request, *args, form)


Resolver = Callable[[Request, Session, str], Access]


def _step(
    request: Request,
    resolve: Resolver,
    key: str,
    handler: Callable[..., Response],
    args: tuple[Any, ...],
) -> Response:
    """In a worker thread: open the session, find the link, run the step, commit.

    The session takes the process's write turn at its first write (claiming the submission
    key) and gives it back at the commit or rollback.
    """
    with TurnTakingSession(request.app.state.engine, expire_on_commit=False) as session:
        try:
            access = resolve(request, session, key)
            result = handler(request, session, access, *args)
            session.commit()
        except BaseException:
            session.rollback()
            raise
    return result


async def _run(
    request: Request,
    resolve: Resolver,
    key: str,
    handler: Callable[..., Response],
    *args: Any,
    form: bool = False,
) -> Response:
    """One trip to a worker thread per request (a dependency per step would be one trip each).

    At most ``RESPONDENT_THREADS`` steps run at once in a process; the others wait here, in
    arrival order. More threads only queue on the GIL, and a writer holding the write turn then
    waits behind every one of them.
    """
    if form:
        args = (*args, await request.form())
    step = functools.partial(_step, request, resolve, key, handler, args)
    return await anyio.to_thread.run_sync(step, limiter=_respondent_threads)


def _register(prefix: str, resolve: Resolver) -> None:
    @router.get(prefix)
    async def entry(request: Request, key: str) -> Response:
        return await _run(request, resolve, key, _entry)

    @router.post(prefix + "/start")
    async def start(request: Request, key: str) -> Response:
        return await _run(request, resolve, key, _start, form=True)

    @router.get(prefix + "/page/{page}")
    async def show_page(request: Request, key: str, page: int) -> Response:
        return await _run(request, resolve, key, _show_page, page)

    @router.post(prefix + "/page/{page}")
    async def save_page(request: Request, key: str, page: int) -> Response:
        return await _run(request, resolve, key, _save_page, page, form=True)

    @router.get(prefix + "/done")
    async def done(request: Request, key: str) -> Response:
        return await _run(request, resolve, key, _done)

    @router.post(prefix + "/language")
    async def switch_language(request: Request, key: str) -> Response:
        return await _run(request, resolve, key, _switch_language, form=True)


_register("/s/{key}", public_access)
_register("/i/{key}", personal_access)


class RespondentBodyLimit:
    """256 KB for respondent posts (the app-wide limit is far larger)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.limited = BodySizeLimitMiddleware(app, max_body_bytes=MAX_RESPONDENT_BODY)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(RESPONDENT_PREFIXES):
            await self.limited(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Mount the respondent pages on the app, ahead of the other routers.

    The router tries routes in order; respondents are the traffic that scales, and behind the
    ~100 researcher routes every respondent request paid ~1 ms for the failed matches. They go
    right after the ``/static`` mount (so ``url_for("static")`` still finds it first). No other
    route lives under ``/s/`` or ``/i/``, so going earlier changes no other match.
    """
    app.include_router(router)
    routes = app.router.routes
    respondent = routes.pop()
    mounts = [index for index, route in enumerate(routes) if isinstance(route, Mount)]
    routes.insert(mounts[0] + 1 if mounts else 0, respondent)
    app.add_exception_handler(service.FieldworkError, handle_fieldwork_error)  # type: ignore[arg-type]
    app.add_middleware(RespondentBodyLimit)
