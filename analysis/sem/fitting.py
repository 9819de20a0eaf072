"""``fit_sem``: maximum likelihood SEM/CFA with lavaan's defaults and lavaan's output."""

from __future__ import annotations

import warnings as _warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import optimize, stats

from analysis._parallel import single_threaded_blas
from analysis.errors import (
    AnalysisError,
    ConvergenceError,
    IdentificationError,
    ModelSyntaxError,
    NonNumericDataError,
    UnknownVariableError,
)
from analysis.sem import fitmeasures, robust
from analysis.sem.engine import CompleteData, MissingData, Moments, RamModel, fisher_scoring
from analysis.sem.modindices import modification_indices
from analysis.sem.options import EstimationOptions, resolve_options
from analysis.sem.partable import ParameterTable, build_table
from analysis.sem.polychoric import OrdinalMoments
from analysis.sem.start import starting_values
from analysis.syntax import ModelSpec, parse_model

__all__ = ["Estimator", "SemResult", "build_estimator", "fit_sem"]

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
        n_y = p - self.n_exo
        self.baseline_df = moments - n_y * (2 if table.meanstructure else 1)

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
    options : EstimationOptions
        Estimator, standard errors, test and information used (lavaan's names).
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
    options: EstimationOptions
    _estimator: Estimator = field(repr=False)
    _moments: Moments = field(repr=False)
    _theta: np.ndarray = field(repr=False)
    _vcov: np.ndarray = field(repr=False)
    # The ML fit function's data (None for WLSMV, fitted to ordinal_statistics).
    _sample: CompleteData | MissingData | None = field(repr=False)
    _fixed: np.ndarray = field(repr=False)  # fixed values of the table's rows
    ordinal_statistics: OrdinalMoments | None = field(default=None, repr=False)

    @property
    def spec(self) -> ModelSpec:
        return self._estimator.spec

    @property
    def estimator(self) -> str:
        """``"ML"``, ``"MLR"``, ``"MLM"`` or ``"WLSMV"``."""
        return self.options.estimator

    @property
    def test(self) -> str:
        """lavaan's name of the test statistic (``"standard"``, ``"scaled.shifted"``, ...)."""
        return self.options.test

    @property
    def se(self) -> str:
        """lavaan's name of the standard errors (``"standard"``, ``"robust.sem"``, ...)."""
        return self.options.se

    def coef(self) -> pd.Series:
        """Estimates of the free parameters (lavaan's ``coef()``), named like lavaan:
        ``"SAT=~sat2"``, ``"VAL~SAT"``, ``"sat1~~sat1"``, ``"sat1~1"``, or the label."""
        return pd.Series(self._theta, index=self._parameter_names(), name="est")

    def vcov(self) -> pd.DataFrame:
        """Covariance matrix of the free parameters' estimates (lavaan's ``vcov()``): the
        inverse information, or the robust sandwich with MLR, MLM and WLSMV."""
        names = self._parameter_names()
        return pd.DataFrame(self._vcov, index=names, columns=names)

    def conf_int(self, level: float = 0.95) -> pd.DataFrame:
        """Wald confidence intervals of every parameter at ``level``.

        Returns ``lhs, op, rhs, label, est, se, ci_lower, ci_upper``; fixed parameters have
        NaN limits, like ``parameterEstimates(level = level)``.

        Raises
        ------
        ValueError
            If ``level`` is not strictly between 0 and 1.
        """
        if not 0 < level < 1:
            raise ValueError(f"level must lie strictly between 0 and 1, not {level!r}")
        z = stats.norm.ppf(0.5 + level / 2)
        frame = self.estimates[["lhs", "op", "rhs", "label", "est", "se"]].copy()
        frame["ci_lower"] = frame["est"] - z * frame["se"]
        frame["ci_upper"] = frame["est"] + z * frame["se"]
        return frame

    def modindices(self, *, minimum: float = 0.0) -> pd.DataFrame:
        """Modification indices of every fixed parameter, as lavaan's ``modindices()``.

        Parameters
        ----------
        minimum : float
            Leave out indices below this value (3.84 is the 5% critical value of one df).

        Returns
        -------
        DataFrame
            ``lhs, op, rhs, mi, epc, sepc_all``, largest index first: the drop in chi-square
            expected from freeing the parameter, its expected value, and that value
            standardized (std.all).

        References
        ----------
        Sörbom, D. (1989). Model modification. *Psychometrika*, 54(3), 371-384.

        Raises
        ------
        ValueError
            For a WLSMV fit: the indices here are those of the maximum likelihood fit
            function.
        """
        if self._sample is None:
            raise ValueError(
                f"modification indices are computed for maximum likelihood fits, not "
                f"{self.estimator}"
            )
        row_values = self._estimator.model.row_values(self._theta, self._fixed)
        return modification_indices(
            self._estimator.table,
            self.spec,
            row_values,
            self._sample,
            self._moments,
            self.n_used,
            minimum=minimum,
        )

    def _parameter_names(self) -> list[str]:
        return _lavaan_parameter_names(self._estimator.table)

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
    estimator: str | None = None,
    se: str | None = None,
    test: str | None = None,
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
    estimator : {"ML", "MLR", "MLM", "WLSMV"}, optional
        ``"ML"``: normal-theory standard errors and chi-square. ``"MLR"``: Huber-White
        (sandwich) standard errors and the Yuan-Bentler scaled chi-square (lavaan's
        ``"yuan.bentler.mplus"``), with listwise deletion or FIML. ``"MLM"``: Satorra-Bentler
        standard errors and scaled chi-square, complete data only. The robust estimators add
        lavaan's ``.scaled`` and ``.robust`` fit measures (``chisq_scaled``,
        ``chisq_scaling_factor``, ``cfi_robust``, ``rmsea_robust``, ...). ``"WLSMV"``: ordered
        items (see ``ordered``). By default WLSMV with ordered items, else ML; a maximum
        likelihood estimator with ordered items, or WLSMV without them, is refused. See
        :mod:`analysis.sem.options`.
    se, test : str, optional
        Override the estimator's standard errors (``"standard"``, ``"robust.huber.white"``,
        ``"robust.sem"``) or test (``"standard"``, ``"yuan.bentler.mplus"``,
        ``"satorra.bentler"``), as lavaan's ``se =`` and ``test =`` (maximum likelihood only).
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
    options = resolve_options(
        estimator=estimator, se=se, test=test, missing=missing, ordered=bool(ordered_items)
    )
    prepared = prepare_data(data, spec, missing=missing)
    if options.ordinal:
        # Imported here: the WLSMV module builds on this one.
        from analysis.sem.ordinal import fit_wlsmv

        with single_threaded_blas():
            result = fit_wlsmv(
                spec, prepared, ordered=ordered_items, std_lv=std_lv, options=options
            )
        for note in result.warnings:
            _warnings.warn(note, RuntimeWarning, stacklevel=2)
        return result
    fitter = build_estimator(spec, missing=missing, std_lv=std_lv)
    if fitter.df < 0:
        raise IdentificationError(
            f"the model has {fitter.table.n_free} free parameters but the data provide only "
            f"{fitter.n_moments} sample moments (df = {fitter.df}); fix or remove parameters"
        )
    with single_threaded_blas():
        return _fit(fitter, prepared, missing=missing, options=options)


