"""Contacts of a study: importing, finding, mailing and opting out."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import or_
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import (
    Contact,
    ContactChannel,
    Wave,
    WaveInvitation,
    utcnow,
)
from loyaltylab.fieldwork.service.errors import FieldworkError
from loyaltylab.guards import whole_number


def contacts_to_invite(session: Session, wave: Wave, *, invited: bool | None) -> list[Contact]:
    """Contacts of the wave's study without a completed invitation to it, and not opted out.

    ``invited``: True for those already invited (reminders), False for those never invited,
    None for all of them.
    """
    return [
        contact
        for contact, invitation in _open_invitations(session, wave)
        if invited is None or invited == (invitation is not None)
    ]


def contacts_to_mail(session: Session, wave: Wave, kind: str) -> list[Contact]:
    """Who gets the wave's ``invitation`` or ``reminder`` e-mail: contacts reached by e-mail
    (:func:`contact_channel`) who have not answered nor opted out and, for the invitation, were
    never sent it, for a reminder, were invited (by e-mail, SMS or a link handed out)."""
    return _contacts_to_send(session, wave, kind, ContactChannel.email)


def contacts_to_text(session: Session, wave: Wave, kind: str) -> list[Contact]:
    """:func:`contacts_to_mail` for the contacts reached by SMS."""
    return _contacts_to_send(session, wave, kind, ContactChannel.sms)


def contact_channel(contact: Contact) -> ContactChannel | None:
    """How invitations reach the contact: the channel they prefer when they have its address,
    else e-mail, else SMS; None when they have neither an e-mail address nor a phone."""
    if contact.channel == ContactChannel.sms and contact.phone:
        return ContactChannel.sms
    if contact.email:
        return ContactChannel.email
    if contact.phone:
        return ContactChannel.sms
    return None


def _contacts_to_send(
    session: Session, wave: Wave, kind: str, channel: ContactChannel
) -> list[Contact]:
    if kind not in ("invitation", "reminder"):
        raise ValueError(f"unknown kind of message {kind!r}")
    return [
        contact
        for contact, invitation in _open_invitations(session, wave)
        if contact_channel(contact) == channel
        and (
            (invitation is None or (invitation.emailed_at or invitation.texted_at) is None)
            if kind == "invitation"
            else invitation is not None
        )
    ]


def _open_invitations(session: Session, wave: Wave) -> list[tuple[Contact, WaveInvitation | None]]:
    """The study's contacts who may still answer the wave, with their invitation if any."""
    invitations = {
        invitation.contact_id: invitation
        for invitation in session.exec(
            select(WaveInvitation).where(WaveInvitation.wave_id == wave.id)
        )
    }
    contacts = session.exec(
        select(Contact)
        .where(Contact.study_id == wave.study_id, Contact.opted_out_at.is_(None))
        .order_by(Contact.id)
    )
    return [
        (contact, invitations.get(contact.id))
        for contact in contacts
        if invitations.get(contact.id) is None or invitations[contact.id].used_at is None
    ]


def record_mailing(
    session: Session,
    invitations: Iterable[WaveInvitation],
    kind: str,
    *,
    channel: ContactChannel = ContactChannel.email,
) -> None:
    """Note that the invitations' ``invitation`` (or ``reminder``) e-mails, or SMS, went out
    now."""
    now = utcnow()
    for invitation in invitations:
        if kind == "invitation" and channel == ContactChannel.sms:
            invitation.texted_at = invitation.texted_at or now
        elif kind == "invitation":
            invitation.emailed_at = invitation.emailed_at or now
        else:
            invitation.reminded_at = now
        session.add(invitation)
    session.flush()


def find_contacts(
    session: Session, study_id: int, query: str, *, include_email: bool = False, limit: int = 20
) -> list[Contact]:
    """The study's contacts whose external id or phone (optionally e-mail) contains ``query``."""
    text = query.strip()[:100]
    if not text:
        return []
    pattern = f"%{text}%"
    fields = [Contact.external_id, Contact.phone, *([Contact.email] if include_email else [])]
    return list(
        session.exec(
            select(Contact)
            .where(Contact.study_id == study_id, or_(*(f.ilike(pattern) for f in fields)))
            .order_by(Contact.external_id)
            .limit(limit)
        )
    )


def add_contacts(
    session: Session, *, study_id: int, organisation_id: int, rows: Iterable[Mapping[str, Any]]
) -> list[Contact]:
    """Insert or update contacts by ``external_id``; a contact keeps its pseudonym for good.

    Each row has ``external_id`` and optionally ``email``, ``phone``, ``name``, ``language``,
    ``channel`` and ``attributes``; what a row leaves out keeps its earlier value.
    """
    rows = list(rows)
    ids = [str(row["external_id"]).strip() for row in rows]
    if any(not external_id for external_id in ids):
        raise FieldworkError("every contact needs an id")
    existing = {
        contact.external_id: contact
        for contact in session.exec(
            select(Contact).where(Contact.study_id == study_id, Contact.external_id.in_(ids))
        )
    }
    result = []
    for external_id, row in zip(ids, rows, strict=True):
        contact = existing.get(external_id)
        if contact is None:
            contact = existing[external_id] = Contact(
                organisation_id=organisation_id,
                study_id=study_id,
                external_id=external_id,
                pseudonym=secrets.token_hex(8),
            )
        contact.email = row.get("email") or contact.email
        contact.phone = row.get("phone") or contact.phone
        contact.name = row.get("name") or contact.name
        contact.language = row.get("language") or contact.language
        contact.channel = row.get("channel") or contact.channel
        contact.attributes = {**contact.attributes, **dict(row.get("attributes") or {})}
        session.add(contact)
        result.append(contact)
    session.flush()
    return result


def opt_out_token(contact: Contact, *, secret: str) -> str:
    """The token of the contact's opt-out link: their id and a MAC of it under ``secret``.

    Derived, not stored: every e-mail to the contact carries the same link, and a leaked
    database yields none.
    """
    return f"{contact.id}.{_opt_out_mac(contact, secret)}"


def _opt_out_mac(contact: Contact, secret: str) -> str:
    message = f"opt-out:{contact.id}:{contact.pseudonym}".encode()
    digest = hmac.new(secret.encode(), message, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode()


def contact_by_opt_out_token(session: Session, token: str, *, secret: str) -> Contact | None:
    """The contact of an opt-out token; None for a tampered or unknown one."""
    written_id, _, mac = token.partition(".")
    contact_id = whole_number(written_id)
    if contact_id is None or len(token) > 100:
        return None
    contact = session.get(Contact, contact_id)
    if contact is None or not hmac.compare_digest(mac, _opt_out_mac(contact, secret)):
        return None
    return contact


def opt_out(session: Session, contact: Contact) -> Contact:
    """No further invitations or reminders to ``contact`` (the first opt-out's time is kept)."""
    if contact.opted_out_at is None:
        contact.opted_out_at = utcnow()
        session.add(contact)
        session.flush()
    return contact
