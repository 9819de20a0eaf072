"""``fit_sem``: maximum likelihood SEM/CFA with lavaan's defaults and lavaan's output."""

from __future__ import annotations

import math
import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, special, stats

from analysis.errors import (
    AnalysisError,
    ConvergenceError,
    IdentificationError,
    ModelSyntaxError,
    NonNumericDataError,
    UnknownVariableError,
)
from analysis.sem.engine import CompleteData, MissingData, Moments, RamModel, fisher_scoring
from analysis.sem.partable import ParameterTable, build_table
from analysis.sem.polychoric import OrdinalMoments
from analysis.sem.start import starting_values
from analysis.syntax import ModelSpec, parse_model

__all__ = ["Estimator", "SemResult", "fit_sem"]

_Z975 = stats.norm.ppf(0.975)


class Estimator:
    """A model ready to be fitted to any sample of the same variables.

    Holds the parameter table, the RAM layout and vectorised standardisation; used once by
    :func:`fit_sem` and many times by the bootstrap.
    """

    def __init__(self, spec: ModelSpec, table: ParameterTable) -> None:
        self.spec = spec
        self.table = table
        self.model = RamModel(self.table)
        table = self.table
        position = {name: i for i, name in enumerate(table.variables)}
        self.position = position
        ops = np.array(table.op)
        self._rows = self.model.rows
        row_ops = ops[self._rows]
        lhs = np.array([position.get(n, -1) for n in table.lhs])[self._rows]
        rhs = np.array([position.get(n, -1) for n in table.rhs])[self._rows]
        self._loading = row_ops == "=~"
        self._regression = row_ops == "~"
        self._variance = (row_ops == "~~") & (lhs == rhs)
        self._covariance = (row_ops == "~~") & (lhs != rhs)
        self._intercept = row_ops == "~1"
        self._lhs, self._rhs = lhs, rhs
        x = [position[name] for name in table.exogenous_observed]
        self._exo_x = np.array(x, dtype=int)
        self.n_exo = len(x)
        p = len(table.observed)
        self.p = p
        moments = p * (p + 1) // 2 + (p if table.meanstructure else 0)
        moments -= self.n_exo * (self.n_exo + 1) // 2 + (self.n_exo if table.meanstructure else 0)
        self.n_moments = moments
        self.df = moments - table.n_free

    def fixed_values(self, cov: np.ndarray, mean: np.ndarray) -> np.ndarray:
        """The table's fixed values with exogenous covariates' moments taken from the sample."""
        values = self.table.value.copy()
        position = self.position
        for i in np.flatnonzero(self.table.exo):
            a = position[self.table.lhs[i]]
            if self.table.op[i] == "~1":
                values[i] = mean[a]
            else:
                values[i] = cov[a, position[self.table.rhs[i]]]
        return values

    def standardized(self, mom: Moments, row_values: np.ndarray) -> np.ndarray:
        """std.all of every non-``:=`` row (as lavaan's ``standardizedSolution()``)."""
        total = np.einsum("ij,jk,ik->i", mom.E, mom.S, mom.E)
        with np.errstate(invalid="ignore", divide="ignore"):
            sd = np.sqrt(total)
            out = np.full(len(row_values), np.nan)
            lhs, rhs = self._lhs, self._rhs
            m = self._loading
            out[m] = row_values[m] * sd[lhs[m]] / sd[rhs[m]]
            m = self._regression
            out[m] = row_values[m] * sd[rhs[m]] / sd[lhs[m]]
            m = self._variance
            out[m] = row_values[m] / total[lhs[m]]
            m = self._covariance
            residual_var = np.diag(mom.S)
            out[m] = row_values[m] / np.sqrt(residual_var[lhs[m]] * residual_var[rhs[m]])
            m = self._intercept
            out[m] = row_values[m] / sd[lhs[m]]
        return out

    def label_values(self, row_values: np.ndarray) -> dict[str, float]:
        """Value of each label (first row carrying it)."""
        values: dict[str, float] = {}
        for k, i in enumerate(self._rows):
            label = self.table.label[i]
            if label and label not in values:
                values[label] = row_values[k]
        return values

    def defined(
        self, row_values: np.ndarray, *, gradient: bool = False
    ) -> tuple[np.ndarray, np.ndarray]:
        """Defined parameters' values and, optionally, their gradients by free parameter."""
        names = self.label_values(row_values)
        free_of = {}
        for i in self._rows:
            label = self.table.label[i]
            if label and label not in free_of:
                free_of[label] = self.table.free[i]
        q = self.table.n_free
        grads: dict[str, np.ndarray] = {}
        for label, k in free_of.items():
            g = np.zeros(q)
            if k >= 0:
                g[k] = 1.0
            grads[label] = g
        values, jac = [], []
        for parameter in self.spec.defined:
            wrt = parameter.expression.names
            value, partial = parameter.expression.value_and_gradient(names, wrt if gradient else ())
            names[parameter.name] = value
            values.append(value)
            if gradient:
                g = sum((d * grads[n] for n, d in zip(wrt, partial, strict=True)), np.zeros(q))
                grads[parameter.name] = g
                jac.append(g)
        if not gradient:
            return np.array(values), np.empty((len(values), 0))
        return np.array(values), np.array(jac).reshape(len(values), q)


