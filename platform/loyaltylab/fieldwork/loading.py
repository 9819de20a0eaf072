"""Loading a wave for a fieldwork page: always through its study, so another organisation gets
404. A wave's pages (links, QR code, responses with pseudonyms and quality flags) are fieldwork
internals for the study's team: the commissioning client gets 404 too and follows the dashboard
and its shared reports instead. Only editors of the study's organisation change anything."""

from __future__ import annotations

from sqlmodel import Session

from loyaltylab.deps import OrgContext
from loyaltylab.errors import NotFound
from loyaltylab.fieldwork.models import Wave
from loyaltylab.studies import service as studies
from loyaltylab.studies.access import require_study_team
from loyaltylab.studies.models import Study


def visible_wave(session: Session, ctx: OrgContext, wave_id: int) -> tuple[Wave, Study]:
    """A wave of a study the member works on (its team, not the commissioning client)."""
    wave = session.get(Wave, wave_id)
    if wave is None:
        raise NotFound("Not found.")
    study = studies.get_visible_study(session, ctx, wave.study_id)
    require_study_team(ctx, study)
    return wave, study


def editable_wave(session: Session, ctx: OrgContext, wave_id: int) -> tuple[Wave, Study]:
    """A wave of the member's own organisation, for editors."""
    ctx.require_editor()
    wave, study = visible_wave(session, ctx, wave_id)
    if wave.organisation_id != ctx.organisation_id:
        raise NotFound("Not found.")
    return wave, study
