"""Multiple-group models: one model fitted in several groups at once, with equality constraints.

Follows lavaan's ``cfa()``/``sem()`` with ``group =`` and ``group.equal =``: every group gets the
full parameter table of the model with a mean structure; latent means are fixed to zero in
every group, except that when intercepts are held equal they are freed in all groups but the
first. Parameters carrying the same user label are equal in every group. The fit function is
the sample-size weighted sum of the groups' ML discrepancies, so the chi-square is the sum of
the groups' chi-squares; RMSEA carries lavaan's multiple-group factor ``sqrt(G)``.

References
----------
Jöreskog, K. G. (1971). Simultaneous factor analysis in several populations. *Psychometrika*,
36(4), 409-426.

Steiger, J. H. (1998). A note on multiple sample extensions of the RMSEA fit index.
*Structural Equation Modeling*, 5(4), 411-419.

Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
"""

from __future__ import annotations

import math
import warnings as _warnings
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats

from analysis.errors import AnalysisError, ConvergenceError, UnknownVariableError
from analysis.sem.engine import CompleteData, Moments, RamModel, fisher_scoring
from analysis.sem.fitting import (
    Estimator,
    _cfi,
    _estimates_table,
    _fallback,
    _free_parameter_names,
    _heywood_warnings,
    _invert_information,
    _r_squared,
    _rmsea_ci,
    _srmr,
    _tli,
    prepare_data,
    sample_moments,
)
from analysis.sem.partable import ParameterTable, build_table
from analysis.sem.start import starting_values
from analysis.syntax import ModelSpec, parse_model

__all__ = ["EQUALITY_CONSTRAINTS", "MultiGroupResult", "fit_multigroup"]

EQUALITY_CONSTRAINTS: tuple[str, ...] = (
    "loadings",
    "intercepts",
    "regressions",
    "residuals",
    "residual.covariances",
    "lv.variances",
    "lv.covariances",
)


@dataclass
class MultiGroupResult:
    """A model fitted to several groups at once.

    Attributes
    ----------
    estimates : DataFrame
        lavaan's ``parameterEstimates()`` for every group, one block of rows per group in
        group order: ``group`` followed by the columns of :class:`analysis.sem.SemResult`'s
        estimates (``std_all`` standardised within each group).
    fit : dict
        ``fitMeasures()`` of the whole model, with the names used by ``SemResult.fit``.
    r2 : dict
        Per group, the R-squared of every endogenous variable.
    groups : tuple of str
        Group labels in the order fitted (the first is the reference group).
    n_used : dict
        Rows used per group (after listwise deletion).
    n_rows : int
        Rows in the data with a group.
    equal : tuple of str
        The equality constraints imposed across groups.
    converged : bool
    iterations : int
    warnings : list of str
    """

    estimates: pd.DataFrame
    fit: dict[str, float]
    r2: dict[str, dict[str, float]]
    groups: tuple[str, ...]
    n_used: dict[str, int]
    n_rows: int
    equal: tuple[str, ...]
    converged: bool
    iterations: int
    warnings: list[str]


class _GroupModels:
    """The groups' RAM models side by side, sharing one free-parameter vector."""

    def __init__(self, models: list[RamModel]) -> None:
        self.models = models

    def moments(self, theta: np.ndarray, fixed: list[np.ndarray]) -> list[Moments]:
        return [model.moments(theta, f) for model, f in zip(self.models, fixed, strict=True)]

    def jacobian(self, moments: list[Moments]) -> tuple[list, list]:
        pairs = [model.jacobian(mom) for model, mom in zip(self.models, moments, strict=True)]
        return [d_sigma for d_sigma, _ in pairs], [d_mu for _, d_mu in pairs]


