"""Respondent pages: ``/s/{slug}`` (a wave's public link) and ``/i/{token}`` (a personal link).

Both links share one flow: consent -> pages with back and next -> thank-you. Every POST carries
the CSRF token and a submission key; the key is inserted first in the request's transaction,
so a repeated submit is rolled back and redirected where the first one led. Answers are
validated and display logic evaluated on the server; a page with problems is shown again with
an error summary and nothing is written.

Each step opens the session, finds the link, runs and commits before the response is returned
(so nothing is acknowledged that was not committed): on SQLite right on the event loop unless
the database is busy, otherwise in one trip to a worker thread (see :func:`_run`). In threads
the write transactions of one process take turns (:class:`loyaltylab.db.TurnTakingSession`)
instead of sleeping in SQLite's busy handler.

The routes are plain Starlette routes that make the app-wide checks themselves (CSRF on every
post, unusable input): FastAPI's dependency resolution cost each request more than its step's
queries.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import parse_qsl

import anyio
from fastapi import FastAPI, Request
from fastapi.responses import Response
from sqlalchemy.exc import OperationalError
from sqlmodel import Session
from starlette.datastructures import FormData
from starlette.routing import Route

from loyaltylab.db import TurnTakingSession, is_busy, without_waiting
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import Channel, Contact
from loyaltylab.guards import refuse_unusable, whole_number
from loyaltylab.respond import service as respondent
from loyaltylab.respond import steps
from loyaltylab.security import CSRF_HEADER, require_csrf

URLENCODED = "application/x-www-form-urlencoded"
MAX_RESPONDENT_BODY = 256 * 1024
RESPONDENT_BODY_LIMITS = dict.fromkeys(steps.RESPONDENT_PREFIXES, MAX_RESPONDENT_BODY)
"""256 KB for respondent posts (the app-wide limit is far larger)."""

RESPONDENT_THREADS = 4
"""Respondent steps running at once per process; the rest wait in arrival order. With anyio's
default of 40, bench/ingest.py's p99 was twice as long (a writer holding the write turn waits
for the GIL behind every other thread); 2 and 4 measured alike, 4 leaves room for waits on
the database."""
_respondent_threads = anyio.CapacityLimiter(RESPONDENT_THREADS)


class LinkInvalid(service.FieldworkError, reason="invalid"):
    """No wave has this public link, or no invitation this personal one."""


def public_access(request: Request, session: Session, key: str) -> steps.Access:
    wave = service.wave_snapshot(session, slug=key)
    if wave is None:
        raise LinkInvalid()
    access = steps.Access(wave=wave, base=f"/s/{key}", channel=Channel.web, key=key)
    token = request.cookies.get(access.resume_cookie)
    if token:
        access.response = respondent.response_by_resume_token(session, wave.id, token)
    return access


def personal_access(request: Request, session: Session, key: str) -> steps.Access:
    invitation = service.invitation_by_token(session, key)
    if invitation is None:
        raise LinkInvalid()
    return steps.Access(
        wave=service.wave_snapshot(session, wave_id=invitation.wave_id),
        base=f"/i/{key}",
        channel=Channel.invitation,
        key=key,
        invitation=invitation,
        contact=session.get(Contact, invitation.contact_id),
        response=respondent.response_for_invitation(session, invitation.id),
    )


Resolver = Callable[[Request, Session, str], steps.Access]


def _step(
    request: Request,
    resolve: Resolver,
    key: str,
    handler: Callable[..., Response],
    args: tuple[Any, ...],
    posted: bool,
    session: Session,
) -> Response:
    """Find the link, run the step, and commit a post (or roll back, and raise).

    A page that is only read (GET) writes nothing: its session ends without a commit.
    """
    with session:
        try:
            access = resolve(request, session, key)
            result = handler(request, session, access, *args)
            if posted:
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
    posted: bool,
) -> Response:
    """On SQLite the step runs right here on the event loop, through connections that never
    wait for a lock; only when the database is busy does it go to a worker thread, which waits
    for its turn. On PostgreSQL every step goes to a thread (its statements wait for the network).

    A step costs less CPU than a thread's round trip with its two GIL hand-overs, and the
    hand-overs grew with the load: running the posts on the loop too took about a fifth off the
    server CPU per respondent request in ``bench/ingest.py``. (The price: a WAL checkpoint that
    a commit sets off now holds up this process's other requests while it syncs the file.) A
    busy database fails the loop's attempt before it writes anything (the first write is the
    one that needs the lock), so the thread runs the whole step again from the start.

    In a thread the session takes the process's write turn at its first write (claiming the
    submission key) and gives it back at the commit or rollback. At most
    ``RESPONDENT_THREADS`` steps run in threads at once in a process; the others wait here, in
    arrival order.
    """
    step = functools.partial(_step, request, resolve, key, handler, args, posted)
    engine = request.app.state.engine
    if engine.dialect.name == "sqlite":
        try:
            return step(Session(without_waiting(engine), expire_on_commit=False))
        except OperationalError as error:
            if not is_busy(error):
                raise
    session = TurnTakingSession(engine, expire_on_commit=False)
    return await anyio.to_thread.run_sync(step, session, limiter=_respondent_threads)


MAX_FORM_FIELDS = 1000
"""As Starlette's form parser: more fields than any page has is a forged post."""


