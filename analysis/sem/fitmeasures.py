"""SEM fit measures as small pure functions, following lavaan's ``lav_fit_*.R``.

Single- and multiple-group fits, normal-theory and robust estimators all compute their indices
here. Each function takes the test statistic(s) and sizes and returns one number (or a pair),
with lavaan's conventions: N (not N - 1) in RMSEA, the ``sqrt(G)`` multiple-group factor of
RMSEA (Steiger, 1998), CFI clipped to [0, 1] and TLI not clipped.

*Scaled* indices plug a scaled statistic into the normal-theory formulas; *robust* ones correct
the population quantity itself by the scaling factor ``c_hat`` (Brosseau-Liard, Savalei & Li,
2012; Brosseau-Liard & Savalei, 2014): ``RMSEA = sqrt(max(X2/(N df) - c_hat/N, 0))`` and
``CFI = 1 - max(X2 - c_hat df, 0) / max(X2 - c_hat df, X2_0 - c_hat_0 df_0, 0)``.

References
----------
Bentler, P. M. (1990). Comparative fit indexes in structural models. *Psychological Bulletin*,
107(2), 238-246.

Browne, M. W., & Cudeck, R. (1993). Alternative ways of assessing model fit. In K. A. Bollen &
J. S. Long (Eds.), *Testing structural equation models* (pp. 136-162). Sage.

Brosseau-Liard, P. E., Savalei, V., & Li, L. (2012). An investigation of the sample performance
of two nonnormality corrections for RMSEA. *Multivariate Behavioral Research*, 47(6), 904-930.

Brosseau-Liard, P. E., & Savalei, V. (2014). Adjusting incremental fit indices for
nonnormality. *Multivariate Behavioral Research*, 49(5), 460-470.

Steiger, J. H. (1998). A note on multiple sample extensions of the RMSEA fit index.
*Structural Equation Modeling*, 5(4), 411-419.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import optimize, special, stats

__all__ = [
    "aic",
    "bic",
    "cfi",
    "chisq_difference",
    "chisq_pvalue",
    "normal_theory_measures",
    "rmsea",
    "rmsea_ci",
    "rmsea_close_pvalue",
    "robust_measures",
    "scaled_measures",
    "srmr",
    "test_measures",
    "tli",
]

# lavaan compares the numerators of CFI to zero with all.equal()'s tolerance.
_ALL_EQUAL = 1.5e-8


def chisq_pvalue(chisq: float, df: float) -> float:
    """Upper-tail p-value of the chi-square test (NaN when df = 0, as lavaan)."""
    return float(stats.chi2.sf(chisq, df)) if df > 0 else math.nan


def rmsea(chisq: float, df: float, n: float, *, groups: int = 1, c_hat: float = 1.0) -> float:
    """RMSEA ``sqrt(max(X2/(N df) - c_hat/N, 0)) * sqrt(G)``; 0 when df = 0.

    ``c_hat = 1`` gives the normal-theory index (or the *scaled* one when ``chisq`` is a scaled
    statistic); the scaling factor gives the *robust* RMSEA of Brosseau-Liard et al. (2012).
    """
    if math.isnan(df):
        return math.nan
    if not df > 0:
        return 0.0
    return math.sqrt(max(chisq / (n * df) - c_hat / n, 0.0)) * math.sqrt(groups)


def rmsea_ci(
    chisq: float,
    df: float,
    n: float,
    *,
    groups: int = 1,
    c_hat: float = 1.0,
    level: float = 0.90,
) -> tuple[float, float]:
    """Browne & Cudeck's noncentral chi-square interval for RMSEA (lavaan's root finding).

    For the robust interval, pass the *scaled* statistic and the scaling factor ``c_hat``.
    """
    if not all(math.isfinite(v) for v in (chisq, df, n)):
        return math.nan, math.nan
    if df < 1:
        return 0.0, 0.0
    upper_p, lower_p = 1 - (1 - level) / 2, (1 - level) / 2

    def cdf(ncp: float) -> float:
        # The ufunc, not stats.ncx2.cdf: the same values, about 35 times less overhead a call.
        return float(special.chndtr(chisq, df, ncp))

    scale = math.sqrt(groups)
    if cdf(0) - upper_p < 0:
        lower = 0.0
    else:
        lam = optimize.brentq(lambda x: cdf(x) - upper_p, 0, chisq, xtol=1e-10)
        lower = math.sqrt(c_hat * lam / (n * df)) * scale
    limit = max(n, 4 * chisq)
    if cdf(limit) - lower_p > 0 or cdf(0) - lower_p < 0:
        upper = 0.0
    else:
        lam = optimize.brentq(lambda x: cdf(x) - lower_p, 0, limit, xtol=1e-10)
        upper = math.sqrt(c_hat * lam / (n * df)) * scale
    return lower, upper


def rmsea_close_pvalue(
    chisq: float,
    df: float,
    n: float,
    *,
    groups: int = 1,
    c_hat: float = 1.0,
    h0: float = 0.05,
) -> float:
    """p-value of the test of close fit, H0: RMSEA <= ``h0`` (Browne & Cudeck, 1993)."""
    if not df > 0 or not math.isfinite(chisq):
        return math.nan
    ncp = n * df * h0**2 / c_hat / groups
    return float(stats.ncx2.sf(chisq, df, ncp))


def _robust(df: float, c_hat: float, c_hat_baseline: float) -> bool:
    return df > 0 and c_hat != 1 and c_hat_baseline != 1


def cfi(
    chisq: float,
    df: float,
    baseline_chisq: float,
    baseline_df: float,
    *,
    c_hat: float = 1.0,
    c_hat_baseline: float = 1.0,
) -> float:
    """Comparative fit index (Bentler, 1990), clipped to [0, 1]; robust with the scaling
    factors of the model and the baseline model (Brosseau-Liard & Savalei, 2014, eq. 15)."""
    if any(math.isnan(v) for v in (chisq, df, baseline_chisq, baseline_df, c_hat)):
        return math.nan
    if not _robust(df, c_hat, c_hat_baseline):
        c_hat = c_hat_baseline = 1.0
    t1 = max(chisq - c_hat * df, 0.0)
    t2 = max(chisq - c_hat * df, baseline_chisq - c_hat_baseline * baseline_df, 0.0)
    if math.isclose(t1, 0, abs_tol=_ALL_EQUAL) and math.isclose(t2, 0, abs_tol=_ALL_EQUAL):
        return 1.0
    return 1 - t1 / t2


def tli(
    chisq: float,
    df: float,
    baseline_chisq: float,
    baseline_df: float,
    *,
    c_hat: float = 1.0,
    c_hat_baseline: float = 1.0,
) -> float:
    """Tucker-Lewis index ``1 - (X2 - df) df0 / ((X2_0 - df0) df)``, not clipped (lavaan's
    form since 0.5-21, which has a robust version)."""
    if any(math.isnan(v) for v in (chisq, df, baseline_chisq, baseline_df, c_hat)):
        return math.nan
    if not _robust(df, c_hat, c_hat_baseline):
        c_hat = c_hat_baseline = 1.0
    t1 = (chisq - c_hat * df) * baseline_df
    t2 = (baseline_chisq - c_hat_baseline * baseline_df) * df
    if df > 0 and abs(t2) > 0:
        return 1 - t1 / t2
    return 1.0


def srmr(
    implied_cov: np.ndarray,
    implied_mean: np.ndarray,
    cov: np.ndarray,
    mean: np.ndarray,
    *,
    meanstructure: bool,
) -> float:
    """lavaan's ``srmr`` (Bentler's): residuals scaled by the observed standard deviations,
    root mean square over the lower triangle with the diagonal (and the means)."""
    sd = np.sqrt(np.diag(cov))
    residual = (cov - implied_cov) / np.outer(sd, sd)
    squares = list(residual[np.tril_indices_from(residual)] ** 2)
    if meanstructure:
        squares += list(((mean - implied_mean) / sd) ** 2)
    return math.sqrt(np.mean(squares))


def aic(loglik: float, npar: float) -> float:
    """Akaike's information criterion ``-2 logL + 2 k``."""
    return -2 * loglik + 2 * npar


