"""Request dependencies: who is signed in, in which organisation, and scoped object loading.

Every org-owned object is loaded through :func:`load_owned` (or a dependency built on it), so a
member of another organisation gets 404, never someone else's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlmodel import Session, SQLModel, select

from loyaltylab.accounts.models import Membership, Organisation, Role, User
from loyaltylab.db import SessionDep
from loyaltylab.errors import LoginRequired, NotFound, PermissionDenied
from loyaltylab.security import fingerprint
from loyaltylab.settings import Settings, get_settings

SettingsDep = Annotated[Settings, Depends(get_settings)]

SESSION_USER = "uid"
SESSION_AUTH = "auth"
SESSION_ORG = "org"

ModelT = TypeVar("ModelT", bound=SQLModel)


@dataclass(frozen=True)
class OrgContext:
    """The signed-in user acting in one organisation with one role."""

    user: User
    organisation: Organisation
    membership: Membership

    @property
    def role(self) -> Role:
        return Role(self.membership.role)

    @property
    def organisation_id(self) -> int:
        return self.membership.organisation_id

    def require_editor(self) -> None:
        if not self.role.can_edit:
            raise PermissionDenied("Your role can only read in this organisation.")

    def require_owner(self) -> None:
        if self.role is not Role.owner:
            raise PermissionDenied("Only owners can do this.")


def session_auth_marker(user: User) -> str:
    """Changes when the password changes, which signs out every other session."""
    return fingerprint(f"{user.id}:{user.password_hash}")


def sign_in(request: Request, user: User, organisation_id: int | None = None) -> None:
    # A fresh session on sign-in: nothing set before authentication survives (session fixation).
    request.session.clear()
    request.session[SESSION_USER] = user.id
    request.session[SESSION_AUTH] = session_auth_marker(user)
    if organisation_id is not None:
        request.session[SESSION_ORG] = organisation_id


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
    user_id = request.session.get(SESSION_USER)
    if user_id is None:
        return None
    user = session.get(User, user_id)
    if (
        user is None
        or not user.is_active
        or request.session.get(SESSION_AUTH) != session_auth_marker(user)
    ):
        request.session.clear()
        return None
    _keep_readable(session, user)
    request.state.user = user
    return user


OptionalUserDep = Annotated[User | None, Depends(optional_user)]


def current_user(user: OptionalUserDep) -> User:
    if user is None:
        raise LoginRequired("Please sign in to continue.")
    return user


CurrentUserDep = Annotated[User, Depends(current_user)]


def org_context(request: Request, session: SessionDep, user: CurrentUserDep) -> OrgContext:
    rows = session.exec(
        select(Membership, Organisation)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Membership.user_id == user.id)
        .order_by(Membership.id)
    ).all()
    if not rows:
        raise PermissionDenied("You are not a member of any organisation.")
    wanted = request.session.get(SESSION_ORG)
    membership, organisation = next(
        (row for row in rows if row[1].id == wanted),
        rows[0],
    )
    request.session[SESSION_ORG] = organisation.id
    _keep_readable(session, *(obj for row in rows for obj in row))
    request.state.membership = membership
    request.state.organisation = organisation
    request.state.memberships = rows
    return OrgContext(user=user, organisation=organisation, membership=membership)


OrgDep = Annotated[OrgContext, Depends(org_context)]


def editor_context(ctx: OrgDep) -> OrgContext:
    ctx.require_editor()
    return ctx


EditorDep = Annotated[OrgContext, Depends(editor_context)]


def owner_context(ctx: OrgDep) -> OrgContext:
    ctx.require_owner()
    return ctx


OwnerDep = Annotated[OrgContext, Depends(owner_context)]


def load_owned(session: Session, model: type[ModelT], object_id: Any, ctx: OrgContext) -> ModelT:
    """Load an object of the acting organisation, or raise NotFound (also for other tenants)."""
    obj = session.get(model, object_id)
    if obj is None or getattr(obj, "organisation_id", None) != ctx.organisation_id:
        raise NotFound("Not found.")
    return obj
