"""WLSMV: structural equation models of ordered items, agreeing with lavaan.

lavaan's default for ordered items (``estimator = "WLSMV"``): the model is fitted to the
two-stage thresholds and polychoric/polyserial correlations of :mod:`analysis.sem.polychoric`
by diagonally weighted least squares (DWLS), the weights being the inverses of the diagonal of
their asymptotic covariance matrix Gamma. Standard errors are robust (the sandwich
``(D'WD)^-1 D'W Gamma W D (D'WD)^-1 / (N - 1)``, lavaan's ``se = "robust.sem"``) and the
chi-square is mean-and-variance adjusted (``test = "scaled.shifted"``: ``a T + b`` with
``a = sqrt(df / tr((U Gamma)^2))`` and ``b = df - a tr(U Gamma)``, ``U = W - W D (D'WD)^-1 D'W``),
with the ``.scaled`` fit measures computed from it and the ``.robust`` CFI, TLI and RMSEA of
Savalei (2021) from the ML discrepancy of the polychoric correlations at the estimates
(lavaan's ``catML``).

The delta parameterization (lavaan's default) is used: every item's latent response has unit
variance, so its residual variance is one minus the variance the model explains, intercepts
are zero and thresholds free (``y1 | t1`` rows; the model syntax may label, fix or equate them).

References
----------
Muthén, B., du Toit, S. H. C., & Spisic, D. (1997). *Robust inference using weighted least
squares and quadratic estimating equations in latent variable modeling with categorical and
continuous outcomes*. Unpublished manuscript.

Asparouhov, T., & Muthén, B. (2010). *Simple second order chi-square correction*. Mplus
technical appendix.

Savalei, V. (2021). Improving fit indices in structural equation modeling with categorical
data. *Multivariate Behavioral Research*, 56(3), 390-407.

Rosseel, Y. (2012). lavaan: An R package for structural equation modeling. *Journal of
Statistical Software*, 48(2), 1-36.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial

import numpy as np
from scipy import stats

from analysis.errors import AnalysisError, ConvergenceError, IdentificationError, ModelSyntaxError
from analysis.sem import fitmeasures
from analysis.sem.engine import Moments, RamModel, fisher_scoring
from analysis.sem.fitting import (
    _Z975,
    Estimator,
    ModelData,
    SemResult,
    _estimates_table,
    _fallback,
    _free_parameter_names,
    _heywood_warnings,
    _invert_information,
    _r_squared,
)
from analysis.sem.options import EstimationOptions
from analysis.sem.partable import build_table
from analysis.sem.polychoric import OrdinalMoments, ordinal_moments, pair_indices
from analysis.sem.start import starting_values
from analysis.syntax import ModelSpec

__all__ = ["fit_wlsmv"]


@dataclass
class _Implied:
    """The model's moments and its counterpart of the sample statistics."""

    moments: Moments
    statistics: np.ndarray