def bic(loglik: float, npar: float, n: float) -> float:
    """Schwarz's Bayesian information criterion ``-2 logL + k log N``."""
    return -2 * loglik + npar * math.log(n)


def test_measures(
    *,
    chisq: float,
    df: float,
    baseline_chisq: float,
    baseline_df: float,
    n: float,
    groups: int = 1,
    suffix: str = "",
) -> dict[str, float]:
    """The measures lavaan derives from one test statistic and its baseline: the test, CFI,
    TLI, RMSEA with its interval and test of close fit.

    ``suffix`` names a corrected statistic's measures (``"_scaled"``: lavaan's ``.scaled``,
    e.g. ``cfi_scaled``, ``rmsea_ci_lower_scaled``), computed by the same formulas from it.
    """
    lower, upper = rmsea_ci(chisq, df, n, groups=groups)
    measures = {
        "chisq": chisq,
        "df": float(df),
        "pvalue": chisq_pvalue(chisq, df),
        "baseline_chisq": baseline_chisq,
        "baseline_df": float(baseline_df),
        "baseline_pvalue": chisq_pvalue(baseline_chisq, baseline_df),
        "cfi": cfi(chisq, df, baseline_chisq, baseline_df),
        "tli": tli(chisq, df, baseline_chisq, baseline_df),
        "rmsea": rmsea(chisq, df, n, groups=groups),
        "rmsea_ci_lower": lower,
        "rmsea_ci_upper": upper,
        "rmsea_pvalue": rmsea_close_pvalue(chisq, df, n, groups=groups),
    }
    return {name + suffix: float(value) for name, value in measures.items()}


