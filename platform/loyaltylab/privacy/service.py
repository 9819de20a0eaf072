"""Privacy: erasing a contact with their responses, and retention of contact data.

Erasure (a data subject's request) removes the contact, every response linked to them and the
e-mails queued to their address. Retention keeps the research data but not the person: after a
study's retention period the contact's e-mail, phone, name, attributes and own id are removed and
their responses stay, linked only to the random pseudonym.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from sqlalchemy import column, delete, func, table
from sqlmodel import Session, select

from loyaltylab.audit import service as audit
from loyaltylab.deps import OrgContext
from loyaltylab.fieldwork.models import Contact, Response, WaveInvitation

ANONYMISED_PREFIX = "~anon-"
"""An anonymised contact's ``external_id``: the prefix and the pseudonym (unique, meaningless)."""

# The web package's outbox, named by table: ``surveys`` never imports the web package.
_outbox = table("outbox_message", column("organisation_id"), column("to"))


@dataclass(frozen=True)
class Erasure:
    contact_id: int
    responses: int
    messages: int


def erase_contact(
    session: Session, contact: Contact, *, by: OrgContext | audit.Actor, study_id: int
) -> Erasure:
    """Delete ``contact``, their responses, invitations and the e-mails queued to them, and log
    the erasure ``by`` whom (a member, or an API key)."""
    # The log names the random pseudonym only: it must not keep what was erased.
    pseudonym = contact.pseudonym
    responses = session.exec(
        select(func.count(Response.id)).where(Response.contact_id == contact.id)
    ).one()
    session.exec(delete(Response).where(Response.contact_id == contact.id))
    session.exec(delete(WaveInvitation).where(WaveInvitation.contact_id == contact.id))
    messages = _delete_mail_to(session, contact)
    contact_id = contact.id
    session.delete(contact)
    session.flush()
    audit.record(
        session,
        by,
        "contact.erase",
        object_type="contact",
        object_id=contact_id,
        pseudonym=pseudonym,
        study=study_id,
        responses=responses,
    )
    return Erasure(contact_id=contact_id, responses=responses, messages=messages)


def _delete_mail_to(session: Session, contact: Contact) -> int:
    """Queued or sent e-mails to the contact's address hold it and their personal link."""
    if not contact.email:
        return 0
    result = session.exec(
        delete(_outbox).where(
            _outbox.c.organisation_id == contact.organisation_id,
            func.lower(_outbox.c.to) == contact.email.lower(),
        )
    )
    return result.rowcount or 0


def is_anonymised(contact: Contact) -> bool:
    return contact.external_id.startswith(ANONYMISED_PREFIX)


def retention_cutoff(now: datetime, months: int) -> datetime:
    """Contacts whose last activity is before this moment are past retention."""
    if months < 1:
        raise ValueError("the retention period must be at least one month")
    return now - relativedelta(months=months)


def anonymise_expired_contacts(session: Session, *, study_id: int, cutoff: datetime) -> int:
    """Remove the personal data of the study's contacts last active before ``cutoff``.

    A contact's last activity is their latest response's last change, or when they were added
    if they never answered. Responses are kept; unused personal links are deleted (they would
    still lead to the person). Returns the number of contacts anonymised.
    """
    last_response = (
        select(Response.contact_id, func.max(Response.updated_at).label("last"))
        .where(Response.contact_id.is_not(None))
        .group_by(Response.contact_id)
        .subquery()
    )
    last_activity = func.coalesce(last_response.c.last, Contact.created_at)
    expired = session.exec(
        select(Contact)
        .outerjoin(last_response, last_response.c.contact_id == Contact.id)
        .where(
            Contact.study_id == study_id,
            Contact.external_id.not_like(ANONYMISED_PREFIX + "%"),
            last_activity < cutoff,
        )
    ).all()
    for contact in expired:
        _delete_mail_to(session, contact)
        session.exec(
            delete(WaveInvitation).where(
                WaveInvitation.contact_id == contact.id, WaveInvitation.used_at.is_(None)
            )
        )
        contact.external_id = ANONYMISED_PREFIX + contact.pseudonym
        contact.email = None
        contact.phone = None
        contact.name = None
        contact.attributes = {}
        session.add(contact)
    session.flush()
    return len(expired)


def apply_retention(session: Session, retention: Mapping[int, int], *, now: datetime) -> dict:
    """Anonymise expired contacts of every study in ``retention`` (study id -> months).

    Returns study id -> number of contacts anonymised.
    """
    return {
        study_id: anonymise_expired_contacts(
            session, study_id=study_id, cutoff=retention_cutoff(now, months)
        )
        for study_id, months in retention.items()
    }
