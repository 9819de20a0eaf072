"""The whole loyalty analysis by PLS path modelling: ``analyze(..., estimator="pls")``.

The responses are prepared as for covariance-based SEM (reverse-keyed items recoded,
incomplete rows left out), the PLS model is estimated, and its quality criteria,
predictive relevance (blindfolding Q², PLSpredict), satisfaction indices, the
importance-performance map and, on request, bootstrap inference are computed, next to the
descriptives, NPS and group comparisons every analysis reports. :meth:`PlsAnalysis.to_dict`
gives the JSON document, with the same keys as the covariance-based one where the two share
a meaning (``estimates``, ``r2``, ``reliability``, ``htmt``, ``fornell_larcker``,
``descriptives``...).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis._tables import json_safe, nested_pairs, records
from analysis.compare import GroupComparison
from analysis.pipeline import (
    ESTIMATE_COLUMNS,
    compare_columns,
    compare_scores,
    nps_tables,
    score_tables,
    survey_sections,
)
from analysis.pls.bootstrap import PlsBootstrap, bootstrap_pls
from analysis.pls.estimation import PlsResult, fit_pls
from analysis.pls.indices import importance_performance_map, satisfaction_index
from analysis.pls.predict import PlsPrediction, blindfolding, plspredict
from analysis.pls.specification import pls_model
from analysis.prepare import prepare
from analysis.syntax import ModelSpec

__all__ = ["PlsAnalysis", "analyze_pls"]

OMISSION_DISTANCE = 7
PREDICT_FOLDS = 10
PREDICT_REPETITIONS = 10
_BOOTSTRAP_KEYS = ("se", "t", "pvalue", "ci_lower", "ci_upper", "bca_lower", "bca_upper")


@dataclass(frozen=True)
class PlsAnalysis:
    """Everything :func:`analyze_pls` computed.

    Attributes
    ----------
    n_rows, n_used : int
        Rows read and complete rows analysed.
    dropped : pandas.DataFrame
        ``reason, n`` for the rows left out.
    constructs : dict
        Construct -> items (single-item constructs included).
    pls : PlsResult
        The estimated model.
    f2 : pandas.DataFrame
        Effect size of every path.
    q2 : pandas.DataFrame
        Blindfolding Q² of every endogenous construct.
    prediction : PlsPrediction or None
        PLSpredict (10 folds, 10 repetitions, shuffled with ``seed``, or 0 without one);
        None when there are fewer than 20 rows.
    indices : pandas.Series or None
        ACSI-style 0-100 index of every construct (needs the scale range).
    importance_performance, importance_performance_items : pandas.DataFrame or None
        IPMA of the target construct (needs the scale range and a single final outcome).
    target : str or None
        That outcome: the only construct with paths into it and none out of it.
    bootstrap : PlsBootstrap or None
        Bootstrap inference, when ``bootstrap > 0``.
    scores : pandas.DataFrame
        Construct scores as item means (the PLS scores are ``pls.scores``).
    correlations, descriptives, nps, groups, group_column
        As in :class:`analysis.pipeline.AnalysisResult`.
    scale : tuple of float or None
        ``(scale_min, scale_max)``.
    recoded : pandas.DataFrame
        Answers turned missing by missing-value codes (``item, code, n``).
    omission_distance : int
        Of the blindfolding: 7, or the next number that does not divide the rows.
    comparisons : dict of str to GroupComparison
        Construct scores compared across the groups of each column of ``compare``.
    """

    n_rows: int
    n_used: int
    dropped: pd.DataFrame
    constructs: dict[str, list[str]]
    pls: PlsResult
    f2: pd.DataFrame
    q2: pd.DataFrame
    prediction: PlsPrediction | None
    indices: pd.Series | None
    importance_performance: pd.DataFrame | None
    importance_performance_items: pd.DataFrame | None
    target: str | None
    bootstrap: PlsBootstrap | None
    scores: pd.DataFrame
    correlations: pd.DataFrame
    descriptives: pd.DataFrame
    nps: pd.DataFrame | None
    groups: GroupComparison | None
    group_column: str | None
    scale: tuple[float, float] | None
    recoded: pd.DataFrame
    omission_distance: int = OMISSION_DISTANCE
    missing: str = "listwise"
    estimator: str = "pls"
    comparisons: dict[str, GroupComparison] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON-safe document (see the module docstring for the keys it shares).

        PLS keys: ``pls`` (settings, iterations), ``weights`` and ``loadings``
        (``{construct: {item: value}}``), ``outer`` (per item: weight, loading, communality,
        VIF and, with the bootstrap, their SE, t, p and intervals), ``cross_loadings``,
        ``effects`` (direct, indirect, total per pair, with bootstrap statistics),
        ``r2_adj``, ``gof``, ``htmt2``, ``f2``, ``q2``, ``vif`` (``outer``, ``inner``),
        ``indices``, ``importance_performance``, ``plspredict``. ``reliability`` has
        ``alpha`` (of the standardized items, as SmartPLS, seminr and plspm), ``rho_a``,
        ``rho_c`` (also as ``cr``), ``ave``, ``n_items`` and ``mode``. ``estimates`` rows are
        loadings (``=~``), composite weights (``<~``), paths (``~``) and ``:=`` parameters,
        all standardized (``std_all`` equals ``est``); with the bootstrap ``se``, ``z`` (the
        bootstrap t value), ``pvalue``, percentile ``ci_lower, ci_upper`` and
        ``bca_lower, bca_upper``.
        """
        pls = self.pls
        reliability = pls.reliability()
        r2 = pls.r2()
        document = {
            "n_rows": self.n_rows,
            "n_used": self.n_used,
            "dropped": records(self.dropped),
            "missing": self.missing,
            "estimator": self.estimator,
            "pls": {
                "scheme": pls.settings.scheme,
                "scaled": pls.settings.scaled,
                "consistent": pls.settings.consistent,
                "tolerance": pls.settings.tol,
                "max_iterations": pls.settings.max_iter,
                "iterations": pls.iterations,
                "omission_distance": self.omission_distance,
            },
            "missing_codes": records(self.recoded),
            # One model estimated: the PLS path model (outer and inner).
            "warnings": [{"model": "pls", "message": message} for message in pls.warnings],
            "estimates": records(self._estimates()),
            "weights": _by_construct(pls.outer(), "weight"),
            "loadings": _by_construct(pls.outer(), "loading"),
            "outer": records(self._outer()),
            "cross_loadings": {
                item: dict(row) for item, row in pls.cross_loadings().to_dict("index").items()
            },
            "effects": records(self._effects()),
            "r2": dict(zip(r2["construct"], r2["r2"], strict=True)),
            "r2_adj": dict(zip(r2["construct"], r2["r2_adj"], strict=True)),
            "reliability": {
                row["construct"]: {
                    "alpha": row["alpha"],
                    "rho_a": row["rho_a"],
                    "rho_c": row["rho_c"],
                    "cr": row["rho_c"],
                    "ave": row["ave"],
                    "n_items": row["n_items"],
                    "mode": row["mode"],
                }
                for row in reliability.to_dict("records")
            },
            "gof": pls.gof,
            "htmt": nested_pairs(pls.htmt(), "htmt"),
            "htmt2": nested_pairs(pls.htmt(geometric=True), "htmt"),
            "fornell_larcker": {
                a: dict(row) for a, row in pls.fornell_larcker().to_dict("index").items()
            },
            "f2": _to_from(self.f2, "f2"),
            "q2": dict(zip(self.q2["construct"], self.q2["q2"], strict=True)),
            "vif": {
                "outer": _by_construct(pls.outer(), "vif"),
                "inner": _to_from(pls.inner_vif(), "vif"),
            },
            "correlations": records(self.correlations),
            "descriptives": records(self.descriptives),
        }
        if self.scale is not None:
            document["scale"] = {"min": self.scale[0], "max": self.scale[1]}
        if self.indices is not None:
            document["indices"] = self.indices.to_dict()
        if self.importance_performance is not None:
            document["importance_performance"] = {
                "target": self.target,
                "constructs": records(self.importance_performance),
                "items": (
                    None
                    if self.importance_performance_items is None
                    else records(self.importance_performance_items)
                ),
            }
        if self.prediction is not None:
            document["plspredict"] = {
                "folds": self.prediction.folds,
                "repetitions": self.prediction.repetitions,
                "seed": self.prediction.seed,
                "power": self.prediction.power,
                "items": records(self.prediction.items),
            }
        document |= survey_sections(
            self.nps, self.groups, self.group_column, comparisons=self.comparisons
        )
        if self.bootstrap is not None:
            boot = self.bootstrap
            document["bootstrap"] = {
                "n_boot": boot.n_boot,
                "n_ok": boot.n_ok,
                "seed": boot.seed,
                "confidence": boot.confidence,
                "interval": "percentile",
                "r2": records(boot.r2),
                "htmt": records(boot.htmt),
                "htmt2": records(boot.htmt2),
            }
        return json_safe(document)

    def _estimates(self) -> pd.DataFrame:
        table = self.pls.estimates()
        table["std_all"] = table["est"]
        if self.bootstrap is not None:
            boot = self.bootstrap
            keyed = {
                "=~": boot.loadings.set_index(["construct", "item"]),
                "<~": boot.weights.set_index(["construct", "item"]),
                "~": boot.paths.set_index(["to", "from"]),
                ":=": boot.defined.set_index("name"),
            }
            for key in _BOOTSTRAP_KEYS:
                table[key] = [
                    keyed[op][key].get(lhs if op == ":=" else (lhs, rhs), np.nan)
                    for lhs, op, rhs in zip(table["lhs"], table["op"], table["rhs"], strict=True)
                ]
            table = table.rename(columns={"t": "z"})
        columns = [*ESTIMATE_COLUMNS, "bca_lower", "bca_upper"]
        return table.reindex(columns=columns)

    def _outer(self) -> pd.DataFrame:
        outer = self.pls.outer()
        if self.bootstrap is None:
            return outer
        for name, table in (
            ("weight", self.bootstrap.weights),
            ("loading", self.bootstrap.loadings),
        ):
            stats = table[list(_BOOTSTRAP_KEYS)].add_prefix(f"{name}_")
            outer = pd.concat([outer, stats.reset_index(drop=True)], axis=1)
        return outer

    def _effects(self) -> pd.DataFrame:
        effects = self.pls.effects()
        if self.bootstrap is None:
            return effects
        for name, table in (("indirect", self.bootstrap.indirect), ("total", self.bootstrap.total)):
            stats = table.set_index(["from", "to"])[list(_BOOTSTRAP_KEYS)].add_prefix(f"{name}_")
            effects = effects.join(stats, on=["from", "to"])
        return effects


