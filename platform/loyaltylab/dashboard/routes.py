"""The trend dashboard page: researchers of the study and its client's users."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import Session

from analysis.trends import NPS_MEASURE
from loyaltylab import access, i18n
from loyaltylab.actions import service as actions
from loyaltylab.dashboard.charts import Series, trend_chart
from loyaltylab.dashboard.service import breakdowns, build_dashboard, fielded_waves
from loyaltylab.db import SessionDep
from loyaltylab.deps import OrgContext, OrgDep
from loyaltylab.followup import service as followup
from loyaltylab.studies.models import Study
from loyaltylab.web import render

router = APIRouter(include_in_schema=False)
SIGNIFICANCE = 0.05


def _point(row: Any) -> tuple[float, float, float] | None:
    return None if row is None else (row.value, row.ci_lower, row.ci_upper)


def _blocks(dashboard: Any) -> list[dict[str, Any]]:
    results: pd.DataFrame = dashboard.results
    if results.empty:
        return []
    blocks = []
    titles = {**dashboard.constructs, NPS_MEASURE: i18n.gettext("Net Promoter Score")}
    for measure in [*dashboard.constructs, NPS_MEASURE]:
        rows = results[results["measure"] == measure]
        if rows.empty:
            continue
        groups = [(None, i18n.gettext("All respondents"))]
        groups += [(segment, segment) for segment in dashboard.segments]
        series, table = [], []
        for key, name in groups:
            part = rows[rows["segment"].isna()] if key is None else rows[rows["segment"] == key]
            by_wave = {row.wave: row for row in part.itertuples(index=False)}
            if not by_wave:
                continue
            series.append(Series(name, [_point(by_wave.get(w)) for w in dashboard.waves]))
            table += [
                {
                    "group": name,
                    "wave": wave,
                    "row": by_wave[wave],
                    "significant": not math.isnan(by_wave[wave].pvalue)
                    and by_wave[wave].pvalue < SIGNIFICANCE,
                }
                for wave in dashboard.waves
                if wave in by_wave
            ]
        low = -100.0 if measure == NPS_MEASURE else 0.0
        blocks.append(
            {
                "code": measure,
                "title": titles.get(measure, measure),
                "chart": trend_chart(dashboard.waves, series, low=low, high=100.0),
                "rows": table,
            }
        )
    return blocks


@router.get("/studies/{study_id}/dashboard", response_class=HTMLResponse)
def dashboard_page(
    request: Request,
    session: SessionDep,
    ctx: OrgDep,
    study_id: int,
    segment: str = "",
    plan: str = "",
) -> HTMLResponse:
    """``plan``: a construct the importance-performance map's link chose for a new action."""
    study = access.readable_study(session, ctx, study_id)
    values = {"construct_code": plan} if plan else None
    return dashboard_response(request, session, ctx, study, segment=segment, action_values=values)


def dashboard_response(
    request: Request,
    session: Session,
    ctx: OrgContext,
    study: Study,
    *,
    segment: str = "",
    action_values: dict[str, str] | None = None,
    action_errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The dashboard, with the action-plan form's input and problems when it was refused."""
    owner = access.may_edit(ctx, study)
    language = i18n.html_lang()
    options = breakdowns(session, study, language=language)
    chosen = next((option for option in options if option.key == segment), None)
    dashboard = build_dashboard(
        session,
        study,
        segment=chosen,
        with_open_text=owner or study.release_open_text,
        language=language,
        not_stated=i18n.gettext("Not stated"),
    )
    waves = fielded_waves(session, study)
    return render(
        request,
        "dashboard/study.html",
        {
            "study": study,
            "dashboard": dashboard,
            "blocks": _blocks(dashboard),
            "contact_options": [option for option in options if option.kind == "contact"],
            "answer_options": [option for option in options if option.kind == "answer"],
            "segment": chosen,
            "alpha": SIGNIFICANCE,
            "researcher": owner,
            "actions": actions.outcomes(
                actions.list_actions(session, study), dashboard.results, waves
            ),
            "action_waves": [(str(wave.id), wave.name) for wave in waves],
            "action_values": action_values or {},
            "action_errors": action_errors or {},
            "case_figures": followup.case_figures(session, study, waves),
        },
        status_code=status_code,
    )