def build_estimator(spec: ModelSpec, *, missing: str, std_lv: bool) -> Estimator:
    """The model laid out for fitting, with a mean structure under FIML or when the model has
    intercepts (lavaan's default)."""
    meanstructure = missing == "fiml" or bool(spec.intercepts)
    return Estimator(spec, build_table(spec, meanstructure=meanstructure, std_lv=std_lv))


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
class ModelData:
    """The model's observed variables as a float matrix after the missing-data rule
    (not :class:`analysis.prepare.PreparedData`, the pipeline's recoded responses)."""

    values: np.ndarray
    n_rows: int
    notes: list[str]


def prepare_data(data: pd.DataFrame, spec: ModelSpec, *, missing: str) -> ModelData:
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
    return ModelData(values, n_rows, notes)


def _exogenous_columns(spec: ModelSpec) -> list[int]:
    table = build_table(spec, meanstructure=True, std_lv=False)
    return [spec.observed_variables.index(name) for name in table.exogenous_observed]


def sample_moments(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mean = values.mean(axis=0)
    centered = values - mean
    return centered.T @ centered / len(values), mean


@dataclass
class GroupSample:
    """One group's data ready for fitting: the fit-function object (complete-data moments or
    FIML patterns), the saturated estimates, the table's fixed values (exogenous covariates
    at their sample moments) and the rows used."""

    data: CompleteData | MissingData
    h1_cov: np.ndarray
    h1_mean: np.ndarray
    fixed: np.ndarray
    values: np.ndarray

    @property
    def n(self) -> int:
        return len(self.values)


def group_sample(estimator: Estimator, values: np.ndarray, *, missing: str) -> GroupSample:
    """The sample moments (or EM estimates under FIML) a fit needs."""
    data: CompleteData | MissingData
    if missing == "fiml":
        data = MissingData(values)
        h1_cov, h1_mean = data.saturated_moments()
    else:
        h1_cov, h1_mean = sample_moments(values)
        sign, logdet = np.linalg.slogdet(h1_cov)
        if sign <= 0 or not np.isfinite(logdet):
            raise AnalysisError(
                "the sample covariance matrix is singular (an item is a linear combination of "
                "others, or there are fewer complete rows than variables)"
            )
        data = CompleteData(
            h1_cov, h1_mean, len(values), meanstructure=estimator.table.meanstructure
        )
    x = estimator._exo_x
    exo_cov, exo_mean = h1_cov, h1_mean
    if len(x) and missing == "fiml":
        # Fixed covariates at their own sample moments (lavaan), not the EM estimates.
        exo_cov, exo_mean = h1_cov.copy(), h1_mean.copy()
        x_cov, x_mean = sample_moments(values[:, x])
        exo_cov[np.ix_(x, x)] = x_cov
        exo_mean[x] = x_mean
    return GroupSample(data, h1_cov, h1_mean, estimator.fixed_values(exo_cov, exo_mean), values)


def _estimate(model, data, theta0: np.ndarray, fixed) -> tuple[np.ndarray, int]:
    """Fisher scoring, with a quasi-Newton fallback; raises if neither converges."""
    theta, iterations, converged, _ = fisher_scoring(model, data, theta0, fixed)
    if not converged:
        theta, iterations, converged, _ = _fallback(model, data, theta, fixed)
    if not converged:
        raise ConvergenceError(
            f"the estimator did not converge after {iterations} iterations; the model may be "
            "misspecified or not identified, or the sample too small"
        )
    return theta, iterations


def unit_information(
    groups: Sequence[tuple[Estimator, GroupSample, float]],
    theta: np.ndarray,
    *,
    kind: str,
    step: float = 1e-5,
) -> np.ndarray:
    """Information per observation at the estimate, summed over ``(estimator, sample,
    weight)`` groups: ``"expected"``, or ``"observed"`` (the Hessian of the fit function, as
    lavaan's default ``observed.information = "hessian"``).

    The observed information is ``J' A J + sum_x g_x d2m_x`` with ``m`` the implied moments
    in the saturated model's coordinates, ``J`` their Jacobian, ``A`` the saturated model's
    observed information and ``g`` the fit function's gradient there: analytic but for the
    second derivatives of the moments, taken by central differences of the Jacobian (which
    needs no pass over the data).
    """
    total = np.zeros((len(theta), len(theta)))
    for estimator, sample, weight in groups:
        model, fixed, data = estimator.model, sample.fixed, sample.data
        mom = model.moments(theta, fixed)
        _, parts = data.evaluate(mom, derivatives=True)
        if kind == "expected":
            total = total + weight * data.information(parts, *model.jacobian(mom)) / 2
            continue
        table = estimator.table
        layout = robust.H1Layout(
            estimator.p, meanstructure=table.meanstructure, exogenous=estimator._exo_x
        )

        def jacobian(x: np.ndarray, model=model, fixed=fixed, layout=layout) -> np.ndarray:
            return layout.delta(*model.jacobian(model.moments(x, fixed)))

        gradient_matrix, mean_gradient = parts[0], parts[1]
        gradient = layout.half * gradient_matrix[layout.rows, layout.cols]
        if table.meanstructure:
            gradient = np.concatenate([-mean_gradient[layout.mean_index] / 2, gradient])
        mu = mom.mu if table.meanstructure else sample.h1_mean
        saturated = robust.observed_information(
            layout, robust.PatternMoments.of(data), mom.sigma, mu
        )
        J = jacobian(theta)
        curvature = np.empty((len(theta), len(theta)))
        for a in range(len(theta)):
            h = step * max(1.0, abs(theta[a]))
            shift = np.zeros(len(theta))
            shift[a] = h
            curvature[a] = gradient @ (jacobian(theta + shift) - jacobian(theta - shift)) / (2 * h)
        total = total + weight * (J.T @ saturated @ J + (curvature + curvature.T) / 2)
    return total


def robust_correction(
    options: EstimationOptions,
    groups: Sequence[tuple[Estimator, GroupSample, Moments]],
    baselines: Sequence[tuple[np.ndarray, np.ndarray]],
    vcov: np.ndarray,
    fit: dict[str, float],
    *,
    missing: str,
) -> tuple[np.ndarray, dict[str, float]]:
    """The covariance matrix of the estimates and the fit measures with the options' robust
    standard errors and test (and, under FIML, the FIML-corrected robust indices)."""
    if options.se == "standard" and not options.robust_test and missing != "fiml":
        return vcov, fit
    n = sum(sample.n for _, sample, _ in groups)
    pairs = [robust_group(est, sample, mom, sample.n / n) for est, sample, mom in groups]
    corrected = robust.robust_inference(
        options,
        [group for group, _ in pairs],
        [implied for _, implied in pairs],
        baselines,
        bread_inverse=n * vcov,
        n=n,
        fit=fit,
        fiml=missing == "fiml",
    )
    return (vcov if corrected.vcov is None else corrected.vcov), fit | corrected.fit


def robust_group(
    estimator: Estimator, sample: GroupSample, mom: Moments, weight: float
) -> tuple[robust.GroupData, robust.Implied]:
    """A group's data and implied moments in the saturated model's coordinates."""
    table = estimator.table
    layout = robust.H1Layout(
        estimator.p, meanstructure=table.meanstructure, exogenous=estimator._exo_x
    )
    group = robust.GroupData(
        layout, robust.Patterns(sample.values), sample.h1_cov, sample.h1_mean, weight
    )
    d_sigma, d_mu = estimator.model.jacobian(mom)
    mu = mom.mu if table.meanstructure else sample.h1_mean
    return group, robust.Implied(mom.sigma, mu, layout.delta(d_sigma, d_mu))


def _fit(
    estimator: Estimator, prepared: ModelData, *, missing: str, options: EstimationOptions
) -> SemResult:
    values = prepared.values
    n = len(values)
    table = estimator.table
    notes = list(prepared.notes)
    sample = group_sample(estimator, values, missing=missing)
    data, fixed = sample.data, sample.fixed
    model = estimator.model
    theta0 = starting_values(table, fixed, sample.h1_cov, sample.h1_mean)
    theta, iterations = _estimate(model, data, theta0, fixed)
    mom = model.moments(theta, fixed)
    unit = unit_information([(estimator, sample, 1.0)], theta, kind=options.information)
    vcov = _invert_information(_free_parameter_names([table]), n * unit)
    h1 = (sample.h1_cov, sample.h1_mean)
    baseline = _baseline_moments(estimator, data, values, *h1)
    fit = _fit_measures(estimator, data, mom, h1, baseline, values)
    vcov, fit = robust_correction(
        options, [(estimator, sample, mom)], [baseline], vcov, fit, missing=missing
    )
    row_values = model.row_values(theta, fixed)
    estimates = _estimates_table(estimator, mom, row_values, vcov)
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
        converged=True,
        iterations=iterations,
        warnings=notes,
        missing=missing,
        options=options,
        _estimator=estimator,
        _moments=mom,
        _theta=theta,
        _vcov=vcov,
        _sample=data,
        _fixed=fixed,
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


def _lavaan_parameter_names(table: ParameterTable, suffix: str = "") -> list[str]:
    """lavaan's names of the free parameters: the label, else ``lhs op rhs`` without spaces
    (``suffix`` marks groups after the first, as lavaan's ``.g2``)."""
    names = [""] * table.n_free
    for i in range(len(table)):
        k = table.free[i]
        if k >= 0 and not names[k]:
            names[k] = table.label[i] or f"{table.lhs[i]}{table.op[i]}{table.rhs[i]}" + suffix
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


def _baseline_moments(
    estimator: Estimator, data, values: np.ndarray, h1_cov: np.ndarray, h1_mean: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Implied moments of the independence (baseline) model: every variance and mean free,
    exogenous covariates at their sample moments. Under FIML these are the available-case
    means and variances (the likelihood factors over variables)."""
    x = estimator._exo_x
    sigma = np.diag(np.diag(h1_cov))
    mean = h1_mean.copy()
    if isinstance(data, MissingData):
        p = estimator.p
        counts, total, variance = np.zeros(p), np.zeros(p), np.zeros(p)
        for idx, n_k, pattern_mean, _ in data.patterns:
            total[idx] += n_k * pattern_mean
            counts[idx] += n_k
        mean = total / counts
        for idx, n_k, pattern_mean, cov in data.patterns:
            variance[idx] += n_k * (np.diag(cov) + (pattern_mean - mean[idx]) ** 2)
        np.fill_diagonal(sigma, variance / counts)
        if len(x):
            h1_cov, h1_mean = sample_moments(values[:, x])
            sigma[np.ix_(x, x)] = h1_cov
            mean[x] = h1_mean
    elif len(x):
        sigma[np.ix_(x, x)] = h1_cov[np.ix_(x, x)]
    return sigma, mean


def _likelihoods(
    estimator: Estimator,
    data,
    implied: tuple[np.ndarray, np.ndarray],
    h1: tuple[np.ndarray, np.ndarray],
    baseline: tuple[np.ndarray, np.ndarray],
    values: np.ndarray,
) -> tuple[float, float, float]:
    """Log-likelihoods of the model, the saturated and the baseline model, the first two
    conditional on fixed exogenous covariates as lavaan reports them."""
    loglik, unrestricted = data.loglik(*implied), data.loglik(*h1)
    baseline_loglik = data.loglik(*baseline)
    x = estimator._exo_x
    if len(x):
        n = len(values)
        xcov = sample_moments(values[:, x])[0]
        loglik_x = -n / 2 * (len(x) * (np.log(2 * np.pi) + 1) + np.linalg.slogdet(xcov)[1])
        loglik -= loglik_x
        unrestricted -= loglik_x
        baseline_loglik -= loglik_x
    return loglik, unrestricted, baseline_loglik


def _fit_measures(
    estimator: Estimator,
    data,
    mom: Moments,
    h1: tuple[np.ndarray, np.ndarray],
    baseline: tuple[np.ndarray, np.ndarray],
    values: np.ndarray,
) -> dict[str, float]:
    loglik, unrestricted, baseline_loglik = _likelihoods(
        estimator, data, (mom.sigma, mom.mu), h1, baseline, values
    )
    meanstructure = estimator.table.meanstructure
    return fitmeasures.normal_theory_measures(
        chisq=max(2 * (unrestricted - loglik), 0.0),
        df=estimator.df,
        baseline_chisq=2 * (unrestricted - baseline_loglik),
        baseline_df=estimator.baseline_df,
        n=len(values),
        groups=1,
        npar=estimator.table.n_free,
        loglik=loglik,
        unrestricted_loglik=unrestricted,
        srmr_value=fitmeasures.srmr(mom.sigma, mom.mu, *h1, meanstructure=meanstructure),
    )


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
