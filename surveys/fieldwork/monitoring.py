"""Fieldwork progress of one wave: counts, response rate, durations, completes per day, quotas."""

from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func
from sqlmodel import Session, select

from surveys.fieldwork.models import Response, ResponseStatus, Wave, WaveInvitation
from surveys.fieldwork.service import completes_by_cell


@dataclass(frozen=True)
class QuotaFill:
    cell: str
    target: int
    completed: int

    @property
    def percent(self) -> int:
        return min(100, round(100 * self.completed / self.target))


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
    target: int | None = None

    @property
    def response_rate(self) -> float | None:
        """Completed personal invitations over invitations sent (None without invitations)."""
        return self.invited_completed / self.invited if self.invited else None

    @property
    def target_percent(self) -> int | None:
        return min(100, round(100 * self.completed / self.target)) if self.target else None


def wave_progress(session: Session, wave: Wave) -> WaveProgress:
    progress = WaveProgress(target=wave.target)
    rows = session.exec(
        select(
            Response.status, Response.excluded, Response.submitted_at, Response.duration_seconds
        ).where(Response.wave_id == wave.id)
    ).all()
    durations = []
    per_day: dict[date, int] = {}
    for status, excluded, submitted_at, duration in rows:
        progress.started += 1
        progress.excluded += bool(excluded)
        if status == ResponseStatus.complete:
            progress.completed += 1
            if duration is not None:
                durations.append(duration)
            if submitted_at is not None:
                per_day[submitted_at.date()] = per_day.get(submitted_at.date(), 0) + 1
        else:
            progress.partial += 1
    progress.median_duration_seconds = statistics.median(durations) if durations else None
    progress.completes_per_day = sorted(per_day.items())
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
