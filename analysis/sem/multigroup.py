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

import warnings as _warnings
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from analysis._parallel import single_threaded_blas
from analysis.errors import AnalysisError, UnknownVariableError
from analysis.sem import fitmeasures
from analysis.sem.engine import CompleteData, MissingData, Moments, RamModel
from analysis.sem.fitting import (
    Estimator,
    GroupSample,
    _baseline_moments,
    _estimate,
    _estimates_table,
    _free_parameter_names,
    _heywood_warnings,
    _invert_information,
    _likelihoods,
    _r_squared,
    group_sample,
    prepare_data,
    robust_correction,
    unit_information,
)
from analysis.sem.options import EstimationOptions, resolve_options
from analysis.sem.partable import ParameterTable, build_table
from analysis.sem.start import starting_values
from analysis.syntax import ModelSpec, parse_model

__all__ = ["EQUALITY_CONSTRAINTS", "MultiGroupResult", "fit_multigroup", "released_parameters"]

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
        Rows used per group (after listwise deletion, or with any answer under FIML).
    n_rows : int
        Rows in the data with a group.
    equal : tuple of str
        The equality constraints imposed across groups.
    partial : tuple of str
        The parameters exempt from them.
    missing : str
        ``"listwise"`` or ``"fiml"``.
    options : EstimationOptions
        Estimator, standard errors, test and information used.
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
    partial: tuple[str, ...]
    missing: str
    options: EstimationOptions
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

    def __init__(self, groups: list[CompleteData | MissingData]) -> None:
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
    base: ParameterTable, n_groups: int, equal: set[str], released: Mapping[int, str]
) -> tuple[list[ParameterTable], int]:
    """Each group's parameter table, with free indices into one shared parameter vector;
    the ``released`` rows are exempt from the equality constraints (``group.partial``)."""
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
            elif i not in released and (kind := _constraint(base, i, equal)) is not None:
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
    partial: Sequence[str] = (),
    group_order: Sequence[Hashable] | None = None,
    missing: str = "listwise",
    estimator: str = "ML",
    se: str | None = None,
    test: str | None = None,
) -> MultiGroupResult:
    """Fit one model in several groups by maximum likelihood, with cross-group equalities.

    The multiple-group counterpart of :func:`analysis.sem.fit_sem` (marker-variable
    identification), agreeing with lavaan's ``sem(model, data, group = group,
    group.equal = equal, group.partial = partial, missing = ..., estimator = ...)``.

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
    partial : sequence of str
        Parameters exempt from ``equal`` (partial invariance), in lavaan's notation:
        ``"loy2~1"`` (an intercept), ``"SAT=~sat2"`` (a loading), ``"sat1~~sat1"``.
    group_order : sequence, optional
        Groups to fit, in this order; the first is the reference group whose latent means are
        fixed to zero. Defaults to the groups in order of first appearance, as lavaan does.
    missing : {"listwise", "fiml"}
        Listwise deletion within each group, or FIML (lavaan ``missing = "ml"``) with each
        group's saturated model estimated by EM.
    estimator, se, test : str
        As in :func:`analysis.sem.fit_sem`: ``"MLR"`` for Huber-White standard errors and the
        Yuan-Bentler scaled test, ``"MLM"`` for Satorra-Bentler (complete data). Maximum
        likelihood only: multiple-group models of ordered items (WLSMV) are not available.

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
    if missing not in ("listwise", "fiml"):
        raise ValueError(f"missing must be 'listwise' or 'fiml', not {missing!r}")
    if str(estimator).upper() == "WLSMV":
        raise ValueError(
            "multiple-group models of ordered items (WLSMV) are not available; use ML, MLR or MLM"
        )
    options = resolve_options(estimator=estimator, se=se, test=test, missing=missing)
    if group not in data.columns:
        raise UnknownVariableError([group])
    spec = parse_model(model) if isinstance(model, str) else model
    labels = data[group]
    if group_order is None:
        group_order = list(pd.unique(labels.dropna()))
    group_order = list(group_order)
    if len(group_order) < 2:
        raise AnalysisError(f"a multiple-group model needs at least two groups in '{group}'")
    absent = [g for g in group_order if not (labels == g).any()]
    if absent:
        raise AnalysisError(f"no rows for group(s) {absent} in '{group}'")

    names = tuple(str(g) for g in group_order)
    base = build_table(spec, meanstructure=True, std_lv=False)
    released = released_parameters(base, partial)
    tables, n_free = _group_tables(base, len(names), set(equal), released)
    estimators = [Estimator(spec, table) for table in tables]
    samples = []
    for name, g, estimator_g in zip(names, group_order, estimators, strict=True):
        try:
            values = prepare_data(data[labels == g], spec, missing=missing).values
            if missing == "listwise" and len(values) <= values.shape[1]:
                raise AnalysisError(
                    f"{len(values)} complete rows for {values.shape[1]} model variables; a "
                    "group needs more complete rows than variables"
                )
            samples.append(group_sample(estimator_g, values, missing=missing))
        except AnalysisError as error:
            raise type(error)(f"group {name}: {error}") from error
    n_moments = sum(estimator_g.n_moments for estimator_g in estimators)
    df = n_moments - n_free
    if df < 0:
        raise AnalysisError(
            f"the model has {n_free} free parameters but the groups provide only {n_moments} "
            f"sample moments (df = {df})"
        )

    models = _GroupModels([estimator_g.model for estimator_g in estimators])
    group_data = _GroupData([s.data for s in samples])
    fixed = [s.fixed for s in samples]
    theta0 = _starting_values(tables, samples, n_free)
    with single_threaded_blas():
        theta, iterations = _estimate(models, group_data, theta0, fixed)
        moments = models.moments(theta, fixed)
        n_total = sum(s.n for s in samples)
        groups = [(est, s, s.n / n_total) for est, s in zip(estimators, samples, strict=True)]
        unit = unit_information(groups, theta, kind=options.information)
        vcov = _invert_information(_free_parameter_names(tables, names), n_total * unit)
        baselines = [
            _baseline_moments(est, s.data, s.values, s.h1_cov, s.h1_mean)
            for est, s in zip(estimators, samples, strict=True)
        ]
        fit = _fit_measures(estimators, samples, moments, baselines, n_free, df)
        groups_fitted = list(zip(estimators, samples, moments, strict=True))
        vcov, fit = robust_correction(options, groups_fitted, baselines, vcov, fit, missing=missing)

    frames, r2, notes = [], {}, []
    for name, estimator_g, mom, f in zip(names, estimators, moments, fixed, strict=True):
        row_values = estimator_g.model.row_values(theta, f)
        frame = _estimates_table(estimator_g, mom, row_values, vcov)
        frames.append(frame.assign(group=name)[["group", *frame.columns]])
        r2[name] = _r_squared(estimator_g, mom)
        notes += [f"group {name}: {note}" for note in _heywood_warnings(frame, mom, estimator_g)]
    for note in notes:
        _warnings.warn(note, RuntimeWarning, stacklevel=2)
    return MultiGroupResult(
        estimates=pd.concat(frames, ignore_index=True),
        fit=fit,
        r2=r2,
        groups=names,
        n_used={name: s.n for name, s in zip(names, samples, strict=True)},
        n_rows=int(labels.isin(group_order).sum()),
        equal=tuple(equal),
        partial=tuple(released.values()),
        missing=missing,
        options=options,
        converged=True,
        iterations=iterations,
        warnings=notes,
    )


def released_parameters(table: ParameterTable, partial: Sequence[str]) -> dict[int, str]:
    """Rows named in ``partial`` (lavaan's ``group.partial``: ``"loy2~1"``, ``"SAT=~sat2"``),
    by row index, for a table with a mean structure.

    Raises
    ------
    ValueError
        Naming every parameter that is not in the model.
    """
    keys = {}
    for i in range(len(table)):
        op, lhs, rhs = table.op[i], table.lhs[i], table.rhs[i]
        keys[f"{lhs}{op}{rhs}"] = i
        if op == "~~":
            keys[f"{rhs}{op}{lhs}"] = i
    released, unknown = {}, []
    for name in partial:
        text = "".join(str(name).split())
        if text in keys:
            released[keys[text]] = text
        else:
            unknown.append(str(name))
    if unknown:
        raise ValueError(
            "parameter(s) to free not in the model: "
            + ", ".join(unknown)
            + " (write them as lavaan does, e.g. 'loy2~1' or 'SAT=~sat2')"
        )
    return released


def _starting_values(
    tables: list[ParameterTable], samples: list[GroupSample], n_free: int
) -> np.ndarray:
    """Each group's own starting values; a shared parameter starts at the groups' mean."""
    total = np.zeros(n_free)
    count = np.zeros(n_free)
    for table, s in zip(tables, samples, strict=True):
        theta = starting_values(table, s.fixed, s.h1_cov, s.h1_mean)
        present = np.unique(table.free[table.free >= 0])
        total[present] += theta[present]
        count[present] += 1
    return total / np.maximum(count, 1)


def _fit_measures(
    estimators: list[Estimator],
    samples: list[GroupSample],
    moments: list[Moments],
    baselines: list[tuple[np.ndarray, np.ndarray]],
    n_free: int,
    df: int,
) -> dict[str, float]:
    """The groups' likelihoods added up; SRMR is the groups' size-weighted average."""
    n = sum(s.n for s in samples)
    loglik = unrestricted = baseline_loglik = 0.0
    srmr = 0.0
    for estimator, s, mom, baseline in zip(estimators, samples, moments, baselines, strict=True):
        h1 = (s.h1_cov, s.h1_mean)
        parts = _likelihoods(estimator, s.data, (mom.sigma, mom.mu), h1, baseline, s.values)
        loglik += parts[0]
        unrestricted += parts[1]
        baseline_loglik += parts[2]
        srmr += s.n / n * fitmeasures.srmr(mom.sigma, mom.mu, *h1, meanstructure=True)
    return fitmeasures.normal_theory_measures(
        chisq=max(2 * (unrestricted - loglik), 0.0),
        df=df,
        baseline_chisq=2 * (unrestricted - baseline_loglik),
        baseline_df=sum(estimator.baseline_df for estimator in estimators),
        n=n,
        groups=len(samples),
        npar=n_free,
        loglik=loglik,
        unrestricted_loglik=unrestricted,
        srmr_value=srmr,
    )
