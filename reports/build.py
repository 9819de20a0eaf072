"""Build a :class:`~reports.document.ReportDocument` from data and analysis results.

Every number comes from :func:`analysis.pipeline.analyze`'s ``to_dict()`` (CB-SEM or PLS):
fit, estimates, reliability, validity, descriptives, NPS, group and wave comparisons,
invariance, the importance-performance map and the bootstrap. The sections
(:mod:`reports.sections`, one module each) present them; the answers themselves are read only
for the answer distributions and the construct scores the driver charts place.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from analysis.syntax import parse_model
from reports.document import ReportDocument, Section
from reports.sections import (
    cfa,
    descriptives,
    drivers,
    methods,
    pls,
    sem,
    summary,
    trends,
)
from reports.sections.context import Progress, ReportContext
from reports.sections.reliability import reliability_table
from reports.sections.validity import validity_blocks

__all__ = ["Fieldwork", "Progress", "ReportRequest", "build_report"]


@dataclass(frozen=True)
class Fieldwork:
    """Fieldwork figures, when the study's distribution records them.

    The response rate is personal-link completes over invitations sent, so it never passes
    100%: public-link and telephone completes have no invitation to count against and are
    reported beside it.
    """

    invitations: int | None = None
    """Personal invitations sent."""
    invited_completes: int | None = None
    """Complete responses through personal invitation links."""
    public_completes: int | None = None
    """Complete responses through the public link."""
    phone_completes: int | None = None
    """Complete telephone interviews."""
    responses: int | None = None
    """Responses started, complete or not."""
    completes: int | None = None
    exclusions: Mapping[str, int] = field(default_factory=dict)
    """Quality flag (e.g. "speeding", "straight-lining") -> respondents excluded."""

    @property
    def response_rate(self) -> float | None:
        """Percent of the invitations sent that came back complete (None without both)."""
        if not self.invitations or self.invited_completes is None:
            return None
        return 100 * self.invited_completes / self.invitations


@dataclass(frozen=True)
class ReportRequest:
    """What to analyse and how to present it; the analysis options mirror ``analyze``."""

    model: str
    language: str = "en"
    reverse: tuple[str, ...] = ()
    scale_min: float = 1
    scale_max: float = 7
    missing: str = "listwise"
    bootstrap: int = 0
    seed: int = 20240611
    group: str | None = None
    nps: str | None = None
    wave: str | None = None
    study: str = ""
    client: str = ""
    waves_label: str = ""
    fieldwork_dates: str = ""
    author: str = ""
    created: datetime | None = None
    fieldwork: Fieldwork | None = None
    definition: Any = None
    """A :class:`surveys.definition.QuestionnaireDefinition` for item wording and names."""
    value_labels: Mapping[str, Mapping[object, str]] = field(default_factory=dict)
    """Column -> code -> label (e.g. an SPSS file's value labels), for groups the
    questionnaire definition does not name."""
    estimator: str = "ML"
    """``ML``, ``MLR``, ``MLM`` or ``WLSMV`` (every item then analysed as ordered), or ``pls``."""
    pls_scheme: str = "path"
    consistent: bool = False
    missing_codes: tuple[float, ...] = ()
    """Answer codes that mean "no answer" (e.g. 9 for "don't know")."""

    @property
    def is_pls(self) -> bool:
        return self.estimator.lower() == "pls"

    @property
    def bootstraps_nothing(self) -> bool:
        """Resamples requested for a CB-SEM model without a defined (``:=``) effect: the report
        bootstraps the intervals of indirect effects, and there are none to bootstrap (PLS
        bootstraps every path, weight and loading)."""
        return self.bootstrap > 0 and not self.is_pls and not parse_model(self.model).defined

    def analysis_options(self) -> dict[str, Any]:
        """Keyword arguments for :func:`analysis.pipeline.analyze`."""
        options: dict[str, Any] = {
            "model": self.model,
            "reverse": tuple(self.reverse),
            "scale_min": self.scale_min,
            "scale_max": self.scale_max,
            "missing": self.missing,
            "bootstrap": self.bootstrap,
            "seed": self.seed,
            "group": self.group,
            "nps": self.nps,
            "invariance": tuple(dict.fromkeys(c for c in (self.group, self.wave) if c)),
            "compare": tuple(dict.fromkeys(c for c in (self.group, self.wave) if c)),
            "estimator": self.estimator,
            "missing_codes": tuple(self.missing_codes),
        }
        if self.is_pls:
            # PLS compares groups' scores but fits no multiple-group CFA.
            options |= {"pls_scheme": self.pls_scheme, "consistent": self.consistent}
            options["invariance"] = ()
        elif self.estimator.upper() == "WLSMV":
            options["ordered"] = True
        return options


def _sections(ctx: ReportContext) -> list[tuple[str, Callable[[ReportContext], Section | None]]]:
    """The report's sections in order, each with its progress message: CB-SEM reports show
    the CFA and the structural model, PLS reports the PLS measurement and structural models
    and the satisfaction indices."""
    if ctx.is_pls:
        models = [
            ("sec_measurement_pls", pls.measurement),
            ("sec_structural", pls.structural),
            ("sec_pls_indices", pls.satisfaction_indices),
        ]
    else:
        models = [
            ("sec_measurement", _measurement),
            ("sec_cfa", cfa.cfa),
            ("sec_structural", sem.structural),
        ]
    return [
        ("sec_summary", summary.summary),
        ("sec_sample", descriptives.sample),
        ("sec_descriptives", descriptives.indices),
        ("sec_items", descriptives.items),
        ("sec_nps", descriptives.nps),
        *models,
        ("sec_drivers", drivers.driver_section),
        ("sec_groups", trends.groups),
        ("sec_methods", methods.methods),
    ]


def _measurement(ctx: ReportContext) -> Section:
    section = Section("measurement", ctx.t("sec_measurement"))
    table = reliability_table(ctx)
    if table is not None:
        section.blocks.append(table)
    section.blocks.extend(validity_blocks(ctx))
    return section


def build_report(
    data: pd.DataFrame,
    result: Mapping[str, Any],
    request: ReportRequest,
    *,
    progress: Progress | None = None,
) -> ReportDocument:
    """Turn responses and ``AnalysisResult.to_dict()`` into a language-specific report model.

    Parameters
    ----------
    data : pandas.DataFrame
        The responses as analysed (raw answers; reverse-keying happens here as in ``analyze``).
    result : mapping
        ``analyze(data, **request.analysis_options()).to_dict()``.
    request : ReportRequest
        Analysis options, language and title-page facts.
    progress : callable, optional
        ``progress(fraction, message)`` as sections are built.
    """
    notify = progress or (lambda fraction, message: None)
    ctx = ReportContext(data, result, request)
    steps = _sections(ctx)
    sections = []
    for done, (key, make) in enumerate(steps):
        notify(done / len(steps), ctx.t(key))
        section = make(ctx)
        if section is not None and section.blocks:
            sections.append(section)
    created = request.created or datetime.now(UTC)
    facts = [
        (ctx.t("fact_client"), request.client),
        (ctx.t("fact_waves"), request.waves_label),
        (ctx.t("fact_fieldwork"), request.fieldwork_dates),
        (ctx.t("fact_sample"), ctx.t("sample_value", n_used=ctx.n_used, n_rows=ctx.n_rows)),
        (ctx.t("fact_author"), request.author),
        (ctx.t("fact_date"), created.date().isoformat()),
    ]
    document = ReportDocument(
        language=ctx.language,
        title=request.study or ctx.t("report_title"),
        subtitle=ctx.t("report_subtitle"),
        facts=[(label, value) for label, value in facts if value],
        sections=sections,
        created=created,
        labels={key: ctx.t(key) for key in ("table", "figure", "note", "contents", "page", "back")},
    )
    for table in document.tables():
        table.without_empty_text_columns()
        table.short_title = ctx.short_title(table.key)
    document.number_blocks()
    return document
