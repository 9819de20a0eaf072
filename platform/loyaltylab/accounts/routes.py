"""Pages for signing up, in and out, the account page, password reset, invitations and members."""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

import languages
from loyaltylab import i18n
from loyaltylab.accounts import service
from loyaltylab.accounts.models import Invitation, Organisation, OrganisationKind, Role, User
from loyaltylab.accounts.schemas import clean_email, parse_role_choice, role_choice
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import (
    SESSION_ORG,
    SESSION_TOKEN,
    CurrentSessionDep,
    CurrentUserDep,
    OptionalUserDep,
    OrgContext,
    OrgDep,
    OwnerDep,
    SettingsDep,
    forget_sign_in,
    job_queue,
    sign_in,
)
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.mail import OutboxMessage
from loyaltylab.settings import Settings
from loyaltylab.web import flash, form_errors, redirect, render, safe_next

logger = logging.getLogger(__name__)
router = APIRouter()
FormStr = Annotated[str, Form()]


def _client_ip(request: Request) -> str:
    """The client's address (from X-Forwarded-For only behind a trusted proxy: see middleware)."""
    return request.client.host if request.client else "unknown"


def _send_after_response(
    request: Request,
    background: BackgroundTasks,
    settings: Settings,
    message: OutboxMessage | None,
) -> None:
    """Send a queued mail once the response is out (its outbox row is committed by then).

    Without SMTP a developer still needs the link: the development server logs the mail.
    """
    if message is None:
        return
    if settings.smtp_url:
        background.add_task(job_queue(request).send_mail, [message.id])
    elif settings.env == "development":
        logger.info("mail to %s (no SMTP set): %s\n%s", message.to, message.subject, message.body)


def _after_sign_in(request: Request, user_locale: str | None) -> None:
    if user_locale:
        request.session[i18n.SESSION_KEY] = user_locale
        i18n.set_locale(user_locale)


@router.get("/signup", response_class=HTMLResponse)
def signup_form(request: Request) -> HTMLResponse:
    return render(request, "accounts/signup.html", {"values": {}, "errors": {}})


@router.post("/signup", response_class=HTMLResponse)
def signup(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    email: FormStr = "",
    name: FormStr = "",
    password: FormStr = "",
    organisation: FormStr = "",
) -> Response:
    values = {"email": email, "name": name, "organisation": organisation}
    try:
        message = service.sign_up(
            session,
            settings,
            email=email,
            name=name,
            password=password,
            organisation_name=organisation,
        )
    except InvalidInput as exc:
        session.rollback()
        return render(
            request,
            "accounts/signup.html",
            {"values": values, "errors": form_errors(exc)},
            status_code=400,
        )
    _send_after_response(request, background, settings, message)
    # The same answer whether or not the address already has an account.
    return render(
        request,
        "accounts/signup_sent.html",
        {"email": clean_email(email), "hours": settings.signup_max_age // 3600},
    )


@router.get("/signup/confirm/{token}", response_class=HTMLResponse)
def confirm_signup_form(request: Request, session: SessionDep, token: str) -> HTMLResponse:
    """A button, not the link itself, creates the account: a mail scanner opening the link
    changes nothing, and nobody can sign a browser into their account with a link (CSRF)."""
    try:
        pending = service.pending_sign_up(session, token)
    except InvalidInput as exc:
        return _link_refused(request, exc)
    return render(request, "accounts/signup_confirm.html", {"token": token, "pending": pending})


def _link_refused(request: Request, exc: InvalidInput) -> HTMLResponse:
    return render(
        request,
        "error.html",
        {"status_code": 400, "message": i18n.gettext(exc.message)},
        status_code=400,
    )


@router.post("/signup/confirm/{token}")
def confirm_signup(request: Request, session: SessionDep, token: str) -> Response:
    try:
        user, organisation = service.confirm_sign_up(session, token)
    except InvalidInput as exc:
        return _link_refused(request, exc)
    sign_in(request, session, user, organisation.id)
    _after_sign_in(request, user.locale)
    flash(request, "Welcome to LoyaltyLab. Your organisation is ready.", "success")
    return redirect("/studies")


@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, user: OptionalUserDep, next: str = "") -> HTMLResponse:
    if user is not None:
        return redirect(safe_next(next, "/studies"))
    return render(request, "accounts/login.html", {"values": {}, "errors": {}, "next": next})


