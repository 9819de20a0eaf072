"""Build a :class:`~reports.document.ReportDocument` from data and analysis results.

The SEM numbers (fit, estimates, R², reliability, HTMT, Fornell–Larcker, bootstrap intervals,
measurement invariance across waves and segments) come from :func:`analysis.pipeline.analyze`'s
``AnalysisResult.to_dict()``; descriptives, distributions, correlations with p-values, NPS,
drivers and group comparisons are computed here with the same ``analysis`` functions the
reproducibility script calls.
"""

from __future__ import annotations

import math
import platform
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from typing import Any

import numpy as np
import pandas as pd

from analysis import compare, correlation, descriptives, drivers
from analysis.pipeline import invariance_across
from analysis.prepare import prepare
from analysis.syntax import ModelSpec, parse_model
from reports import charts
from reports.document import (
    Column,
    Figure,
    Paragraph,
    ReportDocument,
    Section,
    Table,
    format_number,
    stars,
)
from reports.i18n import has_key, translate

Progress = Callable[[float, str], None]
"""``progress(fraction_done, message)``, called as the report is built and rendered."""

_LANGUAGE_TAGS = {"en": ("en", "en-US", "en-GB"), "zh": ("zh-CN", "zh", "zh-Hans")}
_SATISFACTION = "SAT"
_LOYALTY_OUTCOMES = ("LOY", "BHL", "ATL", "WOM")
_NPS_KEYS = ("n", "promoters_pct", "passives_pct", "detractors_pct", "nps", "ci_lower", "ci_upper")
_DROP_LINES_SHOWN = 5


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


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not math.isnan(float(value))


def _p_text(pvalue: float, language: str) -> str:
    del language
    if not _finite(pvalue):
        return "p = –"
    return "p < .001" if pvalue < 0.001 else f"p = {format_number(pvalue, 'p')}"


def _join(parts: Sequence[str], language: str) -> str:
    return ("、" if language == "zh" else ", ").join(parts)


def _sentences(parts: Sequence[str], language: str) -> str:
    """Sentences run on: a space between English ones, none after Chinese full stops."""
    return ("" if language == "zh" else " ").join(part for part in parts if part)


