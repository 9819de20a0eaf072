"""Accounts: sign-up confirmed by e-mail, sign-in with throttling, server-side sessions,
password reset and change, invitations and roles.

Services flush and never commit: the request's session dependency commits once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, or_
from sqlalchemy.orm import aliased
from sqlmodel import Session, select
from sqlmodel.sql.expression import SelectOfScalar

import languages
from loyaltylab import i18n
from loyaltylab.accounts.models import (
    Invitation,
    LoginFailure,
    Membership,
    Organisation,
    OrganisationKind,
    PendingSignup,
    Role,
    User,
    UserSession,
)
from loyaltylab.accounts.schemas import clean_email, clean_name, clean_password
from loyaltylab.errors import InvalidInput, NotFound, PermissionDenied, Throttled
from loyaltylab.i18n import N_
from loyaltylab.mail import OutboxMessage, queue_mail
from loyaltylab.security import (
    SignedTokens,
    fingerprint,
    hash_password,
    needs_rehash,
    new_token,
    token_digest,
    verify_password,
)
from loyaltylab.settings import Settings
from loyaltylab.timeutil import utcnow

PASSWORD_RESET_PURPOSE = "password-reset"
PASSWORD_RESET_SUBJECT = N_("Reset your LoyaltyLab password")
SIGN_UP_SUBJECT = N_("Confirm your e-mail address for LoyaltyLab")
ACCOUNT_EXISTS_SUBJECT = N_("You already have a LoyaltyLab account")
# At most this many account mails (reset, sign-up, "you already have an account") per address
# and hour, so nobody can flood an inbox through our forms.
MAX_ACCOUNT_MAILS = 3
# A session's last activity is written at most this often (not a write per request).
SESSION_ACTIVITY_INTERVAL = timedelta(minutes=5)


def as_utc(moment: datetime) -> datetime:
    """SQLite returns timestamps without their (UTC) zone."""
    return moment if moment.tzinfo else moment.replace(tzinfo=utcnow().tzinfo)


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.exec(select(User).where(User.email == email.strip().lower())).first()


def _create_user(
    session: Session, *, email: str, name: str, password_hash: str, locale: str | None = None
) -> User:
    email = clean_email(email)
    if find_user_by_email(session, email):
        raise InvalidInput("An account with this e-mail address already exists.", field="email")
    user = User(
        email=email, name=clean_name(name, field="name"), password_hash=password_hash, locale=locale
    )
    session.add(user)
    session.flush()
    return user


def create_user_with_membership(
    session: Session,
    *,
    email: str,
    name: str,
    password: str,
    organisation: Organisation,
    role: Role,
    client_organisation_id: int | None = None,
) -> User:
    user = _create_user(
        session, email=email, name=name, password_hash=hash_password(clean_password(password))
    )
    session.add(
        Membership(
            user_id=user.id,
            organisation_id=organisation.id,
            role=role,
            client_organisation_id=client_organisation_id,
        )
    )
    session.flush()
    return user


# --- sign-up ----------------------------------------------------------------------------------


def _in_language(locale: str | None, message: str, **params: str) -> str:
    translated = i18n.translations(locale or i18n.get_locale()).ugettext(message)
    return translated % params if params else translated


def sign_up(
    session: Session,
    settings: Settings,
    *,
    email: str,
    name: str,
    password: str,
    organisation_name: str,
) -> OutboxMessage | None:
    """Ask for an account owning a new research organisation.

    A new address is mailed a link that creates the account when opened (nothing exists
    before); an address with an account is mailed a note saying so. Both answer the same and
    take as long (the password is hashed either way), so sign-up tells nobody which addresses
    have accounts. Returns the queued mail (None past the hourly limit of account mails).
    """
    email = clean_email(email)
    name = clean_name(name, field="name")
    organisation_name = clean_name(organisation_name, field="organisation")
    password_hash = hash_password(clean_password(password))
    if _recent_account_mails(session, email) >= MAX_ACCOUNT_MAILS:
        return None
    existing = find_user_by_email(session, email)
    if existing is not None:
        locale = existing.locale
        return queue_mail(
            session,
            to=email,
            subject=_in_language(locale, ACCOUNT_EXISTS_SUBJECT),
            body=_in_language(
                locale,
                N_(
                    "Someone, perhaps you, tried to create a LoyaltyLab account for %(email)s. "
                    "This address already has an account.\n\n"
                    "Log in here: %(login)s\n"
                    "Forgot your password? Choose a new one here: %(forgot)s\n\n"
                    "If it was not you, ignore this message; nothing has changed."
                ),
                email=email,
                login=settings.absolute_url("/login"),
                forgot=settings.absolute_url("/password/forgot"),
            ),
        )
    now = utcnow()
    session.exec(delete(PendingSignup).where(PendingSignup.expires_at < now))
    # Signing up again replaces the pending sign-up: only the newest link works.
    pending = session.exec(select(PendingSignup).where(PendingSignup.email == email)).first()
    pending = pending or PendingSignup(email=email)
    token = new_token()
    pending.name = name
    pending.organisation_name = organisation_name
    pending.password_hash = password_hash
    pending.locale = i18n.get_locale()
    pending.token_hash = token_digest(token)
    pending.created_at = now
    pending.expires_at = now + timedelta(seconds=settings.signup_max_age)
    session.add(pending)
    session.flush()
    return queue_mail(
        session,
        to=email,
        subject=_in_language(None, SIGN_UP_SUBJECT),
        body=_in_language(
            None,
            N_(
                "Welcome to LoyaltyLab, %(name)s.\n\n"
                "Open this link to confirm your address and create your account "
                "(valid for %(hours)s hours):\n%(link)s\n\n"
                "If you did not sign up, ignore this message; no account will be created."
            ),
            name=name,
            hours=str(settings.signup_max_age // 3600),
            link=settings.absolute_url(f"/signup/confirm/{token}"),
        ),
    )


def pending_sign_up(session: Session, token: str) -> PendingSignup:
    pending = session.exec(
        select(PendingSignup).where(PendingSignup.token_hash == token_digest(token))
    ).first()
    if pending is None or as_utc(pending.expires_at) < utcnow():
        raise InvalidInput("This confirmation link is invalid, expired or already used.")
    return pending


def confirm_sign_up(session: Session, token: str) -> tuple[User, Organisation]:
    """Create the account of a pending sign-up, with its organisation, now that its link was
    opened (which proves the address)."""
    pending = pending_sign_up(session, token)
    session.delete(pending)
    session.flush()
    if find_user_by_email(session, pending.email) is not None:
        # Joined through an invitation meanwhile; the link is used up either way.
        raise InvalidInput("An account with this e-mail address already exists. Log in instead.")
    user = _create_user(
        session,
        email=pending.email,
        name=pending.name,
        password_hash=pending.password_hash,
        locale=pending.locale,
    )
    organisation = Organisation(name=pending.organisation_name, kind=OrganisationKind.research)
    session.add(organisation)
    session.flush()
    session.add(Membership(user_id=user.id, organisation_id=organisation.id, role=Role.owner))
    session.flush()
    return user, organisation


# --- signing in ---------------------------------------------------------------------------------


def authenticate(
    session: Session, settings: Settings, *, email: str, password: str, ip: str
) -> User:
    """The user for these credentials.

    Throttled per account (whatever the client address) and per client address (whatever the
    accounts). Exactly one argon2 verification runs, against a dummy hash when there is no
    account: an unknown or inactive address takes as long as a known one.
    """
    email = email.strip().lower()[:320]
    now = utcnow()
    window_start = now - timedelta(seconds=settings.login_window_seconds)
    session.exec(delete(LoginFailure).where(LoginFailure.at < window_start))
    _check_throttle(session, settings, email=email, ip=ip, window_start=window_start)
    user = find_user_by_email(session, email)
    password_matches = verify_password(user.password_hash if user else None, password)
    if user is None or not user.is_active or not password_matches:
        _record_failure(session, email=email, ip=ip, at=now)
        raise InvalidInput("The e-mail address or password is not right.", field="email")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.add(user)
    session.exec(delete(LoginFailure).where(LoginFailure.email == email, LoginFailure.ip == ip))
    return user


def _check_throttle(
    session: Session, settings: Settings, *, email: str, ip: str, window_start: datetime
) -> None:
    limits = (
        (LoginFailure.email == email, settings.login_max_failures),
        (LoginFailure.ip == ip, settings.login_max_failures_per_address),
    )
    for condition, limit in limits:
        count, oldest = session.exec(
            select(func.count(), func.min(LoginFailure.at)).where(
                condition, LoginFailure.at >= window_start
            )
        ).one()
        if count >= limit:
            retry_after = max(1, int((as_utc(oldest) - window_start).total_seconds()) + 1)
            raise Throttled(
                "Too many failed attempts. Try again in %(seconds)s seconds.",
                retry_after=retry_after,
                seconds=retry_after,
            )


def _record_failure(session: Session, *, email: str, ip: str, at: datetime) -> None:
    session.add(LoginFailure(email=email, ip=ip, at=at))
    session.flush()


# --- server-side sessions ---------------------------------------------------------------------


def start_session(
    session: Session, settings: Settings, user: User, *, user_agent: str, ip: str
) -> str:
    """A new session for the user; returns the token the browser keeps (stored hashed)."""
    now = utcnow()
    session.exec(delete(UserSession).where(UserSession.expires_at < now))  # everyone's, expired
    token = new_token()
    session.add(
        UserSession(
            user_id=user.id,
            token_hash=token_digest(token),
            user_agent=user_agent[:300],
            ip=ip[:64],
            created_at=now,
            last_seen_at=now,
            expires_at=now + timedelta(seconds=settings.session_max_age),
        )
    )
    session.flush()
    return token


def find_session(session: Session, token: object) -> tuple[UserSession, User] | None:
    """The live session of this token and its (active) user, in one query."""
    if not isinstance(token, str):
        return None
    row = session.exec(
        select(UserSession, User)
        .join(User, User.id == UserSession.user_id)
        .where(
            UserSession.token_hash == token_digest(token),
            UserSession.expires_at > utcnow(),
            User.is_active,
        )
    ).first()
    return (row[0], row[1]) if row else None


def note_activity(session: Session, user_session: UserSession) -> None:
    """Keep the session's last activity (shown on the account page) to within a few minutes."""
    now = utcnow()
    if now - as_utc(user_session.last_seen_at) >= SESSION_ACTIVITY_INTERVAL:
        user_session.last_seen_at = now
        session.add(user_session)
        session.flush()