async def _posted_form(request: Request) -> FormData:
    """The posted fields. The respondent's forms are URL-encoded: read with the standard
    library's ``parse_qsl``, decoded as Starlette's form parser decodes them, in a tenth of
    its time (python-multipart's parser calls back per field and byte range)."""
    if not request.headers.get("content-type", "").startswith(URLENCODED):
        return await request.form()
    body = await request.body()
    try:
        fields = parse_qsl(
            body.decode("latin-1"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="replace",
            max_num_fields=MAX_FORM_FIELDS,
        )
    except ValueError:
        raise InvalidInput("The submitted data was incomplete or invalid.") from None
    return FormData(fields)


def _page_number(text: str) -> int:
    number = whole_number(text)
    if number is None:
        raise InvalidInput("The submitted data was incomplete or invalid.")
    return number


def _endpoint(
    resolve: Resolver,
    handler: Callable[..., Response],
    *,
    posted: bool = False,
    page: bool = False,
    token: bool = False,
) -> Callable[[Request], Awaitable[Response]]:
    """A respondent step as a plain Starlette endpoint: the checks FastAPI's app-wide
    dependencies make on every other route (CSRF on a post, unusable input) made here, with
    nothing else to resolve, then the step (:func:`_run`).

    The step's arguments follow the path: the page number, the resume token, and the posted
    form last.
    """

    async def endpoint(request: Request) -> Response:
        form = await _posted_form(request) if posted else None
        if posted:
            require_csrf(request.session, header=request.headers.get(CSRF_HEADER), form=form)
        params = request.path_params
        refuse_unusable(
            params,
            request.query_params.multi_items(),
            form,
            integer_path_params=INTEGER_PATH_PARAMS,
        )
        args: list[Any] = []
        if page:
            args.append(_page_number(params["page"]))
        if token:
            args.append(params["token"])
        if form is not None:
            args.append(form)
        return await _run(request, resolve, params["key"], handler, *args, posted=posted)

    endpoint.__name__ = handler.__name__
    return endpoint


INTEGER_PATH_PARAMS = frozenset({"page"})


def _routes(prefix: str, resolve: Resolver) -> list[Route]:
    return [
        Route(prefix, _endpoint(resolve, steps.entry), methods=["GET"]),
        Route(prefix + "/start", _endpoint(resolve, steps.start, posted=True), methods=["POST"]),
        Route(
            prefix + "/page/{page}", _endpoint(resolve, steps.show_page, page=True), methods=["GET"]
        ),
        Route(
            prefix + "/page/{page}",
            _endpoint(resolve, steps.submit_page, page=True, posted=True),
            methods=["POST"],
        ),
        Route(prefix + "/done", _endpoint(resolve, steps.done), methods=["GET"]),
        Route(prefix + "/saved", _endpoint(resolve, steps.saved), methods=["GET"]),
        Route(
            prefix + "/language",
            _endpoint(resolve, steps.switch_language, posted=True),
            methods=["POST"],
        ),
    ]


ROUTES = [
    *_routes("/s/{key}", public_access),
    *_routes("/i/{key}", personal_access),
    Route(
        "/s/{key}/resume/{token}",
        _endpoint(public_access, steps.resume, token=True),
        methods=["GET"],
    ),
]
"""The respondent pages: plain Starlette routes (FastAPI's dependency resolution and
parameter parsing cost each request more than the rest of the framework together)."""


def install(app: FastAPI) -> None:
    """Mount the respondent pages on the app (``create_app`` puts them ahead of the researcher
    routes: see ``_include_routers``). A fieldwork rule a step does not turn into a page itself
    (a link that is invalid, used or expired) reaches the app's one domain-error handler, which
    shows :func:`steps.respondent_status_page`."""
    app.router.routes.extend(ROUTES)