@dataclass
class SemResult:
    """A fitted structural equation model.

    Attributes
    ----------
    estimates : DataFrame
        lavaan's ``parameterEstimates()`` with ``std_all`` from ``standardizedSolution()``:
        columns ``lhs, op, rhs, label, est, se, z, pvalue, ci_lower, ci_upper, std_all``;
        fixed parameters have ``se``, ``z``, ``pvalue`` and CI NaN.
    fit : dict
        lavaan ``fitMeasures()`` names with ``_`` for ``.``: ``chisq, df, pvalue,
        baseline_chisq, baseline_df, cfi, tli, rmsea, rmsea_ci_lower, rmsea_ci_upper,
        rmsea_pvalue, srmr, loglik, unrestricted_loglik, aic, bic, npar, ntotal``.
    r2 : dict
        R-squared of every endogenous variable.
    n_rows, n_used : int
        Rows in the data and rows used (after listwise deletion, or rows with at least one
        answer under FIML).
    converged : bool
    iterations : int
    warnings : list of str
        Heywood cases and other problems worth reporting.
    missing : str
        ``"listwise"`` or ``"fiml"``.
    estimator, test, se : str
        lavaan's names of the estimator (``"ML"``, ``"WLSMV"``), the test statistic
        (``"standard"``, ``"scaled.shifted"``) and the standard errors (``"standard"``,
        ``"robust.sem"``) used.
    ordinal_statistics : OrdinalMoments or None
        With ordered items (WLSMV): the sample thresholds, polychoric/polyserial correlations
        and their asymptotic covariance the model was fitted to.
    """

    estimates: pd.DataFrame
    fit: dict[str, float]
    r2: dict[str, float]
    n_rows: int
    n_used: int
    converged: bool
    iterations: int
    warnings: list[str]
    missing: str
    _estimator: Estimator = field(repr=False)
    _moments: Moments = field(repr=False)
    _theta: np.ndarray = field(repr=False)
    _metric: np.ndarray = field(repr=False)  # information of the fit function at the estimate
    estimator: str = "ML"
    test: str = "standard"
    se: str = "standard"
    ordinal_statistics: OrdinalMoments | None = field(default=None, repr=False)

    @property
    def spec(self) -> ModelSpec:
        return self._estimator.spec

    def standardized_loadings(self) -> pd.DataFrame:
        """Standardized (std.all) loadings: columns ``factor, item, std_all``."""
        rows = self.estimates[self.estimates["op"] == "=~"]
        return pd.DataFrame(
            {
                "factor": rows["lhs"].to_numpy(),
                "item": rows["rhs"].to_numpy(),
                "std_all": rows["std_all"].to_numpy(),
            }
        )

    def _covariance_all(self) -> pd.DataFrame:
        names = self._estimator.table.variables
        return pd.DataFrame(self._moments.covariance_all(), index=names, columns=names)

    def latent_correlations(self) -> pd.DataFrame:
        """Model-implied correlations of the latent variables (factors x factors)."""
        latent = list(self._estimator.table.latent)
        cov = self._covariance_all().loc[latent, latent]
        sd = np.sqrt(np.diag(cov.to_numpy()))
        return cov.div(np.outer(sd, sd))

    def implied_covariance(self) -> pd.DataFrame:
        """Model-implied covariance matrix of the observed variables."""
        names = list(self._estimator.table.observed)
        return pd.DataFrame(self._moments.sigma, index=names, columns=names)

    def total_effects(self, target: str, *, standardized: bool = True) -> pd.Series:
        """Total effects on ``target`` of every variable with a directed path to it.

        Computed as row ``target`` of ``(I - B)^-1 - I``; standardized effects are scaled by
        the model-implied standard deviations (std.all).
        """
        variables = list(self._estimator.table.variables)
        if target not in variables:
            raise UnknownVariableError([target])
        B = self._moments.A
        t = target_index = variables.index(target)
        reach = np.zeros(len(variables), dtype=bool)
        frontier = [t]
        structure = self._estimator.model
        paths = structure.kind == 0
        children: dict[int, list[int]] = {}
        for a, b in zip(structure.target[paths], structure.source[paths], strict=True):
            children.setdefault(a, []).append(b)
        while frontier:
            node = frontier.pop()
            for parent in children.get(node, []):
                if not reach[parent]:
                    reach[parent] = True
                    frontier.append(parent)
        reach[target_index] = False
        total = np.linalg.inv(np.eye(len(B)) - B) - np.eye(len(B))
        effects = total[target_index, reach]
        if standardized:
            sd = np.sqrt(np.diag(self._moments.covariance_all()))
            effects = effects * sd[reach] / sd[target_index]
        index = [v for v, r in zip(variables, reach, strict=True) if r]
        return pd.Series(effects, index=pd.Index(index, name="source"), name=target)


