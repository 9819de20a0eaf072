"""Fieldwork progress of one wave: counts, response rate, durations, completes per day (in the
organisation's time zone), quotas and where respondents stop."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func
from sqlmodel import Session, select

from loyaltylab.fieldwork.models import Response, ResponseStatus, Wave, WaveInvitation
from loyaltylab.fieldwork.service import completes_by_cell, definition_for
from surveys.definition import Texts


@dataclass(frozen=True)
class QuotaFill:
    cell: str
    target: int
    completed: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.completed / self.target))


@dataclass(frozen=True)
class PageDropout:
    """How many respondents reached a page of the questionnaire, and how many stopped there."""

    page: int
    title: Texts
    reached: int
    """Responses that got to this page (complete ones got to every page they were shown)."""
    stopped: int
    """Partial responses whose furthest page is this one (some may still be answering)."""

    @property
    def percent(self) -> float | None:
        """Of those who reached the page, the share who stopped there."""
        return 100 * self.stopped / self.reached if self.reached else None


@dataclass
class WaveProgress:
    started: int = 0
    completed: int = 0
    partial: int = 0
    excluded: int = 0
    invited: int = 0
    invited_completed: int = 0
    median_duration_seconds: float | None = None
    completes_per_day: list[tuple[date, int]] = field(default_factory=list)
    quotas: list[QuotaFill] = field(default_factory=list)
    dropout: list[PageDropout] = field(default_factory=list)
    target: int | None = None

    @property
    def response_rate(self) -> float | None:
        """Completed personal invitations over invitations sent (None without invitations)."""
        return self.invited_completed / self.invited if self.invited else None

    @property
    def target_percent(self) -> int | None:
        return min(100, round(100 * self.completed / self.target)) if self.target else None


def _day(moment: datetime, zone: ZoneInfo) -> date:
    # SQLite gives back naive datetimes; every stored time is UTC.
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone).date()


def wave_progress(session: Session, wave: Wave, *, time_zone: str = "UTC") -> WaveProgress:
    """The wave's progress; days are calendar days in ``time_zone`` (an IANA name)."""
    zone = ZoneInfo(time_zone)
    progress = WaveProgress(target=wave.target)
    rows = session.exec(
        select(
            Response.status,
            Response.excluded,
            Response.submitted_at,
            Response.duration_seconds,
            Response.current_page,
        ).where(Response.wave_id == wave.id)
    ).all()
    durations = []
    per_day: dict[date, int] = {}
    furthest_partial: dict[int, int] = {}
    complete = 0
    for status, excluded, submitted_at, duration, current_page in rows:
        progress.started += 1
        progress.excluded += bool(excluded)
        if status == ResponseStatus.complete:
            progress.completed += 1
            complete += 1
            if duration is not None:
                durations.append(duration)
            if submitted_at is not None:
                day = _day(submitted_at, zone)
                per_day[day] = per_day.get(day, 0) + 1
        else:
            progress.partial += 1
            furthest_partial[current_page] = furthest_partial.get(current_page, 0) + 1
    progress.median_duration_seconds = statistics.median(durations) if durations else None
    progress.completes_per_day = sorted(per_day.items())
    progress.dropout = _dropout(session, wave, furthest_partial, complete)
    invited, used = session.exec(
        select(func.count(WaveInvitation.id), func.count(WaveInvitation.used_at)).where(
            WaveInvitation.wave_id == wave.id
        )
    ).one()
    progress.invited, progress.invited_completed = int(invited), int(used)
    if wave.quotas:
        done = completes_by_cell(session, wave.id)
        progress.quotas = [
            QuotaFill(cell, target, int(done.get(cell, 0))) for cell, target in wave.quotas.items()
        ]
    return progress


def _dropout(
    session: Session, wave: Wave, furthest_partial: dict[int, int], complete: int
) -> list[PageDropout]:
    """Per page: respondents who reached it and partial ones who got no further.

    Pages hidden by display logic count a complete response as having reached them: the
    stored response keeps no record of which pages it was shown.
    """
    sections = definition_for(session, wave.questionnaire_version_id).sections
    result = []
    for page, section in enumerate(sections):
        further = sum(count for reached, count in furthest_partial.items() if reached >= page)
        result.append(
            PageDropout(page, section.title, complete + further, furthest_partial.get(page, 0))
        )
    return result