class _GroupData:
    """The groups' sample moments; the fit function is their ``n_g / N`` weighted sum."""

    def __init__(self, groups: list[CompleteData]) -> None:
        self.groups = groups
        sizes = np.array([group.n for group in groups], dtype=float)
        self.weights = sizes / sizes.sum()

    def evaluate(self, moments: list[Moments], *, derivatives: bool):
        total, parts = 0.0, []
        for weight, group, mom in zip(self.weights, self.groups, moments, strict=True):
            value, part = group.evaluate(mom, derivatives=derivatives)
            if not np.isfinite(value):
                return np.inf, None
            total += weight * value
            parts.append(part)
        return total, parts

    def _weighted(self, method: str, parts, d_sigma: list, d_mu: list) -> np.ndarray:
        terms = zip(self.weights, self.groups, parts, d_sigma, d_mu, strict=True)
        return sum(w * getattr(g, method)(p, ds, dm) for w, g, p, ds, dm in terms)

    def gradient(self, parts, d_sigma: list, d_mu: list) -> np.ndarray:
        return self._weighted("gradient", parts, d_sigma, d_mu)

    def information(self, parts, d_sigma: list, d_mu: list) -> np.ndarray:
        return self._weighted("information", parts, d_sigma, d_mu)


def _constraint(table: ParameterTable, i: int, equal: set[str]) -> str | None:
    """The ``group.equal`` category that row ``i`` falls under, if it is held equal."""
    op, lhs, rhs = table.op[i], table.lhs[i], table.rhs[i]
    latent = set(table.latent)
    kind: str | None
    if op == "=~":
        kind = "loadings"
    elif op == "~":
        kind = "regressions"
    elif op == "~1":
        kind = "intercepts" if lhs not in latent else None
    elif lhs in latent and rhs in latent:
        kind = "lv.variances" if lhs == rhs else "lv.covariances"
    elif lhs not in latent and rhs not in latent:
        kind = "residuals" if lhs == rhs else "residual.covariances"
    else:
        kind = None
    return kind if kind in equal else None


def _group_tables(
    spec: ModelSpec, n_groups: int, equal: set[str]
) -> tuple[list[ParameterTable], int]:
    """Each group's parameter table, with free indices into one shared parameter vector."""
    base = build_table(spec, meanstructure=True, std_lv=False)
    latent = set(base.latent)
    index: dict[Hashable, int] = {}
    tables = []
    for g in range(n_groups):
        value = base.value.copy()
        free = base.free.copy()
        if g > 0 and "intercepts" in equal:
            # Equal intercepts identify the latent means of the other groups.
            for i in range(len(base)):
                if base.op[i] == "~1" and base.lhs[i] in latent and not base.user[i]:
                    value[i], free[i] = np.nan, base.n_free + i
        shared = np.full(len(base), -1)
        for i in np.flatnonzero(free >= 0).tolist():
            if base.label[i]:
                key: Hashable = ("label", base.label[i])
            elif (kind := _constraint(base, i, equal)) is not None:
                key = (kind, base.lhs[i], base.op[i], base.rhs[i])
            else:
                key = (g, int(free[i]))
            shared[i] = index.setdefault(key, len(index))
        tables.append(replace(base, free=shared, value=value))
    n_free = len(index)
    return [replace(table, n_free=n_free) for table in tables], n_free


