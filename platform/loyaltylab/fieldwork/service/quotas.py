"""Quotas: the cell a respondent counts in and whether the wave still accepts it."""

from __future__ import annotations

from sqlalchemy import bindparam, func
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import (
    Contact,
    QuotaSource,
    Response,
    ResponseStatus,
    Wave,
)
from loyaltylab.fieldwork.service.errors import QuotaFull
from loyaltylab.fieldwork.service.waves import check_accepting

_LOCKED_WAVE = select(Wave.id).where(Wave.id == bindparam("id")).with_for_update()


def quota_cell(wave: Wave, contact: Contact | None) -> str | None:
    """The quota cell a respondent starts in: their contact attribute's value, when the
    quotas are on one (answer quotas find the cell when the question is answered)."""
    if not wave.quota_attribute or wave.quota_source != QuotaSource.contact or contact is None:
        return None
    value = contact.attributes.get(wave.quota_attribute)
    return None if value is None else str(value)


def completes_by_cell(session: Session, wave_id: int) -> dict[str | None, int]:
    rows = session.exec(
        select(Response.quota_cell, func.count())
        .where(Response.wave_id == wave_id, Response.status == ResponseStatus.complete)
        .group_by(Response.quota_cell)
    ).all()
    return {cell: count for cell, count in rows}


def check_quota(session: Session, wave: Wave, cell: str | None) -> None:
    """Raise QuotaFull when ``cell`` has a quota and as many complete responses."""
    if cell is None or cell not in wave.quotas:
        return
    done = session.exec(
        select(func.count()).where(
            Response.wave_id == wave.id,
            Response.status == ResponseStatus.complete,
            Response.quota_cell == cell,
        )
    ).one()
    if done >= wave.quotas[cell]:
        raise QuotaFull()


def check_quota_under_lock(session: Session, wave: Wave, cell: str | None) -> None:
    """:func:`check_quota`, counted again under the wave's row lock (PostgreSQL; SQLite holds
    the write lock): of respondents who started while one place was left, only the first
    completes."""
    session.exec(_LOCKED_WAVE, params={"id": wave.id}).one()
    check_quota(session, wave, cell)


def check_entry(session: Session, wave: Wave, contact: Contact | None = None) -> None:
    """Raise unless a respondent (of ``contact``'s quota cell) may start now."""
    check_accepting(wave)
    check_quota(session, wave, quota_cell(wave, contact))