def fit_sem(
    data: pd.DataFrame,
    model: str | ModelSpec,
    *,
    missing: Literal["listwise", "fiml"] = "listwise",
    std_lv: bool = False,
    ordered: str | Sequence[str] | bool | None = None,
) -> SemResult:
    """Fit a structural equation or confirmatory factor model by maximum likelihood or WLSMV.

    Uses lavaan's ``sem()`` defaults: marker-variable identification (or unit factor variances
    with ``std_lv``), free residual variances, free covariances of exogenous factors and of
    endogenous variables that predict nothing, exogenous observed covariates fixed at their
    sample moments, sample covariances with divisor N and chi-square ``N * F_ML``.

    Parameters
    ----------
    data : DataFrame
        One row per respondent; must contain the model's observed variables as numeric columns.
    model : str or ModelSpec
        lavaan model syntax or a parsed model.
    missing : {"listwise", "fiml"}
        ``"listwise"`` drops rows with any missing model variable (lavaan's default);
        ``"fiml"`` uses all available answers (lavaan ``missing = "ml"``), with a mean
        structure, standard errors from the observed information and chi-square against the
        EM-estimated saturated model.
    std_lv : bool
        Identify factors by fixing their variances to 1 and freeing all loadings.
    ordered : str, sequence of str or bool, optional
        Ordered (ordinal) items, as lavaan's ``ordered =``: ``True`` for every observed
        variable of the model, or their names (names that are data columns but not in this
        model are ignored). With ordered items the model is fitted by WLSMV
        (:mod:`analysis.sem.ordinal`: polychoric correlations, DWLS, robust standard errors and
        the scaled-shifted chi-square) to the complete rows; ``missing="fiml"`` is not
        available then.

    Returns
    -------
    SemResult

    Raises
    ------
    ModelSyntaxError, UnknownVariableError, NonNumericDataError, IdentificationError,
    ConvergenceError
        All subclasses of ``ValueError``.

    References
    ----------
    Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
    Statistical Software*, 48(2), 1-36.

    Arbuckle, J. L. (1996). Full information estimation in the presence of incomplete data.
    In G. A. Marcoulides & R. E. Schumacker (Eds.), *Advanced structural equation modeling*
    (pp. 243-277). Erlbaum.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(1)
    >>> f = rng.standard_normal(300)
    >>> data = pd.DataFrame({f"x{i}": 0.8 * f + 0.6 * rng.standard_normal(300) for i in (1, 2, 3)})
    >>> result = fit_sem(data, "F =~ x1 + x2 + x3")
    >>> result.fit["df"], round(result.fit["cfi"], 3), result.converged
    (0.0, 1.0, True)
    >>> bool(result.standardized_loadings()["std_all"].between(0.6, 0.9).all())
    True
    """
    if not isinstance(data, pd.DataFrame):
        raise TypeError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    if missing not in ("listwise", "fiml"):
        raise ValueError(f"missing must be 'listwise' or 'fiml', not {missing!r}")
    spec = parse_model(model) if isinstance(model, str) else model
    if not isinstance(spec, ModelSpec):
        raise TypeError("model must be lavaan syntax (str) or a ModelSpec")
    ordered_items = _ordered_items(data, spec, ordered)
    if ordered_items:
        if missing != "listwise":
            raise ValueError(
                "FIML needs continuous items; with ordered items (WLSMV) rows with missing "
                "answers are deleted listwise, as lavaan does"
            )
        # Imported here: the WLSMV module builds on this one.
        from analysis.sem.ordinal import fit_wlsmv

        result = fit_wlsmv(
            spec, prepare_data(data, spec, missing=missing), ordered=ordered_items, std_lv=std_lv
        )
        for note in result.warnings:
            _warnings.warn(note, RuntimeWarning, stacklevel=2)
        return result
    prepared = prepare_data(data, spec, missing=missing)
    meanstructure = missing == "fiml" or bool(spec.intercepts)
    estimator = Estimator(spec, build_table(spec, meanstructure=meanstructure, std_lv=std_lv))
    if estimator.df < 0:
        raise IdentificationError(
            f"the model has {estimator.table.n_free} free parameters but the data provide only "
            f"{estimator.n_moments} sample moments (df = {estimator.df}); fix or remove "
            "parameters"
        )
    return _fit(estimator, prepared, missing=missing)


