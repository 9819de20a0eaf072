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
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import Response
from sqlmodel import Session

from loyaltylab.db import TurnTakingSession
from loyaltylab.fieldwork import service
from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    Wave,
)
from loyaltylab.middleware import BodySizeLimitMiddleware
from loyaltylab.respond import service as respondent
from loyaltylab.respond import steps

MAX_RESPONDENT_BODY = 256 * 1024

router = APIRouter(include_in_schema=False)

RESPONDENT_THREADS = 4
"""Respondent steps running at once per process; the rest wait in arrival order. With anyio's
default of 40, bench/ingest.py's p99 was twice as long (a writer holding the write turn waits
for the GIL behind every other thread); 2 and 4 measured alike, 4 leaves room for waits on
the database."""
_respondent_threads = anyio.CapacityLimiter(RESPONDENT_THREADS)


class LinkInvalid(service.FieldworkError, reason="invalid"):
    """No wave has this public link, or no invitation this personal one."""


def public_access(request: Request, session: Session, key: str) -> steps.Access:
    wave = service.wave_by_slug(session, key)
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
        wave=session.get(Wave, invitation.wave_id),
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
        return await _run(request, resolve, key, steps.entry)

    @router.post(prefix + "/start")
    async def start(request: Request, key: str) -> Response:
        return await _run(request, resolve, key, steps.start, form=True)

    @router.get(prefix + "/page/{page}")
    async def show_page(request: Request, key: str, page: int) -> Response:
        return await _run(request, resolve, key, steps.show_page, page)

    @router.post(prefix + "/page/{page}")
    async def save_page(request: Request, key: str, page: int) -> Response:
        return await _run(request, resolve, key, steps.submit_page, page, form=True)

    @router.get(prefix + "/done")
    async def done(request: Request, key: str) -> Response:
        return await _run(request, resolve, key, steps.done)

    @router.get(prefix + "/saved")
    async def saved(request: Request, key: str) -> Response:
        return await _run(request, resolve, key, steps.saved)

    @router.post(prefix + "/language")
    async def switch_language(request: Request, key: str) -> Response:
        return await _run(request, resolve, key, steps.switch_language, form=True)


_register("/s/{key}", public_access)
_register("/i/{key}", personal_access)


@router.get("/s/{key}/resume/{token}")
async def resume(request: Request, key: str, token: str) -> Response:
    return await _run(request, public_access, key, steps.resume, token)


class RespondentBodyLimit:
    """256 KB for respondent posts (the app-wide limit is far larger)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.limited = BodySizeLimitMiddleware(app, max_body_bytes=MAX_RESPONDENT_BODY)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"].startswith(steps.RESPONDENT_PREFIXES):
            await self.limited(scope, receive, send)
        else:
            await self.app(scope, receive, send)


def install(app: FastAPI) -> None:
    """Mount the respondent pages on the app (``create_app`` includes them ahead of the
    researcher routes: see ``_include_routers``). A fieldwork rule a step does not turn into a
    page itself (a link that is invalid, used or expired) reaches the app's one domain-error
    handler, which shows :func:`steps.respondent_status_page`."""
    app.include_router(router)
    app.add_middleware(RespondentBodyLimit)
