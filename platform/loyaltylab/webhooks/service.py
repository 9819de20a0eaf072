"""Webhook subscriptions and :func:`emit`, which other domains call when something happens.

``emit`` runs in the caller's transaction (on the respondent's path too): one indexed query
finds the organisation's subscriptions, a delivery row is added for each that wants the event,
and the deliveries are handed to the job queue only once the transaction commits, so no HTTP
request is made in a request and a rolled-back event is never sent.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Exists, exists
from sqlalchemy import event as sa_event
from sqlmodel import Session, col, select

from loyaltylab import access
from loyaltylab.errors import InvalidInput
from loyaltylab.i18n import N_
from loyaltylab.timeutil import utcnow
from loyaltylab.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEvent,
    WebhookSubscription,
)

SIGNATURE_HEADER = "X-LoyaltyLab-Signature"
MAX_URL_LENGTH = 2000
DELIVERY_LOG_LENGTH = 50
"""Deliveries listed on a subscription's page, newest first."""

EVENT_LABELS = {
    WebhookEvent.response_completed: N_("A response is completed"),
    WebhookEvent.wave_closed: N_("A wave closes"),
    WebhookEvent.report_ready: N_("A report is ready"),
    WebhookEvent.alert_created: N_("An alert is raised"),
}

DELIVER_TASK = "loyaltylab.deliver_webhook"
"""The job queue task that makes one attempt at a delivery (registered by
:mod:`loyaltylab.workflows`)."""


UNSAFE_TARGET_MESSAGE = N_(
    "The host %(host)s is on a private, loopback or link-local network: webhooks are only "
    "sent to public addresses."
)


class UnsafeTarget(InvalidInput):
    """The URL's host resolves to an address the platform must not call (its own network)."""


def sign(secret: str, timestamp: int, body: str) -> str:
    """The ``X-LoyaltyLab-Signature`` value: ``t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>``.

    The timestamp is signed with the body, so a captured delivery replayed later is recognised
    by its age (receivers reject signatures older than a few minutes).
    """
    digest = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def has_subscriptions(organisation_id: Any) -> Exists:
    """Whether the organisation has an active subscription, as a clause: the respondent flow
    asks it together with its other completion checks, in one query, before building an
    event's payload for :func:`emit`."""
    return exists().where(
        WebhookSubscription.organisation_id == organisation_id,
        col(WebhookSubscription.active).is_(True),
    )


def emit(session: Session, *, organisation_id: int, event: str, payload: dict[str, Any]) -> None:
    """Record a delivery of ``event`` for every active subscription of the organisation that
    wants it, and queue them once the session commits. Flushes only.

    ``payload`` becomes the body's ``data`` (JSON: ids, codes, ISO times). Without a matching
    subscription this costs one query on an indexed column and nothing else.
    """
    kind = WebhookEvent(event)  # a misspelt event name is a programming error: fail loudly
    subscriptions = session.exec(
        select(WebhookSubscription).where(
            WebhookSubscription.organisation_id == organisation_id,
            col(WebhookSubscription.active).is_(True),
        )
    ).all()
    wanted = [subscription for subscription in subscriptions if kind.value in subscription.events]
    if not wanted:
        return
    event_id = uuid.uuid4().hex
    body = json.dumps(
        {
            "id": event_id,
            "type": kind.value,
            "created": utcnow().isoformat(timespec="seconds"),
            "organisation_id": organisation_id,
            "data": payload,
        },
        ensure_ascii=False,
        separators=(",", ":"),
        default=_json_default,
    )
    deliveries = [
        WebhookDelivery(
            organisation_id=organisation_id,
            subscription_id=subscription.id,
            event=kind.value,
            event_id=event_id,
            body=body,
            next_attempt_at=utcnow(),
        )
        for subscription in wanted
    ]
    session.add_all(deliveries)
    session.flush()
    _queue_after_commit(session, [delivery.id for delivery in deliveries])


def _json_default(value: Any) -> str:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable in a webhook payload")


def _queue_after_commit(session: Session, delivery_ids: Iterable[int]) -> None:
    ids = list(delivery_ids)

    def queue_deliveries(_session: Session) -> None:
        # Imported here: the queue module loads huey, which requests without events never need.
        from loyaltylab.jobs.queue import process_queue

        queue = process_queue()
        for delivery_id in ids:
            queue.enqueue(DELIVER_TASK, delivery_id)

    sa_event.listen(session, "after_commit", queue_deliveries, once=True)


# --- target addresses ------------------------------------------------------------------------