def _ordered_items(
    data: pd.DataFrame, spec: ModelSpec, ordered: str | Sequence[str] | bool | None
) -> list[str]:
    """The model's observed variables declared ordered (``True``: all of them)."""
    if ordered is None or ordered is False:
        return []
    if ordered is True:
        return list(spec.observed_variables)
    ordered = [ordered] if isinstance(ordered, str) else list(ordered)
    if not all(isinstance(name, str) for name in ordered):
        raise TypeError("ordered must be True, False or column names")
    unknown = [name for name in ordered if name not in data.columns]
    if unknown:
        raise UnknownVariableError(unknown)
    return [name for name in spec.observed_variables if name in set(ordered)]


@dataclass
class PreparedData:
    values: np.ndarray
    n_rows: int
    notes: list[str]


def prepare_data(data: pd.DataFrame, spec: ModelSpec, *, missing: str) -> PreparedData:
    """Check the model's columns and apply the missing-data rule."""
    names = list(spec.observed_variables)
    unknown = [name for name in names if name not in data.columns]
    if unknown:
        raise UnknownVariableError(unknown)
    clash = [name for name in spec.latent_variables if name in data.columns]
    if clash:
        raise ModelSyntaxError(
            "latent variable name(s) also used by data columns: " + ", ".join(clash)
        )
    frame = data[names]
    empty = [name for name in names if frame[name].isna().all()]
    if empty:
        raise AnalysisError("these model variables have no values: " + ", ".join(empty))
    bad = [
        name
        for name in names
        if not (
            pd.api.types.is_numeric_dtype(frame[name])
            and not pd.api.types.is_bool_dtype(frame[name])
        )
    ]
    if bad:
        raise NonNumericDataError(bad)
    values = np.array(frame.astype("float64").to_numpy(na_value=np.nan), dtype=float)
    values[~np.isfinite(values)] = np.nan
    notes: list[str] = []
    n_rows = len(values)
    if missing == "listwise":
        values = values[~np.isnan(values).any(axis=1)]
    else:
        values = values[~np.isnan(values).all(axis=1)]
        exogenous = _exogenous_columns(spec)
        if exogenous:
            keep = ~np.isnan(values[:, exogenous]).any(axis=1)
            if not keep.all():
                notes.append(
                    f"{int((~keep).sum())} rows were dropped because of missing values in "
                    "exogenous covariates (fixed.x), as lavaan does"
                )
            values = values[keep]
    p = len(names)
    if len(values) < 2:
        raise AnalysisError(
            f"only {len(values)} usable rows for {p} model variables"
            + (" after listwise deletion" if missing == "listwise" else "")
        )
    with np.errstate(invalid="ignore"):
        spread = np.nanstd(values, axis=0)
    constant = [name for name, s in zip(names, spread, strict=True) if not s > 0]
    if constant:
        raise AnalysisError(
            "these model variables have no variance in the data used: " + ", ".join(constant)
        )
    return PreparedData(values, n_rows, notes)