class _CategoricalModel:
    """Model-implied thresholds, means, variances and correlations, with their Jacobian.

    The statistics are ordered as :attr:`OrdinalMoments.statistics`: an ordered item's
    thresholds minus its latent response's mean (zero unless latent means are modelled) and
    minus the mean of a continuous item; the continuous items' variances; the covariances below
    the diagonal. The RAM model is evaluated with the ordered items' residual variances at zero,
    which changes only the diagonal (ordered items predict nothing), and the diagonal of an
    ordered item is not a statistic.
    """

    def __init__(self, estimator: Estimator, sample: OrdinalMoments) -> None:
        table = estimator.table
        self.ram: RamModel = estimator.model
        names = list(table.observed)
        self.ordered = sample.ordered
        row_of = {(table.lhs[i], table.rhs[i]): i for i in range(len(table)) if table.op[i] == "|"}
        # One "threshold" slot per threshold of an ordered item and per continuous mean.
        slot_variable, slot_row = [], []
        for j, name in enumerate(names):
            count = len(sample.thresholds[j]) if self.ordered[j] else 1
            slot_variable += [j] * count
            slot_row += (
                [row_of[(name, f"t{k}")] for k in range(1, count + 1)] if self.ordered[j] else [-1]
            )
        self.slot_variable = np.array(slot_variable)
        self.threshold_row = np.array(slot_row)
        self.is_threshold = self.threshold_row >= 0
        self.threshold_free = np.where(
            self.is_threshold, table.free[np.maximum(self.threshold_row, 0)], -1
        )
        self.continuous = np.flatnonzero(~self.ordered)
        self.rows, self.cols = pair_indices(len(names))
        self.table = table

    def thresholds(self, theta: np.ndarray, fixed: np.ndarray) -> np.ndarray:
        """The model's thresholds (in slot order; zero in the continuous variables' slots)."""
        values = np.where(self.is_threshold, fixed[np.maximum(self.threshold_row, 0)], 0.0)
        free = self.threshold_free >= 0
        values[free] = theta[self.threshold_free[free]]
        return values

    def moments(self, theta: np.ndarray, fixed: np.ndarray) -> _Implied:
        mom = self.ram.moments(theta, fixed)
        head = self.thresholds(theta, fixed) - mom.mu[self.slot_variable]
        sigma = mom.sigma
        statistics = np.concatenate(
            [head, sigma[self.continuous, self.continuous], sigma[self.rows, self.cols]]
        )
        return _Implied(mom, statistics)

    def jacobian(self, implied: _Implied) -> tuple[np.ndarray, None]:
        """Derivatives of the statistics by free parameter (statistics x parameters)."""
        d_sigma, d_mu = self.ram.jacobian(implied.moments)
        head = -d_mu[:, self.slot_variable]
        free = np.flatnonzero(self.threshold_free >= 0)
        head[self.threshold_free[free], free] += 1.0
        delta = np.hstack(
            [
                head,
                d_sigma[:, self.continuous, self.continuous],
                d_sigma[:, self.rows, self.cols],
            ]
        )
        return delta.T, None

    def residual_variances(self, implied: _Implied) -> np.ndarray:
        """Residual variance of every ordered item's latent response (delta parameterization)."""
        return 1.0 - np.diag(implied.moments.sigma)[self.ordered]


class _Dwls:
    """The DWLS discrepancy ``sum w (s - sigma)^2`` in the interface of ``fisher_scoring``."""

    def __init__(self, statistics: np.ndarray, weights: np.ndarray, continuous: np.ndarray):
        self.statistics = statistics
        self.weights = weights
        self.continuous = continuous

    def evaluate(self, implied: _Implied, *, derivatives: bool):
        if np.any(np.diag(implied.moments.sigma)[self.continuous] < 0):
            return np.inf, None  # as lavaan: a negative implied variance is not a solution
        residual = self.statistics - implied.statistics
        return float(self.weights @ residual**2), residual

    def gradient(self, residual: np.ndarray, delta: np.ndarray, _unused) -> np.ndarray:
        return -2 * delta.T @ (self.weights * residual)

    def information(self, residual: np.ndarray, delta: np.ndarray, _unused) -> np.ndarray:
        return 2 * (delta.T * self.weights) @ delta


def _check_model(spec: ModelSpec, ordered: set[str], exogenous: Sequence[str]) -> None:
    """What WLSMV here does not support, said plainly (lavaan would condition on covariates)."""
    if exogenous:
        raise AnalysisError(
            "with ordered items the model cannot have observed predictors that are not "
            "indicators (" + ", ".join(exogenous) + "); measure them with a factor or leave "
            "them out"
        )
    for row in spec.rows:
        if row.op == "~" and row.rhs in ordered:
            raise AnalysisError(
                f"the ordered item '{row.rhs}' predicts '{row.lhs}'; ordered items can only be "
                "indicators or outcomes"
            )
        if row.lhs in ordered and (row.op == "~1" or (row.op == "~~" and row.lhs == row.rhs)):
            what = "intercept" if row.op == "~1" else "residual variance"
            raise ModelSyntaxError(
                f"the {what} of the ordered item '{row.lhs}' is fixed by the delta "
                "parameterization; constrain its thresholds ('|') instead",
                line=row.line,
            )