def normal_theory_measures(
    *,
    chisq: float,
    df: float,
    baseline_chisq: float,
    baseline_df: float,
    n: float,
    groups: int,
    npar: float,
    loglik: float,
    unrestricted_loglik: float,
    srmr_value: float,
) -> dict[str, float]:
    """lavaan's ``fitMeasures()`` of a normal-theory ML fit (``.`` written ``_``)."""
    measures = {
        "npar": float(npar),
        **test_measures(
            chisq=chisq,
            df=df,
            baseline_chisq=baseline_chisq,
            baseline_df=baseline_df,
            n=n,
            groups=groups,
        ),
        "srmr": srmr_value,
        "loglik": loglik,
        "unrestricted_loglik": unrestricted_loglik,
        "aic": aic(loglik, npar),
        "bic": bic(loglik, npar, n),
        "ntotal": float(n),
    }
    return {name: float(value) for name, value in measures.items()}


def scaled_measures(
    *,
    chisq: float,
    df: float,
    trace: float,
    baseline_chisq: float,
    baseline_df: float,
    baseline_trace: float,
    n: float,
    groups: int,
) -> dict[str, float]:
    """The ``.scaled`` fit measures of a mean-scaled test (Satorra-Bentler, Yuan-Bentler).

    ``trace`` is ``tr(U Gamma)`` of the model and ``baseline_trace`` of the baseline model;
    the scaling factors are trace / df. As lavaan does, the scaled RMSEA and its interval use
    the unscaled statistic against ``trace`` degrees of freedom.
    """
    if not df > 0:
        trace = math.nan  # lavaan does not scale a saturated model
    scaling = trace / df if df > 0 else math.nan
    baseline_scaling = baseline_trace / baseline_df if baseline_df > 0 else math.nan
    scaled = chisq / scaling if df > 0 else chisq
    baseline_scaled = baseline_chisq / baseline_scaling
    lower, upper = rmsea_ci(chisq, trace, n, groups=groups)
    measures = {
        "chisq_scaled": scaled,
        "df_scaled": float(df),
        "pvalue_scaled": chisq_pvalue(scaled, df),
        "chisq_scaling_factor": scaling,
        "baseline_chisq_scaled": baseline_scaled,
        "baseline_df_scaled": float(baseline_df),
        "baseline_pvalue_scaled": chisq_pvalue(baseline_scaled, baseline_df),
        "baseline_chisq_scaling_factor": baseline_scaling,
        "cfi_scaled": cfi(scaled, df, baseline_scaled, baseline_df),
        "tli_scaled": tli(scaled, df, baseline_scaled, baseline_df),
        "rmsea_scaled": rmsea(chisq, trace, n, groups=groups),
        "rmsea_ci_lower_scaled": lower,
        "rmsea_ci_upper_scaled": upper,
        "rmsea_pvalue_scaled": rmsea_close_pvalue(chisq, trace, n, groups=groups),
    }
    return {name: float(value) for name, value in measures.items()}


