"""Loading a wave for a fieldwork page: always through its study, so another organisation gets
404. Clients of a study may read its waves; only editors of the study's organisation change
anything."""

from __future__ import annotations

from sqlmodel import Session

from loyaltylab.deps import OrgContext
from loyaltylab.errors import NotFound
from loyaltylab.studies import service as studies
from loyaltylab.studies.models import Study
from surveys.fieldwork.models import Wave


def visible_wave(session: Session, ctx: OrgContext, wave_id: int) -> tuple[Wave, Study]:
    """A wave whose study the member may see (clients: studies commissioned by them)."""
    wave = session.get(Wave, wave_id)
    if wave is None:
        raise NotFound("Not found.")
    return wave, studies.get_visible_study(session, ctx, wave.study_id)


def editable_wave(session: Session, ctx: OrgContext, wave_id: int) -> tuple[Wave, Study]:
    """A wave of the member's own organisation, for editors."""
    ctx.require_editor()
    wave, study = visible_wave(session, ctx, wave_id)
    if wave.organisation_id != ctx.organisation_id:
        raise NotFound("Not found.")
    return wave, study
