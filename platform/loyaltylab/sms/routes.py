"""SMS pages: texting a wave's invitations and reminders, the SMS outbox, and ``/sms/inbound``
where the gateway posts the replies it receives (opt-out keywords)."""

from __future__ import annotations

import hmac

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from sqlmodel import Session, col
from starlette.applications import Starlette
from starlette.routing import Route

from loyaltylab import access
from loyaltylab.db import SessionDep
from loyaltylab.deps import EditorDep
from loyaltylab.fieldwork.routes.sending import Sending, add_send_routes
from loyaltylab.i18n import N_
from loyaltylab.settings import Settings
from loyaltylab.sms import service
from loyaltylab.sms.gateways import TwilioGateway, gateway_from_url
from loyaltylab.sms.models import SmsMessage
from loyaltylab.web import render

router = APIRouter()
OUTBOX_SHOWN = 200
SENT_MESSAGES = {
    "invitation": N_("Invitations texted: %(count)s."),
    "reminder": N_("Reminders texted: %(count)s."),
}
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def _text(sending: Sending, kind: str) -> int:
    settings = sending.settings
    gateway = gateway_from_url(settings.sms_url)
    messages = service.text_wave(
        sending.session,
        sending.wave,
        sending.study,
        kind=kind,
        organisation=sending.ctx.organisation.name,
        link_for=lambda token: settings.absolute_url(f"/i/{token}"),
        country_code=settings.sms_country_code,
        gateway_name=gateway.name,
    )
    if messages:
        # After the response: the session dependency has committed the messages by then.
        sending.background.add_task(
            service.deliver_all, sending.request.app.state.engine, [m.id for m in messages], gateway
        )
    return len(messages)


add_send_routes(
    router,
    channel="sms",
    paths={
        "invitation": "/waves/{wave_id}/invitations/sms",
        "reminder": "/waves/{wave_id}/invitations/sms-remind",
    },
    send=_text,
    sent_messages=SENT_MESSAGES,
)


@router.get("/outbox/sms", response_class=HTMLResponse)
def sms_outbox(request: Request, session: SessionDep, ctx: EditorDep) -> HTMLResponse:
    messages = session.exec(
        access.owned(SmsMessage, ctx.organisation_id)
        .order_by(col(SmsMessage.id).desc())
        .limit(OUTBOX_SHOWN)
    ).all()
    return render(request, "sms/outbox.html", {"messages": messages, "shown": OUTBOX_SHOWN})


# --- replies from the gateway ---------------------------------------------------------------


def _authentic(request: Request, settings: Settings, params: dict[str, str]) -> bool:
    """Twilio signs its calls (X-Twilio-Signature); other gateways call with ``?token=``
    (LOYALTYLAB_SMS_INBOUND_TOKEN); the outbox (development) takes any reply without one."""
    gateway = gateway_from_url(settings.sms_url)
    if settings.sms_inbound_token:
        given = request.query_params.get("token", "")
        return hmac.compare_digest(given.encode(), settings.sms_inbound_token.encode())
    if isinstance(gateway, TwilioGateway):
        url = settings.absolute_url(request.url.path)
        if request.url.query:
            url += f"?{request.url.query}"
        expected = gateway.inbound_signature(url, params)
        given = request.headers.get("x-twilio-signature", "")
        return hmac.compare_digest(given.encode(), expected.encode())
    return gateway.name == "outbox"


def _reply_fields(params: dict[str, str]) -> tuple[str, str]:
    """The sender and text of a reply in the field names gateways use (Twilio: From, Body;
    Alibaba Cloud: phone_number, content; Tencent Cloud: mobile, text; our own: from, text)."""
    sender = (
        params.get("From")
        or params.get("phone_number")
        or params.get("mobile")
        or params.get("from")
        or ""
    )
    text = params.get("Body") or params.get("content") or params.get("text") or ""
    return sender, text


async def inbound(request: Request) -> Response:
    """A reply to one of our texts: an opt-out keyword opts the number out. Answers Twilio's
    way (empty TwiML), which every gateway accepts as success."""
    app: FastAPI = request.app.state.loyaltylab
    settings: Settings = app.state.settings
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("application/json"):
        body = await request.json()
        params = {str(k): str(v) for k, v in body.items()} if isinstance(body, dict) else {}
    else:
        params = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    if not _authentic(request, settings, params):
        return Response("forbidden", status_code=403, media_type="text/plain")
    sender, text = _reply_fields(params)
    if not sender:
        return Response("the sender is missing", status_code=400, media_type="text/plain")
    with Session(app.state.engine) as session:
        service.record_reply(session, sender, text, country_code=settings.sms_country_code)
        session.commit()
    return Response(EMPTY_TWIML, media_type="text/xml")


def install(app: FastAPI) -> None:
    """Mount ``/sms/inbound``: outside the app's routes, so the CSRF check of browser forms does
    not apply to the gateway's calls (they are authenticated by :func:`_authentic`)."""
    inbound_app = Starlette(routes=[Route("/inbound", inbound, methods=["POST"])])
    inbound_app.state.loyaltylab = app
    app.mount("/sms", inbound_app)