def end_session(session: Session, token: object) -> None:
    if isinstance(token, str):
        session.exec(delete(UserSession).where(UserSession.token_hash == token_digest(token)))


def end_sessions(session: Session, user_id: int, *, keep: int | None = None) -> None:
    """End every session of a user on the server (but ``keep``, the id of the caller's own)."""
    statement = delete(UserSession).where(UserSession.user_id == user_id)
    if keep is not None:
        statement = statement.where(UserSession.id != keep)
    session.exec(statement)


def end_one_session(session: Session, user_id: int, session_id: int) -> None:
    """End one of the user's own sessions; another user's is not found."""
    ended = session.exec(
        delete(UserSession).where(UserSession.id == session_id, UserSession.user_id == user_id)
    )
    if ended.rowcount != 1:
        raise NotFound("Not found.")


def list_sessions(session: Session, user_id: int) -> list[UserSession]:
    return list(
        session.exec(
            select(UserSession)
            .where(UserSession.user_id == user_id, UserSession.expires_at > utcnow())
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        ).all()
    )


# --- the account page -------------------------------------------------------------------------


def update_profile(session: Session, user: User, *, name: str, locale: str) -> None:
    user.name = clean_name(name, field="name")
    if locale not in languages.SUPPORTED_LOCALES:
        raise InvalidInput("Choose one of the languages.", field="locale")
    user.locale = locale
    session.add(user)
    session.flush()


