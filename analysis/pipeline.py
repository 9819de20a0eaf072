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

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from analysis._checks import require_columns
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
from analysis.sem.partable import build_table
from analysis.syntax import measurement_syntax, parse_model
from analysis.validity import fornell_larcker, fornell_larcker_matrix, htmt

__all__ = ["AnalysisResult", "GroupInvariance", "analyze", "invariance_across"]

ESTIMATE_COLUMNS = (
    "lhs", "op", "rhs", "label", "est", "se", "z", "pvalue", "ci_lower", "ci_upper", "std_all",
)  # fmt: skip
RELIABILITY_KEYS = ("alpha", "alpha_ci_lower", "alpha_ci_upper", "omega", "cr", "ave", "n_items")
MODINDICES_MINIMUM = 3.84
"""Modification indices reported: those significant at 5% on one df."""
_REPORTED_OPS = ("=~", "~", "~~", ":=")
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
    modindices : pandas.DataFrame
        Modification indices of the structural model, ``mi >= 3.84``.
    common_method : HarmanTest or None
        Harman's single-factor test (two or more constructs).
    recoded : pandas.DataFrame
        Answers turned missing by missing-value codes (``item, code, n``).
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
    modindices: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MI_COLUMNS))
    common_method: HarmanTest | None = None
    recoded: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict:
        """The JSON-safe document: plain dicts, lists, str, int, float, bool and None (NaN).

        Fit measures carry lavaan's ``fitMeasures()`` names with ``_`` for ``.``
        (``chisq_scaled``, ``chisq_scaling_factor``, ``cfi_robust``, ``rmsea_ci_upper_robust``,
        ...); ``estimation`` states the estimator, standard errors, test and information used;
        ``warnings`` are ``{model: "measurement" | "structural", message}``; ``modindices``
        lists ``lhs, op, rhs, mi, epc, sepc_all`` for every index of at least 3.84;
        ``htmt2``, ``mardia``, ``common_method`` and ``missing_codes`` hold the tables of the
        same names.
        """
        estimates = self.model.estimates
        estimates = estimates[estimates["op"].isin(_REPORTED_OPS)]
        options = self.model.options
        document = {
            "n_rows": self.n_rows,
            "n_used": self.n_used,
            "dropped": _records(self.dropped),
            "missing": self.missing,
            "estimation": {
                "estimator": options.estimator,
                "se": options.se,
                "test": options.test,
                "information": options.information,
            },
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
                row["construct"]: {key: row[key] for key in RELIABILITY_KEYS}
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
            "modindices": _records(self.modindices),
        }
        if self.common_method is not None:
            document["common_method"] = self.common_method.to_dict()
        if self.nps is not None:
            overall = self.nps[self.nps["group"].isna()].drop(columns="group")
            document["nps"] = _records(overall)[0] | {
                "by_group": _records(self.nps[self.nps["group"].notna()])
            }
        if self.groups is not None:
            document["groups"] = {
                "column": self.group_column,
                "summary": _records(self.groups.summary),
                "tests": _records(self.groups.tests),
                "posthoc": _records(self.groups.posthoc),
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


def _records(frame: pd.DataFrame) -> list[dict]:
    return frame.to_dict("records")


def _nested(pairs: pd.DataFrame, value: str) -> dict[str, dict[str, float]]:
    nested: dict[str, dict[str, float]] = {}
    for a, b, v in zip(pairs["construct_a"], pairs["construct_b"], pairs[value], strict=True):
        nested.setdefault(a, {})[b] = v
        nested.setdefault(b, {})[a] = v
    return nested


def _json_safe(value):
    """Recursively replace numpy scalars with Python ones and NaN/inf/NA with None."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    return str(value)


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
    tested = {
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
    try:
        # Many small matrices: BLAS threads only add overhead (several times slower under load).
        with threadpool_limits(limits=1, user_api="blas"):
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


def _final_outcome(spec) -> str | None:
    """The single latent variable that is regressed on others and predicts none."""
    predictors = {p for outcome in spec.regressions for p in spec.regressions[outcome]}
    outcomes = [o for o in spec.regressions if o in spec.latent_variables and o not in predictors]
    return outcomes[0] if len(outcomes) == 1 else None


def _report(progress: Callable[[str], None] | None, stage: str) -> None:
    if progress is not None:
        progress(stage)


def analyze(
    data: pd.DataFrame,
    *,
    model: str,
    reverse: Sequence[str] = (),
    scale_min: float | None = None,
    scale_max: float | None = None,
    missing: str = "listwise",
    bootstrap: int = 0,
    seed: int | None = None,
    group: str | None = None,
    nps: str | None = None,
    invariance: Sequence[str] = (),
    estimator: str = "ML",
    missing_codes: Sequence[float] = (),
    partial: Sequence[str] = (),
    progress: Callable[[str], None] | None = None,
) -> AnalysisResult:
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
    progress : callable, optional
        Called with the name of each stage as it starts (``"prepare"``, ``"measurement
        model"``, ...) and with ``"bootstrap <done>/<total>"`` as resamples finish.

    Returns
    -------
    AnalysisResult

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
    observed = set(spec.observed_variables)
    constructs = {
        factor: list(items)
        for factor, items in spec.latent.items()
        if len(items) >= 2 and all(item in observed for item in items)
    }
    if not constructs:
        raise ValueError("the model defines no construct with two or more observed items")
    fit_options = {"missing": missing, "estimator": estimator}
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
        items, constructs=constructs, loadings=measurement.standardized_loadings()
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
    scores = construct_scores(items, constructs)
    correlation_table = (
        correlations(scores)
        if many
        else pd.DataFrame(columns=["x", "y", "method", "n", "r", "ci_lower", "ci_upper", "pvalue"])
    )
    item_columns = [item for members in constructs.values() for item in members]
    try:
        normality = mardia(items, columns=item_columns)
    except ValueError:  # too few complete rows, or a singular covariance matrix
        normality = None
    descriptives = pd.concat(
        [
            describe(items, columns=item_columns, scale_min=scale_min, scale_max=scale_max).assign(
                kind="item"
            ),
            describe(scores, scale_min=scale_min, scale_max=scale_max).assign(kind="construct"),
        ],
        ignore_index=True,
    )

    groups = None
    if group is not None:
        _report(progress, "groups")
        groups = compare_groups(
            scores.assign(**{group: data.loc[items.index, group]}),
            group=group,
            variables=list(constructs),
        )

    tested = {}
    if invariance:
        _report(progress, "invariance")
        tested = {
            column: invariance_across(
                items, constructs=constructs, group=column, partial=partial, **fit_options
            )
            for column in invariance
        }

    nps_table = None
    if nps is not None:
        nps_table = net_promoter_score(data, column=nps).assign(group=np.nan)
        if group is not None:
            by_group = [
                net_promoter_score(members, column=nps).assign(group=name)
                for name, members in data.groupby(group, sort=True)
                if members[nps].notna().any()
            ]
            nps_table = pd.concat([nps_table, *by_group], ignore_index=True)

    target = _final_outcome(spec)
    ipa = None
    if target is not None and scale_min is not None and target in constructs:
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
        modindices=structural.modindices(minimum=MODINDICES_MINIMUM),
        common_method=common_method,
        recoded=prepared.recoded,
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