@router.post("/login", response_class=HTMLResponse)
def login(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    email: FormStr = "",
    password: FormStr = "",
    next: FormStr = "",
) -> Response:
    try:
        user = service.authenticate(
            session, settings, email=email, password=password, ip=_client_ip(request)
        )
    except InvalidInput as exc:
        # A normal (400) response, so the recorded failure is committed for throttling.
        return render(
            request,
            "accounts/login.html",
            {"values": {"email": email}, "errors": form_errors(exc), "next": next},
            status_code=400,
        )
    sign_in(request, session, user)
    _after_sign_in(request, user.locale)
    return redirect(safe_next(next, "/studies"))


@router.post("/logout")
def logout(request: Request, session: SessionDep) -> RedirectResponse:
    # Ended on the server: a copy of the cookie is worthless from now on.
    service.end_session(session, request.session.get(SESSION_TOKEN))
    forget_sign_in(request)
    flash(request, "You are logged out.", "success")
    return redirect("/login")


@router.post("/language")
def switch_language(
    request: Request, session: SessionDep, user: OptionalUserDep, lang: FormStr, next: FormStr = "/"
) -> RedirectResponse:
    locale = languages.locale_of(lang)
    if locale:
        request.session[i18n.SESSION_KEY] = locale
        if user is not None:
            service.set_locale(session, user, locale)
    return redirect(safe_next(next))


@router.get("/password/forgot", response_class=HTMLResponse)
def forgot_form(request: Request) -> HTMLResponse:
    return render(request, "accounts/password_forgot.html", {"values": {}, "errors": {}})


@router.post("/password/forgot")
def forgot(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    email: FormStr = "",
) -> RedirectResponse:
    message = service.request_password_reset(session, settings, email=email)
    _send_after_response(request, background, settings, message)
    flash(
        request,
        "If an account exists for this address, we have sent a link to reset its password.",
        "success",
    )
    return redirect("/login")


@router.get("/password/reset/{token}", response_class=HTMLResponse)
def reset_form(
    request: Request, session: SessionDep, settings: SettingsDep, token: str
) -> HTMLResponse:
    try:
        service.user_for_reset_token(session, settings, token)
    except InvalidInput as exc:
        return _link_refused(request, exc)
    return render(request, "accounts/password_reset.html", {"token": token, "errors": {}})


@router.post("/password/reset/{token}", response_class=HTMLResponse)
def reset(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    token: str,
    password: FormStr = "",
) -> Response:
    try:
        user = service.reset_password(session, settings, token=token, password=password)
    except InvalidInput as exc:
        return render(
            request,
            "accounts/password_reset.html",
            {"token": token, "errors": form_errors(exc)},
            status_code=400,
        )
    sign_in(request, session, user)
    _after_sign_in(request, user.locale)
    flash(request, "Your password has been changed.", "success")
    return redirect("/studies")


def _invitation_page(
    request: Request,
    token: str,
    invitation: Invitation,
    organisation: Organisation,
    *,
    user: User | None,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "accounts/invitation.html",
        {
            "invitation": invitation,
            "organisation": organisation,
            "token": token,
            "values": values,
            "errors": errors,
            "user": user,
        },
        status_code=status_code,
    )


@router.get("/invite/{token}", response_class=HTMLResponse)
def invitation_page(
    request: Request, session: SessionDep, user: OptionalUserDep, token: str
) -> HTMLResponse:
    invitation, organisation = service.open_invitation(session, token)
    values = {"email": invitation.email}
    return _invitation_page(
        request, token, invitation, organisation, user=user, values=values, errors={}
    )


@router.post("/invite/{token}", response_class=HTMLResponse)
def accept_invitation(
    request: Request,
    session: SessionDep,
    user: OptionalUserDep,
    token: str,
    name: FormStr = "",
    password: FormStr = "",
) -> Response:
    invitation, organisation = service.open_invitation(session, token)
    if user is None:
        try:
            user = service.create_user_with_membership(
                session,
                email=invitation.email,
                name=name,
                password=password,
                organisation=organisation,
                role=Role(invitation.role),
                client_organisation_id=invitation.client_organisation_id,
            )
        except InvalidInput as exc:
            session.rollback()
            return _invitation_page(
                request,
                token,
                invitation,
                organisation,
                user=None,
                values={"email": invitation.email, "name": name},
                errors=form_errors(exc),
                status_code=400,
            )
    service.accept_invitation(session, token=token, user=user)
    sign_in(request, session, user, organisation.id)
    _after_sign_in(request, user.locale)
    flash(request, "You have joined %(name)s.", "success", name=organisation.name)
    return redirect("/studies")


