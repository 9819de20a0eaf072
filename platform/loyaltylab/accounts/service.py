"""Accounts: sign-up, sign-in with throttling, password reset, invitations and roles.

Services flush and never commit: the request's session dependency commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func
from sqlmodel import Session, select

from loyaltylab.accounts.models import (
    Invitation,
    LoginFailure,
    Membership,
    Organisation,
    OrganisationKind,
    Role,
    User,
)
from loyaltylab.accounts.schemas import clean_email, clean_name, clean_password
from loyaltylab.errors import InvalidInput, NotFound, PermissionDenied, Throttled
from loyaltylab.mail import OutboxMessage, queue_mail
from loyaltylab.security import (
    SignedTokens,
    fingerprint,
    hash_password,
    new_token,
    token_digest,
    verify_password,
)
from loyaltylab.settings import Settings
from loyaltylab.timeutil import utcnow

PASSWORD_RESET_PURPOSE = "password-reset"
PASSWORD_RESET_SUBJECT = "Reset your LoyaltyLab password"
# At most this many reset mails per account and hour, so nobody can flood an inbox.
MAX_RESET_MAILS = 3


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def _create_user(session: Session, *, email: str, name: str, password: str) -> User:
    email = clean_email(email)
    if find_user_by_email(session, email):
        raise InvalidInput("An account with this e-mail address already exists.", field="email")
    user = User(
        email=email,
        name=clean_name(name, field="name"),
        password_hash=hash_password(clean_password(password)),
    )
    session.add(user)
    session.flush()
    return user


def sign_up(
    session: Session, *, email: str, name: str, password: str, organisation_name: str
) -> tuple[User, Organisation]:
    """A new account owning a new research organisation."""
    organisation = Organisation(
        name=clean_name(organisation_name, field="organisation"), kind=OrganisationKind.research
    )
    user = _create_user(session, email=email, name=name, password=password)
    session.add(organisation)
    session.flush()
    session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=Role.owner))
    session.flush()
    return user, organisation


def create_user_with_membership(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    organisation: Organisation,
    role: Role,
) -> User:
    user = _create_user(session, email=email, name=name, password=password)
    session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=role))
    session.flush()
    return user


def authenticate(
    session: Session, settings: Settings, *, email: str, password: str, ip: str
) -> User:
    """The user for these credentials; throttled after repeated failures per account and IP."""
    email = email.strip().lower()[:320]
    now = utcnow()
    window_start = now - timedelta(seconds=settings.login_window_seconds)
    failures = session.exec(
        select(func.count(), func.min(LoginFailure.at)).where(
            LoginFailure.email == email, LoginFailure.ip == ip, LoginFailure.at >= window_start
        )
    ).one()
    count, oldest = failures
    if count >= settings.login_max_failures:
        oldest_at = oldest if oldest.tzinfo else oldest.replace(tzinfo=now.tzinfo)
        retry_after = max(1, int((oldest_at - window_start).total_seconds()) + 1)
        raise Throttled(
            "Too many failed attempts. Try again in %(seconds)s seconds.",
            retry_after=retry_after,
            seconds=retry_after,
        )
    user = find_user_by_email(session, email)
    if user is None or not user.is_active or not verify_password(user.password_hash, password):
        session.add(LoginFailure(email=email, ip=ip, at=now))
        session.flush()
        raise InvalidInput("The e-mail address or password is not right.", field="email")
    session.exec(delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.ip == ip))
    return user


def forget_old_login_failures(session: Session, settings: Settings) -> None:
    cutoff = utcnow() - timedelta(seconds=settings.login_window_seconds)
    session.exec(delete(LoginFailure).where(LoginFailure.at < cutoff))


def _reset_payload(user: User) -> dict[str, object]:
    # Bound to the current password: once it changes, the link stops working (single use).
    return {"uid": user.id, "pw": fingerprint(user.password_hash)}


def request_password_reset(session: Session, settings: Settings, *, email: str) -> None:
    """Mail a reset link if the account exists; say nothing either way (no account probing)."""
    user = find_user_by_email(session, email)
    if user is None or not user.is_active or _recent_reset_mails(session, user) >= MAX_RESET_MAILS:
        return
    token = SignedTokens(settings.secret_key).dumps(PASSWORD_RESET_PURPOSE, _reset_payload(user))
    link = settings.absolute_url(f"/password/reset/{token}")
    minutes = settings.password_reset_max_age // 60
    queue_mail(
        session,
        to=user.email,
        subject=PASSWORD_RESET_SUBJECT,
        body=(
            f"Someone asked to reset the password of {user.email} on LoyaltyLab.\n\n"
            f"Choose a new password here (valid for {minutes} minutes, once):\n{link}\n\n"
            "If it was not you, ignore this message; your password stays as it is."
        ),
    )


def _recent_reset_mails(session: Session, user: User) -> int:
    since = utcnow() - timedelta(hours=1)
    return session.exec(
        select(func.count()).where(
            OutboxMessage.to == user.email,
            OutboxMessage.subject == PASSWORD_RESET_SUBJECT,
            OutboxMessage.created_at >= since,
        )
    ).one()


def user_for_reset_token(session: Session, settings: Settings, token: str) -> User:
    payload = SignedTokens(settings.secret_key).loads(
        PASSWORD_RESET_PURPOSE, token, max_age=settings.password_reset_max_age
    )
    user = session.get(User, payload["uid"]) if isinstance(payload, dict) else None
    if user is None or payload != _reset_payload(user):
        raise InvalidInput("This reset link is invalid, expired or already used.")
    return user


def reset_password(session: Session, settings: Settings, *, token: str, password: str) -> User:
    user = user_for_reset_token(session, settings, token)
    user.password_hash = hash_password(clean_password(password))
    session.add(user)
    session.flush()
    return user


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    link: str


def invite_member(
    session: Session,
    settings: Settings,
    *,
    organisation: Organisation,
    invited_by: User,
    email: str,
    role: Role,
) -> IssuedInvitation:
    email = clean_email(email)
    existing = session.exec(
        select(Membership)
        .join(User, User.id == Membership.user_id)
        .where(Membership.organisation_id == organisation.id, User.email == email)
    ).first()
    if existing:
        raise InvalidInput("This person is already a member.", field="email")
    token = new_token()
    invitation = Invitation(
        organisation_id=organisation.id,
        email=email,
        role=role,
        token_hash=token_digest(token),
        invited_by_id=invited_by.id,
        expires_at=utcnow() + timedelta(seconds=settings.invitation_max_age),
    )
    session.add(invitation)
    session.flush()
    link = settings.absolute_url(f"/invite/{token}")
    queue_mail(
        session,
        to=email,
        subject=f"Join {organisation.name} on LoyaltyLab",
        body=f"{invited_by.name or invited_by.email} invites you to {organisation.name}.\n\n{link}",
        organisation_id=organisation.id,
    )
    return IssuedInvitation(invitation=invitation, link=link)


def open_invitation(session: Session, token: str) -> tuple[Invitation, Organisation]:
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == token_digest(token))
    ).first()
    if invitation is None or invitation.accepted_at is not None:
        raise NotFound("This invitation is invalid or has already been used.")
    expires_at = invitation.expires_at
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=utcnow().tzinfo)
    if expires_at < utcnow():
        raise NotFound("This invitation has expired. Ask for a new one.")
    organisation = session.get(Organisation, invitation.organisation_id)
    if organisation is None:
        raise NotFound("This invitation is invalid or has already been used.")
    return invitation, organisation


def accept_invitation(session: Session, *, token: str, user: User) -> Organisation:
    invitation, organisation = open_invitation(session, token)
    if user.email != invitation.email:
        # A forwarded or leaked link must not let another account join.
        raise InvalidInput(
            "This invitation was sent to %(email)s. Log out and open the link again to accept it.",
            email=invitation.email,
        )
    # Claim the invitation atomically: of two concurrent accepts, only one updates the row.
    claimed = session.exec(
        Invitation.__table__.update()
        .where(Invitation.id == invitation.id, Invitation.accepted_at.is_(None))
        .values(accepted_at=utcnow())
    )
    if claimed.rowcount != 1:
        raise NotFound("This invitation is invalid or has already been used.")
    already = session.exec(
        select(Membership).where(
            Membership.user_id == user.id, Membership.organisation_id == organisation.id
        )
    ).first()
    if already is None:
        session.add(
            Membership(user_id=user.id, organisation_id=organisation.id, role=invitation.role)
        )
    session.flush()
    return organisation


def list_members(session: Session, organisation_id: int) -> list[tuple[Membership, User]]:
    return list(
        session.exec(
            select(Membership, User)
            .join(User, User.id == Membership.user_id)
            .where(Membership.organisation_id == organisation_id)
            .order_by(User.email)
        ).all()
    )


def pending_invitations(session: Session, organisation_id: int) -> list[Invitation]:
    return list(
        session.exec(
            select(Invitation)
            .where(
                Invitation.organisation_id == organisation_id,
                Invitation.accepted_at.is_(None),
                Invitation.expires_at > utcnow(),
            )
            .order_by(Invitation.created_at)
        ).all()
    )


def _member(session: Session, organisation_id: int, membership_id: int) -> Membership:
    membership = session.get(Membership, membership_id)
    if membership is None or membership.organisation_id != organisation_id:
        raise NotFound("Not found.")
    return membership


def _owner_count(session: Session, organisation_id: int) -> int:
    return session.exec(
        select(func.count()).where(
            Membership.organisation_id == organisation_id, Membership.role == Role.owner
        )
    ).one()


def change_role(session: Session, *, organisation_id: int, membership_id: int, role: Role) -> None:
    membership = _member(session, organisation_id, membership_id)
    if (
        membership.role == Role.owner
        and role != Role.owner
        and _owner_count(session, organisation_id) == 1
    ):
        raise PermissionDenied("An organisation needs at least one owner.")
    membership.role = role
    session.add(membership)
    session.flush()


def remove_member(session: Session, *, organisation_id: int, membership_id: int) -> None:
    membership = _member(session, organisation_id, membership_id)
    if membership.role == Role.owner and _owner_count(session, organisation_id) == 1:
        raise PermissionDenied("An organisation needs at least one owner.")
    session.delete(membership)
    session.flush()


def set_locale(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.add(user)
    session.flush()
