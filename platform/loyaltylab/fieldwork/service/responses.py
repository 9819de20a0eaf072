"""Responses as the researcher reads them: lists, search and exclusion."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import String, cast, func, or_, update
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import (
    Channel,
    Contact,
    Response,
    ResponseStatus,
    Wave,
)
from loyaltylab.guards import whole_number


def list_responses(
    session: Session,
    wave_id: int,
    *,
    status: ResponseStatus | None = None,
    include_excluded: bool = True,
) -> list[Response]:
    query = select(Response).where(Response.wave_id == wave_id)
    if status is not None:
        query = query.where(Response.status == status)
    if not include_excluded:
        query = query.where(Response.excluded.is_(False))
    return list(session.exec(query.order_by(Response.id)))


EXCLUSION_REASON_MAX_LENGTH = 200


@dataclass(frozen=True)
class ResponseFilter:
    """Which of a wave's responses the responses page lists."""

    status: ResponseStatus | None = None
    excluded: bool | None = None
    channel: Channel | None = None
    search: str = ""
    """A response id (``#12``), or part of the contact's pseudonym, id, name or e-mail or of any
    answer (open texts too); any case."""
    only_ids: frozenset[int] | None = None
    """Only these responses (e.g. those with quality flags)."""


@dataclass(frozen=True)
class ResponsePage:
    responses: list[Response]
    total: int
    """How many responses match the filter (on every page)."""
    contacts: dict[int, Contact]
    """The listed responses' contacts by id."""


def _like(text: str) -> str:
    """``text`` as a LIKE pattern matching it anywhere (``!`` escapes the wildcards)."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


def _search(text: str) -> Any:
    pattern = _like(text)
    # Answers are stored as JSON text, non-ASCII characters as \u escapes.
    escaped = _like(json.dumps(text)[1:-1])
    answers = cast(Response.answer_values, String)
    conditions = [
        Contact.pseudonym.ilike(pattern, escape="!"),
        answers.ilike(pattern, escape="!"),
        answers.ilike(escaped, escape="!"),
        *(
            column.ilike(pattern, escape="!")
            for column in (Contact.external_id, Contact.name, Contact.email)
        ),
    ]
    number = whole_number(text.removeprefix("#"))
    if number is not None:
        conditions.append(Response.id == number)
    return or_(*conditions)


def find_responses(
    session: Session,
    wave_id: int,
    criteria: ResponseFilter,
    *,
    offset: int = 0,
    limit: int = 50,
) -> ResponsePage:
    """One page of the wave's responses matching ``criteria``, newest first."""
    query = (
        select(Response)
        .outerjoin(Contact, Contact.id == Response.contact_id)
        .where(Response.wave_id == wave_id)
    )
    if criteria.status is not None:
        query = query.where(Response.status == criteria.status)
    if criteria.excluded is not None:
        query = query.where(Response.excluded.is_(criteria.excluded))
    if criteria.channel is not None:
        query = query.where(Response.channel == criteria.channel)
    if criteria.search.strip():
        query = query.where(_search(criteria.search.strip()[:100]))
    if criteria.only_ids is not None:
        query = query.where(Response.id.in_(sorted(criteria.only_ids) or [-1]))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    responses = list(
        session.exec(query.order_by(Response.id.desc()).offset(max(offset, 0)).limit(limit))
    )
    contact_ids = {response.contact_id for response in responses if response.contact_id}
    contacts = {
        contact.id: contact
        for contact in session.exec(select(Contact).where(Contact.id.in_(contact_ids)))
    }
    return ResponsePage(responses, total, contacts)


def set_excluded(
    session: Session,
    wave: Wave,
    response_ids: Iterable[int],
    *,
    excluded: bool,
    reason: str = "",
) -> int:
    """Exclude (with the reason) or include again the wave's responses among ``response_ids``;
    returns how many changed. Ids of other waves are left alone."""
    reason = " ".join(reason.split())[:EXCLUSION_REASON_MAX_LENGTH]
    changed = session.execute(
        update(Response)
        .where(Response.wave_id == wave.id, Response.id.in_(list(response_ids)))
        .values(excluded=excluded, exclusion_reason=(reason or None) if excluded else None)
        .execution_options(synchronize_session="fetch")
    ).rowcount
    session.flush()
    return changed
