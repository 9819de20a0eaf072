"""Sending a webhook delivery (in a job queue consumer): one signed POST per attempt.

The receiver is called outside any database transaction, so a slow endpoint holds no lock.
The target's host is resolved again before every attempt and the request goes to the address
that was checked (the original name kept for Host and TLS), so a name that now points inside
the network is refused rather than called (DNS rebinding). Redirects are not followed: they
could lead anywhere.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx
from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session

from loyaltylab.errors import InvalidInput
from loyaltylab.settings import Settings
from loyaltylab.timeutil import utcnow
from loyaltylab.webhooks.models import (
    DeliveryStatus,
    WebhookAttempt,
    WebhookDelivery,
    WebhookSubscription,
)
from loyaltylab.webhooks.service import SIGNATURE_HEADER, UnsafeTarget, resolve_target, sign

logger = logging.getLogger("loyaltylab.webhooks")

TIMEOUT_SECONDS = 10.0
OVERDUE = timedelta(minutes=10)
"""A pending delivery this late was lost on its way to the queue: queue it again."""
USER_AGENT = "LoyaltyLab-Webhooks/1"
# Error codes stored on an attempt; the log page labels them in the reader's language.
UNSAFE_TARGET = "unsafe_target"
HOST_NOT_FOUND = "host_not_found"
TIMEOUT = "timeout"
CONNECTION_FAILED = "connection_failed"
DISABLED = "disabled"

Retry = Callable[..., None]
"""``retry(delivery_id, delay=seconds)``: the queue's way of trying again later."""


def backoff_seconds(settings: Settings, attempt_number: int) -> float:
    """The wait after failed attempt ``attempt_number`` (1-based): the base, doubled each time."""
    return settings.webhook_retry_seconds * 2 ** (attempt_number - 1)


def attempt_delivery(engine: Engine, settings: Settings, delivery_id: int, *, retry: Retry) -> None:
    """Make the next attempt at a pending delivery and record it; schedule a retry through
    ``retry`` while attempts remain, else mark the delivery failed."""
    with Session(engine, expire_on_commit=False) as session:
        delivery = session.get(WebhookDelivery, delivery_id)
        if delivery is None or delivery.status is not DeliveryStatus.pending:
            return  # deleted, or delivered twice by the queue and already done
        subscription = session.get(WebhookSubscription, delivery.subscription_id)
        number = delivery.attempts + 1
        # Claiming the attempt number: a second consumer handed the same delivery gets 0 rows.
        claimed = session.execute(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.id == delivery_id,
                WebhookDelivery.status == DeliveryStatus.pending,
                WebhookDelivery.attempts == delivery.attempts,
            )
            .values(attempts=number)
        ).rowcount
        session.commit()
    if not claimed or subscription is None:
        return

    started = time.monotonic()
    if subscription.active:
        status_code, error = _post(subscription.url, subscription.secret, delivery, settings)
    else:
        status_code, error = None, DISABLED
    duration_ms = int((time.monotonic() - started) * 1000)

    succeeded = status_code is not None and 200 <= status_code < 300
    # A refused target or a switched-off subscription will not improve by waiting.
    retrying = (
        not succeeded
        and error not in (UNSAFE_TARGET, DISABLED)
        and number < settings.webhook_max_attempts
    )
    delay = backoff_seconds(settings, number) if retrying else 0.0
    with Session(engine) as session:
        session.add(
            WebhookAttempt(
                delivery_id=delivery_id,
                number=number,
                status_code=status_code,
                error=error[:500],
                duration_ms=duration_ms,
            )
        )
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(
                status=DeliveryStatus.succeeded
                if succeeded
                else DeliveryStatus.pending
                if retrying
                else DeliveryStatus.failed,
                next_attempt_at=utcnow() + timedelta(seconds=delay) if retrying else None,
            )
        )
        session.commit()
    if retrying:
        retry(delivery_id, delay=delay)
    elif not succeeded:
        logger.warning(
            "webhook delivery %s to subscription %s failed after %s attempt(s): %s",
            delivery_id,
            subscription.id,
            number,
            error or status_code,
        )


def claim_overdue_deliveries(engine: Engine, *, now: datetime | None = None) -> list[int]:
    """The pending deliveries due more than :data:`OVERDUE` ago, their due time moved to now
    (so the next sweep leaves them to the queue)."""
    now = now or utcnow()
    with Session(engine) as session:
        overdue = list(
            session.execute(
                update(WebhookDelivery)
                .where(
                    WebhookDelivery.status == DeliveryStatus.pending,
                    WebhookDelivery.next_attempt_at < now - OVERDUE,
                )
                .values(next_attempt_at=now)
                .returning(WebhookDelivery.id)
                .execution_options(synchronize_session=False)
            ).scalars()
        )
        session.commit()
    return overdue


def _post(
    url: str, secret: str, delivery: WebhookDelivery, settings: Settings
) -> tuple[int | None, str]:
    """POST the signed body to the address just checked; (status code or None, error code)."""
    try:
        addresses = resolve_target(url, allow_private=settings.webhooks_allow_private)
    except UnsafeTarget:
        return None, UNSAFE_TARGET
    except InvalidInput:
        return None, HOST_NOT_FOUND
    target = httpx.URL(url)
    pinned = target.copy_with(host=addresses[0])
    headers = {
        "Host": target.netloc.decode("ascii"),
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-LoyaltyLab-Event": delivery.event,
        "X-LoyaltyLab-Event-Id": delivery.event_id,
        "X-LoyaltyLab-Delivery": str(delivery.id),
        SIGNATURE_HEADER: sign(secret, int(time.time()), delivery.body),
    }
    try:
        with httpx.Client(timeout=TIMEOUT_SECONDS, follow_redirects=False) as client:
            response = client.post(
                pinned,
                content=delivery.body.encode("utf-8"),
                headers=headers,
                # TLS is checked against the name, not the address connected to.
                extensions={"sni_hostname": target.host},
            )
    except httpx.TimeoutException:
        return None, TIMEOUT
    except httpx.HTTPError as error:
        logger.info("webhook delivery %s: %s: %s", delivery.id, type(error).__name__, error)
        return None, CONNECTION_FAILED
    return response.status_code, ""