def _role_choices(session: SessionDep, organisation: Organisation) -> list[tuple[str, str]]:
    """The roles an owner can give, as (form value, label): in a research organisation a client
    is the client of one of its companies."""
    choices = [(role_choice(role), i18n.role_label(role)) for role in (Role.owner, Role.researcher)]
    companies = service.client_companies(session, organisation)
    if organisation.kind is not OrganisationKind.research:
        choices.append((role_choice(Role.client), i18n.role_label(Role.client)))
    for company in companies:
        label = i18n.gettext("Client of %(company)s", company=company.name)
        choices.append((role_choice(Role.client, company.id), label))
    return choices


def _members_page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    *,
    values: dict[str, str],
    errors: dict[str, str],
    issued_link: str | None,
    status_code: int = 200,
) -> HTMLResponse:
    """The members page; pending invitations are listed to owners only."""
    choices = _role_choices(session, ctx.organisation)
    return render(
        request,
        "accounts/members.html",
        {
            "members": [
                (membership, user, role_choice(membership.role, membership.client_organisation_id))
                for membership, user in service.list_members(session, ctx.organisation_id)
            ],
            "invitations": [
                (invitation, role_choice(invitation.role, invitation.client_organisation_id))
                for invitation in service.pending_invitations(session, ctx.organisation_id)
            ]
            if ctx.role is Role.owner
            else [],
            "role_choices": choices,
            "role_names": dict(choices),
            "ctx": ctx,
            "errors": errors,
            "values": values,
            "issued_link": issued_link,
        },
        status_code=status_code,
    )


@router.get("/org/members", response_class=HTMLResponse)
def members(request: Request, session: SessionDep, ctx: OrgDep) -> HTMLResponse:
    issued_link = request.session.pop("issued_link", None)
    return _members_page(request, session, ctx, values={}, errors={}, issued_link=issued_link)


@router.post("/org/invitations", response_class=HTMLResponse)
def invite(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    background: BackgroundTasks,
    ctx: OwnerDep,
    email: FormStr = "",
    role: FormStr = "researcher",
) -> Response:
    try:
        chosen_role, company_id = parse_role_choice(role)
        issued = service.invite_member(
            session,
            settings,
            organisation=ctx.organisation,
            invited_by=ctx.user,
            email=email,
            role=chosen_role,
            client_organisation_id=company_id,
        )
    except InvalidInput as exc:
        session.rollback()
        return _members_page(
            request,
            session,
            ctx,
            values={"email": email, "role": role},
            errors=form_errors(exc),
            issued_link=None,
            status_code=400,
        )
    _send_after_response(request, background, settings, issued.message)
    request.session["issued_link"] = issued.link
    flash(request, "Invitation created for %(email)s.", "success", email=issued.invitation.email)
    return redirect("/org/members")


def _audit_member(
    session: SessionDep, ctx: OrgContext, action: str, membership_id: int, **details: str
) -> None:
    """Log a change to a membership (``details`` name the member and what changed)."""
    audit.record(session, ctx, action, object_type="membership", object_id=membership_id, **details)


@router.post("/org/members/{membership_id}/role")
def set_role(
    request: Request,
    session: SessionDep,
    ctx: OwnerDep,
    own_session: CurrentSessionDep,
    membership_id: int,
    role: FormStr = "",
) -> RedirectResponse:
    chosen_role, company_id = parse_role_choice(role)
    service.change_role(
        session,
        organisation=ctx.organisation,
        membership_id=membership_id,
        role=chosen_role,
        client_organisation_id=company_id,
        keep_session=own_session.id,
    )
    member = audit.member_email(session, membership_id)
    company = session.get(Organisation, company_id) if company_id is not None else None
    details = {"role": chosen_role.value, **({"company": company.name} if company else {})}
    _audit_member(session, ctx, "member.role", membership_id, member=member, **details)
    flash(request, "The role has been changed.", "success")
    return redirect("/org/members")


@router.post("/org/members/{membership_id}/remove")
def remove(
    request: Request,
    session: SessionDep,
    ctx: OwnerDep,
    own_session: CurrentSessionDep,
    membership_id: int,
) -> RedirectResponse:
    member = audit.member_email(session, membership_id)
    service.remove_member(
        session,
        organisation_id=ctx.organisation_id,
        membership_id=membership_id,
        keep_session=own_session.id,
    )
    _audit_member(session, ctx, "member.remove", membership_id, member=member)
    flash(request, "The member has been removed.", "success")
    return redirect("/org/members")


