"""The webhooks pages, for owners: subscriptions, their signing secret and delivery log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from loyaltylab import i18n
from loyaltylab.audit import service as audit
from loyaltylab.db import SessionDep
from loyaltylab.deps import OrgContext, OwnerDep
from loyaltylab.errors import InvalidInput
from loyaltylab.web import flash, redirect, render
from loyaltylab.webhooks import delivery as sending
from loyaltylab.webhooks import service
from loyaltylab.webhooks.models import WebhookEvent, WebhookSubscription

router = APIRouter(include_in_schema=False)

ERROR_LABELS = {
    sending.UNSAFE_TARGET: i18n.N_("Refused: the host is on a private network"),
    sending.HOST_NOT_FOUND: i18n.N_("The host could not be found"),
    sending.TIMEOUT: i18n.N_("No answer within 10 seconds"),
    sending.CONNECTION_FAILED: i18n.N_("Could not connect"),
    sending.DISABLED: i18n.N_("Not sent: the webhook is turned off"),
}
Events = Annotated[list[str], Form()]


def _event_options() -> list[tuple[str, str]]:
    return [(event.value, i18n.gettext(service.EVENT_LABELS[event])) for event in WebhookEvent]


def _page(
    request: Request,
    session: SessionDep,
    ctx: OrgContext,
    subscription: WebhookSubscription | None = None,
    *,
    form: dict[str, object] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The webhooks list (no ``subscription``) or one webhook's page, with its form as
    submitted (``form``) or else as stored."""
    if subscription is None:
        template = "webhooks/list.html"
        stored: dict[str, object] = {"url": "", "description": "", "events": []}
        context: dict[str, object] = {
            "subscriptions": service.list_subscriptions(session, ctx.organisation_id)
        }
    else:
        template = "webhooks/detail.html"
        stored = {
            "url": subscription.url,
            "description": subscription.description,
            "events": subscription.events,
            "active": subscription.active,
        }
        context = {
            "subscription": subscription,
            "log": service.delivery_log(session, subscription),
            "error_labels": {code: i18n.gettext(label) for code, label in ERROR_LABELS.items()},
        }
    return render(
        request,
        template,
        {
            **context,
            "event_options": _event_options(),
            "form": form or stored,
            "errors": errors or {},
        },
        status_code=status_code,
    )


def _field_errors(problem: InvalidInput) -> dict[str, str]:
    message = i18n.gettext(problem.message, **problem.params)
    return {"events" if "event" in problem.message else "url": message}


@router.get("/org/webhooks", response_class=HTMLResponse)
def webhooks_page(request: Request, session: SessionDep, ctx: OwnerDep) -> HTMLResponse:
    return _page(request, session, ctx)


@router.post("/org/webhooks", response_class=HTMLResponse)
def create_webhook(
    request: Request,
    session: SessionDep,
    ctx: OwnerDep,
    url: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    events: Events = [],  # noqa: B006  (FastAPI copies form defaults)
) -> Response:
    try:
        subscription = service.create_subscription(
            session,
            organisation_id=ctx.organisation_id,
            url=url,
            events=events,
            description=description,
            created_by=ctx.user.id,
            allow_private=request.app.state.settings.webhooks_allow_private,
        )
    except InvalidInput as problem:
        form = {"url": url, "description": description, "events": events}
        errors = _field_errors(problem)
        return _page(request, session, ctx, form=form, errors=errors, status_code=400)
    audit.record(session, ctx, "webhook.create", object_type="webhook", object_id=subscription.id)
    flash(
        request, "The webhook has been added. Copy its signing secret to your receiver.", "success"
    )
    return redirect(f"/org/webhooks/{subscription.id}")


@router.get("/org/webhooks/{subscription_id}", response_class=HTMLResponse)
def webhook_page(
    request: Request, session: SessionDep, ctx: OwnerDep, subscription_id: int
) -> HTMLResponse:
    subscription = service.get_subscription(session, ctx.organisation_id, subscription_id)
    return _page(request, session, ctx, subscription)


@router.post("/org/webhooks/{subscription_id}", response_class=HTMLResponse)
def update_webhook(
    request: Request,
    session: SessionDep,
    ctx: OwnerDep,
    subscription_id: int,
    url: Annotated[str, Form()] = "",
    description: Annotated[str, Form()] = "",
    active: Annotated[str, Form()] = "",
    events: Events = [],  # noqa: B006
) -> Response:
    subscription = service.get_subscription(session, ctx.organisation_id, subscription_id)
    try:
        service.update_subscription(
            session,
            subscription,
            url=url,
            events=events,
            description=description,
            active=active == "true",
            allow_private=request.app.state.settings.webhooks_allow_private,
        )
    except InvalidInput as problem:
        session.rollback()
        subscription = service.get_subscription(session, ctx.organisation_id, subscription_id)
        form = {
            "url": url,
            "description": description,
            "events": events,
            "active": active == "true",
        }
        errors = _field_errors(problem)
        return _page(request, session, ctx, subscription, form=form, errors=errors, status_code=400)
    audit.record(session, ctx, "webhook.update", object_type="webhook", object_id=subscription.id)
    flash(request, "The webhook has been saved.", "success")
    return redirect(f"/org/webhooks/{subscription.id}")


@router.post("/org/webhooks/{subscription_id}/secret")
def rotate_webhook_secret(
    request: Request, session: SessionDep, ctx: OwnerDep, subscription_id: int
) -> Response:
    subscription = service.get_subscription(session, ctx.organisation_id, subscription_id)
    service.rotate_secret(session, subscription)
    audit.record(
        session, ctx, "webhook.rotate_secret", object_type="webhook", object_id=subscription.id
    )
    flash(
        request,
        "A new signing secret has been made: deliveries from now on are signed with it.",
        "success",
    )
    return redirect(f"/org/webhooks/{subscription.id}")


@router.post("/org/webhooks/{subscription_id}/delete")
def delete_webhook(
    request: Request, session: SessionDep, ctx: OwnerDep, subscription_id: int
) -> Response:
    subscription = service.get_subscription(session, ctx.organisation_id, subscription_id)
    audit.record(
        session,
        ctx,
        "webhook.delete",
        object_type="webhook",
        object_id=subscription.id,
        url=subscription.url,
    )
    service.delete_subscription(session, subscription)
    flash(request, "The webhook has been deleted.", "success")
    return redirect("/org/webhooks")


@router.post("/org/webhooks/{subscription_id}/deliveries/{delivery_id}/redeliver")
def redeliver_webhook(
    request: Request, session: SessionDep, ctx: OwnerDep, subscription_id: int, delivery_id: int
) -> Response:
    subscription = service.get_subscription(session, ctx.organisation_id, subscription_id)
    again = service.redeliver(session, subscription, delivery_id)
    audit.record(
        session,
        ctx,
        "webhook.redeliver",
        object_type="webhook",
        object_id=subscription.id,
        delivery=delivery_id,
    )
    flash(request, "The event is being sent again (delivery %(id)s).", "success", id=again.id)
    return redirect(f"/org/webhooks/{subscription.id}#deliveries")