def _by_construct(table: pd.DataFrame, value: str) -> dict[str, dict[str, float]]:
    nested: dict[str, dict[str, float]] = {}
    for construct, item, v in zip(table["construct"], table["item"], table[value], strict=True):
        nested.setdefault(construct, {})[item] = v
    return nested


def _to_from(table: pd.DataFrame, value: str) -> dict[str, dict[str, float]]:
    """``{outcome: {predictor: value}}``."""
    nested: dict[str, dict[str, float]] = {}
    for source, target, v in zip(table["from"], table["to"], table[value], strict=True):
        nested.setdefault(target, {})[source] = v
    return nested


def analyze_pls(
    data: pd.DataFrame,
    spec: ModelSpec,
    *,
    reverse: Sequence[str] = (),
    scale_min: float | None = None,
    scale_max: float | None = None,
    missing_codes: Sequence[float] = (),
    bootstrap: int = 0,
    seed: int | None = None,
    group: str | None = None,
    nps: str | None = None,
    scheme: str = "path",
    scaled: bool = True,
    consistent: bool = False,
    compare: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> PlsAnalysis:
    """The complete PLS-SEM analysis of a loyalty survey.

    Called by :func:`analysis.pipeline.analyze` with ``estimator="pls"``, which checks the
    common options; see there for the parameters. Stages reported to ``progress``:
    ``"prepare"``, ``"pls"``, ``"quality"``, ``"prediction"``, ``"indices"``, ``"scores"``,
    ``"groups"``, ``"bootstrap <done>/<total>"``.

    References
    ----------
    Hair, J. F., Hult, G. T. M., Ringle, C. M., & Sarstedt, M. (2022). *A primer on partial
    least squares structural equation modeling (PLS-SEM)* (3rd ed.). Sage.
    """
    report = progress or (lambda stage: None)
    model = pls_model(spec, columns=data.columns)
    report("prepare")
    prepared = prepare(
        data,
        list(model.items),
        reverse=reverse,
        scale_min=scale_min,
        scale_max=scale_max,
        missing_codes=missing_codes,
    )
    items = prepared.data
    report("pls")
    result = fit_pls(items, model, scheme=scheme, scaled=scaled, consistent=consistent)
    report("quality")
    f2 = result.f_squared()
    report("prediction")
    omission_distance = _omission_distance(result.n)
    q2 = blindfolding(result, omission_distance=omission_distance)
    prediction = (
        # Seeded also without a seed: the same data give the same report.
        plspredict(
            result,
            folds=PREDICT_FOLDS,
            repetitions=PREDICT_REPETITIONS,
            seed=0 if seed is None else seed,
        )
        if result.n >= 2 * PREDICT_FOLDS
        else None
    )
    target = model.final_outcome
    indices = ipma = ipma_items = None
    if scale_min is not None and scale_max is not None:
        report("indices")
        indices = satisfaction_index(result, scale_min=scale_min, scale_max=scale_max)
        if target is not None:
            ipma, ipma_items = importance_performance_map(
                result, target=target, scale_min=scale_min, scale_max=scale_max
            )
    report("scores")
    constructs = {block.construct: list(block.items) for block in model.blocks}
    scores, correlation_table, descriptives = score_tables(
        items, constructs, scale_min=scale_min, scale_max=scale_max
    )
    groups = None
    if group is not None:
        report("groups")
        groups = compare_scores(scores, data, group=group)
    comparisons = compare_columns(scores, data, compare)
    boot = None
    if bootstrap:
        boot = bootstrap_pls(
            result,
            n_boot=bootstrap,
            seed=seed,
            progress=lambda done, total: report(f"bootstrap {done}/{total}"),
        )
    return PlsAnalysis(
        n_rows=prepared.n_rows,
        n_used=prepared.n_used,
        dropped=prepared.dropped,
        constructs=constructs,
        pls=result,
        f2=f2,
        q2=q2,
        prediction=prediction,
        indices=indices,
        importance_performance=ipma,
        importance_performance_items=ipma_items,
        target=target,
        bootstrap=boot,
        scores=scores,
        correlations=correlation_table,
        descriptives=descriptives,
        nps=None if nps is None else nps_tables(data, column=nps, group=group),
        groups=groups,
        group_column=group,
        scale=None if scale_min is None or scale_max is None else (scale_min, scale_max),
        recoded=prepared.recoded,
        omission_distance=omission_distance,
        comparisons=comparisons,
    )


def _omission_distance(n: int) -> int:
    """7, or the next distance that does not divide the number of rows."""
    distance = OMISSION_DISTANCE
    while n % distance == 0:
        distance += 1
    return distance