def _exogenous_columns(spec: ModelSpec) -> list[int]:
    table = build_table(spec, meanstructure=True, std_lv=False)
    return [spec.observed_variables.index(name) for name in table.exogenous_observed]


def sample_moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = values.mean(axis=0)
    centered = values - mean
    return centered.T @ centered / len(values), mean


def _fit(estimator: Estimator, prepared: PreparedData, *, missing: str) -> SemResult:
    values = prepared.values
    n = len(values)
    table = estimator.table
    notes = list(prepared.notes)
    data: CompleteData | MissingData
    if missing == "fiml":
        data = MissingData(values)
        h1_cov, h1_mean = data.saturated_moments()
    else:
        h1_cov, h1_mean = sample_moments(values)
        if not np.isfinite(np.linalg.slogdet(h1_cov)[1]) or np.linalg.slogdet(h1_cov)[0] <= 0:
            raise AnalysisError(
                "the sample covariance matrix is singular (an item is a linear combination of "
                "others, or there are fewer complete rows than variables)"
            )
        data = CompleteData(h1_cov, h1_mean, n, meanstructure=table.meanstructure)
    x = estimator._exo_x
    exo_cov = h1_cov
    exo_mean = h1_mean
    if len(x) and missing == "fiml":
        exo_cov, exo_mean = sample_moments(values[:, x])
        full_cov, full_mean = h1_cov.copy(), h1_mean.copy()
        full_cov[np.ix_(x, x)] = exo_cov
        full_mean[x] = exo_mean
        exo_cov, exo_mean = full_cov, full_mean
    fixed = estimator.fixed_values(exo_cov, exo_mean)
    theta0 = starting_values(table, fixed, h1_cov, h1_mean)
    theta, iterations, converged, fmin = fisher_scoring(estimator.model, data, theta0, fixed)
    if not converged:
        theta, iterations, converged, fmin = _fallback(estimator.model, data, theta, fixed)
    if not converged:
        raise ConvergenceError(
            f"the estimator did not converge after {iterations} iterations; the model may be "
            "misspecified or not identified, or the sample too small"
        )
    model = estimator.model
    mom = model.moments(theta, fixed)
    _, parts = data.evaluate(mom, derivatives=True)
    d_sigma, d_mu = model.jacobian(mom)
    if missing == "fiml":
        hessian = _numeric_hessian(estimator, data, theta, fixed)
        information = n / 2 * hessian
    else:
        information = n / 2 * data.information(parts, d_sigma, d_mu)
    vcov = _invert_information(_free_parameter_names([estimator.table]), information)
    row_values = model.row_values(theta, fixed)
    estimates = _estimates_table(estimator, mom, row_values, vcov)
    fit = _fit_measures(estimator, data, mom, fmin, h1_cov, h1_mean, values, missing=missing)
    r2 = _r_squared(estimator, mom)
    notes += _heywood_warnings(estimates, mom, estimator)
    for note in notes:
        _warnings.warn(note, RuntimeWarning, stacklevel=3)
    return SemResult(
        estimates=estimates,
        fit=fit,
        r2=r2,
        n_rows=prepared.n_rows,
        n_used=n,
        converged=converged,
        iterations=iterations,
        warnings=notes,
        missing=missing,
        _estimator=estimator,
        _moments=mom,
        _theta=theta,
        _metric=2 * information / n,
    )


