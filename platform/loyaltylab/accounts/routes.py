"""Pages for signing up, in and out, password reset, invitations and members."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from loyaltylab import i18n
from loyaltylab.accounts import service
from loyaltylab.accounts.models import Invitation, Organisation, Role, User
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import (
    SESSION_ORG,
    OptionalUserDep,
    OrgContext,
    OrgDep,
    OwnerDep,
    SettingsDep,
    sign_in,
)
from loyaltylab.errors import InvalidInput, NotFound
from loyaltylab.web import flash, form_errors, redirect, render, safe_next

router = APIRouter()
FormStr = Annotated[str, Form()]


def _client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


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
    email: FormStr = "",
    name: FormStr = "",
    password: FormStr = "",
    organisation: FormStr = "",
) -> Response:
    values = {"email": email, "name": name, "organisation": organisation}
    try:
        user, org = service.sign_up(
            session, email=email, name=name, password=password, organisation_name=organisation
        )
    except InvalidInput as exc:
        session.rollback()
        return render(
            request,
            "accounts/signup.html",
            {"values": values, "errors": form_errors(exc)},
            status_code=400,
        )
    locale = request.session.get(i18n.SESSION_KEY)
    if locale:
        service.set_locale(session, user, locale)
    sign_in(request, user, org.id)
    _after_sign_in(request, locale)
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
    sign_in(request, user)
    _after_sign_in(request, user.locale)
    return redirect(safe_next(next, "/studies"))


@router.post("/logout")
def logout(request: Request) -> RedirectResponse:
    locale = request.session.get(i18n.SESSION_KEY)
    request.session.clear()
    if locale:
        request.session[i18n.SESSION_KEY] = locale
    flash(request, "You are logged out.", "success")
    return redirect("/login")


@router.post("/language")
def switch_language(
    request: Request, session: SessionDep, user: OptionalUserDep, lang: FormStr, next: FormStr = "/"
) -> RedirectResponse:
    locale = i18n.normalise_locale(lang)
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
    request: Request, session: SessionDep, settings: SettingsDep, email: FormStr = ""
) -> RedirectResponse:
    service.request_password_reset(session, settings, email=email)
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
        return render(
            request,
            "error.html",
            {"status_code": 400, "message": i18n.gettext(exc.message)},
            status_code=400,
        )
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
    sign_in(request, user)
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
    sign_in(request, user, organisation.id)
    _after_sign_in(request, user.locale)
    flash(request, "You have joined %(name)s.", "success", name=organisation.name)
    return redirect("/studies")


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
    return render(
        request,
        "accounts/members.html",
        {
            "members": service.list_members(session, ctx.organisation_id),
            "invitations": service.pending_invitations(session, ctx.organisation_id)
            if ctx.role is Role.owner
            else [],
            "roles": list(Role),
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
    ctx: OwnerDep,
    email: FormStr = "",
    role: FormStr = "researcher",
) -> Response:
    try:
        issued = service.invite_member(
            session,
            settings,
            organisation=ctx.organisation,
            invited_by=ctx.user,
            email=email,
            role=_parse_role(role),
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
    request.session["issued_link"] = issued.link
    flash(request, "Invitation created for %(email)s.", "success", email=issued.invitation.email)
    return redirect("/org/members")


def _parse_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:
        raise InvalidInput("Choose one of the roles.", field="role") from None


def _audit_member(
    session: SessionDep, ctx: OrgContext, action: str, membership_id: int, **details: str
) -> None:
    """Log a change to a membership (``details`` name the member and what changed)."""
    audit.record(session, ctx, action, object_type="membership", object_id=membership_id, **details)


@router.post("/org/members/{membership_id}/role")
def set_role(
    request: Request, session: SessionDep, ctx: OwnerDep, membership_id: int, role: FormStr = ""
) -> RedirectResponse:
    service.change_role(
        session,
        organisation_id=ctx.organisation_id,
        membership_id=membership_id,
        role=_parse_role(role),
    )
    member = audit.member_email(session, membership_id)
    _audit_member(session, ctx, "member.role", membership_id, member=member, role=role)
    flash(request, "The role has been changed.", "success")
    return redirect("/org/members")


@router.post("/org/members/{membership_id}/remove")
def remove(
    request: Request, session: SessionDep, ctx: OwnerDep, membership_id: int
) -> RedirectResponse:
    member = audit.member_email(session, membership_id)
    service.remove_member(session, organisation_id=ctx.organisation_id, membership_id=membership_id)
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