def fit_wlsmv(
    spec: ModelSpec,
    prepared: ModelData,
    *,
    ordered: Sequence[str],
    std_lv: bool,
    options: EstimationOptions,
) -> SemResult:
    """Fit ``spec`` to complete data with ordered items by WLSMV (see the module docstring).

    Called by :func:`analysis.sem.fit_sem` with ``ordered``; ``prepared`` holds the complete
    rows of the model's observed variables, ``options`` the resolved WLSMV options.
    """
    names = list(spec.observed_variables)
    mask = np.array([name in set(ordered) for name in names])
    n = len(prepared.values)
    sample = ordinal_moments(prepared.values, ordered=mask, names=names)
    counts = {name: len(sample.thresholds[j]) for j, name in enumerate(names) if mask[j]}
    table = build_table(spec, meanstructure=True, std_lv=std_lv, thresholds=counts)
    _check_model(spec, set(ordered), table.exogenous_observed)
    estimator = Estimator(spec, table)
    model = _CategoricalModel(estimator, sample)
    statistics = sample.statistics
    df = len(statistics) - table.n_free
    if df < 0:
        raise IdentificationError(
            f"the model has {table.n_free} free parameters but the data provide only "
            f"{len(statistics)} sample statistics (df = {df}); fix or remove parameters"
        )
    gamma_diagonal = np.diag(sample.gamma)
    if not np.all(np.isfinite(gamma_diagonal) & (gamma_diagonal > 0)):
        raise AnalysisError("the asymptotic variances of the sample statistics are not positive")
    weights = 1.0 / gamma_diagonal
    fixed = table.value.copy()
    theta, iterations, fmin = _minimise(model, sample, weights, fixed)

    implied = model.moments(theta, fixed)
    delta = model.jacobian(implied)[0]
    weighted = weights[:, None] * delta
    information = delta.T @ weighted
    information_inverse = _invert_information(_free_parameter_names([table]), information)
    # The sandwich with the full Gamma; lavaan divides by N - 1 (groups subtracted) for DWLS.
    meat = weighted.T @ sample.gamma @ weighted
    vcov = information_inverse @ meat @ information_inverse / (n - 1)

    # The solution reported: the ordered items' residual variances filled in.
    residual = dict(zip(np.array(names)[mask], model.residual_variances(implied), strict=True))
    for i in range(len(table)):
        if table.op[i] == "~~" and table.lhs[i] == table.rhs[i] and table.lhs[i] in residual:
            fixed[i] = residual[table.lhs[i]]
    mom = estimator.model.moments(theta, fixed)
    estimates = _estimates_table(estimator, mom, estimator.model.row_values(theta, fixed), vcov)
    _fill_threshold_rows(estimates, table, model, theta, fixed, vcov)

    test = _scaled_shifted(
        chisq=(n - 1) * fmin,
        df=df,
        gamma=sample.gamma,
        weights=weights,
        delta=delta,
        information_inverse=information_inverse,
    )
    fit = _fit_measures(
        test=test, baseline=_baseline(sample, weights, n), n=n, npar=table.n_free, fmin=fmin,
        srmr=_srmr(sample, implied, model),
    )  # fmt: skip
    fit.update(
        _robust_measures(
            sample, implied, model, table, delta=delta, weights=weights,
            information_inverse=information_inverse, df=df,
        )
    )  # fmt: skip
    return SemResult(
        estimates=estimates,
        fit=fit,
        r2=_r_squared(estimator, mom),
        n_rows=prepared.n_rows,
        n_used=n,
        converged=True,
        iterations=iterations,
        warnings=list(prepared.notes) + _heywood_warnings(estimates, mom, estimator),
        missing="listwise",
        options=options,
        _estimator=estimator,
        _moments=mom,
        _theta=theta,
        _vcov=vcov,
        _sample=None,
        _fixed=fixed,
        ordinal_statistics=sample,
    )


def _minimise(
    model: _CategoricalModel, sample: OrdinalMoments, weights: np.ndarray, fixed: np.ndarray
) -> tuple[np.ndarray, int, float]:
    """The DWLS estimate by Gauss-Newton (scoring), from lavaan-like starting values with the
    sample thresholds; the estimate, the iterations and the minimum."""
    table = model.table
    theta = starting_values(table, fixed, sample.cov, sample.mean)
    start = model.threshold_free >= 0
    theta[model.threshold_free[start]] = np.concatenate(sample.thresholds)[
        _ordered_slots(model)[start]
    ]
    dwls = _Dwls(sample.statistics, weights, model.continuous)
    theta, iterations, converged, fmin = fisher_scoring(model, dwls, theta, fixed)
    if not converged:
        theta, iterations, converged, fmin = _fallback(model, dwls, theta, fixed)
    if not converged:
        raise ConvergenceError(
            f"the estimator did not converge after {iterations} iterations; the model may be "
            "misspecified or not identified, or the sample too small"
        )
    return theta, iterations, fmin