def robust_measures(
    *,
    chisq: float,
    df: float,
    c_hat: float,
    baseline_chisq: float,
    baseline_df: float,
    c_hat_baseline: float,
    n: float,
    groups: int,
    rmsea_df: float | None = None,
) -> dict[str, float]:
    """The ``.robust`` CFI, TLI and RMSEA (Brosseau-Liard & Savalei), from a statistic and
    its scaling factor (under FIML, the FIML-corrected statistic of Zhang & Savalei, 2023;
    for ordered items, Savalei's (2021) ML statistic of the polychoric correlations, whose
    RMSEA counts the degrees of freedom without thresholds: ``rmsea_df``)."""
    scaled = chisq / c_hat
    rmsea_df = df if rmsea_df is None else rmsea_df
    lower, upper = rmsea_ci(scaled, rmsea_df, n, groups=groups, c_hat=c_hat)
    options = {"c_hat": c_hat, "c_hat_baseline": c_hat_baseline}
    measures = {
        "cfi_robust": cfi(chisq, df, baseline_chisq, baseline_df, **options),
        "tli_robust": tli(chisq, df, baseline_chisq, baseline_df, **options),
        "rmsea_robust": rmsea(chisq, rmsea_df, n, groups=groups, c_hat=c_hat),
        "rmsea_ci_lower_robust": lower,
        "rmsea_ci_upper_robust": upper,
        "rmsea_pvalue_robust": rmsea_close_pvalue(scaled, rmsea_df, n, groups=groups, c_hat=c_hat),
    }
    return {name: float(value) for name, value in measures.items()}


def chisq_difference(
    restricted: dict[str, float], free: dict[str, float]
) -> tuple[float, float, float]:
    """Chi-square difference test of two nested fits (lavaan's ``lavTestLRT``): the plain
    difference, or, when both fits carry a scaling factor (MLR, MLM), the Satorra-Bentler
    (2001) scaled difference ``(T0 - T1) / cd`` with ``cd = (df0 c0 - df1 c1) / (df0 - df1)``.

    Returns the statistic, its degrees of freedom and p-value.

    Raises
    ------
    ValueError
        For scaled-shifted (WLSMV) fits, whose difference needs the models' matrices
        (lavaan's ``DIFFTEST``), not their fit measures.

    References
    ----------
    Satorra, A., & Bentler, P. M. (2001). A scaled difference chi-square test statistic for
    moment structure analysis. *Psychometrika*, 66(4), 507-514.
    """
    if "chisq_shift_parameters" in restricted or "chisq_shift_parameters" in free:
        raise ValueError(
            "the difference of scaled-shifted (WLSMV) chi-squares needs the models' "
            "matrices (lavaan's DIFFTEST), not their fit measures"
        )
    df = restricted["df"] - free["df"]
    difference = restricted["chisq"] - free["chisq"]
    if "chisq_scaling_factor" in restricted and "chisq_scaling_factor" in free:
        cd = (
            restricted["df"] * restricted["chisq_scaling_factor"]
            - free["df"] * free["chisq_scaling_factor"]
        ) / df
        difference /= cd
    return difference, df, chisq_pvalue(max(difference, 0.0), df)
