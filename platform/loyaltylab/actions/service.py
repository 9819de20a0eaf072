"""Action plans on a study's constructs, and whether each one worked.

An action is planned after a wave (its baseline) on one construct. It is judged by the
construct's 0-100 index in the baseline wave and in the next fielded wave, each with its 95%
interval, and Welch's t-test of the change: exactly the dashboard's trend figures
(:func:`analysis.trends.trend_indices`), read for the two waves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date

import pandas as pd
from sqlmodel import Session, select

from loyaltylab import access
from loyaltylab.actions.models import ActionStatus, ImprovementAction
from loyaltylab.deps import OrgContext
from loyaltylab.errors import InvalidInput
from loyaltylab.fieldwork.models import Wave
from loyaltylab.studies.models import Study

MAX_DESCRIPTION = 2000
MAX_OWNER = 200


def list_actions(session: Session, study: Study) -> list[ImprovementAction]:
    return list(
        session.exec(
            select(ImprovementAction)
            .where(ImprovementAction.study_id == study.id)
            .order_by(ImprovementAction.created_at, ImprovementAction.id)
        ).all()
    )


def _due(raw: str) -> date | None:
    if not raw.strip():
        return None
    try:
        return date.fromisoformat(raw.strip())
    except ValueError:
        raise InvalidInput("Enter the date as YYYY-MM-DD.", field="due_on") from None


def create_action(
    session: Session,
    ctx: OrgContext,
    study: Study,
    *,
    constructs: dict[str, str],
    waves: list[Wave],
    construct: str,
    description: str,
    owner: str,
    due_on: str,
    baseline_wave_id: str,
) -> ImprovementAction:
    """Plan an action on one of the dashboard's constructs after one of its waves."""
    if construct not in constructs:
        raise InvalidInput("Choose a construct.", field="construct_code")
    description = description.strip()
    if not description:
        raise InvalidInput("Describe the action.", field="description")
    if len(description) > MAX_DESCRIPTION:
        raise InvalidInput(
            "Keep the description under %(count)s characters.",
            field="description",
            count=MAX_DESCRIPTION,
        )
    if len(owner.strip()) > MAX_OWNER:
        raise InvalidInput(
            "Keep the name under %(count)s characters.", field="owner", count=MAX_OWNER
        )
    baseline = next((wave for wave in waves if str(wave.id) == baseline_wave_id), None)
    if baseline is None:
        raise InvalidInput("Choose the wave the action follows.", field="baseline_wave")
    action = ImprovementAction(
        organisation_id=study.organisation_id,
        study_id=study.id,
        baseline_wave_id=baseline.id,
        construct_code=construct,
        description=description,
        owner=owner.strip(),
        due_on=_due(due_on),
        created_by=ctx.user.id,
    )
    session.add(action)
    session.flush()
    return action


def get_action(session: Session, study: Study, action_id: int) -> ImprovementAction:
    return access.found(
        session,
        select(ImprovementAction).where(
            ImprovementAction.id == action_id, ImprovementAction.study_id == study.id
        ),
    )


def set_status(session: Session, action: ImprovementAction, status: str) -> None:
    try:
        action.status = ActionStatus(status)
    except ValueError:
        raise InvalidInput("Choose a status.", field="status") from None
    session.add(action)
    session.flush()


@dataclass(frozen=True)
class IndexPoint:
    wave: str
    n: int
    value: float
    ci_lower: float
    ci_upper: float


@dataclass(frozen=True)
class ActionOutcome:
    """The construct's index before and after an action, and the test of the change."""

    action: ImprovementAction
    before: IndexPoint | None
    after: IndexPoint | None
    change: float | None
    pvalue: float | None

    @property
    def verdict(self) -> str:
        """``improved``, ``worse``, ``no_change`` (not significant at 5%) or ``pending``."""
        if self.before is None or self.after is None or self.pvalue is None:
            return "pending"
        if self.pvalue >= 0.05:
            return "no_change"
        return "improved" if self.change > 0 else "worse"


def outcomes(
    actions: list[ImprovementAction],
    results: pd.DataFrame,
    waves: list[Wave],
) -> list[ActionOutcome]:
    """Each action's before/after figures from the dashboard's overall ``results`` (one row per
    measure and wave, with ``change`` and ``pvalue`` against the previous wave with data)."""
    names = {wave.id: wave.name for wave in waves}
    order = [wave.name for wave in waves]
    overall = results[results["segment"].isna()] if not results.empty else pd.DataFrame()
    found = []
    for action in actions:
        rows = (
            overall[overall["measure"] == action.construct_code] if not overall.empty else overall
        )
        by_wave = {row.wave: row for row in rows.itertuples(index=False)} if len(rows) else {}
        baseline = names.get(action.baseline_wave_id)
        before = _point(by_wave.get(baseline)) if baseline else None
        later = order[order.index(baseline) + 1 :] if baseline in order else []
        next_row = next((by_wave[w] for w in later if w in by_wave), None)
        after = _point(next_row)
        # The next wave's change is against the previous wave with data: the baseline's.
        tested = before is not None and next_row is not None
        found.append(
            ActionOutcome(
                action=action,
                before=before,
                after=after,
                change=_number(next_row.change) if tested else None,
                pvalue=_number(next_row.pvalue) if tested else None,
            )
        )
    return found


def _number(value: float) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _point(row: object | None) -> IndexPoint | None:
    if row is None:
        return None
    return IndexPoint(row.wave, int(row.n), row.value, row.ci_lower, row.ci_upper)