def fit_multigroup(
    data: pd.DataFrame,
    model: str | ModelSpec,
    *,
    group: str,
    equal: Sequence[str] = (),
    group_order: Sequence[Hashable] | None = None,
) -> MultiGroupResult:
    """Fit one model in several groups by maximum likelihood, with cross-group equalities.

    The multiple-group counterpart of :func:`analysis.sem.fit_sem` (listwise deletion within
    each group, marker-variable identification), agreeing with lavaan's
    ``sem(model, data, group = group, group.equal = equal)``.

    Parameters
    ----------
    data : DataFrame
        One row per respondent, with the model's observed variables and the ``group`` column.
        Rows without a group are left out.
    model : str or ModelSpec
        lavaan model syntax or a parsed model. Parameters sharing a label are equal in every
        group.
    group : str
        Column holding the group of each row.
    equal : sequence of str
        Parameter kinds held equal across groups, a subset of :data:`EQUALITY_CONSTRAINTS`:
        ``("loadings",)`` for metric and ``("loadings", "intercepts")`` for scalar invariance.
    group_order : sequence, optional
        Groups to fit, in this order; the first is the reference group whose latent means are
        fixed to zero. Defaults to the groups in order of first appearance, as lavaan does.

    Returns
    -------
    MultiGroupResult

    Raises
    ------
    ValueError
        Unknown constraint or group column, fewer than two groups, a group with too few usable
        rows, a model that is not identified or does not converge (the analysis errors are
        subclasses of ``ValueError``).

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2), 1-36.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(7)
    >>> f = rng.standard_normal(400)
    >>> data = pd.DataFrame({f"x{i}": 0.8 * f + 0.6 * rng.standard_normal(400) for i in range(4)})
    >>> data["wave"] = np.repeat(["Q1", "Q2"], 200)
    >>> result = fit_multigroup(data, "F =~ x0 + x1 + x2 + x3", group="wave", equal=["loadings"])
    >>> result.groups, result.fit["df"]
    (('Q1', 'Q2'), 7.0)
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    unknown = sorted(set(equal) - set(EQUALITY_CONSTRAINTS))
    if unknown:
        raise ValueError(
            f"unknown equality constraint(s) {unknown}; choose from {list(EQUALITY_CONSTRAINTS)}"
        )
    if group not in data.columns:
        raise UnknownVariableError([group])
    spec = parse_model(model) if isinstance(model, str) else model
    labels = data[group]
    if group_order is None:
        group_order = list(pd.unique(labels.dropna()))
    group_order = list(group_order)
    if len(group_order) < 2:
        raise AnalysisError(f"a multiple-group model needs at least two groups in '{group}'")
    missing = [g for g in group_order if not (labels == g).any()]
    if missing:
        raise AnalysisError(f"no rows for group(s) {missing} in '{group}'")

    names = tuple(str(g) for g in group_order)
    values = []
    for name, g in zip(names, group_order, strict=True):
        try:
            values.append(prepare_data(data[labels == g], spec, missing="listwise").values)
        except AnalysisError as error:
            raise type(error)(f"group {name}: {error}") from error
    tables, n_free = _group_tables(spec, len(names), set(equal))
    estimators = [Estimator(spec, table) for table in tables]
    sample = []
    for name, rows in zip(names, values, strict=True):
        if len(rows) <= rows.shape[1]:
            raise AnalysisError(
                f"group {name}: {len(rows)} complete rows for {rows.shape[1]} model variables; "
                "a group needs more complete rows than variables"
            )
        cov, mean = sample_moments(rows)
        if np.linalg.slogdet(cov)[0] <= 0:
            raise AnalysisError(
                f"group {name}: the sample covariance matrix is singular (too few complete rows "
                "for the number of items, or an item is a combination of others)"
            )
        sample.append(CompleteData(cov, mean, len(rows), meanstructure=True))
    n_moments = sum(estimator.n_moments for estimator in estimators)
    df = n_moments - n_free
    if df < 0:
        raise AnalysisError(
            f"the model has {n_free} free parameters but the groups provide only {n_moments} "
            f"sample moments (df = {df})"
        )

    models = _GroupModels([estimator.model for estimator in estimators])
    group_data = _GroupData(sample)
    fixed = [est.fixed_values(s.cov, s.mean) for est, s in zip(estimators, sample, strict=True)]
    theta0 = _starting_values(tables, fixed, sample, n_free)
    theta, iterations, converged, fmin = fisher_scoring(models, group_data, theta0, fixed)
    if not converged:
        theta, iterations, converged, fmin = _fallback(models, group_data, theta, fixed)
    if not converged:
        raise ConvergenceError(
            f"the multiple-group model did not converge after {iterations} iterations"
        )
    moments = models.moments(theta, fixed)
    _, parts = group_data.evaluate(moments, derivatives=True)
    n_total = sum(s.n for s in sample)
    information = n_total / 2 * group_data.information(parts, *models.jacobian(moments))
    vcov = _invert_information(_free_parameter_names(tables, names), information)

    frames, r2, notes = [], {}, []
    for name, estimator, mom, f in zip(names, estimators, moments, fixed, strict=True):
        row_values = estimator.model.row_values(theta, f)
        frame = _estimates_table(estimator, mom, row_values, vcov)
        frames.append(frame.assign(group=name)[["group", *frame.columns]])
        r2[name] = _r_squared(estimator, mom)
        notes += [f"group {name}: {note}" for note in _heywood_warnings(frame, mom, estimator)]
    for note in notes:
        _warnings.warn(note, RuntimeWarning, stacklevel=2)
    return MultiGroupResult(
        estimates=pd.concat(frames, ignore_index=True),
        fit=_fit_measures(estimators, sample, moments, fmin, n_free, df),
        r2=r2,
        groups=names,
        n_used={name: s.n for name, s in zip(names, sample, strict=True)},
        n_rows=int(labels.isin(group_order).sum()),
        equal=tuple(equal),
        converged=converged,
        iterations=iterations,
        warnings=notes,
    )


def _starting_values(
    tables: list[ParameterTable],
    fixed: list[np.ndarray],
    sample: list[CompleteData],
    n_free: int,
) -> np.ndarray:
    """Each group's own starting values; a shared parameter starts at the groups' mean."""
    total = np.zeros(n_free)
    count = np.zeros(n_free)
    for table, f, s in zip(tables, fixed, sample, strict=True):
        theta = starting_values(table, f, s.cov, s.mean)
        present = np.unique(table.free[table.free >= 0])
        total[present] += theta[present]
        count[present] += 1
    return total / np.maximum(count, 1)


def _fit_measures(
    estimators: list[Estimator],
    sample: list[CompleteData],
    moments: list[Moments],
    fmin: float,
    n_free: int,
    df: int,
) -> dict[str, float]:
    n = sum(s.n for s in sample)
    n_groups = len(sample)
    saturated = sum(s.n * s.saturated_value() for s in sample)
    chisq = max(n * fmin - saturated, 0.0)
    constant = sum(s.n * s.p * np.log(2 * np.pi) for s in sample)
    loglik = -(constant + n * fmin) / 2
    unrestricted = -(constant + saturated) / 2
    # Independence baseline: each group's variances and means free, nothing else.
    baseline_chisq = sum(
        s.n * (np.log(np.diag(s.cov)).sum() + s.p - s.saturated_value()) for s in sample
    )
    baseline_df = sum(s.p * (s.p - 1) // 2 for s in sample)
    scale = math.sqrt(n_groups)
    rmsea = math.sqrt(max(chisq / n / df - 1 / n, 0.0)) * scale if df > 0 else 0.0
    lower, upper = _rmsea_ci(chisq, df, n)
    weights = [s.n / n for s in sample]
    srmr = sum(
        w * _srmr(mom, s.cov, s.mean, meanstructure=True)
        for w, s, mom in zip(weights, sample, moments, strict=True)
    )
    fit = {
        "npar": float(n_free),
        "chisq": chisq,
        "df": float(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "baseline_chisq": baseline_chisq,
        "baseline_df": float(baseline_df),
        "cfi": _cfi(chisq, df, baseline_chisq, baseline_df),
        "tli": _tli(chisq, df, baseline_chisq, baseline_df),
        "rmsea": rmsea,
        "rmsea_ci_lower": lower * scale,
        "rmsea_ci_upper": upper * scale,
        "rmsea_pvalue": (
            float(stats.ncx2.sf(chisq, df, n * df * 0.05**2 / n_groups)) if df > 0 else np.nan
        ),
        "srmr": srmr,
        "loglik": loglik,
        "unrestricted_loglik": unrestricted,
        "aic": -2 * loglik + 2 * n_free,
        "bic": -2 * loglik + n_free * math.log(n),
        "ntotal": float(n),
    }
    return {name: float(value) for name, value in fit.items()}