def refused_address(address: str) -> bool:
    """Loopback, private, link-local (cloud metadata), multicast, reserved or unspecified."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_global or ip.is_multicast


def resolve_target(url: str, *, allow_private: bool) -> list[str]:
    """The addresses ``url``'s host resolves to, all of them allowed; raises
    :class:`UnsafeTarget` (or InvalidInput for a malformed URL) otherwise.

    Called when a subscription is saved and again before every delivery: a name that resolved
    to a public address when saved may point inside the network later (DNS rebinding).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput("The URL must start with https:// or http:// and name a host.")
    if parts.username or parts.password:
        raise InvalidInput("The URL must not contain a user name or password.")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        raise InvalidInput("The URL's port is not a number between 1 and 65535.") from None
    try:
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise InvalidInput("The host %(host)s could not be found.", host=parts.hostname) from None
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    if not allow_private and any(refused_address(address) for address in addresses):
        raise UnsafeTarget(UNSAFE_TARGET_MESSAGE, host=parts.hostname)
    return addresses


# --- subscriptions ---------------------------------------------------------------------------


def _clean_events(events: Iterable[str]) -> list[str]:
    chosen = {event for event in events if event in WebhookEvent._value2member_map_}
    if not chosen:
        raise InvalidInput("Choose at least one event.")
    return [event.value for event in WebhookEvent if event.value in chosen]


def _clean_url(url: str, *, allow_private: bool) -> str:
    url = url.strip()
    if not url:
        raise InvalidInput("Enter the URL that receives the events.")
    if len(url) > MAX_URL_LENGTH:
        raise InvalidInput("The URL is longer than %(max)s characters.", max=MAX_URL_LENGTH)
    resolve_target(url, allow_private=allow_private)
    return url


def create_subscription(
    session: Session,
    *,
    organisation_id: int,
    url: str,
    events: Iterable[str],
    description: str = "",
    created_by: int | None,
    allow_private: bool,
) -> WebhookSubscription:
    subscription = WebhookSubscription(
        organisation_id=organisation_id,
        url=_clean_url(url, allow_private=allow_private),
        events=_clean_events(events),
        description=description.strip()[:200],
        secret="whsec_" + secrets.token_urlsafe(32),
        created_by=created_by,
    )
    session.add(subscription)
    session.flush()
    return subscription


def update_subscription(
    session: Session,
    subscription: WebhookSubscription,
    *,
    url: str,
    events: Iterable[str],
    description: str,
    active: bool,
    allow_private: bool,
) -> None:
    subscription.url = _clean_url(url, allow_private=allow_private)
    subscription.events = _clean_events(events)
    subscription.description = description.strip()[:200]
    subscription.active = active
    session.add(subscription)
    session.flush()


def rotate_secret(session: Session, subscription: WebhookSubscription) -> None:
    subscription.secret = "whsec_" + secrets.token_urlsafe(32)
    session.add(subscription)
    session.flush()


def delete_subscription(session: Session, subscription: WebhookSubscription) -> None:
    session.delete(subscription)
    session.flush()


def list_subscriptions(session: Session, organisation_id: int) -> list[WebhookSubscription]:
    return list(
        session.exec(
            select(WebhookSubscription)
            .where(WebhookSubscription.organisation_id == organisation_id)
            .order_by(col(WebhookSubscription.id))
        ).all()
    )


def get_subscription(
    session: Session, organisation_id: int, subscription_id: int
) -> WebhookSubscription:
    """The organisation's subscription; another organisation's is not found (404)."""
    return access.found(
        session,
        access.owned(WebhookSubscription, organisation_id).where(
            WebhookSubscription.id == subscription_id
        ),
        message=N_("This webhook does not exist."),
    )


def delivery_log(
    session: Session, subscription: WebhookSubscription, *, limit: int = DELIVERY_LOG_LENGTH
) -> list[tuple[WebhookDelivery, list[WebhookAttempt]]]:
    """The subscription's latest deliveries, newest first, each with its attempts in order."""
    deliveries = session.exec(
        select(WebhookDelivery)
        .where(WebhookDelivery.subscription_id == subscription.id)
        .order_by(col(WebhookDelivery.id).desc())
        .limit(limit)
    ).all()
    attempts: dict[int, list[WebhookAttempt]] = {delivery.id: [] for delivery in deliveries}
    if attempts:
        for attempt in session.exec(
            select(WebhookAttempt)
            .where(col(WebhookAttempt.delivery_id).in_(list(attempts)))
            .order_by(col(WebhookAttempt.delivery_id), col(WebhookAttempt.number))
        ):
            attempts[attempt.delivery_id].append(attempt)
    return [(delivery, attempts[delivery.id]) for delivery in deliveries]


def redeliver(
    session: Session, subscription: WebhookSubscription, delivery_id: int
) -> WebhookDelivery:
    """Send a delivery's event again, as a new delivery with the same event id and body."""
    original = access.found(
        session,
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.subscription_id == subscription.id
        ),
        message=N_("This delivery does not exist."),
    )
    again = WebhookDelivery(
        organisation_id=original.organisation_id,
        subscription_id=subscription.id,
        event=original.event,
        event_id=original.event_id,
        body=original.body,
        status=DeliveryStatus.pending,
        next_attempt_at=utcnow(),
    )
    session.add(again)
    session.flush()
    _queue_after_commit(session, [again.id])
    return again