def _fallback(model, data, theta: np.ndarray, fixed):
    """Quasi-Newton from where scoring stopped, then scoring again to polish."""

    def objective(x: np.ndarray):
        mom = model.moments(x, fixed)
        value, parts = data.evaluate(mom, derivatives=True)
        if not np.isfinite(value):
            return 1e10, np.zeros_like(x)
        d_sigma, d_mu = model.jacobian(mom)
        return value, data.gradient(parts, d_sigma, d_mu)

    result = optimize.minimize(
        objective, theta, jac=True, method="L-BFGS-B", options={"maxiter": 5000, "ftol": 1e-15}
    )
    return fisher_scoring(model, data, result.x, fixed, max_iter=200)


def _numeric_hessian(estimator: Estimator, data, theta: np.ndarray, fixed: np.ndarray):
    """Hessian of the fit function by central differences of the analytic gradient."""
    model = estimator.model

    def gradient(x: np.ndarray) -> np.ndarray:
        mom = model.moments(x, fixed)
        _, parts = data.evaluate(mom, derivatives=True)
        d_sigma, d_mu = model.jacobian(mom)
        return data.gradient(parts, d_sigma, d_mu)

    q = len(theta)
    hessian = np.empty((q, q))
    for k in range(q):
        h = 1e-5 * max(1.0, abs(theta[k]))
        step = np.zeros(q)
        step[k] = h
        hessian[:, k] = (gradient(theta + step) - gradient(theta - step)) / (2 * h)
    return (hessian + hessian.T) / 2


def _free_parameter_names(
    tables: Sequence[ParameterTable], groups: Sequence[str] = ()
) -> list[str]:
    """A readable name for every free parameter (prefixed by its group in multi-group models)."""
    names = [""] * tables[0].n_free
    for g, table in enumerate(tables):
        prefix = f"[{groups[g]}] " if groups else ""
        for i in range(len(table)):
            k = table.free[i]
            if k >= 0 and not names[k]:
                names[k] = prefix + f"{table.lhs[i]} {table.op[i]} {table.rhs[i]}".strip()
    return names


def _invert_information(names: list[str], information: np.ndarray) -> np.ndarray:
    eigenvalues, eigenvectors = np.linalg.eigh(information)
    if eigenvalues[0] <= 1e-9 * max(eigenvalues[-1], 1e-300):
        weights = np.abs(eigenvectors[:, 0])
        involved = [names[k] for k in np.argsort(-weights) if weights[k] > 0.1][:6]
        raise IdentificationError(
            "the information matrix is singular, so the model is not identified; the problem "
            "involves: " + "; ".join(involved)
        )
    return np.linalg.inv(information)


def _estimates_table(
    estimator: Estimator, mom: Moments, row_values: np.ndarray, vcov: np.ndarray
) -> pd.DataFrame:
    table = estimator.table
    n_rows = len(table)
    est = np.full(n_rows, np.nan)
    se = np.full(n_rows, np.nan)
    std = np.full(n_rows, np.nan)
    rows = estimator.model.rows
    est[rows] = row_values
    free = table.free[rows]
    se[rows[free >= 0]] = np.sqrt(np.maximum(np.diag(vcov)[free[free >= 0]], 0))
    std[rows] = estimator.standardized(mom, row_values)
    if estimator.spec.defined:
        defined_rows = np.flatnonzero(np.array(table.op) == ":=")
        values, jac = estimator.defined(row_values, gradient=True)
        est[defined_rows] = values
        se[defined_rows] = np.sqrt(np.maximum(np.einsum("ij,jk,ik->i", jac, vcov, jac), 0))
        std_values = np.where(np.isnan(std[rows]), row_values, std[rows])
        std[defined_rows] = estimator.defined(std_values)[0]
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est / se
    frame = pd.DataFrame(
        {
            "lhs": table.lhs,
            "op": table.op,
            "rhs": table.rhs,
            "label": table.label,
            "est": est,
            "se": se,
            "z": z,
            "pvalue": 2 * stats.norm.sf(np.abs(z)),
            "ci_lower": est - _Z975 * se,
            "ci_upper": est + _Z975 * se,
            "std_all": std,
        }
    )
    return frame


