"""What each kind of reader may open of a study it can see.

The research team (the members of the organisation running the study, other than client-role
members) sees everything. The commissioning client's users see the study's dashboard and the
reports shared with them, never fieldwork internals (waves, survey links, QR codes, response
lists with pseudonyms and quality flags, contacts), drafts or raw data.

Used with :func:`loyaltylab.studies.service.get_visible_study`, which decides whether a reader
sees the study at all.
"""

from __future__ import annotations

from loyaltylab.accounts.models import Role
from loyaltylab.deps import OrgContext
from loyaltylab.errors import NotFound
from loyaltylab.studies.models import Study


def is_study_team(ctx: OrgContext, study: Study) -> bool:
    """A member (not a client-role member) of the organisation that runs the study."""
    return study.organisation_id == ctx.organisation_id and ctx.role is not Role.client


def require_study_team(ctx: OrgContext, study: Study) -> None:
    """Fieldwork internals: 404 for anyone but the study's team, as for another tenant."""
    if not is_study_team(ctx, study):
        raise NotFound("Not found.")