def _baseline(sample: OrdinalMoments, weights: np.ndarray, n: int) -> _Test:
    """The independence model (all correlations zero; thresholds, means and variances fit
    exactly), tested as the model is."""
    pairs = len(sample.names) * (len(sample.names) - 1) // 2
    part = slice(len(weights) - pairs, len(weights))
    return _scaled_shifted(
        chisq=(n - 1) * float(weights[part] @ sample.statistics[part] ** 2),
        df=pairs,
        gamma=sample.gamma[part, part],
        weights=weights[part],
        delta=np.zeros((pairs, 0)),
        information_inverse=np.zeros((0, 0)),
    )


def _ordered_slots(model: _CategoricalModel) -> np.ndarray:
    """Position of every slot's threshold in the concatenated sample thresholds."""
    return np.cumsum(model.is_threshold) - 1


def _fill_threshold_rows(
    estimates, table, model: _CategoricalModel, theta, fixed, vcov: np.ndarray
) -> None:
    """Thresholds and scale factors in the estimates (std.all: y* has unit variance)."""
    rows = model.threshold_row[model.is_threshold]
    scale_rows = np.array([i for i in range(len(table)) if table.op[i] == "~*~"], dtype=int)
    free = table.free[rows]
    columns = {name: estimates[name].to_numpy(copy=True) for name in ("est", "se")}
    columns["est"][rows] = model.thresholds(theta, fixed)[model.is_threshold]
    columns["est"][scale_rows] = 1.0
    columns["se"][rows[free >= 0]] = np.sqrt(np.maximum(np.diag(vcov)[free[free >= 0]], 0))
    est, se = columns["est"], columns["se"]
    filled = np.concatenate([rows, scale_rows])
    with np.errstate(divide="ignore", invalid="ignore"):
        z = est[filled] / se[filled]
    updates = {
        "est": est[filled],
        "se": se[filled],
        "z": z,
        "pvalue": 2 * stats.norm.sf(np.abs(z)),
        "ci_lower": est[filled] - _Z975 * se[filled],
        "ci_upper": est[filled] + _Z975 * se[filled],
        "std_all": est[filled],
    }
    for name, values in updates.items():
        column = estimates[name].to_numpy(copy=True)
        column[filled] = values
        estimates[name] = column


@dataclass(frozen=True)
class _Test:
    """A chi-square test and its scaled-shifted version."""

    chisq: float
    df: int
    scaled: float
    scaling_factor: float
    shift: float


def _scaled_shifted(
    *,
    chisq: float,
    df: int,
    gamma: np.ndarray,
    weights: np.ndarray,
    delta: np.ndarray,
    information_inverse: np.ndarray,
) -> _Test:
    """Asparouhov & Muthén's (2010) mean-and-variance adjusted statistic (lavaan's
    ``scaled.shifted``), from ``U Gamma`` with ``U = W - W D E^-1 D' W``."""
    chisq = max(chisq, 0.0)
    if df <= 0:
        return _Test(chisq, df, chisq, math.nan, math.nan)
    weighted = weights[:, None] * delta
    u = np.diag(weights) - weighted @ information_inverse @ weighted.T
    ug = u @ gamma
    trace = float(np.trace(ug))
    trace_squared = float(np.sum(ug * ug.T))
    a = math.sqrt(df / trace_squared)
    shift = df - a * trace
    return _Test(chisq, df, chisq * a + shift, 1 / a, shift)


def _srmr(sample: OrdinalMoments, implied: _Implied, model: _CategoricalModel) -> float:
    """lavaan's SRMR for categorical data: the correlation residuals below the diagonal (the
    covariances of continuous items scaled by their sample standard deviations), averaged over
    ``p (p + 1) / 2`` elements."""
    sd = np.sqrt(sample.var)
    residual = (sample.cov - implied.moments.sigma) / np.outer(sd, sd)
    p = len(sd)
    return math.sqrt(np.sum(residual[model.rows, model.cols] ** 2) / (p * (p + 1) / 2))


