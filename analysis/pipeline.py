"""The whole loyalty analysis in one call: from responses and a lavaan model to every table.

:func:`analyze` prepares the data, fits the measurement model (all constructs, freely
correlated) and the structural model, and computes reliability, discriminant validity,
construct-score correlations, descriptives, the NPS, group comparisons, the
importance-performance map and, on request, measurement invariance across groups and bootstrap
intervals.
:meth:`AnalysisResult.to_dict` turns it into the JSON document the web app, the reports and
``loyaltylab analyze --json`` share.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import numpy as np
import pandas as pd

from analysis._checks import require_columns
from analysis._parallel import single_threaded_blas
from analysis._tables import json_safe as _json_safe
from analysis._tables import nested_pairs as _nested
from analysis._tables import records as _records
from analysis.common_method import HarmanTest, harman_single_factor
from analysis.compare import GroupComparison, compare_groups
from analysis.correlation import correlations
from analysis.descriptives import construct_scores, describe, mardia, net_promoter_score
from analysis.drivers import importance_performance
from analysis.errors import ConvergenceError, IdentificationError
from analysis.invariance import measurement_invariance
from analysis.prepare import prepare
from analysis.reliability import item_total, reliability
from analysis.sem import SemResult, fit_sem
from analysis.sem.fitting import build_estimator
from analysis.sem.modindices import MI_COLUMNS
from analysis.sem.multigroup import released_parameters
from analysis.sem.options import ESTIMATORS, resolve_options
from analysis.sem.partable import build_table
from analysis.syntax import measurement_syntax, parse_model
from analysis.validity import fornell_larcker, fornell_larcker_matrix, htmt

if TYPE_CHECKING:
    from analysis.pls.pipeline import PlsAnalysis

__all__ = ["AnalysisResult", "GroupInvariance", "analyze", "invariance_across"]

ESTIMATE_COLUMNS = (
    "lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all",
)  # fmt: skip
RELIABILITY_KEYS = ("alpha", "alpha_ci_lower", "alpha_ci_upper", "omega", "cr", "ave", "n_items")
ORDINAL_RELIABILITY_KEYS = ("alpha_ordinal", "omega_categorical")
"""Added to a construct's reliability when the analysis has ordered items."""
MODINDICES_MINIMUM = 3.84
"""Modification indices reported: those significant at 5% on one df."""
_REPORTED_OPS = ("=~", "~", "~~", ":=", "|")
INVARIANCE_MIN_PER_GROUP = 50
"""Fewest complete answers per group for an invariance test, and at least two per item: CFA
estimates are unstable below this (and a group's covariance matrix is singular with fewer
answers than items). The web dashboard applies the same rule to waves."""


@dataclass(frozen=True)
class GroupInvariance:
    """Measurement invariance of the constructs across the groups of one column.

    Attributes
    ----------
    column : str
        The grouping column (a wave, a segment).
    sizes : dict of str to int
        Complete answers to the construct items per group (group as text), in natural order:
        numbers by value, then text.
    needed : int
        Fewest complete answers every group needs: ``max(50, 2 × items)``.
    table : pandas.DataFrame or None
        :func:`analysis.invariance.measurement_invariance`'s table (configural, metric,
        scalar), when tested.
    problem : str or None
        Why it was not tested: ``"one_group"``, ``"too_few_answers"`` (``group`` has the
        fewest, below ``needed``) or ``"not_estimable"`` (``detail`` says why).
    group : str
        The group with too few answers.
    detail : str
        Why the models could not be estimated.
    partial : tuple of str
        Parameters left free across groups (partial invariance).
    missing, estimator : str
        How the models were fitted.
    """

    column: str
    sizes: dict[str, int]
    needed: int
    table: pd.DataFrame | None = None
    problem: str | None = None
    group: str = ""
    detail: str = ""
    partial: tuple[str, ...] = ()
    missing: str = "listwise"
    estimator: str = "ML"

    @property
    def highest_level(self) -> str | None:
        """The strictest level that holds (levels hold in order), None if not even configural."""
        if self.table is None:
            return None
        held = self.table.loc[self.table["holds"], "level"]
        return str(held.iloc[-1]) if len(held) else None

    def to_dict(self) -> dict:
        """JSON-safe: ``column``, ``groups`` (``group, n`` in order), ``needed``, ``problem``,
        ``group``, ``detail``, ``partial``, ``missing``, ``estimator``, ``highest_level`` and
        ``levels`` (the table's rows, or none)."""
        return _json_safe(
            {
                "column": self.column,
                "groups": [{"group": name, "n": n} for name, n in self.sizes.items()],
                "needed": self.needed,
                "partial": list(self.partial),
                "missing": self.missing,
                "estimator": self.estimator,
                "problem": self.problem,
                "group": self.group,
                "detail": self.detail,
                "highest_level": self.highest_level,
                "levels": [] if self.table is None else _records(self.table),
            }
        )