def change_password(
    session: Session,
    settings: Settings,
    user: User,
    *,
    current_password: str,
    new_password: str,
    ip: str,
    keep_session: int,
) -> None:
    """Change the password, knowing the current one (throttled like signing in), and end every
    other session of the account."""
    now = utcnow()
    window_start = now - timedelta(seconds=settings.login_window_seconds)
    _check_throttle(session, settings, email=user.email, ip=ip, window_start=window_start)
    if not verify_password(user.password_hash, current_password):
        _record_failure(session, email=user.email, ip=ip, at=now)
        raise InvalidInput("Your current password is not right.", field="current_password")
    user.password_hash = hash_password(clean_password(new_password))
    session.add(user)
    session.flush()
    end_sessions(session, user.id, keep=keep_session)


# --- password reset ---------------------------------------------------------------------------


def _reset_payload(user: User) -> dict[str, object]:
    # Bound to the current password: once it changes, the link stops working (single use).
    return {"uid": user.id, "pw": fingerprint(user.password_hash)}


def request_password_reset(
    session: Session, settings: Settings, *, email: str
) -> OutboxMessage | None:
    """Mail a reset link if the account exists; say nothing either way (no account probing)."""
    user = find_user_by_email(session, email)
    if (
        user is None
        or not user.is_active
        or _recent_account_mails(session, user.email) >= MAX_ACCOUNT_MAILS
    ):
        return None
    token = SignedTokens(settings.secret_key).dumps(PASSWORD_RESET_PURPOSE, _reset_payload(user))
    return queue_mail(
        session,
        to=user.email,
        subject=_in_language(user.locale, PASSWORD_RESET_SUBJECT),
        body=_in_language(
            user.locale,
            N_(
                "Someone asked to reset the password of %(email)s on LoyaltyLab.\n\n"
                "Choose a new password here (valid for %(minutes)s minutes, once):\n%(link)s\n\n"
                "If it was not you, ignore this message; your password stays as it is."
            ),
            email=user.email,
            minutes=str(settings.password_reset_max_age // 60),
            link=settings.absolute_url(f"/password/reset/{token}"),
        ),
    )


def _recent_account_mails(session: Session, email: str) -> int:
    """Mails about the account of this address (not sent by an organisation) in the last hour."""
    since = utcnow() - timedelta(hours=1)
    return session.exec(
        select(func.count()).where(
            OutboxMessage.to == email,
            OutboxMessage.organisation_id.is_(None),
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
    """Set a new password through a reset link; every session of the account ends."""
    user = user_for_reset_token(session, settings, token)
    user.password_hash = hash_password(clean_password(password))
    session.add(user)
    session.flush()
    end_sessions(session, user.id)
    return user


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: Invitation
    link: str
    message: OutboxMessage


def invite_member(
    session: Session,
    settings: Settings,
    *,
    organisation: Organisation,
    invited_by: User,
    email: str,
    role: Role,
    client_organisation_id: int | None = None,
) -> IssuedInvitation:
    email = clean_email(email)
    company_id = _client_company(session, organisation, role, client_organisation_id)
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
        client_organisation_id=company_id,
        token_hash=token_digest(token),
        invited_by_id=invited_by.id,
        expires_at=utcnow() + timedelta(seconds=settings.invitation_max_age),
    )
    session.add(invitation)
    session.flush()
    link = settings.absolute_url(f"/invite/{token}")
    message = queue_mail(
        session,
        to=email,
        subject=f"Join {organisation.name} on LoyaltyLab",
        body=f"{invited_by.name or invited_by.email} invites you to {organisation.name}.\n\n{link}",
        organisation_id=organisation.id,
    )
    return IssuedInvitation(invitation=invitation, link=link, message=message)


def open_invitation(session: Session, token: str) -> tuple[Invitation, Organisation]:
    invitation = session.exec(
        select(Invitation).where(Invitation.token_hash == token_digest(token))
    ).first()
    if invitation is None or invitation.accepted_at is not None:
        raise NotFound("This invitation is invalid or has already been used.")
    if as_utc(invitation.expires_at) < utcnow():
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
            Membership(
                user_id=user.id,
                organisation_id=organisation.id,
                role=invitation.role,
                client_organisation_id=invitation.client_organisation_id,
            )
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
    # In the WHERE as in loyaltylab.access, which this module (below the request context) does
    # not import.
    membership = session.exec(
        select(Membership).where(
            Membership.id == membership_id, Membership.organisation_id == organisation_id
        )
    ).first()
    if membership is None:
        raise NotFound("Not found.")
    return membership


def _owner_count(session: Session, organisation_id: int) -> int:
    return session.exec(
        select(func.count()).where(
            Membership.organisation_id == organisation_id, Membership.role == Role.owner
        )
    ).one()


def client_companies(session: Session, organisation: Organisation) -> list[Organisation]:
    """The client companies a research organisation works for (a client-role member of it
    represents one of them)."""
    if organisation.kind is not OrganisationKind.research:
        return []
    return list(
        session.exec(
            select(Organisation)
            .where(
                Organisation.kind == OrganisationKind.client,
                Organisation.managing_organisation_id == organisation.id,
            )
            .order_by(Organisation.name)
        ).all()
    )


def _client_company(
    session: Session, organisation: Organisation, role: Role, client_organisation_id: int | None
) -> int | None:
    """The company a client-role member of a research organisation represents: required there,
    one of the organisation's client companies; None for every other role and organisation."""
    if role is not Role.client or organisation.kind is not OrganisationKind.research:
        return None
    if client_organisation_id not in {c.id for c in client_companies(session, organisation)}:
        raise InvalidInput("Choose the client company this member represents.", field="role")
    return client_organisation_id


def usable_memberships(
    session: Session, user_id: int
) -> list[tuple[Membership, Organisation, Organisation | None]]:
    """The user's memberships, each with its organisation and, for a client-role member of a
    research organisation, the client company it acts for (one query).

    A client-role membership of a research organisation without a company (made before
    companies were chosen) gives access to nothing until an owner chooses one.
    """
    company = aliased(Organisation)
    rows = session.exec(
        select(Membership, Organisation, company)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(company, company.id == Membership.client_organisation_id)
        .where(Membership.user_id == user_id)
        .order_by(Membership.id)
    ).all()
    return [
        (membership, organisation, acting_for)
        for membership, organisation, acting_for in rows
        if _client_company_is_set(membership, organisation, acting_for)
    ]


def _client_company_is_set(
    membership: Membership, organisation: Organisation, company: Organisation | None
) -> bool:
    needs_company = membership.role == Role.client and (
        organisation.kind == OrganisationKind.research
    )
    return company is not None or not needs_company


def change_role(
    session: Session,
    *,
    organisation: Organisation,
    membership_id: int,
    role: Role,
    client_organisation_id: int | None = None,
    keep_session: int | None = None,
) -> None:
    """Give a member another role (and company); the member's sessions end, but the caller's."""
    membership = _member(session, organisation.id, membership_id)
    if (
        membership.role == Role.owner
        and role != Role.owner
        and _owner_count(session, organisation.id) == 1
    ):
        raise PermissionDenied("An organisation needs at least one owner.")
    membership.client_organisation_id = _client_company(
        session, organisation, role, client_organisation_id
    )
    membership.role = role
    session.add(membership)
    session.flush()
    end_sessions(session, membership.user_id, keep=keep_session)


def remove_member(
    session: Session, *, organisation_id: int, membership_id: int, keep_session: int | None = None
) -> None:
    """Remove a member; its sessions end on the server at once."""
    membership = _member(session, organisation_id, membership_id)
    if membership.role == Role.owner and _owner_count(session, organisation_id) == 1:
        raise PermissionDenied("An organisation needs at least one owner.")
    session.delete(membership)
    session.flush()
    end_sessions(session, membership.user_id, keep=keep_session)


def set_locale(session: Session, user: User, locale: str) -> None:
    user.locale = locale
    session.add(user)
    session.flush()


def client_users(client_organisation_id: int) -> SelectOfScalar[User]:
    """The query of a company's client users, in id order: its own members, and the
    client-role members of research organisations who represent it (callers narrow it)."""
    return (
        select(User)
        .join(Membership, Membership.user_id == User.id)
        .where(
            or_(
                Membership.organisation_id == client_organisation_id,
                Membership.client_organisation_id == client_organisation_id,
            ),
            Membership.role == Role.client,
        )
        .distinct()
        .order_by(User.id)
    )