@router.post("/org/switch")
def switch_organisation(
    request: Request, ctx: OrgDep, organisation_id: Annotated[int, Form()]
) -> RedirectResponse:
    memberships = getattr(request.state, "memberships", [])
    if not any(org.id == organisation_id for _, org in memberships):
        raise NotFound("Not found.")
    request.session[SESSION_ORG] = organisation_id
    return redirect("/studies")


# --- the account page -------------------------------------------------------------------------

BROWSERS = (("Edg/", "Edge"), ("OPR/", "Opera"), ("Firefox/", "Firefox"), ("Chrome/", "Chrome"))
SYSTEMS = (
    ("Android", "Android"),
    ("iPhone", "iOS"),
    ("iPad", "iPadOS"),
    ("Windows", "Windows"),
    ("CrOS", "ChromeOS"),
    ("Mac OS X", "macOS"),
    ("Linux", "Linux"),
)


def device_name(user_agent: str) -> str:
    """``Chrome on Android`` from a User-Agent string, for people to recognise their devices."""
    browser = next((name for token, name in BROWSERS if token in user_agent), None)
    if browser is None and "Safari/" in user_agent:
        browser = "Safari"
    system = next((name for token, name in SYSTEMS if token in user_agent), None)
    if browser and system:
        return i18n.gettext("%(browser)s on %(system)s", browser=browser, system=system)
    return browser or system or i18n.gettext("Unknown device")


def _account_page(
    request: Request,
    session: SessionDep,
    user: User,
    own_session_id: int,
    *,
    profile: dict[str, str] | None = None,
    profile_errors: dict[str, str] | None = None,
    password_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    return render(
        request,
        "accounts/account.html",
        {
            "profile": profile or {"name": user.name, "locale": user.locale or i18n.get_locale()},
            "profile_errors": profile_errors or {},
            "password_errors": password_errors or {},
            "sessions": [
                (item, device_name(item.user_agent))
                for item in service.list_sessions(session, user.id)
            ],
            "current_session_id": own_session_id,
        },
        status_code=status_code,
    )


@router.get("/account", response_class=HTMLResponse)
def account(
    request: Request, session: SessionDep, user: CurrentUserDep, own_session: CurrentSessionDep
) -> HTMLResponse:
    return _account_page(request, session, user, own_session.id)


@router.post("/account", response_class=HTMLResponse)
def update_account(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    own_session: CurrentSessionDep,
    name: FormStr = "",
    locale: FormStr = "",
) -> Response:
    try:
        service.update_profile(session, user, name=name, locale=locale)
    except InvalidInput as exc:
        session.rollback()
        return _account_page(
            request,
            session,
            user,
            own_session.id,
            profile={"name": name, "locale": locale},
            profile_errors=form_errors(exc),
            status_code=400,
        )
    _after_sign_in(request, user.locale)
    flash(request, "Your account has been saved.", "success")
    return redirect("/account")


@router.post("/account/password", response_class=HTMLResponse)
def change_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    user: CurrentUserDep,
    own_session: CurrentSessionDep,
    current_password: FormStr = "",
    password: FormStr = "",
) -> Response:
    try:
        service.change_password(
            session,
            settings,
            user,
            current_password=current_password,
            new_password=password,
            ip=_client_ip(request),
            keep_session=own_session.id,
        )
    except InvalidInput as exc:
        # Not rolled back: a wrong current password is a failure that throttling counts.
        return _account_page(
            request,
            session,
            user,
            own_session.id,
            password_errors=form_errors(exc),
            status_code=400,
        )
    flash(request, "Your password has been changed. Every other device is signed out.", "success")
    return redirect("/account")


@router.post("/account/sessions/end-all")
def sign_out_everywhere(
    request: Request, session: SessionDep, user: CurrentUserDep
) -> RedirectResponse:
    service.end_sessions(session, user.id)
    forget_sign_in(request)
    flash(request, "You are signed out on every device.", "success")
    return redirect("/login")


@router.post("/account/sessions/{session_id}/end")
def end_session(
    request: Request,
    session: SessionDep,
    user: CurrentUserDep,
    own_session: CurrentSessionDep,
    session_id: int,
) -> RedirectResponse:
    service.end_one_session(session, user.id, session_id)
    if session_id == own_session.id:
        forget_sign_in(request)
        flash(request, "You are logged out.", "success")
        return redirect("/login")
    flash(request, "That device is signed out.", "success")
    return redirect("/account")