@dataclass(frozen=True)
class AnalysisResult:
    """Everything :func:`analyze` computed.

    Attributes
    ----------
    n_rows, n_used : int
        Rows read and rows analysed.
    dropped : pandas.DataFrame
        ``reason, n`` for the rows left out (see :class:`analysis.prepare.PreparedData`).
    missing : str
        Missing-data method.
    constructs : dict
        Construct -> items, from the model's ``=~`` lines (indicators that are data columns).
    model, measurement_model : SemResult
        The structural model as given, and the CFA of all constructs freely correlated.
    reliability : pandas.DataFrame
        Alpha with Feldt's interval, omega, CR, AVE and their flags, per construct.
    item_total : pandas.DataFrame
        Item-rest correlation and alpha if deleted, per item.
    htmt : pandas.DataFrame
        HTMT per pair of constructs.
    fornell_larcker : pandas.DataFrame
        Fornell-Larcker comparison per pair of constructs.
    fornell_larcker_matrix : pandas.DataFrame
        √AVE on the diagonal, latent correlations off it.
    scores : pandas.DataFrame
        Construct scores (mean of the recoded items) of the rows analysed.
    correlations : pandas.DataFrame
        Pearson and Spearman correlations of the construct scores.
    descriptives : pandas.DataFrame
        Items and construct scores (column ``kind``: ``"item"`` or ``"construct"``).
    nps : pandas.DataFrame or None
        NPS overall (``group`` NaN) and, with a group column, per group.
    groups : GroupComparison or None
        Construct scores compared across the groups of ``group``.
    group_column : str or None
        The grouping column.
    importance_performance : pandas.DataFrame or None
        Drivers of the model's final outcome (needs the scale range).
    target : str or None
        That outcome: the only latent variable regressed on others and predicting none.
    bootstrap : pandas.DataFrame or None
        Percentile intervals per parameter, when ``bootstrap > 0``.
    invariance : dict of str to GroupInvariance
        Measurement invariance across the groups of each column of ``invariance``.
    htmt2 : pandas.DataFrame
        HTMT2 (geometric means) per pair of constructs.
    mardia : dict or None
        Mardia's multivariate skewness and kurtosis of the items (complete rows).
    modindices : pandas.DataFrame or None
        Modification indices of the structural model, ``mi >= 3.84`` (None for WLSMV fits:
        the indices are those of the maximum likelihood fit function).
    common_method : HarmanTest or None
        Harman's single-factor test (two or more constructs).
    recoded : pandas.DataFrame
        Answers turned missing by missing-value codes (``item, code, n``).
    ordered : tuple of str
        The items analysed as ordered (WLSMV); empty for maximum likelihood.
    comparisons : dict of str to GroupComparison
        Construct scores compared across the groups of each column of ``compare``.
    """

    n_rows: int
    n_used: int
    dropped: pd.DataFrame
    missing: str
    constructs: dict[str, list[str]]
    model: SemResult
    measurement_model: SemResult
    reliability: pd.DataFrame
    item_total: pd.DataFrame
    htmt: pd.DataFrame
    fornell_larcker: pd.DataFrame
    fornell_larcker_matrix: pd.DataFrame
    scores: pd.DataFrame
    correlations: pd.DataFrame
    descriptives: pd.DataFrame
    nps: pd.DataFrame | None
    groups: GroupComparison | None
    group_column: str | None
    importance_performance: pd.DataFrame | None
    target: str | None
    bootstrap: pd.DataFrame | None
    invariance: dict[str, GroupInvariance] = field(default_factory=dict)
    htmt2: pd.DataFrame = field(default_factory=pd.DataFrame)
    mardia: dict[str, float] | None = None
    modindices: pd.DataFrame | None = field(
        default_factory=lambda: pd.DataFrame(columns=MI_COLUMNS)
    )
    common_method: HarmanTest | None = None
    recoded: pd.DataFrame = field(default_factory=pd.DataFrame)
    ordered: tuple[str, ...] = ()
    comparisons: dict[str, GroupComparison] = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The JSON-safe document: plain dicts, lists, str, int, float, bool and None (NaN).

        Fit measures carry lavaan's ``fitMeasures()`` names with ``_`` for ``.``
        (``chisq_scaled``, ``chisq_scaling_factor``, ``chisq_shift_parameters``,
        ``cfi_robust``, ``rmsea_ci_upper_robust``, ...); ``estimator``, ``test`` and ``se``
        name (as lavaan) what the model fits used, and ``estimation`` adds the information;
        with ordered items (``ordered``) the estimates include the thresholds (``op``
        ``"|"``) and reliability ordinal alpha and categorical omega. ``warnings`` are
        ``{model: "measurement" | "structural", message}``; ``modindices`` lists ``lhs, op,
        rhs, mi, epc, sepc_all`` for every index of at least 3.84 (null for WLSMV fits);
        ``htmt2``, ``mardia``, ``common_method`` and ``missing_codes`` hold the tables of the
        same names; ``importance_performance`` (``target``, ``constructs``) the map of the
        final outcome's drivers, ``comparisons`` (``{column: {summary, tests, posthoc}}``) the
        construct scores compared across each column of ``compare``.
        """
        estimates = self.model.estimates
        estimates = estimates[estimates["op"].isin(_REPORTED_OPS)]
        options = self.model.options
        reliability_keys = RELIABILITY_KEYS + (ORDINAL_RELIABILITY_KEYS if self.ordered else ())
        document = {
            "n_rows": self.n_rows,
            "n_used": self.n_used,
            "dropped": _records(self.dropped),
            "missing": self.missing,
            "estimator": options.estimator,
            "test": options.test,
            "se": options.se,
            "estimation": {
                "estimator": options.estimator,
                "se": options.se,
                "test": options.test,
                "information": options.information,
            },
            "ordered": list(self.ordered),
            "missing_codes": _records(self.recoded),
            "warnings": [
                {"model": "measurement", "message": message}
                for message in self.measurement_model.warnings
            ]
            + [
                {"model": "structural", "message": message}
                for message in self.model.warnings
                if self.model is not self.measurement_model
            ],
            "fit": dict(self.model.fit),
            "measurement_fit": dict(self.measurement_model.fit),
            "estimates": _records(estimates.reindex(columns=list(ESTIMATE_COLUMNS))),
            "r2": dict(self.model.r2),
            "reliability": {
                row["construct"]: {key: row.get(key) for key in reliability_keys}
                for row in self.reliability.to_dict("records")
            },
            "htmt": _nested(self.htmt, "htmt"),
            "htmt2": _nested(self.htmt2, "htmt"),
            "fornell_larcker": {
                a: dict(row) for a, row in self.fornell_larcker_matrix.to_dict("index").items()
            },
            "correlations": _records(self.correlations),
            "descriptives": _records(self.descriptives),
            "mardia": self.mardia,
            "modindices": None if self.modindices is None else _records(self.modindices),
        }
        if self.common_method is not None:
            document["common_method"] = self.common_method.to_dict()
        document |= survey_sections(
            self.nps, self.groups, self.group_column, comparisons=self.comparisons
        )
        if self.importance_performance is not None:
            document["importance_performance"] = {
                "target": self.target,
                "constructs": _records(self.importance_performance),
            }
        if self.invariance:
            document["invariance"] = {
                column: tested.to_dict() for column, tested in self.invariance.items()
            }
        if self.bootstrap is not None:
            document["bootstrap"] = {
                str(parameter): {
                    "ci_lower": row["ci_lower"],
                    "ci_upper": row["ci_upper"],
                    "n_ok": row["n_ok"],
                }
                for parameter, row in self.bootstrap.iterrows()
            }
        return _json_safe(document)


def _natural(value: object) -> tuple[int, object]:
    return (0, float(value)) if isinstance(value, int | float | np.number) else (1, str(value))


def invariance_across(
    data: pd.DataFrame,
    *,
    constructs: Mapping[str, Sequence[str]],
    group: str,
    order: Sequence[object] | None = None,
    missing: str = "listwise",
    estimator: str = "ML",
    partial: Sequence[str] = (),
    ordered: Sequence[str] = (),
) -> GroupInvariance:
    """Configural, metric and scalar invariance across the groups of ``group``, if testable.

    The rows with every item of ``constructs`` answered are compared (listwise; under FIML
    every row with an answer), by maximum likelihood
    (:func:`analysis.invariance.measurement_invariance`). Every group needs at least
    ``max(50, 2 × items)`` of them; otherwise, or when the models cannot be estimated, the
    result says why instead.

    Parameters
    ----------
    data : pandas.DataFrame
        The items (reverse-keyed items already recoded) and the ``group`` column; rows without
        a group are left out.
    constructs : mapping of str to sequence of str
        Construct -> its items, two or more each.
    group : str
        The grouping column.
    order : sequence, optional
        The groups in the order to report them (e.g. waves in time order), the first being the
        reference group; by default natural order. Groups not listed are left out.
    missing, estimator : str
        As in :func:`analysis.sem.fit_sem`.
    partial : sequence of str
        Parameters left free across groups (partial invariance), e.g. ``["loy2~1"]``.
    ordered : sequence of str
        Items analysed as ordered: invariance of thresholds is not tested (yet), so with any
        of them among the constructs' items the result says ``"not_estimable"``.

    Examples
    --------
    >>> rng = np.random.default_rng(3)
    >>> f = rng.standard_normal(120)
    >>> data = pd.DataFrame({f"q{i}": 0.8 * f + 0.6 * rng.standard_normal(120) for i in range(3)})
    >>> data["wave"] = np.repeat([2, 1], [90, 30])
    >>> tested = invariance_across(data, constructs={"SAT": ["q0", "q1", "q2"]}, group="wave")
    >>> tested.sizes, tested.problem, tested.group
    ({'1': 30, '2': 90}, 'too_few_answers', '1')
    """
    items = [item for members in constructs.values() for item in members]
    require_columns(data, items)
    require_columns(data, [group], numeric=False)
    needed = max(INVARIANCE_MIN_PER_GROUP, 2 * len(items))
    frame = data.loc[data[group].notna(), [*items, group]]
    present = set(frame[group].unique())
    if order is None:
        levels = sorted(present, key=_natural)
    else:
        levels = [level for level in order if level in present]
        frame = frame[frame[group].isin(levels)]
    used = frame.dropna() if missing == "listwise" else frame[frame[items].notna().any(axis=1)]
    sizes = {str(level): int((used[group] == level).sum()) for level in levels}
    tested: dict[str, Any] = {
        "column": group,
        "sizes": sizes,
        "needed": needed,
        "partial": tuple(partial),
        "missing": missing,
        "estimator": str(estimator).upper(),
    }
    if len(levels) < 2:
        return GroupInvariance(**tested, problem="one_group")
    smallest = min(sizes, key=sizes.__getitem__)
    if sizes[smallest] < needed:
        return GroupInvariance(**tested, problem="too_few_answers", group=smallest)
    if set(ordered) & set(items):
        return GroupInvariance(
            **tested,
            problem="not_estimable",
            detail="measurement invariance of ordered items (equal thresholds across groups) "
            "is not available; analyse the items as continuous to test it",
        )
    try:
        # Many small matrices: BLAS threads only add overhead (several times slower under load).
        with single_threaded_blas():
            table = measurement_invariance(
                used,
                constructs=constructs,
                group=group,
                group_order=levels,
                missing=missing,
                estimator=estimator,
                partial=partial,
            )
    except ValueError as error:
        return GroupInvariance(**tested, problem="not_estimable", detail=str(error))
    return GroupInvariance(**tested, table=table)


def _ordered_items(data: pd.DataFrame, spec, ordered: Sequence[str] | bool) -> list[str]:
    """The model's observed variables to analyse as ordered (``True``: all of them)."""
    if ordered is True:
        return list(spec.observed_variables)
    if ordered is False:
        return []
    ordered = [ordered] if isinstance(ordered, str) else list(ordered)
    require_columns(data, ordered, numeric=False)
    return [name for name in spec.observed_variables if name in set(ordered)]