def _fit_measures(
    *, test: _Test, baseline: _Test, n: int, npar: int, fmin: float, srmr: float
) -> dict[str, float]:
    """lavaan's ``fitMeasures()`` of a WLSMV fit (``.`` written ``_``): the measures of the
    DWLS statistic and of its scaled-shifted version (``_scaled``), with N - 1 as DWLS uses."""
    test_measures = partial(fitmeasures.test_measures, df=test.df, baseline_df=baseline.df, n=n - 1)
    fit = {
        "npar": npar,
        "fmin": 0.5 * (n - 1) / n * fmin,
        **test_measures(chisq=test.chisq, baseline_chisq=baseline.chisq),
        **test_measures(chisq=test.scaled, baseline_chisq=baseline.scaled, suffix="_scaled"),
        "chisq_scaling_factor": test.scaling_factor,
        "chisq_shift_parameters": test.shift,
        "baseline_chisq_scaling_factor": baseline.scaling_factor,
        "srmr": srmr,
        "loglik": math.nan,
        "unrestricted_loglik": math.nan,
        "aic": math.nan,
        "bic": math.nan,
        "ntotal": n,
    }
    return {name: float(value) for name, value in fit.items()}


_ROBUST = (
    "cfi_robust", "tli_robust", "rmsea_robust", "rmsea_ci_lower_robust", "rmsea_ci_upper_robust",
    "rmsea_pvalue_robust",
)  # fmt: skip


def _robust_measures(
    sample: OrdinalMoments,
    implied: _Implied,
    model: _CategoricalModel,
    table,
    *,
    delta: np.ndarray,
    weights: np.ndarray,
    information_inverse: np.ndarray,
    df: int,
) -> dict[str, float]:
    """Savalei's (2021) robust CFI, TLI and RMSEA for ordered items, as lavaan 0.6-14.

    The model's ML discrepancy from the polychoric correlations ``R`` at the WLSMV estimates
    (lavaan's ``catML`` refit without thresholds), ``T = N F_ML(R, Sigma)``, is rescaled by
    ``c = tr(U' V U Gamma) / df`` with ``V`` the normal-theory ML weight of the correlations and
    ``U = I - D E^-1 D' W`` (D, W, Gamma: the correlation part); the baseline's by
    ``tr(Gamma) / df0``. lavaan leaves them out (NA) when a variable is continuous, when
    thresholds are constrained equal (the refit fails) or when ``R`` is not positive definite.
    """
    missing = dict.fromkeys(_ROBUST, math.nan)
    if df <= 0 or not model.ordered.all() or _thresholds_constrained(model, table):
        return missing
    cor = sample.cor
    if np.linalg.eigvalsh(cor)[0] < np.sqrt(np.finfo(float).eps):
        return missing
    n, p = sample.n, len(cor)
    pstar = len(model.rows)
    free_thresholds = np.unique(model.threshold_free[model.threshold_free >= 0])
    df3 = pstar - (table.n_free - len(free_thresholds))
    sigma = implied.moments.sigma.copy()
    np.fill_diagonal(sigma, 1.0)
    sigma_inverse = np.linalg.inv(sigma)
    chisq = n * (
        np.linalg.slogdet(sigma)[1] - np.linalg.slogdet(cor)[1] + np.sum(cor * sigma_inverse) - p
    )
    rows, cols = model.rows, model.cols
    ml_weight = (
        sigma_inverse[np.ix_(rows, rows)] * sigma_inverse[np.ix_(cols, cols)]
        + sigma_inverse[np.ix_(rows, cols)] * sigma_inverse[np.ix_(cols, rows)]
    )
    part = slice(len(weights) - pstar, len(weights))
    d = delta[part]
    w = weights[part]
    gamma = sample.gamma[part, part]
    residual_maker = np.eye(pstar) - d @ information_inverse @ (d.T * w)
    c_hat = float(np.sum((residual_maker.T @ ml_weight @ residual_maker) * gamma.T)) / df3
    return fitmeasures.robust_measures(
        chisq=chisq,
        df=df,
        c_hat=c_hat,
        baseline_chisq=-n * np.linalg.slogdet(cor)[1],
        baseline_df=pstar,
        c_hat_baseline=float(np.trace(gamma)) / pstar,
        n=n - 1,  # lavaan's N for DWLS, although the catML statistics use N
        groups=1,
        rmsea_df=df3,
    )


def _thresholds_constrained(model: _CategoricalModel, table) -> bool:
    """Whether a free threshold shares its parameter with another row (an equality)."""
    free = model.threshold_free[model.threshold_free >= 0]
    others = np.delete(table.free, model.threshold_row[model.is_threshold])
    return len(np.unique(free)) < len(free) or bool(np.isin(free, others).any())