class _Builder:
    def __init__(
        self,
        data: pd.DataFrame,
        result: Mapping[str, Any],
        request: ReportRequest,
        progress: Progress,
    ) -> None:
        self.request = request
        self.language = request.language
        self.t("table")  # validates the language early
        self.result = result
        self.progress = progress
        self.spec: ModelSpec = parse_model(request.model)
        self.constructs = {k: list(v) for k, v in self.spec.latent.items()}
        self.items = [item for items in self.constructs.values() for item in items]
        missing = "fiml" if request.missing in ("fiml", "ml") else "listwise"
        self.raw = data
        self.prepared = prepare(
            data,
            self.items,
            reverse=request.reverse,
            scale_min=request.scale_min,
            scale_max=request.scale_max,
            missing=missing,
        )
        self.data = self.prepared.data
        self.scores = descriptives.construct_scores(self.data, self.constructs)
        self.estimates = list(result.get("estimates") or [])
        self.latent = set(self.constructs)
        self.invariance_tests: dict[str, Mapping[str, Any] | None] = {}
        """Grouping column -> measurement invariance across its groups, as compared."""

    # -- words -------------------------------------------------------------------------
    def t(self, key: str, **values: object) -> str:
        return translate(key, self.language, **values)

    def _texts(self, texts: Mapping[str, str] | None) -> str:
        for tag in _LANGUAGE_TAGS[self.language]:
            if texts and texts.get(tag, "").strip():
                return texts[tag]
        return ""

    def name(self, construct: str) -> str:
        definition = self.request.definition
        if definition is not None:
            for entry in definition.constructs:
                if entry.code == construct and (text := self._texts(entry.name)):
                    return text
        key = f"c_{construct}"
        return self.t(key) if has_key(key) else construct

    def item_label(self, code: str) -> str:
        definition = self.request.definition
        if definition is not None:
            for variable in definition.variables():
                if variable.code == code:
                    return self._texts(variable.label)
        return ""

    def item_display(self, code: str) -> str:
        mark = "\u00a0(R)" if code in self.request.reverse else ""
        label = self.item_label(code)
        return f"{code}{mark} {label}".strip() if label else f"{code}{mark}"

    def index(self, mean: float) -> float:
        request = self.request
        return (mean - request.scale_min) / (request.scale_max - request.scale_min) * 100

    # -- estimates ---------------------------------------------------------------------
    def rows(self, op: str) -> list[dict[str, Any]]:
        return [row for row in self.estimates if row.get("op") == op]

    def structural_paths(self) -> list[dict[str, Any]]:
        return [
            row for row in self.rows("~") if row["lhs"] in self.latent and row["rhs"] in self.latent
        ]

    def total_effects(self, target: str) -> dict[str, float]:
        """Standardized total effect of every construct on ``target``: (I − B)⁻¹ − I."""
        order = list(self.constructs)
        position = {name: i for i, name in enumerate(order)}
        beta = np.zeros((len(order), len(order)))
        for row in self.structural_paths():
            beta[position[row["lhs"]], position[row["rhs"]]] = row.get("std_all") or 0.0
        total = np.linalg.inv(np.eye(len(order)) - beta) - np.eye(len(order))
        effects = total[position[target]]
        return {
            name: float(effects[position[name]])
            for name in order
            if abs(effects[position[name]]) > 1e-12
        }

    def outcome(self) -> str | None:
        endogenous = [row["lhs"] for row in self.structural_paths()]
        if not endogenous:
            return None
        for preferred in _LOYALTY_OUTCOMES:
            if preferred in endogenous:
                return preferred
        sources = {row["rhs"] for row in self.structural_paths()}
        final = [name for name in dict.fromkeys(endogenous) if name not in sources]
        return (final or endogenous)[-1]

    # -- sections ----------------------------------------------------------------------
    def build(self) -> ReportDocument:
        steps: list[tuple[str, Callable[[], Section | None]]] = [
            ("sec_summary", self.summary),
            ("sec_sample", self.sample),
            ("sec_descriptives", self.indices),
            ("sec_items", self.item_results),
            ("sec_nps", self.nps_section),
            ("sec_measurement", self.measurement),
            ("sec_cfa", self.cfa),
            ("sec_structural", self.structural),
            ("sec_drivers", self.driver_section),
            ("sec_groups", self.groups),
            ("sec_methods", self.methods),
        ]
        sections = []
        for done, (key, make) in enumerate(steps):
            self.progress(done / len(steps), self.t(key))
            section = make()
            if section is not None and section.blocks:
                sections.append(section)
        request = self.request
        created = request.created or datetime.now(UTC)
        facts = [
            (self.t("fact_client"), request.client),
            (self.t("fact_waves"), request.waves_label),
            (self.t("fact_fieldwork"), request.fieldwork_dates),
            (
                self.t("fact_sample"),
                self.t("sample_value", n_used=self.n_used, n_rows=self.n_rows),
            ),
            (self.t("fact_author"), request.author),
            (self.t("fact_date"), created.date().isoformat()),
        ]
        document = ReportDocument(
            language=self.language,
            title=request.study or self.t("report_title"),
            subtitle=self.t("report_subtitle"),
            facts=[(label, value) for label, value in facts if value],
            sections=sections,
            created=created,
            labels={
                key: self.t(key) for key in ("table", "figure", "note", "contents", "page", "back")
            },
        )
        for table in document.tables():
            table.without_empty_text_columns()
            table.short_title = self.short_title(table.key)
        document.number_blocks()
        return document

    def short_title(self, key: str) -> str:
        """A table's name for a spreadsheet tab, e.g. "Reliability" or "By region"."""
        group = self.request.group or ""
        return self.t(f"sheet_{key}", group=group) if has_key(f"sheet_{key}") else ""

    @property
    def n_rows(self) -> int:
        return int(self.result.get("n_rows") or self.prepared.n_rows)

    @property
    def n_used(self) -> int:
        return int(self.result.get("n_used") or self.prepared.n_used)

    def summary(self) -> Section:
        section = Section("summary", self.t("sec_summary"))
        blocks = section.blocks
        blocks.append(Paragraph(self.t("sum_intro", n_used=self.n_used), "lead"))
        for row in self.structural_paths():
            beta, pvalue = row.get("std_all"), row.get("pvalue")
            values = {
                "src": self.name(row["rhs"]),
                "dst": self.name(row["lhs"]),
                "beta": format_number(beta, "coef"),
                "p": _p_text(pvalue, self.language),
            }
            if _finite(pvalue) and pvalue < 0.05 and _finite(beta):
                size = abs(beta)
                strength = self.t(
                    "strong" if size >= 0.5 else "moderate" if size >= 0.3 else "weak"
                )
                key = "sum_path_pos" if beta > 0 else "sum_path_neg"
                blocks.append(Paragraph(self.t(key, strength=strength, **values), "bullet"))
            else:
                blocks.append(Paragraph(self.t("sum_path_ns", **values), "bullet"))
        for row in self.indirect_rows():
            lo, hi = row["ci"]
            significant = _finite(lo) and _finite(hi) and (lo > 0 or hi < 0)
            blocks.append(
                Paragraph(
                    self.t(
                        "sum_indirect",
                        effect=row["name"],
                        ci=self.t("ci_bootstrap" if row["bootstrap"] else "ci_delta"),
                        est=format_number(row["est"], "dec3"),
                        lo=format_number(lo, "dec3"),
                        hi=format_number(hi, "dec3"),
                        verdict=self.t("indirect_sig" if significant else "indirect_ns"),
                    ),
                    "bullet",
                )
            )
        r2 = self.result.get("r2") or {}
        outcome = self.outcome()
        if outcome is not None and _finite(r2.get(outcome)):
            blocks.append(
                Paragraph(
                    self.t("sum_r2", pct=f"{100 * r2[outcome]:.0f}", name=self.name(outcome)),
                    "bullet",
                )
            )
        indices = [
            f"{self.name(c)} {self.index(self.scores[c].mean()):.0f}" for c in self.constructs
        ]
        blocks.append(
            Paragraph(self.t("sum_indices", list=_join(indices, self.language)), "bullet")
        )
        topbox = self.topbox_sentence()
        if topbox:
            blocks.append(Paragraph(topbox, "bullet"))
        blocks.extend(Paragraph(text, "bullet") for text in self.difference_sentences())
        nps = self.nps_values()
        if nps is not None:
            blocks.append(
                Paragraph(
                    self.t(
                        "sum_nps",
                        nps=f"{nps['nps']:+.0f}",
                        promoters=f"{nps['promoters_pct']:.0f}",
                        detractors=f"{nps['detractors_pct']:.0f}",
                        lo=f"{nps['ci_lower']:.0f}",
                        hi=f"{nps['ci_upper']:.0f}",
                    ),
                    "bullet",
                )
            )
        fit = self.result.get("fit") or {}
        if fit:
            blocks.append(
                Paragraph(
                    self.t(
                        "sum_fit",
                        verdict=self.t(_overall_fit(fit)),
                        cfi=format_number(fit.get("cfi"), "coef3"),
                        rmsea=format_number(fit.get("rmsea"), "coef3"),
                        srmr=format_number(fit.get("srmr"), "coef3"),
                    ),
                    "bullet",
                )
            )
        reliability = self.result.get("reliability") or {}
        weak = [
            self.name(c)
            for c, values in reliability.items()
            if not (_ok(values.get("alpha"), 0.7) and _ok(values.get("cr"), 0.7))
        ]
        if reliability:
            text = (
                self.t("sum_reliability_weak", list=_join(weak, self.language))
                if weak
                else self.t("sum_reliability_ok")
            )
            blocks.append(Paragraph(text, "bullet"))
        trap = self.trap()
        if trap is not None and trap.diminishing_returns:
            quadratic = trap.coefficients.set_index("term").loc["quadratic"]
            blocks.append(
                Paragraph(
                    self.t(
                        "sum_trap",
                        b=format_number(quadratic["estimate"], "dec3"),
                        p=_p_text(quadratic["pvalue"], self.language),
                    ),
                    "bullet",
                )
            )
        return section

    def topbox_sentence(self) -> str:
        """Share in the top two boxes of the satisfaction items, overall then by facet.

        Reverse-worded items are left out: after recoding, their top box is the share who
        *disagree* with a negative statement, which the statement's wording would misstate.
        """
        items = [
            item
            for item in self.constructs.get(_SATISFACTION, [])
            if item not in self.request.reverse
        ]
        if not items:
            return ""
        top2 = self.item_descriptives().set_index("variable")["top2_pct"]
        overall, *facets = items
        values = {"pct": f"{top2[overall]:.0f}", "name": self.quoted_label(overall)}
        if not facets:
            return self.t("sum_topbox_single", **values)
        listed = [f"{self.quoted_label(item)} {top2[item]:.0f}%" for item in facets]
        return self.t("sum_topbox", list=_join(listed, self.language), **values)

    def quoted_label(self, code: str) -> str:
        """An item's wording in quotation marks, without its closing full stop."""
        label = self.item_label(code).strip().rstrip(".。!！") or code
        return f"“{label}”"

    def sample(self) -> Section:
        section = Section("sample", self.t("sec_sample"))
        missing_key = "missing_fiml" if self.prepared.missing == "fiml" else "missing_listwise"
        section.blocks.append(
            Paragraph(
                self.t(
                    "sample_text",
                    n_rows=self.n_rows,
                    n_used=self.n_used,
                    missing=self.t(missing_key),
                )
            )
        )
        lines = self.prepared.drop_summary()
        section.blocks.extend(Paragraph(line, "bullet") for line in lines[:_DROP_LINES_SHOWN])
        if len(lines) > _DROP_LINES_SHOWN:
            rest = int(self.prepared.dropped["n"].iloc[_DROP_LINES_SHOWN:].sum())
            section.blocks.append(Paragraph(self.t("more_drops", n=rest), "bullet"))
        fieldwork = self.request.fieldwork
        if fieldwork is not None:
            counts = [
                ("invitations", fieldwork.invitations),
                ("invited_completes", fieldwork.invited_completes),
            ]
            rows: list[list[object]] = [
                [self.t(key), f"{value:,}"] for key, value in counts if value is not None
            ]
            if fieldwork.response_rate is not None:
                rows.append([self.t("response_rate"), f"{fieldwork.response_rate:.1f}"])
            counts = [
                ("public_completes", fieldwork.public_completes),
                ("phone_completes", fieldwork.phone_completes),
                ("responses", fieldwork.responses),
                ("completes", fieldwork.completes),
            ]
            rows += [[self.t(key), f"{value:,}"] for key, value in counts if value]
            rows.extend(
                [self.t("excluded", flag=flag), f"{n:,}"]
                for flag, n in fieldwork.exclusions.items()
            )
            rows.append([self.t("analysed"), f"{self.n_used:,}"])
            section.blocks.append(
                Table(
                    "fieldwork",
                    self.t("tab_fieldwork"),
                    [Column(self.t("measure")), Column(self.t("value"))],
                    rows,
                )
            )
        return section

    def described(self, kind: str) -> pd.DataFrame:
        """Descriptives of items or construct scores: the analysis result's, else computed."""
        stored = pd.DataFrame(self.result.get("descriptives") or [])
        if not stored.empty and "kind" in stored:
            return stored[stored["kind"] == kind].reset_index(drop=True)
        frame, columns = (self.data, self.items) if kind == "item" else (self.scores, None)
        return descriptives.describe(
            frame,
            columns=columns,
            scale_min=self.request.scale_min,
            scale_max=self.request.scale_max,
        )

    def item_descriptives(self) -> pd.DataFrame:
        return self.described("item")

    def indices(self) -> Section:
        section = Section("indices", self.t("sec_descriptives"))
        described = self.described("construct")
        top2 = {
            c: float((self.scores[c].dropna() >= self.request.scale_max - 1).mean() * 100)
            for c in self.constructs
        }
        section.blocks.append(
            Table(
                "indices",
                self.t("tab_indices"),
                [
                    Column(self.t("construct")),
                    Column(self.t("n"), "int"),
                    Column(self.t("mean"), "dec2"),
                    Column(self.t("sd"), "dec2"),
                    Column(self.t("index"), "dec1"),
                    Column(self.t("top2"), "pct"),
                ],
                [
                    [
                        self.name(row["variable"]),
                        row["n"],
                        row["mean"],
                        row["sd"],
                        self.index(row["mean"]),
                        top2[row["variable"]],
                    ]
                    for row in described.to_dict("records")
                ],
                note=self.t("note_indices"),
            )
        )
        return section

    def item_results(self) -> Section:
        section = Section("items", self.t("sec_items"))
        described = self.item_descriptives()
        rows = []
        for row in described.to_dict("records"):
            code = row["variable"]
            rows.append(
                [
                    code + ("\u00a0(R)" if code in self.request.reverse else ""),
                    self.item_label(code),
                    row["n"],
                    row["mean"],
                    row["sd"],
                    row["skew"],
                    row["kurtosis"],
                    row["top2_pct"],
                ]
            )
        section.blocks.append(
            Table(
                "items",
                self.t("tab_items"),
                [
                    Column(self.t("code")),
                    Column(self.t("text")),
                    Column(self.t("n"), "int"),
                    Column(self.t("mean"), "dec2"),
                    Column(self.t("sd"), "dec2"),
                    Column(self.t("skew"), "dec2"),
                    Column(self.t("kurtosis"), "dec2"),
                    Column(self.t("top2"), "pct"),
                ],
                rows,
                note=self.t(
                    "note_items", lo=f"{self.request.scale_min:g}", hi=f"{self.request.scale_max:g}"
                ),
            )
        )
        low, high = int(self.request.scale_min), int(self.request.scale_max)
        counts = descriptives.answer_counts(
            self.data, columns=self.items, scale_min=low, scale_max=high
        )
        counts = counts[counts["value"].between(low, high)]
        shares = (
            counts.pivot_table(index="variable", columns="value", values="pct", sort=False)
            .reindex(self.items)
            .fillna(0.0)
        )
        section.blocks.append(
            Figure(
                "distributions",
                self.t("fig_distributions"),
                charts.png(
                    charts.distribution_chart(
                        [self.item_display(code) for code in self.items],
                        shares.to_numpy(),
                        self.category_labels(low, high),
                    )
                ),
            )
        )
        return section

    def category_labels(self, low: int, high: int) -> list[str]:
        labels = [str(point) for point in range(low, high + 1)]
        definition = self.request.definition
        if definition is None:
            return labels
        from surveys.definition import LikertItem, MatrixItem

        for variable in definition.variables():
            item = variable.item
            if variable.code in self.items and isinstance(item, LikertItem | MatrixItem):
                for index, point in enumerate(range(low, high + 1)):
                    anchor = (
                        item.scale.anchor_for(point - low + 1)
                        if item.scale.points == high - low + 1
                        else None
                    )
                    if anchor and (text := self._texts(anchor)):
                        labels[index] = f"{point} {text}"
                break
        return labels

    def nps_values(self) -> dict[str, float] | None:
        if not self.request.nps:
            return None
        stored = self.result.get("nps")
        if stored:
            return {key: stored[key] for key in _NPS_KEYS}
        table = descriptives.net_promoter_score(self.raw, column=self.request.nps)
        return {key: float(table.iloc[0][key]) for key in _NPS_KEYS}

    def nps_section(self) -> Section | None:
        nps = self.nps_values()
        if nps is None:
            return None
        section = Section("nps", self.t("sec_nps"))
        section.blocks.append(
            Figure(
                "nps",
                self.t("fig_nps"),
                charts.png(
                    charts.nps_chart(
                        nps["detractors_pct"],
                        nps["passives_pct"],
                        nps["promoters_pct"],
                        [self.t("detractors"), self.t("passives"), self.t("promoters")],
                        f"NPS {nps['nps']:+.0f}",
                    )
                ),
                width_cm=14,
            )
        )
        section.blocks.append(
            Table(
                "nps",
                self.t("tab_nps"),
                [
                    Column(self.t("n"), "int"),
                    Column(self.t("promoters"), "pct"),
                    Column(self.t("passives"), "pct"),
                    Column(self.t("detractors"), "pct"),
                    Column(self.t("nps"), "dec1"),
                    Column(self.t("ci_lower"), "dec1"),
                    Column(self.t("ci_upper"), "dec1"),
                ],
                [
                    [
                        nps["n"],
                        nps["promoters_pct"],
                        nps["passives_pct"],
                        nps["detractors_pct"],
                        nps["nps"],
                        nps["ci_lower"],
                        nps["ci_upper"],
                    ]
                ],
                note=self.t("note_nps"),
            )
        )
        return section

    def measurement(self) -> Section:
        section = Section("measurement", self.t("sec_measurement"))
        reliability = self.result.get("reliability") or {}
        if reliability:
            rows = []
            for construct, values in reliability.items():
                verdicts = []
                alpha, cr, ave = values.get("alpha"), values.get("cr"), values.get("ave")
                good = _ok(alpha, 0.7) and _ok(cr, 0.7) and _ok(ave, 0.5)
                verdicts.append(self.t("ok" if good else "not_ok"))
                if _finite(cr) and cr > 0.95:
                    verdicts.append(self.t("redundant"))
                ci = (
                    f"[{format_number(values.get('alpha_ci_lower'), 'coef')}, "
                    f"{format_number(values.get('alpha_ci_upper'), 'coef')}]"
                )
                rows.append(
                    [
                        self.name(construct),
                        values.get("n_items"),
                        alpha,
                        ci,
                        values.get("omega"),
                        cr,
                        ave,
                        "; ".join(verdicts),
                    ]
                )
            section.blocks.append(
                Table(
                    "reliability",
                    self.t("tab_reliability"),
                    [
                        Column(self.t("construct")),
                        Column("k", "int"),
                        Column(self.t("alpha"), "coef"),
                        Column(self.t("alpha_ci")),
                        Column(self.t("omega"), "coef"),
                        Column(self.t("cr"), "coef"),
                        Column(self.t("ave"), "coef"),
                        Column(self.t("verdict")),
                    ],
                    rows,
                    note=self.t("note_reliability"),
                )
            )
        fornell = _square(self.result.get("fornell_larcker"))
        if fornell is not None:
            section.blocks.append(
                self.lower_triangle("fornell_larcker", "tab_fl", fornell, diagonal=True)
            )
            violations = [
                f"{self.name(a)}–{self.name(b)}"
                for i, a in enumerate(fornell.index)
                for b in fornell.index[:i]
                if abs(fornell.loc[a, b]) >= min(fornell.loc[a, a], fornell.loc[b, b])
            ]
            note = self.t("note_fl")
            if violations:
                note += " " + self.t("note_fl_violations", list=_join(violations, self.language))
            section.blocks[-1].note = note  # type: ignore[union-attr]
        htmt = _square(self.result.get("htmt"))
        if htmt is not None:
            table = self.lower_triangle("htmt", "tab_htmt", htmt, diagonal=False)
            table.note = self.t("note_htmt")
            section.blocks.append(table)
        section.blocks.append(self.correlation_table())
        return section

    def lower_triangle(
        self, key: str, title: str, matrix: pd.DataFrame, *, diagonal: bool
    ) -> Table:
        order = [c for c in self.constructs if c in matrix.index]
        rows: list[list[object]] = []
        for i, a in enumerate(order):
            row: list[object] = [f"{i + 1}. {self.name(a)}"]
            for j, b in enumerate(order):
                if j < i or (diagonal and j == i):
                    row.append(matrix.loc[a, b])
                else:
                    row.append("")
            rows.append(row)
        return Table(
            key,
            self.t(title),
            [Column(self.t("construct"))] + [Column(str(j + 1), "coef") for j in range(len(order))],
            rows,
        )

    def correlation_table(self) -> Table:
        long = pd.DataFrame(self.result.get("correlations") or [])
        if long.empty:
            long = correlation.correlations(self.scores, methods=("pearson",))
        long = long[long["method"] == "pearson"]
        lookup = {(row["x"], row["y"]): row for row in long.to_dict("records")}
        order = list(self.constructs)
        described = self.scores.agg(["mean", "std"])
        rows: list[list[object]] = []
        for i, a in enumerate(order):
            row: list[object] = [
                f"{i + 1}. {self.name(a)}",
                described.loc["mean", a],
                described.loc["std", a],
            ]
            for j, b in enumerate(order):
                if j < i:
                    pair = lookup.get((b, a)) or lookup.get((a, b))
                    row.append(f"{format_number(pair['r'], 'coef')}{stars(pair['pvalue'])}")
                else:
                    row.append("—" if j == i else "")
            rows.append(row)
        return Table(
            "correlations",
            self.t("tab_corr"),
            [
                Column(self.t("construct")),
                Column(self.t("mean"), "dec2"),
                Column(self.t("sd"), "dec2"),
            ]
            + [Column(str(j + 1)) for j in range(len(order))],
            rows,
            note=self.t("note_corr"),
        )

    def cfa(self) -> Section:
        section = Section("cfa", self.t("sec_cfa"))
        rows = []
        for row in self.rows("=~"):
            beta = row.get("std_all")
            verdict = (
                "good" if _ok(beta, 0.7) else "acceptable" if _ok(beta, 0.5) else "weak_loading"
            )
            rows.append(
                [
                    self.name(row["lhs"]),
                    row["rhs"] + ("\u00a0(R)" if row["rhs"] in self.request.reverse else ""),
                    self.item_label(row["rhs"]),
                    row.get("est"),
                    row.get("se") if row.get("se") else None,
                    beta,
                    row.get("pvalue"),
                    self.t(verdict),
                ]
            )
        if rows:
            section.blocks.append(
                Table(
                    "loadings",
                    self.t("tab_loadings"),
                    [
                        Column(self.t("construct")),
                        Column(self.t("item")),
                        Column(self.t("text")),
                        Column("B", "dec3"),
                        Column("SE", "dec3"),
                        Column("β", "coef3"),
                        Column("p", "p"),
                        Column(self.t("verdict")),
                    ],
                    rows,
                    note=self.t("note_loadings"),
                )
            )
        fits = [
            (self.t("measurement_model"), self.result.get("measurement_fit") or {}),
            (self.t("structural_model"), self.result.get("fit") or {}),
        ]
        fits = [(label, fit) for label, fit in fits if fit]
        if fits:
            section.blocks.append(self.fit_table(fits))
        return section

    def fit_table(self, fits: list[tuple[str, Mapping[str, float]]]) -> Table:
        specs = [
            ("χ²", "chisq", "", None),
            ("df", "df", "", None),
            ("p", "pvalue", "", None),
            ("CFI", "cfi", "≥ .95 / ≥ .90", (0.95, 0.90, True)),
            ("TLI", "tli", "≥ .95 / ≥ .90", (0.95, 0.90, True)),
            ("RMSEA", "rmsea", "≤ .06 / ≤ .08", (0.06, 0.08, False)),
            ("RMSEA 90% CI", None, "", None),
            ("SRMR", "srmr", "≤ .08", (0.08, 0.08, False)),
            ("AIC", "aic", "", None),
            ("BIC", "bic", "", None),
        ]
        columns = [Column(self.t("index_fit")), Column(self.t("threshold"))]
        for label, _fit in fits:
            columns += [Column(label), Column(self.t("verdict"))]
        rows = []
        for name, key, threshold, rule in specs:
            row: list[object] = [name, threshold]
            for _label, fit in fits:
                if key is None:
                    value = (
                        f"[{format_number(fit.get('rmsea_ci_lower'), 'coef3')}, "
                        f"{format_number(fit.get('rmsea_ci_upper'), 'coef3')}]"
                    )
                elif key in ("chisq", "aic", "bic"):
                    value = format_number(fit.get(key), "dec2")
                elif key == "df":
                    value = format_number(fit.get(key), "int")
                else:
                    value = format_number(fit.get(key), "p" if key == "pvalue" else "coef3")
                row += [value, self.t(_verdict(fit.get(key), rule)) if rule and key else ""]
            rows.append(row)
        return Table("fit", self.t("tab_fit"), columns, rows, note=self.t("note_fit"))

    def structural(self) -> Section:
        section = Section("structural", self.t("sec_structural"))
        paths = self.structural_paths()
        r2 = self.result.get("r2") or {}
        if paths:
            nodes = [c for c in self.constructs if any(c in (p["lhs"], p["rhs"]) for p in paths)]
            edges = [
                charts.PathEdge(
                    p["rhs"], p["lhs"], float(p.get("std_all") or 0), float(p.get("pvalue") or 1)
                )
                for p in paths
            ]
            section.blocks.append(
                Figure(
                    "path_diagram",
                    self.t("fig_path"),
                    charts.png(
                        charts.path_diagram(
                            nodes,
                            {c: self.name(c) for c in nodes},
                            edges,
                            {c: float(v) for c, v in r2.items() if c in self.latent and _finite(v)},
                        )
                    ),
                    width_cm=15,
                    note=self.t("note_path_figure"),
                )
            )
            r2_list = [
                f"{self.name(c)} = {format_number(v, 'coef')}"
                for c, v in r2.items()
                if c in self.latent
            ]
            section.blocks.append(
                Table(
                    "paths",
                    self.t("tab_paths"),
                    [
                        Column(self.t("path")),
                        Column("B", "dec3"),
                        Column("SE", "dec3"),
                        Column("z", "dec2"),
                        Column("p", "p"),
                        Column("β", "coef3"),
                        Column(self.t("ci_lower"), "dec3"),
                        Column(self.t("ci_upper"), "dec3"),
                    ],
                    [
                        [
                            f"{self.name(p['rhs'])} → {self.name(p['lhs'])}",
                            p.get("est"),
                            p.get("se"),
                            p.get("z"),
                            p.get("pvalue"),
                            p.get("std_all"),
                            p.get("ci_lower"),
                            p.get("ci_upper"),
                        ]
                        for p in paths
                    ],
                    note=self.t("note_paths", list=_join(r2_list, self.language)),
                )
            )
        indirect = self.indirect_rows()
        if indirect:
            boot = self.result.get("bootstrap") or {}
            note = (
                self.t("note_indirect_boot", n=self.request.bootstrap)
                if boot and self.request.bootstrap
                else self.t("note_indirect_delta")
            )
            section.blocks.append(
                Table(
                    "indirect",
                    self.t("tab_indirect"),
                    [
                        Column(self.t("effect")),
                        Column(self.t("definition")),
                        Column(self.t("estimate"), "dec3"),
                        Column("SE", "dec3"),
                        Column("p", "p"),
                        Column("β", "coef3"),
                        Column(self.t("ci_lower"), "dec3"),
                        Column(self.t("ci_upper"), "dec3"),
                    ],
                    [
                        [
                            row["name"],
                            row["definition"],
                            row["est"],
                            row["se"],
                            row["pvalue"],
                            row["std"],
                            *row["ci"],
                        ]
                        for row in indirect
                    ],
                    note=note,
                )
            )
        elif paths:
            section.blocks.append(Paragraph(self.t("no_indirect"), "note"))
        return section

    def indirect_rows(self) -> list[dict[str, Any]]:
        expressions = {d.name: d.expression.text for d in self.spec.defined}
        boot = self.result.get("bootstrap") or {}
        rows = []
        for row in self.rows(":="):
            name = row.get("lhs") or row.get("label")
            interval = boot.get(name) or {}
            expression = expressions.get(name, row.get("rhs", ""))
            rows.append(
                {
                    "name": self.effect_name(name, expression),
                    "definition": f"{name} := {expression}",
                    "est": row.get("est"),
                    "se": row.get("se"),
                    "pvalue": row.get("pvalue"),
                    "std": row.get("std_all"),
                    "bootstrap": bool(interval),
                    "ci": (
                        interval.get("ci_lower", row.get("ci_lower")),
                        interval.get("ci_upper", row.get("ci_upper")),
                    ),
                }
            )
        return rows

    def effect_name(self, name: str, expression: str) -> str:
        """A defined parameter in words: the indirect, direct or total effect its expression
        multiplies and adds up along labelled regression paths (``a*b``: indirect, ``c + a*b``:
        total), else "the defined effect <name>"."""
        fallback = self.t("effect_defined", name=name)
        paths = {row.label: (row.rhs, row.lhs) for row in self.spec.rows if row.op == "~"}
        chains = []
        for term in expression.split("+"):
            labels = [label.strip() for label in term.split("*")]
            if not all(label in paths for label in labels if label) or "" in labels:
                return fallback
            chain = _chain([paths[label] for label in labels])
            if chain is None:
                return fallback
            chains.append(chain)
        if len({(chain[0], chain[-1]) for chain in chains}) != 1:
            return fallback
        first = chains[0]
        ends = {"src": self.name(first[0]), "dst": self.name(first[-1])}
        if len(chains) > 1:
            direct = any(len(chain) == 2 for chain in chains)
            return self.t("effect_total" if direct else "effect_total_indirect", **ends)
        if len(first) == 2:
            return self.t("effect_direct", **ends)
        via = self.t("then").join(self.name(node) for node in first[1:-1])
        return self.t("effect_indirect", via=via, **ends)

    def trap(self) -> drivers.SatisfactionTrap | None:
        loyalty = next((c for c in _LOYALTY_OUTCOMES if c in self.constructs), None)
        if _SATISFACTION not in self.constructs or loyalty is None:
            return None
        return drivers.satisfaction_trap(self.scores, satisfaction=_SATISFACTION, loyalty=loyalty)

    def driver_section(self) -> Section:
        section = Section("drivers", self.t("sec_drivers"))
        outcome = self.outcome()
        if outcome is not None:
            importance = self.total_effects(outcome)
            if importance:
                ipa = drivers.importance_performance(
                    self.scores,
                    importance=importance,
                    scale_min=self.request.scale_min,
                    scale_max=self.request.scale_max,
                )
                quadrant_names = {key: self.t(key) for key in charts.IPA_QUADRANTS}
                section.blocks.append(
                    Figure(
                        "ipa",
                        self.t("fig_ipa"),
                        charts.png(
                            charts.ipa_chart(
                                [self.name(c) for c in ipa["construct"]],
                                ipa["importance"].tolist(),
                                ipa["performance"].tolist(),
                                (self.t("importance"), self.t("performance")),
                                quadrant_names,
                            )
                        ),
                        width_cm=14,
                    )
                )
                section.blocks.append(
                    Table(
                        "ipa",
                        self.t("tab_ipa", name=self.name(outcome)),
                        [
                            Column(self.t("construct")),
                            Column(self.t("importance"), "coef3"),
                            Column(self.t("performance"), "dec1"),
                            Column(self.t("quadrant")),
                        ],
                        [
                            [
                                self.name(r["construct"]),
                                r["importance"],
                                r["performance"],
                                self.t(r["quadrant"]),
                            ]
                            for r in ipa.to_dict("records")
                        ],
                        note=self.t("note_ipa", name=self.name(outcome)),
                    )
                )
        if "ATL" in self.constructs and "BHL" in self.constructs:
            quadrants = drivers.loyalty_quadrants(
                self.scores,
                attitudinal="ATL",
                behavioural="BHL",
                scale_min=self.request.scale_min,
                scale_max=self.request.scale_max,
            )
            records = quadrants.to_dict("records")
            section.blocks.append(
                Figure(
                    "griffin",
                    self.t("fig_griffin"),
                    charts.png(
                        charts.quadrant_chart(
                            {
                                (r["attitudinal"] == "high", r["behavioural"] == "high"): (
                                    self.t(r["segment"]),
                                    float(r["pct"]),
                                )
                                for r in records
                            },
                            (self.name("ATL"), self.name("BHL")),
                            (self.t("low"), self.t("high")),
                        )
                    ),
                    width_cm=10,
                )
            )
            section.blocks.append(
                Table(
                    "griffin",
                    self.t("tab_griffin"),
                    [
                        Column(self.t("segment")),
                        Column(self.t("attitudinal")),
                        Column(self.t("behavioural")),
                        Column(self.t("n"), "int"),
                        Column(self.t("pct"), "pct"),
                    ],
                    [
                        [
                            self.t(r["segment"]),
                            self.t(r["attitudinal"]),
                            self.t(r["behavioural"]),
                            r["n"],
                            r["pct"],
                        ]
                        for r in records
                    ],
                    note=self.t("note_griffin"),
                )
            )
        elif section.blocks:
            section.blocks.append(Paragraph(self.t("griffin_missing"), "note"))
        trap = self.trap()
        if trap is not None:
            quadratic = trap.coefficients.set_index("term").loc["quadratic"]
            loyalty = next(c for c in _LOYALTY_OUTCOMES if c in self.constructs)
            section.blocks.append(
                Paragraph(
                    self.t(
                        "trap_text",
                        loy=self.name(loyalty),
                        sat=self.name(_SATISFACTION),
                        n=trap.n,
                        b=format_number(quadratic["estimate"], "dec3"),
                        p=_p_text(quadratic["pvalue"], self.language),
                        verdict=self.t("trap_yes" if trap.diminishing_returns else "trap_no"),
                    )
                )
            )
        return section

    def groups(self) -> Section:
        section = Section("groups", self.t("sec_groups"))
        names = list(self.constructs)
        for column, key in ((self.request.group, "group"), (self.request.wave, "wave")):
            compared = self.compared_groups(column)
            if compared is None:
                continue
            levels, summary, tests = compared
            labels = [self.level_label(column, level) for level in levels]
            rows = []
            for construct in names:
                test = tests.loc[construct]
                statistic = "t" if test["test"] == "welch_t" else "F"
                rows.append(
                    [self.name(construct)]
                    + [summary.loc[(construct, level), "mean"] for level in levels]
                    + [f"{statistic} = {format_number(test['statistic'], 'dec2')}", test["pvalue"]]
                )
            title = self.t("tab_groups", group=column) if key == "group" else self.t("tab_waves")
            if key == "wave":
                section.blocks.append(
                    Figure(
                        "waves",
                        self.t("fig_waves"),
                        charts.png(
                            charts.trend_chart(
                                labels,
                                {
                                    self.name(c): [
                                        summary.loc[(c, level), "mean"] for level in levels
                                    ]
                                    for c in names
                                },
                                self.t("index"),
                            )
                        ),
                        width_cm=15,
                    )
                )
            invariance, reason = self.invariance_table(column, key)
            note = self.t("note_groups" if key == "group" else "note_waves")
            section.blocks.append(
                Table(
                    key,
                    title,
                    [Column(self.t("construct"))]
                    + [Column(label, "dec1") for label in labels]
                    + [Column(self.t("test")), Column("p", "p")],
                    rows,
                    note=_sentences([note, reason], self.language),
                )
            )
            if invariance is not None:
                section.blocks.append(invariance)
        return section

    def compared_groups(
        self, column: str | None
    ) -> tuple[list[str], pd.DataFrame, pd.DataFrame] | None:
        """The levels of ``column`` in order, the index means per construct and level, and the
        tests of their differences; None without a column of two or more levels."""
        if not column or column not in self.data.columns:
            return None
        indexed = self.scores.apply(self.index)
        frame = indexed.assign(**{column: self.data[column].to_numpy()}).dropna(subset=[column])
        levels = [str(level) for level in sorted(frame[column].unique(), key=_natural)]
        if len(levels) < 2:
            return None
        summary, tests = self.comparison(frame, column)
        return levels, summary, tests

    def level_label(self, column: str, level: str) -> str:
        """A group's answer code as its respondents saw it: the option label of a choice
        question, a value label from the data file, else the code itself."""
        definition = self.request.definition
        found = definition.find_item(column) if definition is not None else None
        options = getattr(found[2], "options", None) if found else None
        for option in options or []:
            if option.value == level and (text := self._texts(option.label)):
                return text
        labels = self.request.value_labels.get(column) or {}
        for value, text in labels.items():
            if str(value) == level or (_finite(value) and _number_text(value) == level):
                return str(text)
        return level

    def difference_sentences(self) -> list[str]:
        """The significant differences in the indices between waves and between groups, in
        words, with the groups' labels; a sentence saying so when there are none."""
        sentences = []
        for column in dict.fromkeys((self.request.wave, self.request.group)):
            compared = self.compared_groups(column)
            if compared is None:
                continue
            levels, summary, tests = compared
            wave = column == self.request.wave
            found = []
            for construct in self.constructs:
                pvalue = tests.loc[construct, "pvalue"]
                if not (_finite(pvalue) and pvalue < 0.05):
                    continue
                means = {level: summary.loc[(construct, level), "mean"] for level in levels}
                if wave:
                    first, last = means[levels[0]], means[levels[-1]]
                    key = "diff_rose" if last > first else "diff_fell"
                    values = {"first": f"{first:.0f}", "last": f"{last:.0f}"}
                else:
                    high, low = max(means, key=means.get), min(means, key=means.get)
                    key = "diff_range"
                    values = {
                        "high": self.level_label(column, high),
                        "high_value": f"{means[high]:.0f}",
                        "low": self.level_label(column, low),
                        "low_value": f"{means[low]:.0f}",
                    }
                p_text = _p_text(pvalue, self.language)
                found.append(self.t(key, name=self.name(construct), p=p_text, **values))
            where = (
                {
                    "first": self.t("name_wave", level=levels[0]),
                    "last": self.t("name_wave", level=levels[-1]),
                }
                if wave
                else {"group": column}
            )
            prefix = "sum_waves" if wave else "sum_groups"
            if found:
                sentences.append(self.t(prefix, list=_join(found, self.language), **where))
            else:
                sentences.append(self.t(f"{prefix}_none", **where))
        return sentences

    def invariance(self, column: str) -> Mapping[str, Any] | None:
        """Measurement invariance across the groups of ``column``: the analysis result's when
        it tested this column, else tested here, once per report."""
        if column in self.invariance_tests:
            return self.invariance_tests[column]
        tested = (self.result.get("invariance") or {}).get(column)
        if not tested:
            constructs = {
                name: items
                for name, items in self.constructs.items()
                if len(items) >= 2 and not set(items) & self.latent
            }
            if constructs:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    tested = invariance_across(
                        self.data, constructs=constructs, group=column
                    ).to_dict()
        self.invariance_tests[column] = tested
        return tested

    def invariance_table(self, column: str, key: str) -> tuple[Table | None, str]:
        """The configural, metric and scalar fits with their verdict in the note, or (None,
        the sentence saying why they were not tested)."""
        tested = self.invariance(column)
        if not tested or tested.get("problem") == "one_group":
            return None, ""
        wave = key == "wave"
        between = self.t("between_waves") if wave else self.t("between_groups", group=column)
        sizes = {row["group"]: row["n"] for row in tested.get("groups") or []}

        def name(level: str) -> str:
            if wave:
                return self.t("name_wave", level=level)
            return self.t("name_group", group=column, level=level)

        problem, levels = tested.get("problem"), tested.get("levels") or []
        if problem == "too_few_answers":
            group = tested["group"]
            reason = self.t(
                "inv_too_few",
                between=between,
                name=name(group),
                answers=sizes.get(group, 0),
                needed=tested["needed"],
                unit=self.t("unit_wave" if wave else "unit_group"),
            )
            return None, reason
        if problem or not levels:
            detail = tested.get("detail") or ""
            return None, self.t("inv_not_estimable", between=between, detail=detail)
        rows = [
            [
                self.t(row["level"]),
                f"{format_number(row['chisq'], 'dec2')} ({format_number(row['df'], 'int')})",
                row["cfi"],
                row["delta_cfi"],
                row["rmsea"],
                row["delta_pvalue"],
                self.t("yes" if row["holds"] else "no"),
            ]
            for row in levels
        ]
        verdict = {"scalar": "inv_scalar", "metric": "inv_metric", "configural": "inv_configural"}
        compared = _join(
            [f"{name(group) if wave else group} (n = {n:,})" for group, n in sizes.items()],
            self.language,
        )
        note = self.t(verdict.get(tested.get("highest_level") or "", "inv_none"), between=between)
        table = Table(
            f"invariance_{key}",
            self.t("tab_invariance_waves")
            if wave
            else self.t("tab_invariance_groups", group=column),
            [
                Column(self.t("level")),
                Column("χ² (df)"),
                Column("CFI", "coef3"),
                Column("ΔCFI", "coef3"),
                Column("RMSEA", "coef3"),
                Column(self.t("delta_chisq_p"), "p"),
                Column(self.t("holds")),
            ],
            rows,
            note=_sentences([note, self.t("note_invariance", sizes=compared)], self.language),
        )
        return table, ""

    def comparison(self, indexed: pd.DataFrame, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
        """Group means of the indices and Welch tests: the analysis result's when it compared
        this column (tests are unchanged by the linear rescaling to 0–100), else computed."""
        stored = self.result.get("groups") or {}
        if stored.get("column") == column and stored.get("summary") and stored.get("tests"):
            summary = pd.DataFrame(stored["summary"])
            summary["mean"] = summary["mean"].map(self.index)
            tests = pd.DataFrame(stored["tests"])
        else:
            comparison = compare.compare_groups(
                indexed, group=column, variables=list(self.constructs)
            )
            summary, tests = comparison.summary, comparison.tests
        summary["group"] = summary["group"].map(str)
        return summary.set_index(["variable", "group"]), tests.set_index("variable")

    def methods(self) -> Section:
        section = Section("methods", self.t("sec_methods"))
        request = self.request
        section.blocks.append(Paragraph(self.t("methods_model"), "lead"))
        section.blocks.append(Paragraph(request.model.strip(), "code"))
        missing_key = "missing_fiml" if self.prepared.missing == "fiml" else "missing_listwise"
        section.blocks.append(
            Paragraph(
                self.t(
                    "methods_estimation",
                    missing=self.t(missing_key),
                    lo=f"{request.scale_min:g}",
                    hi=f"{request.scale_max:g}",
                    reverse=_join(list(request.reverse), self.language) or self.t("none"),
                )
            )
        )
        if request.bootstrap:
            section.blocks.append(
                Paragraph(self.t("methods_bootstrap", n=request.bootstrap, seed=request.seed))
            )
        else:
            section.blocks.append(Paragraph(self.t("methods_no_bootstrap")))
        tested = {
            column: values
            for column, values in self.invariance_tests.items()
            if values and values.get("problem") != "one_group"
        }
        if tested:
            compared = [
                self.t("between_waves") if column == request.wave else column for column in tested
            ]
            section.blocks.append(
                Paragraph(
                    self.t(
                        "methods_invariance",
                        list=_join(compared, self.language),
                        needed=max(values["needed"] for values in tested.values()),
                    )
                )
            )
        section.blocks.append(
            Paragraph(self.t("methods_software", list=_join(software_versions(), self.language)))
        )
        section.blocks.append(Paragraph(self.t("methods_repro")))
        return section


def software_versions() -> list[str]:
    """``name version`` of the software that produced the numbers and the document."""
    versions = [f"Python {platform.python_version()}"]
    for package in ("loyaltylab", "numpy", "scipy", "pandas", "matplotlib"):
        try:
            versions.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            continue
    return versions


def _natural(value: object) -> tuple[int, object]:
    return (0, float(value)) if isinstance(value, int | float | np.number) else (1, str(value))


def _chain(edges: Sequence[tuple[str, str]]) -> list[str] | None:
    """The path ``[source, ..., target]`` that the (from, to) ``edges`` form one after another,
    in any order, or None when they do not form one unbranched path."""
    targets = {to for _from, to in edges}
    starts = [start for start, _to in edges if start not in targets]
    following = dict(edges)
    if len(starts) != 1 or len(following) != len(edges):
        return None
    chain = [starts[0]]
    while chain[-1] in following and len(chain) <= len(edges):
        chain.append(following[chain[-1]])
    return chain if len(chain) == len(edges) + 1 else None


def _number_text(value: object) -> str:
    """``1.0`` as ``1``: numeric codes read from a file as the data show them."""
    return f"{float(value):g}"  # type: ignore[arg-type]


def _ok(value: object, threshold: float) -> bool:
    return _finite(value) and float(value) >= threshold  # type: ignore[arg-type]


def _verdict(value: object, rule: tuple[float, float, bool] | None) -> str:
    if rule is None or not _finite(value):
        return ""
    good, acceptable, higher_is_better = rule
    number = float(value)  # type: ignore[arg-type]
    if higher_is_better:
        return "good" if number >= good else "acceptable" if number >= acceptable else "poor"
    return "good" if number <= good else "acceptable" if number <= acceptable else "poor"


def _overall_fit(fit: Mapping[str, float]) -> str:
    verdicts = [
        _verdict(fit.get("cfi"), (0.95, 0.90, True)),
        _verdict(fit.get("rmsea"), (0.06, 0.08, False)),
        _verdict(fit.get("srmr"), (0.08, 0.08, False)),
    ]
    verdicts = [v for v in verdicts if v]
    if not verdicts or "poor" in verdicts:
        return "poor"
    return "good" if all(v == "good" for v in verdicts) else "acceptable"


def _square(value: object) -> pd.DataFrame | None:
    """A symmetric construct × construct matrix from ``{a: {b: v}}`` (either triangle)."""
    if not isinstance(value, Mapping) or not value:
        return None
    names = list(dict.fromkeys([*value, *(b for inner in value.values() for b in inner)]))
    matrix = pd.DataFrame(np.nan, index=names, columns=names)
    for a, inner in value.items():
        for b, number in inner.items():
            if _finite(number):
                matrix.loc[a, b] = matrix.loc[b, a] = float(number)
    return matrix


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
    return _Builder(data, result, request, progress or (lambda fraction, message: None)).build()
