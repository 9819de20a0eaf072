"""Comparing construct scores between segments and waves.

Two groups: Welch's t-test and Hedges' g. More groups: Welch's ANOVA with Games-Howell
post hoc tests. Eta and omega squared for every comparison; noncentral-distribution
confidence intervals for g and eta squared.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations, pairwise
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike
from scipy import optimize, special, stats

from analysis._checks import check_confidence, require_columns

__all__ = ["GroupComparison", "compare_groups", "hedges_g", "wave_change"]

_MIN_GROUP_SIZE = 2
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(128)


@dataclass(frozen=True)
class GroupComparison:
    """Result of :func:`compare_groups`.

    Attributes
    ----------
    summary : pandas.DataFrame
        ``variable, group, n, mean, sd`` per variable and group.
    tests : pandas.DataFrame
        One row per variable: ``test`` (``"welch_t"`` or ``"welch_anova"``), ``k``, ``n``,
        ``statistic`` (t or F), ``df1`` (NaN for t), ``df2``, ``pvalue``, ``hedges_g`` with
        ``hedges_g_ci_lower/upper`` (two groups only; first minus second group),
        ``eta_squared`` with ``eta_squared_ci_lower/upper``, ``omega_squared``.
    posthoc : pandas.DataFrame
        Games-Howell pairs for variables with three or more groups: ``variable, group_a,
        group_b, mean_a, mean_b, diff, se, t, df, pvalue, hedges_g, hedges_g_ci_lower,
        hedges_g_ci_upper`` (``diff`` and g are a minus b).
    """

    summary: pd.DataFrame
    tests: pd.DataFrame
    posthoc: pd.DataFrame


def _invert_decreasing(cdf, p: float, lower: float, upper: float, floor: float = -np.inf):
    """Solve ``cdf(x) = p`` for a function decreasing in ``x``, widening ``[lower, upper]``.

    Widening in steps of the current width (not by large jumps) keeps the noncentral
    distributions away from the far tails where their numerics break down.
    """
    for _ in range(200):
        if cdf(lower) < p and lower > floor:
            lower = max(lower - (upper - lower), floor)
        elif cdf(upper) > p:
            upper += upper - lower
        else:
            try:
                return optimize.brentq(lambda x: cdf(x) - p, lower, upper, xtol=1e-12)
            except ValueError:  # the distribution's numerics failed (NaN) far in a tail
                return np.nan
    return np.nan


def _noncentral_t_interval(t: float, df: float, confidence: float) -> tuple[float, float]:
    """Confidence interval of the noncentrality parameter of an observed t (Steiger, 2004)."""
    alpha = 1 - confidence
    spread = 3 * np.sqrt(1 + t * t / (2 * df))

    def cdf(ncp: float) -> float:
        return stats.nct.cdf(t, df, ncp)

    return (
        _invert_decreasing(cdf, 1 - alpha / 2, t - 2 * spread, t),
        _invert_decreasing(cdf, alpha / 2, t, t + 2 * spread),
    )


def _noncentral_f_interval(f: float, df1: float, df2: float, confidence: float) -> tuple:
    """Confidence interval of the noncentrality parameter of an observed F (Steiger, 2004)."""
    alpha = 1 - confidence

    def cdf(ncp: float) -> float:
        return stats.ncf.cdf(f, df1, df2, ncp) if ncp > 0 else stats.f.cdf(f, df1, df2)

    centre = max(f * df1 - df1, 1.0)
    bounds = []
    for p in (1 - alpha / 2, alpha / 2):
        bounds.append(0.0 if cdf(0.0) <= p else _invert_decreasing(cdf, p, 0.0, 2 * centre, 0.0))
    return bounds[0], bounds[1]


def hedges_g(x: ArrayLike, y: ArrayLike, *, confidence: float = 0.95) -> tuple[float, float, float]:
    """Hedges' g of ``mean(x) - mean(y)`` with a noncentral-t confidence interval.

    ``g = J · (mean_x - mean_y) / s_pooled`` with the exact small-sample correction
    ``J = Γ(ν/2) / (sqrt(ν/2) Γ((ν-1)/2))``, ``ν = n_x + n_y - 2``. The interval inverts the
    noncentral t distribution of the pooled t statistic and is scaled the same way, as R's
    ``effectsize::hedges_g``. Missing values are dropped.

    Parameters
    ----------
    x, y : array_like of float
        The two samples.
    confidence : float
        Confidence level.

    Returns
    -------
    tuple of float
        ``(g, ci_lower, ci_upper)``; NaN when a sample has fewer than two values or no spread.

    References
    ----------
    Hedges, L. V. (1981). Distribution theory for Glass's estimator of effect size and related
    estimators. *Journal of Educational Statistics*, 6(2), 107-128.

    Steiger, J. H. (2004). Beyond the F test: Effect size confidence intervals and tests of
    close fit in the analysis of variance and contrast analysis. *Psychological Methods*, 9(2),
    164-182.

    Examples
    --------
    >>> g, lower, upper = hedges_g([5, 6, 7, 6, 5], [4, 5, 4, 3, 5])
    >>> round(float(g), 3), bool(lower < g < upper)
    (1.726, True)
    """
    check_confidence(confidence)
    x_values, y_values = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    a, b = x_values[~np.isnan(x_values)], y_values[~np.isnan(y_values)]
    nx, ny = a.size, b.size
    if nx < _MIN_GROUP_SIZE or ny < _MIN_GROUP_SIZE:
        return np.nan, np.nan, np.nan
    df = nx + ny - 2
    pooled_sd = np.sqrt(((nx - 1) * a.var(ddof=1) + (ny - 1) * b.var(ddof=1)) / df)
    if pooled_sd == 0:
        return np.nan, np.nan, np.nan
    d = (a.mean() - b.mean()) / pooled_sd
    correction = np.exp(
        special.gammaln(df / 2) - np.log(np.sqrt(df / 2)) - special.gammaln((df - 1) / 2)
    )
    scale = np.sqrt(1 / nx + 1 / ny)
    ncp_lower, ncp_upper = _noncentral_t_interval(d / scale, df, confidence)
    return correction * d, correction * ncp_lower * scale, correction * ncp_upper * scale


def _anova_effect_sizes(groups: list[np.ndarray], confidence: float) -> dict[str, float]:
    """Eta squared (with a noncentral-F interval) and omega squared of a one-way layout."""
    values = np.concatenate(groups)
    n, k = values.size, len(groups)
    grand_mean = values.mean()
    ss_between = sum(g.size * (g.mean() - grand_mean) ** 2 for g in groups)
    ss_total = ((values - grand_mean) ** 2).sum()
    df1, df2 = k - 1, n - k
    ms_within = (ss_total - ss_between) / df2
    if ss_total == 0 or ms_within == 0:
        return dict.fromkeys(
            ("eta_squared", "eta_squared_ci_lower", "eta_squared_ci_upper", "omega_squared"),
            np.nan,
        )
    f = (ss_between / df1) / ms_within
    lower, upper = _noncentral_f_interval(f, df1, df2, confidence)
    return {
        "eta_squared": ss_between / ss_total,
        "eta_squared_ci_lower": lower / (lower + n),
        "eta_squared_ci_upper": upper / (upper + n),
        "omega_squared": max((ss_between - df1 * ms_within) / (ss_total + ms_within), 0.0),
    }


def _gauss_legendre(lower: float, upper: float) -> tuple[np.ndarray, np.ndarray]:
    half = (upper - lower) / 2
    return lower + half * (_NODES + 1), half * _WEIGHTS


def _studentized_range_sf(q: float, k: int, df: float) -> float:
    """Upper tail of the studentized range distribution, ``ptukey(q, k, df, lower = FALSE)``.

    ``P(Q > q) = ∫ (1 - W(q s)) g(s) ds`` with ``W`` the distribution of the range of ``k``
    standard normals and ``g`` the density of ``s = sqrt(χ²_df / df)``; both integrals by
    128-point Gauss-Legendre quadrature, which agrees with ``scipy.stats.studentized_range``
    to about 1e-12 at a hundredth of its cost.
    """
    z, z_weights = _gauss_legendre(-8.5, 8.5)
    normal_z = special.ndtr(z)
    z_weights = z_weights * stats.norm.pdf(z)
    lower = np.sqrt(stats.chi2.ppf(1e-14, df) / df)
    upper = np.sqrt(stats.chi2.isf(1e-14, df) / df)
    s, s_weights = _gauss_legendre(lower, upper)
    log_density = (
        (df / 2) * np.log(df / 2) + np.log(2) - special.gammaln(df / 2)
        + (df - 1) * np.log(s) - df * s * s / 2
    )  # fmt: skip
    inside = np.clip(special.ndtr(z[None, :] + q * s[:, None]) - normal_z[None, :], 0.0, 1.0)
    range_cdf = k * (inside ** (k - 1)) @ z_weights
    return float(np.clip(((1 - range_cdf) * s_weights * np.exp(log_density)).sum(), 0.0, 1.0))


def _welch_anova(groups: list[np.ndarray]) -> tuple[float, float, float, float]:
    """Welch's (1951) heteroscedastic one-way ANOVA, as R's ``oneway.test``: F, df1, df2, p."""
    k = len(groups)
    n = np.array([g.size for g in groups], dtype=float)
    means = np.array([g.mean() for g in groups])
    variances = np.array([g.var(ddof=1) for g in groups])
    if np.any(variances == 0):
        return np.nan, k - 1.0, np.nan, np.nan
    weights = n / variances
    weighted_mean = (weights * means).sum() / weights.sum()
    spread = (weights * (means - weighted_mean) ** 2).sum() / (k - 1)
    correction = ((1 - weights / weights.sum()) ** 2 / (n - 1)).sum()
    f = spread / (1 + 2 * (k - 2) / (k * k - 1) * correction)
    df2 = (k * k - 1) / (3 * correction)
    return f, k - 1.0, df2, float(stats.f.sf(f, k - 1, df2))


def _games_howell(
    samples: Mapping[Any, np.ndarray], variable: str, confidence: float
) -> pd.DataFrame:
    """Games-Howell pairs: Welch t and df per pair, p from the studentized range."""
    k = len(samples)
    rows = []
    for (name_a, a), (name_b, b) in combinations(samples.items(), 2):
        var_a, var_b = a.var(ddof=1) / a.size, b.var(ddof=1) / b.size
        se = np.sqrt(var_a + var_b)
        df = (var_a + var_b) ** 2 / (var_a**2 / (a.size - 1) + var_b**2 / (b.size - 1))
        diff = a.mean() - b.mean()
        t = diff / se if se > 0 else np.nan
        g, g_lower, g_upper = hedges_g(a, b, confidence=confidence)
        rows.append(
            {
                "variable": variable,
                "group_a": name_a,
                "group_b": name_b,
                "mean_a": a.mean(),
                "mean_b": b.mean(),
                "diff": diff,
                "se": se,
                "t": t,
                "df": df,
                "pvalue": np.nan
                if np.isnan(t)
                else _studentized_range_sf(abs(t) * np.sqrt(2), k, df),
                "hedges_g": g,
                "hedges_g_ci_lower": g_lower,
                "hedges_g_ci_upper": g_upper,
            }
        )
    return pd.DataFrame(rows)


def _test_groups(
    frame: pd.DataFrame, variable: str, group: str, confidence: float
) -> tuple[dict, pd.DataFrame]:
    samples = {
        name: values.to_numpy(dtype=float)
        for name, values in frame.groupby(group, sort=True, observed=True)[variable]
    }
    samples = {name: s for name, s in samples.items() if s.size >= _MIN_GROUP_SIZE}
    row = {"variable": variable, "k": len(samples), "n": sum(s.size for s in samples.values())}
    no_posthoc = pd.DataFrame()
    if len(samples) < 2:
        return row | {"test": None}, no_posthoc
    groups = list(samples.values())
    row |= _anova_effect_sizes(groups, confidence)
    if len(samples) == 2:
        x, y = groups
        welch = stats.ttest_ind(x, y, equal_var=False)
        g, g_lower, g_upper = hedges_g(x, y, confidence=confidence)
        row |= {
            "test": "welch_t",
            "statistic": float(welch.statistic),
            "df1": np.nan,
            "df2": float(welch.df),
            "pvalue": float(welch.pvalue),
            "hedges_g": g,
            "hedges_g_ci_lower": g_lower,
            "hedges_g_ci_upper": g_upper,
        }
        return row, no_posthoc
    f, df1, df2, pvalue = _welch_anova(groups)
    row |= {"test": "welch_anova", "statistic": f, "df1": df1, "df2": df2, "pvalue": pvalue}
    posthoc = _games_howell(samples, variable, confidence)
    return row, posthoc


def compare_groups(
    data: pd.DataFrame,
    *,
    group: str,
    variables: Sequence[str],
    confidence: float = 0.95,
) -> GroupComparison:
    """Compare the means of ``variables`` between the groups in column ``group``.

    Two groups get Welch's t-test and Hedges' g; three or more get Welch's ANOVA and
    Games-Howell pairwise tests (neither assumes equal variances). Every comparison reports
    eta squared ``SS_between / SS_total`` with a noncentral-F interval (Steiger, 2004) and
    omega squared ``(SS_between - (k-1) MS_within) / (SS_total + MS_within)``, floored at 0.
    Groups with fewer than two values of a variable are listed in ``summary`` but left out of
    its test; rows without a group are left out.

    Parameters
    ----------
    data : pandas.DataFrame
        Construct scores (or items) and the grouping column.
    group : str
        Column holding the segment or wave.
    variables : sequence of str
        Numeric columns to compare.
    confidence : float
        Confidence level of the effect-size intervals.

    Returns
    -------
    GroupComparison

    References
    ----------
    Welch, B. L. (1951). On the comparison of several mean values: an alternative approach.
    *Biometrika*, 38(3/4), 330-336.

    Games, P. A., & Howell, J. F. (1976). Pairwise multiple comparison procedures with unequal
    n's and/or variances. *Journal of Educational Statistics*, 1(2), 113-125.

    Examples
    --------
    >>> df = pd.DataFrame({"tier": list("aaabbb"), "SAT": [5, 6, 7, 3, 4, 4]})
    >>> result = compare_groups(df, group="tier", variables=["SAT"])
    >>> result.tests.loc[0, "test"], round(float(result.tests.loc[0, "statistic"]), 3)
    ('welch_t', 3.5)
    """
    variables = list(variables)
    if not variables:
        raise ValueError("variables must name at least one column")
    require_columns(data, variables)
    require_columns(data, [group], numeric=False)
    if group in variables:
        raise ValueError(f"column {group!r} cannot be both the group and a compared variable")
    check_confidence(confidence)
    frame = data[data[group].notna()]
    summary = pd.concat(
        [
            frame.groupby(group, sort=True, observed=True)[variable]
            .agg(n="count", mean="mean", sd="std")
            .rename_axis("group")
            .reset_index()
            .assign(variable=variable)
            for variable in variables
        ],
        ignore_index=True,
    )[["variable", "group", "n", "mean", "sd"]]
    rows, posthocs = [], []
    for variable in variables:
        row, posthoc = _test_groups(frame[[group, variable]].dropna(), variable, group, confidence)
        rows.append(row)
        posthocs.append(posthoc)
    columns = [
        "variable", "test", "k", "n", "statistic", "df1", "df2", "pvalue", "hedges_g",
        "hedges_g_ci_lower", "hedges_g_ci_upper", "eta_squared", "eta_squared_ci_lower",
        "eta_squared_ci_upper", "omega_squared",
    ]  # fmt: skip
    posthoc_columns = [
        "variable", "group_a", "group_b", "mean_a", "mean_b", "diff", "se", "t", "df", "pvalue",
        "hedges_g", "hedges_g_ci_lower", "hedges_g_ci_upper",
    ]  # fmt: skip
    nonempty = [p for p in posthocs if not p.empty]
    return GroupComparison(
        summary=summary,
        tests=pd.DataFrame(rows).reindex(columns=columns),
        posthoc=(pd.concat(nonempty, ignore_index=True) if nonempty else pd.DataFrame()).reindex(
            columns=posthoc_columns
        ),
    )


def wave_change(
    data: pd.DataFrame,
    *,
    wave: str,
    variables: Sequence[str],
    order: Sequence[object] | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Change of each variable's mean from one wave to the next, with Welch's t-test.

    Waves are independent samples (different respondents), so each step is a Welch t-test of
    the later against the earlier wave, with Hedges' g (later minus earlier).

    Parameters
    ----------
    data : pandas.DataFrame
        Scores and the wave column.
    wave : str
        Column identifying the wave.
    variables : sequence of str
        Numeric columns.
    order : sequence, optional
        Waves in time order; by default the sorted distinct values of ``wave``.
    confidence : float
        Confidence level of g's interval.

    Returns
    -------
    pandas.DataFrame
        ``variable, wave_from, wave_to, n_from, n_to, mean_from, mean_to, change, t, df,
        pvalue, hedges_g, hedges_g_ci_lower, hedges_g_ci_upper``, one row per variable and
        consecutive pair of waves.

    Examples
    --------
    >>> df = pd.DataFrame({"wave": [1, 1, 1, 2, 2, 2], "SAT": [4, 5, 6, 5, 6, 7]})
    >>> float(wave_change(df, wave="wave", variables=["SAT"]).loc[0, "change"])
    1.0
    """
    variables = list(variables)
    require_columns(data, variables)
    require_columns(data, [wave], numeric=False)
    check_confidence(confidence)
    present = list(pd.unique(data[wave].dropna()))
    if order is None:
        order = sorted(present)
    else:
        order = list(order)
        unknown = [w for w in order if w not in present]
        if unknown:
            raise ValueError(f"wave(s) not in column {wave!r}: {', '.join(map(str, unknown))}")
    if len(order) < 2:
        raise ValueError("wave_change needs at least two waves")
    rows = []
    for variable in variables:
        for earlier, later in pairwise(order):
            before = data.loc[data[wave] == earlier, variable].dropna().to_numpy(dtype=float)
            after = data.loc[data[wave] == later, variable].dropna().to_numpy(dtype=float)
            row = {
                "variable": variable,
                "wave_from": earlier,
                "wave_to": later,
                "n_from": before.size,
                "n_to": after.size,
                "mean_from": before.mean() if before.size else np.nan,
                "mean_to": after.mean() if after.size else np.nan,
            }
            row["change"] = row["mean_to"] - row["mean_from"]
            t = df = pvalue = np.nan
            if min(before.size, after.size) >= _MIN_GROUP_SIZE:
                welch = stats.ttest_ind(after, before, equal_var=False)
                t, df, pvalue = float(welch.statistic), float(welch.df), float(welch.pvalue)
            g, g_lower, g_upper = hedges_g(after, before, confidence=confidence)
            rows.append(
                row
                | {"t": t, "df": df, "pvalue": pvalue, "hedges_g": g}
                | {"hedges_g_ci_lower": g_lower, "hedges_g_ci_upper": g_upper}
            )
    return pd.DataFrame(rows)