def _baseline(estimator: Estimator, h1_cov: np.ndarray, h1_mean: np.ndarray):
    """Independence model: variances (and means) free, exogenous covariates at sample values."""
    x = estimator._exo_x
    sigma = np.diag(np.diag(h1_cov))
    if len(x):
        sigma[np.ix_(x, x)] = h1_cov[np.ix_(x, x)]
    return sigma


def _fit_measures(
    estimator: Estimator,
    data,
    mom: Moments,
    fmin: float,
    h1_cov: np.ndarray,
    h1_mean: np.ndarray,
    values: np.ndarray,
    *,
    missing: str,
) -> dict[str, float]:
    n = len(values)
    p = estimator.p
    q = estimator.table.n_free
    df = estimator.df
    npar = q
    if missing == "fiml":
        loglik = data.loglik(mom.sigma, mom.mu)
        unrestricted = data.loglik(h1_cov, h1_mean)
        chisq = 2 * (unrestricted - loglik)
        base_sigma = _baseline(estimator, h1_cov, h1_mean)
        base_mean = np.zeros(p)
        counts = np.zeros(p)
        var = np.zeros(p)
        for idx, n_k, mean, _ in data.patterns:
            base_mean[idx] += n_k * mean
            counts[idx] += n_k
        base_mean /= counts
        for idx, n_k, mean, cov in data.patterns:
            var[idx] += n_k * (np.diag(cov) + (mean - base_mean[idx]) ** 2)
        np.fill_diagonal(base_sigma, var / counts)
        x = estimator._exo_x
        if len(x):
            xcov, xmean = sample_moments(values[:, x])
            base_sigma[np.ix_(x, x)] = xcov
            base_mean[x] = xmean
        baseline_chisq = 2 * (unrestricted - data.loglik(base_sigma, base_mean))
    else:
        constant = p * np.log(2 * np.pi)
        loglik = -n / 2 * (constant + fmin)
        unrestricted = -n / 2 * (constant + data.saturated_value())
        chisq = n * (fmin - data.saturated_value())
        base_sigma = _baseline(estimator, h1_cov, h1_mean)
        logdet = np.linalg.slogdet(base_sigma)[1]
        base_value = logdet + np.trace(np.linalg.solve(base_sigma, h1_cov))
        baseline_chisq = n * (base_value - data.saturated_value())
    x = estimator._exo_x
    if len(x):
        # lavaan reports the likelihood conditional on fixed exogenous covariates.
        xcov = sample_moments(values[:, x])[0]
        loglik_x = -n / 2 * (len(x) * (np.log(2 * np.pi) + 1) + np.linalg.slogdet(xcov)[1])
        loglik -= loglik_x
        unrestricted -= loglik_x
    n_y = p - estimator.n_exo
    baseline_df = estimator.n_moments - n_y * (2 if estimator.table.meanstructure else 1)
    chisq = max(chisq, 0.0)
    fit = {
        "npar": float(npar),
        "chisq": chisq,
        "df": float(df),
        "pvalue": float(stats.chi2.sf(chisq, df)) if df > 0 else np.nan,
        "baseline_chisq": baseline_chisq,
        "baseline_df": float(baseline_df),
        "cfi": _cfi(chisq, df, baseline_chisq, baseline_df),
        "tli": _tli(chisq, df, baseline_chisq, baseline_df),
        "rmsea": math.sqrt(max(chisq / n / df - 1 / n, 0.0)) if df > 0 else 0.0,
        "rmsea_ci_lower": np.nan,
        "rmsea_ci_upper": np.nan,
        "rmsea_pvalue": float(stats.ncx2.sf(chisq, df, n * df * 0.05**2)) if df > 0 else np.nan,
        "srmr": _srmr(mom, h1_cov, h1_mean, meanstructure=estimator.table.meanstructure),
        "loglik": loglik,
        "unrestricted_loglik": unrestricted,
        "aic": -2 * loglik + 2 * npar,
        "bic": -2 * loglik + npar * math.log(n),
        "ntotal": float(n),
    }
    fit["rmsea_ci_lower"], fit["rmsea_ci_upper"] = _rmsea_ci(chisq, df, n)
    return {name: float(value) for name, value in fit.items()}


