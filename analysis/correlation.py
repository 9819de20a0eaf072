"""Correlations between construct scores: Pearson and Spearman, p-values, Fisher-z intervals."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_confidence, require_columns
from analysis._tables import square_from_pairs

__all__ = ["correlation_matrix", "correlations"]

_METHODS = ("pearson", "spearman")
_ADJUSTMENTS = (None, "holm")


def _holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm (1979) step-down adjusted p-values, as R's ``p.adjust(method = "holm")``."""
    m = pvalues.size
    order = np.argsort(pvalues, kind="stable")
    stepped = np.maximum.accumulate((m - np.arange(m)) * pvalues[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(stepped, 1.0)
    return adjusted


def _pair(x: np.ndarray, y: np.ndarray, method: str, z_crit: float) -> dict[str, float]:
    complete = ~(np.isnan(x) | np.isnan(y))
    x, y = x[complete], y[complete]
    n = x.size
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return {"n": n, "r": np.nan, "ci_lower": np.nan, "ci_upper": np.nan, "pvalue": np.nan}
    if method == "spearman":
        x, y = stats.rankdata(x), stats.rankdata(y)
    r = float(np.clip(np.corrcoef(x, y)[0, 1], -1.0, 1.0))
    df = n - 2
    if abs(r) == 1.0:
        pvalue = 0.0
    else:
        t = r * np.sqrt(df / (1 - r * r))
        pvalue = float(2 * stats.t.sf(abs(t), df))
    if n > 3 and abs(r) < 1.0:
        half_width = z_crit / np.sqrt(n - 3)
        ci = np.tanh(np.arctanh(r) + np.array([-half_width, half_width]))
    else:
        ci = np.array([np.nan, np.nan])
    return {"n": n, "r": r, "ci_lower": ci[0], "ci_upper": ci[1], "pvalue": pvalue}


def correlations(
    data: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    methods: Sequence[str] = ("pearson", "spearman"),
    adjust: str | None = None,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Pairwise correlations with p-values and confidence intervals, one row per pair.

    Each pair uses the rows where both variables are present. The p-value is the two-sided
    t-test of ``r`` with ``n - 2`` degrees of freedom, for Spearman's rho too (the asymptotic
    test of R's ``cor.test(method = "spearman", exact = FALSE)``). The interval is Fisher's z,
    ``tanh(atanh(r) ± z_(1-α/2) / sqrt(n - 3))``, also used for rho as an approximation.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric variables, e.g. construct scores.
    columns : sequence of str, optional
        Variables to correlate; all columns by default.
    methods : sequence of {"pearson", "spearman"}
        Coefficients to compute.
    adjust : {None, "holm"}
        Multiple-testing adjustment, applied within each method over all pairs; adds
        ``pvalue_adj``.
    confidence : float
        Confidence level of the intervals.

    Returns
    -------
    pandas.DataFrame
        Columns ``x, y, method, n, r, ci_lower, ci_upper, pvalue`` (and ``pvalue_adj``).

    References
    ----------
    Fisher, R. A. (1921). On the "probable error" of a coefficient of correlation deduced from
    a small sample. *Metron*, 1, 3-32.

    Holm, S. (1979). A simple sequentially rejective multiple test procedure. *Scandinavian
    Journal of Statistics*, 6(2), 65-70.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4, 5], "b": [2, 1, 4, 3, 5]})
    >>> row = correlations(df, methods=["pearson"]).iloc[0]
    >>> row["x"], row["y"], round(float(row["r"]), 2), round(float(row["pvalue"]), 3)
    ('a', 'b', 0.8, 0.104)
    """
    columns = list(data.columns if columns is None else columns)
    require_columns(data, columns)
    if len(columns) < 2:
        raise ValueError("correlations need at least two variables")
    methods = list(methods)
    unknown = [m for m in methods if m not in _METHODS]
    if unknown or not methods:
        raise ValueError(f"methods must be among 'pearson', 'spearman'; got {methods!r}")
    if adjust not in _ADJUSTMENTS:
        raise ValueError(f"adjust must be None or 'holm', not {adjust!r}")
    check_confidence(confidence)
    z_crit = stats.norm.ppf(0.5 + confidence / 2)
    values = {c: data[c].to_numpy(dtype=float) for c in columns}
    frames = []
    for method in methods:
        rows = [
            {"x": a, "y": b, "method": method} | _pair(values[a], values[b], method, z_crit)
            for a, b in combinations(columns, 2)
        ]
        frame = pd.DataFrame(rows)
        if adjust == "holm":
            adjusted = np.full(len(frame), np.nan)
            tested = frame["pvalue"].notna().to_numpy()
            adjusted[tested] = _holm(frame.loc[tested, "pvalue"].to_numpy())
            frame["pvalue_adj"] = adjusted
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def correlation_matrix(
    table: pd.DataFrame, *, method: str = "pearson", value: str = "r"
) -> pd.DataFrame:
    """Square matrix from the long table of :func:`correlations`.

    Parameters
    ----------
    table : pandas.DataFrame
        Output of :func:`correlations`.
    method : {"pearson", "spearman"}
        Which coefficient.
    value : str
        Column to spread, e.g. ``"r"`` (diagonal 1) or ``"pvalue"`` (diagonal NaN).

    Returns
    -------
    pandas.DataFrame
        Symmetric, rows and columns in first-appearance order.

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, 3, 4], "b": [1, 3, 2, 4], "c": [4, 3, 2, 1]})
    >>> correlation_matrix(correlations(df)).round(1).loc["a"].tolist()
    [1.0, 0.8, -1.0]
    """
    required = {"x", "y", "method", value}
    if not required <= set(table.columns):
        raise ValueError(f"table needs the columns {sorted(required)} (from correlations())")
    rows = table[table["method"] == method]
    if rows.empty:
        raise ValueError(f"table has no {method!r} correlations")
    return square_from_pairs(
        rows["x"], rows["y"], rows[value], diagonal=1.0 if value == "r" else np.nan
    )
