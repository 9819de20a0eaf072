"""Who calls the API: the organisation API key of the ``Authorization: Bearer`` header.

Only that header authenticates: a browser's session cookie never does, so the API needs no CSRF
token and a page cannot make a signed-in browser call it. Keys in turn never reach the HTML
pages, which read only the session. The key is looked up and its call counted in a
transaction of its own, before the route's session starts: on SQLite a request that read
before another connection wrote could not write afterwards.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlmodel import Session

from loyaltylab.api import service
from loyaltylab.api.models import ApiKey, ApiScope
from loyaltylab.errors import LoginRequired, PermissionDenied, Throttled
from loyaltylab.i18n import N_
from loyaltylab.timeutil import utcnow

STATE_KEY = "api_key"
"""Where the request's state keeps the key, for the audit of the call."""

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="ApiKey",
    description="An organisation API key (`llk_...`), created by an owner under Organisation "
    "→ API keys.",
)


def api_key(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> ApiKey:
    if credentials is None:
        raise LoginRequired(N_("Send an API key as Authorization: Bearer <key>."))
    now = utcnow()
    engine = request.app.state.engine
    with Session(engine, expire_on_commit=False) as session:
        key = service.key_for_token(session, credentials.credentials.strip(), now=now)
    setattr(request.state, STATE_KEY, key)
    retry_after = service.count_call(
        engine, key.id, now=now, limit=request.app.state.settings.api_calls_per_minute
    )
    if retry_after is not None:
        raise Throttled(
            N_("Too many calls with this API key: try again in %(seconds)s seconds."),
            retry_after=retry_after,
            seconds=retry_after,
        )
    return key


def require(scope: ApiScope) -> Callable[[ApiKey], ApiKey]:
    """A dependency: the caller's key, if its scope allows ``scope`` (else 403)."""

    def allowed(key: Annotated[ApiKey, Depends(api_key)]) -> ApiKey:
        if not key.scope.allows(scope):
            raise PermissionDenied(N_("This API key may only read: use a key with write scope."))
        return key

    return allowed


ReadKey = Annotated[ApiKey, Depends(require(ApiScope.read))]
WriteKey = Annotated[ApiKey, Depends(require(ApiScope.write))]