def _cfi(chisq: float, df: float, base: float, base_df: float) -> float:
    t1 = max(chisq - df, 0.0)
    t2 = max(chisq - df, base - base_df, 0.0)
    if math.isclose(t1, 0, abs_tol=1.5e-8) and math.isclose(t2, 0, abs_tol=1.5e-8):
        return 1.0
    return 1 - t1 / t2


def _tli(chisq: float, df: float, base: float, base_df: float) -> float:
    t1 = (chisq - df) * base_df
    t2 = (base - base_df) * df
    if df > 0 and abs(t2) > 0:
        return 1 - t1 / t2
    return 1.0


def _rmsea_ci(chisq: float, df: float, n: int, level: float = 0.90) -> tuple[float, float]:
    """lavaan's noncentral chi-square interval for RMSEA."""
    if df < 1:
        return 0.0, 0.0
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(ncp: float) -> float:
        # The ufunc, not stats.ncx2.cdf: the same values, about 35 times less overhead a call.
        return float(special.chndtr(chisq, df, ncp))

    if cdf(0) - upper_p < 0:
        lower = 0.0
    else:
        lam = optimize.brentq(lambda x: cdf(x) - upper_p, 0, chisq, xtol=1e-10)
        lower = math.sqrt(lam / (n * df))
    limit = max(n, 4 * chisq)
    if cdf(limit) - lower_p > 0 or cdf(0) - lower_p < 0:
        upper = 0.0
    else:
        lam = optimize.brentq(lambda x: cdf(x) - lower_p, 0, limit, xtol=1e-10)
        upper = math.sqrt(lam / (n * df))
    return lower, upper


def _srmr(mom: Moments, cov: np.ndarray, mean: np.ndarray, *, meanstructure: bool) -> float:
    """lavaan's ``srmr`` (Bentler): residuals scaled by observed standard deviations."""
    sd = np.sqrt(np.diag(cov))
    residual = (cov - mom.sigma) / np.outer(sd, sd)
    squares = list(residual[np.tril_indices_from(residual)] ** 2)
    if meanstructure:
        squares += list(((mean - mom.mu) / sd) ** 2)
    return math.sqrt(np.mean(squares))


def _r_squared(estimator: Estimator, mom: Moments) -> dict[str, float]:
    model = estimator.model
    structural = model.kind == 0
    endogenous = np.unique(model.target[structural])
    total = np.einsum("ij,jk,ik->i", mom.E, mom.S, mom.E)
    names = estimator.table.variables
    return {
        names[i]: float(1 - mom.S[i, i] / total[i])
        for i in sorted(endogenous)
        if names[i] not in estimator.table.exogenous_observed
    }


def _heywood_warnings(estimates: pd.DataFrame, mom: Moments, estimator: Estimator) -> list[str]:
    notes = []
    variances = estimates[
        (estimates["op"] == "~~") & (estimates["lhs"] == estimates["rhs"]) & estimates["se"].notna()
    ]
    for row in variances[variances["est"] < 0].itertuples():
        notes.append(
            f"Heywood case: the estimated (residual) variance of {row.lhs} is negative "
            f"({row.est:.4g}); the solution is improper"
        )
    latent = [estimator.position[name] for name in estimator.table.latent]
    if latent:
        cov = mom.covariance_all()[np.ix_(latent, latent)]
        if np.linalg.eigvalsh(cov)[0] < 0:
            notes.append(
                "the model-implied covariance matrix of the latent variables is not "
                "positive definite"
            )
    loadings = estimates[(estimates["op"] == "=~") & (estimates["std_all"].abs() > 1)]
    for row in loadings.itertuples():
        notes.append(
            f"Heywood case: standardized loading of {row.rhs} on {row.lhs} is {row.std_all:.3f}"
        )
    return notes
