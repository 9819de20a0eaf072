"""Analyse, build and render in one call: what the CLI and a background job run."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from reports.build import Progress, ReportRequest, build_report
from reports.document import ReportDocument
from reports.render import render

NOTHING_TO_BOOTSTRAP = (
    "bootstrap resamples were requested, but the model defines no indirect effect to "
    "bootstrap: add one (e.g. 'ind := a*b' with labelled paths) or leave the bootstrap out"
)
_BOOTSTRAP_STAGE = re.compile(r"bootstrap (\d+)/(\d+)")
# Share of the progress bar each phase takes (the bootstrap dominates when requested).
_ANALYSIS_END, _BUILD_END = 0.6, 0.85


@dataclass(frozen=True)
class ReportOutput:
    content: bytes
    document: ReportDocument
    result: dict[str, Any]


def _analysis_progress(progress: Progress, bootstrap: int) -> Callable[[str], None]:
    stages = ["prepare", "measurement model", "structural model", "reliability", "validity"]
    fixed_share = 0.15 if bootstrap else _ANALYSIS_END

    def report(stage: str) -> None:
        match = _BOOTSTRAP_STAGE.fullmatch(stage)
        if match:
            done, total = int(match[1]), int(match[2])
            progress(fixed_share + (_ANALYSIS_END - fixed_share) * done / total, stage)
        elif stage in stages:
            progress(fixed_share * stages.index(stage) / len(stages), stage)
        else:
            progress(fixed_share, stage)

    return report


def analyse(data: pd.DataFrame, request: ReportRequest, progress: Progress | None = None) -> dict:
    """``analysis.pipeline.analyze(data, **request.analysis_options()).to_dict()``."""
    from analysis.pipeline import analyze

    if request.bootstraps_nothing:
        raise ValueError(NOTHING_TO_BOOTSTRAP)
    callback = _analysis_progress(progress, request.bootstrap) if progress else None
    with warnings.catch_warnings():
        # Engine warnings (e.g. Heywood cases) travel in the result, not as Python noise.
        warnings.simplefilter("ignore")
        return analyze(data, **request.analysis_options(), progress=callback).to_dict()


def make_report(
    data: pd.DataFrame,
    request: ReportRequest,
    fmt: str,
    *,
    progress: Progress | None = None,
    result: dict[str, Any] | None = None,
) -> ReportOutput:
    """Run the analysis (unless ``result`` is given), build the report and render it as ``fmt``.

    ``progress(fraction, message)`` goes from 0 to 1 across analysis, building and rendering,
    so a background job can show one bar.
    """
    notify: Progress = progress or (lambda fraction, message: None)
    if result is None:
        result = analyse(data, request, notify)
    document = build_report(
        data,
        result,
        request,
        progress=lambda f, m: notify(_ANALYSIS_END + (_BUILD_END - _ANALYSIS_END) * f, m),
    )
    notify(_BUILD_END, fmt)
    content = render(document, fmt)
    notify(1.0, "done")
    return ReportOutput(content, document, result)
