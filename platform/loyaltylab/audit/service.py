"""Recording and reading audit events. Routes call :func:`record` in one line."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, select

from loyaltylab.accounts.models import Membership, User
from loyaltylab.audit.models import AuditEvent
from loyaltylab.deps import OrgContext
from loyaltylab.i18n import N_

# Action -> readable label (an English msgid, translated on the page).
ACTIONS = {
    "questionnaire.publish": N_("Published a questionnaire version"),
    "export.responses": N_("Exported raw responses"),
    "export.data": N_("Exported a study's data"),
    "export.report": N_("Downloaded a report"),
    "export.links": N_("Downloaded a wave's personal invitation links"),
    "member.role": N_("Changed a member's role"),
    "member.remove": N_("Removed a member"),
    "contact.erase": N_("Erased a contact and their responses"),
    "study.privacy": N_("Changed a study's privacy settings"),
    "study.analysis": N_("Changed a study's analysis settings"),
    "responses.exclude": N_("Excluded responses from analyses"),
    "responses.include": N_("Included responses in analyses again"),
    "report.share": N_("Shared a report with the client, or stopped sharing it"),
    "study.share_reports": N_("Changed whether new reports are shared with the client"),
    "member.case_handler": N_("Gave or took a member's right to handle follow-up cases"),
    "alert_rule.create": N_("Added an alert rule to a wave"),
    "alert_rule.delete": N_("Removed an alert rule from a wave"),
    "wave.poster": N_("Downloaded a wave's QR poster"),
    "webhook.create": N_("Added a webhook"),
    "webhook.update": N_("Changed a webhook"),
    "webhook.delete": N_("Deleted a webhook"),
    "webhook.rotate_secret": N_("Made a new signing secret for a webhook"),
    "webhook.redeliver": N_("Sent a webhook delivery again"),
    "api_key.create": N_("Created an API key"),
    "api_key.revoke": N_("Revoked an API key"),
    "api.call": N_("Called the API"),
}
PAGE_SIZE = 100


@dataclass(frozen=True)
class Actor:
    """Who acted when no member did: an API key of the organisation (``label`` names it)."""

    organisation_id: int
    label: str
    user_id: int | None = None


def record(
    session: Session,
    ctx: OrgContext | Actor,
    action: str,
    *,
    object_type: str = "",
    object_id: object = "",
    organisation_id: int | None = None,
    **details: Any,
) -> AuditEvent:
    """Add an event to the request's transaction: it is kept exactly when the action is.

    The event goes into the log of ``organisation_id``, the organisation whose data was acted
    on, when that is not the acting one (a client downloading a research organisation's report).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    actor = (
        ctx if isinstance(ctx, Actor) else Actor(ctx.organisation_id, ctx.user.email, ctx.user.id)
    )
    event = AuditEvent(
        organisation_id=organisation_id or actor.organisation_id,
        user_id=actor.user_id,
        user_email=actor.label,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details,
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    session: Session, organisation_id: int, *, before_id: int | None = None
) -> list[AuditEvent]:
    """The organisation's events, newest first, one page at a time (keyset on the id)."""
    query = select(AuditEvent).where(AuditEvent.organisation_id == organisation_id)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    return list(session.exec(query.order_by(AuditEvent.id.desc()).limit(PAGE_SIZE)).all())


def member_email(session: Session, membership_id: int) -> str:
    """Whom a membership belongs to, for the log (read before the membership is removed)."""
    email = session.exec(
        select(User.email)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.id == membership_id)
    ).first()
    return email or ""
