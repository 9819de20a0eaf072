"""Personal invitations: issuing single-use links and resolving them."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import (
    Contact,
    InvitationLink,
    Wave,
    WaveInvitation,
    utcnow,
)
from loyaltylab.fieldwork.service.errors import FieldworkError, LinkExpired, LinkUsed
from loyaltylab.timeutil import as_utc

LINK_TOKEN_BYTES = 32
SHORT_LINK_TOKEN_BYTES = 12
"""96 random bits (16 characters): still unguessable, and short enough for an SMS."""


def token_hash(token: str) -> str:
    """Only hashes of tokens are stored: a leaked database yields no usable link."""
    return hashlib.sha256(token.encode()).hexdigest()


_INVITATION_BY_TOKEN = (
    select(WaveInvitation)
    .join(InvitationLink, InvitationLink.invitation_id == WaveInvitation.id)
    .where(InvitationLink.token_hash == bindparam("hash"))
)


@dataclass(frozen=True)
class IssuedInvitation:
    invitation: WaveInvitation
    contact: Contact
    token: str
    """The raw token: shown (or mailed) once, never stored."""


def issue_invitations(
    session: Session,
    wave: Wave,
    contacts: Sequence[Contact],
    *,
    expires_at: datetime | None = None,
    token_bytes: int = LINK_TOKEN_BYTES,
) -> list[IssuedInvitation]:
    """A new personal link for each contact who has not answered nor opted out.

    ``token_bytes``: the link's randomness; :data:`SHORT_LINK_TOKEN_BYTES` for an SMS, where
    every character counts.

    The first link creates the contact's invitation; a later one (a reminder, a download of
    links) is one more way into it: every link stays valid and leads to the same response.
    """
    if any(contact.study_id != wave.study_id for contact in contacts):
        raise FieldworkError("contacts must belong to the wave's study")
    existing = {
        invitation.contact_id: invitation
        for invitation in session.exec(
            select(WaveInvitation).where(
                WaveInvitation.wave_id == wave.id,
                WaveInvitation.contact_id.in_([contact.id for contact in contacts]),
            )
        )
    }
    invitations = []
    for contact in contacts:
        invitation = existing.get(contact.id)
        if contact.opted_out_at is not None or (
            invitation is not None and invitation.used_at is not None
        ):
            continue
        if invitation is None:
            invitation = WaveInvitation(
                organisation_id=wave.organisation_id, wave_id=wave.id, contact_id=contact.id
            )
        invitation.expires_at = expires_at
        session.add(invitation)
        invitations.append((invitation, contact))
    session.flush()
    issued = []
    for invitation, contact in invitations:
        token = secrets.token_urlsafe(token_bytes)
        session.add(
            InvitationLink(
                organisation_id=wave.organisation_id,
                invitation_id=invitation.id,
                token_hash=token_hash(token),
            )
        )
        issued.append(IssuedInvitation(invitation, contact, token))
    session.flush()
    return issued


def invitation_by_token(session: Session, token: str) -> WaveInvitation | None:
    """The invitation of a raw token (any of its links); None for a tampered or unknown one."""
    if not token or len(token) > 100:
        return None
    return session.exec(_INVITATION_BY_TOKEN, params={"hash": token_hash(token)}).first()


def preferred_language(wanted: str | None, languages: Sequence[str]) -> str:
    """The one of ``languages`` for someone who reads ``wanted`` (a BCP-47 tag): that tag,
    else one of the same language (``zh`` -> ``zh-CN``, ``en-GB`` -> ``en``), else the first."""
    if wanted:
        wanted = wanted.lower()
        for language in languages:
            if language.lower() == wanted:
                return language
        primary = wanted.split("-")[0]
        for language in languages:
            if language.lower().split("-")[0] == primary:
                return language
    return languages[0]


def check_invitation(invitation: WaveInvitation) -> None:
    if invitation.used_at is not None:
        raise LinkUsed()
    if invitation.expires_at is not None and as_utc(invitation.expires_at) <= utcnow():
        raise LinkExpired()