def _refuse_for_pls(
    *, missing: str, invariance: Sequence[str], partial: Sequence[str], ordered: Sequence[str]
) -> None:
    if missing != "listwise":
        raise ValueError("PLS estimates from complete answers: use missing 'listwise'")
    if invariance or partial:
        raise ValueError(
            "measurement invariance is tested with covariance-based SEM (estimator 'ML')"
        )
    if ordered:
        raise ValueError("PLS treats items as metric; ordered items need estimator 'WLSMV'")


def _final_outcome(spec) -> str | None:
    """The single latent variable that is regressed on others and predicts none."""
    predictors = {p for outcome in spec.regressions for p in spec.regressions[outcome]}
    outcomes = [o for o in spec.regressions if o in spec.latent_variables and o not in predictors]
    return outcomes[0] if len(outcomes) == 1 else None


def _report(progress: Callable[[str], None] | None, stage: str) -> None:
    if progress is not None:
        progress(stage)


def score_tables(
    items: pd.DataFrame,
    constructs: Mapping[str, Sequence[str]],
    *,
    scale_min: float | None,
    scale_max: float | None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Construct scores (item means), their correlations and the descriptives of items and
    scores (column ``kind``: ``"item"`` or ``"construct"``), as every analysis reports them."""
    scores = construct_scores(items, constructs)
    correlation_table = (
        correlations(scores)
        if len(constructs) > 1
        else pd.DataFrame(columns=["x", "y", "method", "n", "r", "ci_lower", "ci_upper", "pvalue"])
    )
    item_columns = [item for members in constructs.values() for item in members]
    descriptives = pd.concat(
        [
            describe(items, columns=item_columns, scale_min=scale_min, scale_max=scale_max).assign(
                kind="item"
            ),
            describe(scores, scale_min=scale_min, scale_max=scale_max).assign(kind="construct"),
        ],
        ignore_index=True,
    )
    return scores, correlation_table, descriptives


def compare_scores(scores: pd.DataFrame, data: pd.DataFrame, *, group: str) -> GroupComparison:
    """Construct scores (rows of ``data`` by index) compared across the groups of ``group``."""
    return compare_groups(
        scores.assign(**{group: data.loc[scores.index, group]}),
        group=group,
        variables=list(scores.columns),
    )


def _comparison(groups: GroupComparison, column: str | None) -> dict:
    return {
        "column": column,
        "summary": _records(groups.summary),
        "tests": _records(groups.tests),
        "posthoc": _records(groups.posthoc),
    }


def survey_sections(
    nps: pd.DataFrame | None,
    groups: GroupComparison | None,
    group_column: str | None,
    *,
    comparisons: Mapping[str, GroupComparison],
) -> dict:
    """The ``nps``, ``groups`` and ``comparisons`` parts of an analysis document (those
    computed)."""
    sections: dict = {}
    if nps is not None:
        overall = nps[nps["group"].isna()].drop(columns="group")
        sections["nps"] = _records(overall)[0] | {"by_group": _records(nps[nps["group"].notna()])}
    if groups is not None:
        sections["groups"] = _comparison(groups, group_column)
    if comparisons:
        sections["comparisons"] = {
            column: _comparison(compared, column) for column, compared in comparisons.items()
        }
    return sections


def compare_columns(
    scores: pd.DataFrame, data: pd.DataFrame, columns: Sequence[str]
) -> dict[str, GroupComparison]:
    """Construct scores compared across the groups of each column with two or more groups
    among the rows scored."""
    return {
        column: compare_scores(scores, data, group=column)
        for column in columns
        if data.loc[scores.index, column].nunique() >= 2
    }


def nps_tables(data: pd.DataFrame, *, column: str, group: str | None) -> pd.DataFrame:
    """The NPS of every respondent who answered ``column`` (``group`` NaN) and per group."""
    table = net_promoter_score(data, column=column).assign(group=np.nan)
    if group is None:
        return table
    by_group = [
        net_promoter_score(members, column=column).assign(group=name)
        for name, members in data.groupby(group, sort=True)
        if members[column].notna().any()
    ]
    return pd.concat([table, *by_group], ignore_index=True)


class _FitOptions(TypedDict):
    """The options every model of one analysis is fitted with (measurement, structural,
    single-factor and invariance models), passed on as keyword arguments."""

    missing: Literal["listwise", "fiml"]
    estimator: str
    ordered: Sequence[str]


def analyze(
    data: pd.DataFrame,
    *,
    model: str,
    reverse: Sequence[str] = (),
    scale_min: float | None = None,
    scale_max: float | None = None,
    missing: Literal["listwise", "fiml"] = "listwise",
    bootstrap: int = 0,
    seed: int | None = None,
    group: str | None = None,
    nps: str | None = None,
    invariance: Sequence[str] = (),
    partial: Sequence[str] = (),
    ordered: Sequence[str] | bool = (),
    estimator: str | None = None,
    missing_codes: Sequence[float] = (),
    pls_scheme: str = "path",
    pls_scaled: bool = True,
    consistent: bool = False,
    compare: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> AnalysisResult | PlsAnalysis:
    """Run the complete analysis of a loyalty survey.

    Parameters
    ----------
    data : pandas.DataFrame
        Responses, one row per respondent.
    model : str
        lavaan model syntax; its ``=~`` lines define the constructs.
    reverse : sequence of str
        Reverse-worded items, recoded as ``scale_min + scale_max - x``.
    scale_min, scale_max : float, optional
        Ends of the response scale; needed for ``reverse``, top/bottom-2-box and the
        importance-performance map.
    missing : {"listwise", "fiml"}
        Missing-data handling of the model fits. Alpha, omega, item-total and HTMT always use
        the complete cases of their items; construct scores average the answered items.
    estimator : {"ML", "MLR", "MLM"}
        Estimator of every model fit (:func:`analysis.sem.fit_sem`): MLR (robust standard
        errors and scaled chi-square, with listwise deletion or FIML) is the usual choice for
        rating-scale items; MLM needs listwise deletion.
    missing_codes : sequence of float
        Answer codes that mean "no answer" ("don't know" = 9, ...): recoded as missing before
        anything else. With ``scale_min``/``scale_max`` any other answer off the scale is an
        error (naming the items), never analysed.
    bootstrap : int
        Number of bootstrap resamples for percentile intervals (0: none).
    seed : int, optional
        Seed of the bootstrap.
    group : str, optional
        Column of segments or waves to compare construct scores (and the NPS) across.
    nps : str, optional
        0-10 likelihood-to-recommend column. The NPS uses every respondent who answered it,
        whether or not their items were complete.
    invariance : sequence of str
        Columns (waves, segments) across whose groups the measurement model is tested for
        configural, metric and scalar invariance (:func:`invariance_across`): whether
        construct scores can be compared between the groups at all.
    partial : sequence of str
        Parameters the invariance tests leave free across groups (partial invariance), e.g.
        ``["loy2~1"]``.
    ordered : sequence of str or bool
        Items to analyse as ordered categories (``True``: every observed variable of the
        model), as lavaan's ``ordered =``: the models are then fitted by WLSMV (polychoric
        correlations, robust standard errors, scaled-shifted chi-square; rows with missing
        answers deleted listwise, so ``missing`` must be ``"listwise"``), and reliability adds
        ordinal alpha and categorical omega. Bootstrap intervals, invariance tests and
        modification indices are not available with ordered items.
    estimator : {"ML", "MLR", "MLM", "WLSMV", "pls"}, optional
        Estimator of every model fit (:func:`analysis.sem.fit_sem`; case-insensitive): MLR
        (robust standard errors and scaled chi-square, with listwise deletion or FIML) is the
        usual choice for rating-scale items treated as continuous; MLM needs listwise
        deletion; WLSMV is the estimator of ordered items (the default with ``ordered``,
        refused without). ``"pls"``: PLS path modelling
        (:func:`analysis.pls.pipeline.analyze_pls`), which also reads ``<~`` composites and
        single items in paths, and returns a :class:`analysis.pls.pipeline.PlsAnalysis`. By
        default ML, or WLSMV with ordered items.
    missing_codes : sequence of float
        Answer codes that mean "no answer" ("don't know" = 9, ...): recoded as missing before
        anything else. With ``scale_min``/``scale_max`` any other answer off the scale is an
        error (naming the items), never analysed.
    pls_scheme : {"path", "factorial", "centroid"}
        Inner weighting scheme of PLS.
    pls_scaled : bool
        PLS on standardized items (``False``: centred only, plspm's ``scaled = FALSE``).
    consistent : bool
        Consistent PLS (PLSc) for the reflective constructs.
    compare : sequence of str
        Columns (waves, segments) across whose groups the construct scores are compared
        (Welch's t or ANOVA with post-hoc tests), as ``group`` compares them, for a report that
        compares more than one.
    progress : callable, optional
        Called with the name of each stage as it starts (``"prepare"``, ``"measurement
        model"``, ...) and with ``"bootstrap <done>/<total>"`` as resamples finish.

    Returns
    -------
    AnalysisResult or PlsAnalysis

    Raises
    ------
    ValueError
        Subclasses from :mod:`analysis.errors` for syntax errors, unknown or non-numeric
        columns, unidentified models and non-convergence; plain ``ValueError`` for bad options.
    """
    spec = parse_model(model)
    require_columns(data, [], numeric=False)
    # Positional rows: a caller's duplicate index labels must not misalign groups and scores.
    data = data.reset_index(drop=True)
    if not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a whole number of resamples >= 0, not {bootstrap!r}")
    for column, role in ((group, "group"), (nps, "nps")):
        if column is not None:
            require_columns(data, [column], numeric=role == "nps")
    invariance = list(dict.fromkeys([invariance] if isinstance(invariance, str) else invariance))
    require_columns(data, invariance, numeric=False)
    compare = list(dict.fromkeys([compare] if isinstance(compare, str) else compare))
    require_columns(data, compare, numeric=False)
    ordered_items = _ordered_items(data, spec, ordered)
    if estimator is not None and str(estimator).lower() == "pls":
        # Imported on request: the PLS analysis builds on this module's tables.
        from analysis.pls.pipeline import analyze_pls

        _refuse_for_pls(
            missing=missing, invariance=invariance, partial=partial, ordered=ordered_items
        )
        return analyze_pls(
            data,
            spec,
            reverse=reverse,
            scale_min=scale_min,
            scale_max=scale_max,
            missing_codes=missing_codes,
            bootstrap=int(bootstrap),
            seed=seed,
            group=group,
            nps=nps,
            scheme=pls_scheme,
            scaled=pls_scaled,
            consistent=consistent,
            compare=compare,
            progress=progress,
        )
    if estimator is not None and str(estimator).upper() not in ESTIMATORS:
        raise ValueError(
            f"estimator must be one of {', '.join(ESTIMATORS)} or pls, not {estimator!r}"
        )
    if consistent or pls_scheme != "path" or not pls_scaled:
        raise ValueError("the PLS options (scheme, unscaled, consistent) need estimator 'pls'")
    options = resolve_options(estimator=estimator, missing=missing, ordered=bool(ordered_items))
    if options.ordinal and bootstrap:
        raise ValueError(
            "bootstrap intervals are not available with ordered items (WLSMV has robust "
            "standard errors instead)"
        )
    observed = set(spec.observed_variables)
    constructs = {
        factor: list(items)
        for factor, items in spec.latent.items()
        if len(items) >= 2 and all(item in observed for item in items)
    }
    if not constructs:
        raise ValueError("the model defines no construct with two or more observed items")
    fit_options: _FitOptions = {
        "missing": missing,
        "estimator": options.estimator,
        "ordered": ordered_items,
    }
    if not options.ordinal:  # WLSMV counts thresholds and correlations (checked by its fit)
        _check_identified(spec)
    measurement_text = measurement_syntax(constructs)
    if partial:
        # Refuse a parameter the measurement model lacks before any model is fitted.
        released_parameters(
            build_table(parse_model(measurement_text), meanstructure=True, std_lv=False), partial
        )

    _report(progress, "prepare")
    prepared = prepare(
        data,
        spec.observed_variables,
        reverse=reverse,
        scale_min=scale_min,
        scale_max=scale_max,
        missing=missing,
        missing_codes=missing_codes,
    )
    items = prepared.data

    _report(progress, "measurement model")
    try:
        measurement = fit_sem(items, measurement_text, **fit_options)
    except (IdentificationError, ConvergenceError) as error:
        raise type(error)(
            f"measurement model (every construct with its items, freely correlated): {error}"
        ) from error
    _report(progress, "structural model")
    only_measurement = not (spec.regressions or spec.covariances or spec.defined) and set(
        spec.latent
    ) == set(constructs)
    structural = measurement if only_measurement else fit_sem(items, model, **fit_options)

    _report(progress, "reliability")
    reliability_table = reliability(
        items, constructs=constructs, measurement=measurement, ordered=ordered_items
    )
    ave = reliability_table.set_index("construct")["ave"]
    latent_correlations = measurement.latent_correlations()

    _report(progress, "validity")
    many = len(constructs) > 1
    no_pairs = pd.DataFrame(columns=["construct_a", "construct_b", "htmt", "exceeds"])
    htmt_table = htmt(items, constructs=constructs) if many else no_pairs
    htmt2_table = htmt(items, constructs=constructs, htmt2=True) if many else no_pairs
    common_method = (
        harman_single_factor(items, constructs=constructs, measurement=measurement, **fit_options)
        if many
        else None
    )

    _report(progress, "scores")
    scores, correlation_table, descriptives = score_tables(
        items, constructs, scale_min=scale_min, scale_max=scale_max
    )
    item_columns = [item for members in constructs.values() for item in members]
    try:
        normality = mardia(items, columns=item_columns)
    except ValueError:  # too few complete rows, or a singular covariance matrix
        normality = None
    groups = None
    if group is not None:
        _report(progress, "groups")
        groups = compare_scores(scores, data, group=group)
    comparisons = compare_columns(scores, data, compare)

    tested = {}
    if invariance:
        _report(progress, "invariance")
        tested = {
            column: invariance_across(
                items, constructs=constructs, group=column, partial=partial, **fit_options
            )
            for column in invariance
        }

    nps_table = None if nps is None else nps_tables(data, column=nps, group=group)

    target = _final_outcome(spec)
    ipa = None
    if (
        target is not None
        and scale_min is not None
        and scale_max is not None
        and target in constructs
    ):
        effects = structural.total_effects(target, standardized=True)
        drivers = effects[[c for c in effects.index if c in constructs and c != target]]
        if not drivers.empty:
            ipa = importance_performance(
                scores, importance=drivers, scale_min=scale_min, scale_max=scale_max
            )

    boot = None
    if bootstrap:
        _report(progress, "bootstrap")
        # Imported on request only: the one stage that starts worker processes.
        from analysis.bootstrap import bootstrap_sem

        boot = bootstrap_sem(
            items,
            model,
            n_boot=int(bootstrap),
            seed=seed,
            missing=missing,
            progress=None
            if progress is None
            else lambda done, total: progress(f"bootstrap {done}/{total}"),
        )

    return AnalysisResult(
        n_rows=prepared.n_rows,
        n_used=prepared.n_used,
        dropped=prepared.dropped,
        missing=missing,
        constructs=constructs,
        model=structural,
        measurement_model=measurement,
        reliability=reliability_table,
        item_total=item_total(items, constructs=constructs),
        htmt=htmt_table,
        fornell_larcker=fornell_larcker(ave, latent_correlations),
        fornell_larcker_matrix=fornell_larcker_matrix(ave, latent_correlations),
        scores=scores,
        correlations=correlation_table,
        descriptives=descriptives,
        nps=nps_table,
        groups=groups,
        group_column=group,
        importance_performance=ipa,
        target=target,
        bootstrap=boot,
        invariance=tested,
        htmt2=htmt2_table,
        mardia=normality,
        modindices=None if options.ordinal else structural.modindices(minimum=MODINDICES_MINIMUM),
        common_method=common_method,
        recoded=prepared.recoded,
        ordered=tuple(ordered_items),
        comparisons=comparisons,
    )


def _check_identified(spec) -> None:
    """Refuse a model with more free parameters than sample moments, in its own terms (before
    the automatic measurement model, which has other counts, is fitted)."""
    counted = build_estimator(spec, missing="listwise", std_lv=False)
    if counted.df < 0:
        raise IdentificationError(
            f"the model has {counted.table.n_free} free parameters but its "
            f"{len(spec.observed_variables)} observed variables provide only "
            f"{counted.n_moments} sample moments (df = {counted.df}); fix or remove parameters"
        )
