"""Request dependencies: who is signed in, in which organisation and with which role.

What that member may read and change is :mod:`loyaltylab.access`, the one access policy.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlmodel import Session, SQLModel

from loyaltylab import i18n
from loyaltylab.accounts import service as accounts
from loyaltylab.accounts.models import Membership, Organisation, Role, User, UserSession
from loyaltylab.db import SessionDep
from loyaltylab.errors import LoginRequired, PermissionDenied
from loyaltylab.jobs.queue import JobQueue
from loyaltylab.settings import Settings


def app_settings(request: Request) -> Settings:
    """The settings the application was built with (``create_app(settings)``).

    Read from the app rather than overriding ``get_settings``: FastAPI re-resolves the whole
    dependency tree of a route on every request once an override is installed.
    """
    return request.app.state.settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


def job_queue(request: Request) -> JobQueue:
    """The app's queue (SQLite or Redis, from settings), created on first use."""
    queue = getattr(request.app.state, "job_queue", None)
    if queue is None:
        # Made by the factory create_app set: loyaltylab.workflows, with every handler.
        make_queue = request.app.state.make_job_queue
        queue = request.app.state.job_queue = make_queue(request.app.state.settings)
    return queue


QueueDep = Annotated[JobQueue, Depends(job_queue)]

SESSION_TOKEN = "sid"
SESSION_ORG = "org"


@dataclass(frozen=True)
class OrgContext:
    """The signed-in user acting in one organisation with one role.

    ``organisation`` is the one whose data the user works on: the membership's, except for a
    client-role member of a research organisation, who acts for the client company it
    represents and so sees exactly what that company's own members see.
    """

    user: User
    organisation: Organisation
    membership: Membership

    @property
    def role(self) -> Role:
        return Role(self.membership.role)

    @property
    def organisation_id(self) -> int:
        return self.organisation.id

    def require_editor(self) -> None:
        if not self.role.can_edit:
            raise PermissionDenied("Your role can only read in this organisation.")

    def require_owner(self) -> None:
        if self.role is not Role.owner:
            raise PermissionDenied("Only owners can do this.")


def sign_in(
    request: Request, session: Session, user: User, organisation_id: int | None = None
) -> None:
    """Start a server-side session for the user and bind this browser to it."""
    # A fresh cookie session on sign-in: nothing set before authentication survives (fixation).
    accounts.end_session(session, request.session.get(SESSION_TOKEN))
    request.session.clear()
    request.session[SESSION_TOKEN] = accounts.start_session(
        session,
        request.app.state.settings,
        user,
        user_agent=request.headers.get("user-agent", ""),
        ip=request.client.host if request.client else "",
    )
    if organisation_id is not None:
        request.session[SESSION_ORG] = organisation_id


def forget_sign_in(request: Request) -> None:
    """Empty this browser's session, keeping only its language."""
    locale = request.session.get(i18n.SESSION_KEY)
    request.session.clear()
    if locale:
        request.session[i18n.SESSION_KEY] = locale


def _keep_readable(session: Session, *objects: SQLModel) -> None:
    """Detach what every page shows (who is signed in, where) from the request's session.

    A failed request rolls back, which expires every loaded object, and the session is closed
    before the error page is rendered: attached, these would raise DetachedInstanceError there.
    A route that changes one of them adds it back with ``session.add``.
    """
    for obj in objects:
        if obj in session:
            session.expunge(obj)


def optional_user(request: Request, session: SessionDep) -> User | None:
    """The user of this browser's server-side session (one query), or None.

    A session ended on the server (log out, password change, sign out everywhere, removal
    from an organisation, a new role) or expired finds nothing: the copied cookie is worthless.
    """
    token = request.session.get(SESSION_TOKEN)
    if token is None:
        return None
    found = accounts.find_session(session, token)
    if found is None:
        forget_sign_in(request)
        return None
    user_session, user = found
    accounts.note_activity(session, user_session)
    _keep_readable(session, user, user_session)
    request.state.user = user
    request.state.user_session = user_session
    return user


OptionalUserDep = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUserDep) -> User:
    if user is None:
        raise LoginRequired("Please sign in to continue.")
    return user


CurrentUserDep = Annotated[User, Depends(current_user)]


def current_session(request: Request, user: CurrentUserDep) -> UserSession:
    """The signed-in browser's server-side session record."""
    return request.state.user_session


CurrentSessionDep = Annotated[UserSession, Depends(current_session)]


def org_context(request: Request, session: SessionDep, user: CurrentUserDep) -> OrgContext:
    rows = accounts.usable_memberships(session, user.id)
    if not rows:
        raise PermissionDenied("You are not a member of any organisation.")
    wanted = request.session.get(SESSION_ORG)
    membership, organisation, acting_for = next(
        (row for row in rows if row[1].id == wanted),
        rows[0],
    )
    request.session[SESSION_ORG] = organisation.id
    _keep_readable(session, *(obj for row in rows for obj in row if obj is not None))
    request.state.membership = membership
    request.state.organisation = organisation
    request.state.memberships = [(row[0], row[1]) for row in rows]
    return OrgContext(user=user, organisation=acting_for or organisation, membership=membership)


OrgDep = Annotated[OrgContext, Depends(org_context)]


def editor_context(ctx: OrgDep) -> OrgContext:
    ctx.require_editor()
    return ctx


EditorDep = Annotated[OrgContext, Depends(editor_context)]


def owner_context(ctx: OrgDep) -> OrgContext:
    ctx.require_owner()
    return ctx


OwnerDep = Annotated[OrgContext, Depends(owner_context)]
