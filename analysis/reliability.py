"""Reliability and convergent validity of multi-item constructs.

Cronbach's alpha with Feldt's interval, item-rest correlations and alpha if an item is deleted
(as ``psych::alpha``), McDonald's omega from a one-factor model, and composite reliability and
average variance extracted from the standardized loadings of a measurement model (as
``semTools``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_confidence, check_constructs, require_columns
from analysis.sem import fit_sem
from analysis.syntax import measurement_syntax

__all__ = [
    "ALPHA_MIN",
    "AVE_MIN",
    "CR_MAX",
    "CR_MIN",
    "composite_reliability",
    "cronbach_alpha",
    "item_total",
    "omega_total",
    "reliability",
]

ALPHA_MIN = 0.70  # Nunnally (1978)
CR_MIN = 0.70  # Fornell & Larcker (1981); Hair et al. (2019)
CR_MAX = 0.95  # above: items likely redundant (Hair et al., 2019)
AVE_MIN = 0.50  # Fornell & Larcker (1981)


def _complete_items(data: pd.DataFrame, items: Sequence[str]) -> np.ndarray:
    return data[list(items)].dropna().to_numpy(dtype=float)


def _alpha_from_covariance(covariance: np.ndarray) -> float:
    k = covariance.shape[0]
    total = covariance.sum()
    if k < 2 or total <= 0:
        return np.nan
    return k / (k - 1) * (1 - np.trace(covariance) / total)


def cronbach_alpha(
    data: pd.DataFrame,
    *,
    constructs: Mapping[str, Sequence[str]],
    confidence: float = 0.95,
) -> pd.DataFrame:
    """Cronbach's alpha of each construct with Feldt's confidence interval.

    ``α = k / (k - 1) · (1 - Σ σ²_i / σ²_X)`` on the complete cases of the construct's items.
    The interval is Feldt's (1987), from ``(1 - α) / (1 - α_hat) ~ F(n - 1, (n - 1)(k - 1))``:
    ``1 - (1 - α_hat) F_(1-a/2)`` to ``1 - (1 - α_hat) F_(a/2)``, as ``psych::alpha``'s
    ``feldt`` element and ``pingouin.cronbach_alpha``.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, reverse-worded items already recoded.
    constructs : mapping of str to sequence of str
        Construct -> items (at least two each).
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        ``construct, n, n_items, alpha, alpha_ci_lower, alpha_ci_upper, alpha_ok``
        (``alpha_ok``: α ≥ .70).

    References
    ----------
    Cronbach, L. J. (1951). Coefficient alpha and the internal structure of tests.
    *Psychometrika*, 16(3), 297-334.

    Feldt, L. S., Woodruff, D. J., & Salih, F. A. (1987). Statistical inference for coefficient
    alpha. *Applied Psychological Measurement*, 11(1), 93-103.

    Examples
    --------
    >>> df = pd.DataFrame({"a1": [1, 2, 3, 4, 5], "a2": [2, 2, 3, 5, 4], "a3": [1, 3, 3, 4, 5]})
    >>> round(float(cronbach_alpha(df, constructs={"A": ["a1", "a2", "a3"]})["alpha"][0]), 3)
    0.945
    """
    constructs = check_constructs(constructs, min_items=2)
    check_confidence(confidence)
    rows = []
    for name, items in constructs.items():
        require_columns(data, items)
        values = _complete_items(data, items)
        n, k = values.shape
        alpha = _alpha_from_covariance(np.cov(values, rowvar=False)) if n > 1 else np.nan
        lower = upper = np.nan
        if n > 1 and not np.isnan(alpha):
            df1, df2 = n - 1, (n - 1) * (k - 1)
            tail = (1 - confidence) / 2
            lower = 1 - (1 - alpha) * stats.f.isf(tail, df1, df2)
            upper = 1 - (1 - alpha) * stats.f.ppf(tail, df1, df2)
        rows.append(
            {
                "construct": name,
                "n": n,
                "n_items": k,
                "alpha": alpha,
                "alpha_ci_lower": lower,
                "alpha_ci_upper": upper,
                "alpha_ok": bool(alpha >= ALPHA_MIN),
            }
        )
    return pd.DataFrame(rows)


def item_total(data: pd.DataFrame, *, constructs: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Corrected item-total correlation and alpha if the item is deleted, per item.

    The corrected (item-rest) correlation is the correlation of the item with the sum of the
    construct's other items (``r.drop`` of ``psych::alpha``); a low or negative value flags an
    item that does not belong or was not reverse-keyed. Complete cases of each construct.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, reverse-worded items already recoded.
    constructs : mapping of str to sequence of str
        Construct -> items (at least two each).

    Returns
    -------
    pandas.DataFrame
        ``construct, item, r_drop, alpha_if_deleted`` (the latter NaN for two-item constructs).

    References
    ----------
    Revelle, W. (2024). psych: Procedures for Psychological, Psychometric, and Personality
    Research (``alpha``). R package.

    Examples
    --------
    >>> df = pd.DataFrame({"a1": [1, 2, 3, 4, 5], "a2": [2, 2, 3, 5, 4], "a3": [5, 3, 3, 2, 1]})
    >>> table = item_total(df, constructs={"A": ["a1", "a2", "a3"]})
    >>> bool(table.set_index("item")["r_drop"].idxmin() == "a3")
    True
    """
    constructs = check_constructs(constructs, min_items=2)
    rows = []
    for name, items in constructs.items():
        require_columns(data, items)
        values = _complete_items(data, items)
        covariance = np.cov(values, rowvar=False) if len(values) > 1 else None
        for position, item in enumerate(items):
            rest = [i for i in range(len(items)) if i != position]
            r_drop = alpha_dropped = np.nan
            if covariance is not None:
                rest_variance = covariance[np.ix_(rest, rest)].sum()
                item_variance = covariance[position, position]
                if rest_variance > 0 and item_variance > 0:
                    r_drop = covariance[position, rest].sum() / np.sqrt(
                        item_variance * rest_variance
                    )
                alpha_dropped = _alpha_from_covariance(covariance[np.ix_(rest, rest)])
            rows.append(
                {
                    "construct": name,
                    "item": item,
                    "r_drop": r_drop,
                    "alpha_if_deleted": alpha_dropped,
                }
            )
    return pd.DataFrame(rows)


def omega_total(data: pd.DataFrame, *, constructs: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """McDonald's omega of each construct from a one-factor model of its items.

    Each construct is fitted alone (``F =~ x1 + ... + xk``, factor variance fixed to 1, ML on
    its complete cases) and ``ω = (Σλ)² / ((Σλ)² + Σθ)`` with the unstandardized loadings
    ``λ`` and residual variances ``θ``: the model-implied variance of the sum score in the
    denominator, as ``semTools::compRelSEM(obs.var = FALSE)``. Constructs with fewer than
    three items (an unidentified one-factor model) get NaN.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, reverse-worded items already recoded.
    constructs : mapping of str to sequence of str
        Construct -> items.

    Returns
    -------
    pandas.DataFrame
        ``construct, omega``.

    References
    ----------
    McDonald, R. P. (1999). *Test theory: A unified treatment*. Erlbaum.

    Jorgensen, T. D., Pornprasertmanit, S., Schoemann, A. M., & Rosseel, Y. (2022). semTools:
    Useful tools for structural equation modeling (``compRelSEM``). R package.
    """
    constructs = check_constructs(constructs)
    rows = []
    for name, items in constructs.items():
        require_columns(data, items)
        omega = np.nan
        if len(items) >= 3:
            complete = data[items].dropna()
            result = fit_sem(complete, measurement_syntax({name: items}), std_lv=True)
            estimates = result.estimates
            loadings = estimates.loc[estimates["op"] == "=~", "est"].sum()
            residuals = estimates.loc[
                (estimates["op"] == "~~")
                & (estimates["lhs"] == estimates["rhs"])
                & estimates["lhs"].isin(items),
                "est",
            ].sum()
            omega = loadings**2 / (loadings**2 + residuals)
        rows.append({"construct": name, "omega": omega})
    return pd.DataFrame(rows)


def composite_reliability(loadings: pd.DataFrame) -> pd.DataFrame:
    """Composite reliability (CR) and average variance extracted (AVE) per factor.

    From the completely standardized loadings ``λ*`` of a measurement model (e.g.
    ``SemResult.standardized_loadings()`` of the constructs' CFA):
    ``CR = (Σλ*)² / ((Σλ*)² + Σ(1 - λ*²))`` and ``AVE = mean(λ*²)``.

    Parameters
    ----------
    loadings : pandas.DataFrame
        Columns ``factor, item, std_all``.

    Returns
    -------
    pandas.DataFrame
        ``construct, n_items, cr, ave, sqrt_ave, cr_ok`` (CR ≥ .70), ``cr_redundant``
        (CR > .95), ``ave_ok`` (AVE ≥ .50).

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *Journal of Marketing Research*, 18(1),
    39-50.

    Hair, J. F., Risher, J. J., Sarstedt, M., & Ringle, C. M. (2019). When to use and how to
    report the results of PLS-SEM. *European Business Review*, 31(1), 2-24.

    Examples
    --------
    >>> loadings = pd.DataFrame({"factor": ["A"] * 3, "item": ["a1", "a2", "a3"],
    ...                          "std_all": [0.8, 0.7, 0.6]})
    >>> composite_reliability(loadings)[["cr", "ave"]].round(3).values.tolist()
    [[0.745, 0.497]]
    """
    required = {"factor", "item", "std_all"}
    if not isinstance(loadings, pd.DataFrame) or not required <= set(loadings.columns):
        raise ValueError("loadings must be a DataFrame with the columns factor, item, std_all")
    rows = []
    for factor, group in loadings.groupby("factor", sort=False):
        lam = group["std_all"].to_numpy(dtype=float)
        squared_sum = lam.sum() ** 2
        cr = squared_sum / (squared_sum + (1 - lam**2).sum())
        ave = float(np.mean(lam**2))
        rows.append(
            {
                "construct": factor,
                "n_items": lam.size,
                "cr": cr,
                "ave": ave,
                "sqrt_ave": np.sqrt(ave),
                "cr_ok": bool(cr >= CR_MIN),
                "cr_redundant": bool(cr > CR_MAX),
                "ave_ok": bool(ave >= AVE_MIN),
            }
        )
    return pd.DataFrame(rows)


def reliability(
    data: pd.DataFrame,
    *,
    constructs: Mapping[str, Sequence[str]],
    loadings: pd.DataFrame | None = None,
    missing: str = "listwise",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """One table of alpha (with Feldt's interval), omega, CR and AVE per construct.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, reverse-worded items already recoded.
    constructs : mapping of str to sequence of str
        Construct -> items (at least two each).
    loadings : pandas.DataFrame, optional
        Standardized loadings (``factor, item, std_all``) of the measurement model; by default
        the constructs' CFA (all factors correlated) is fitted with ``missing``.
    missing : {"listwise", "fiml"}
        Missing-data handling of the measurement model fitted here.
    confidence : float
        Confidence level of alpha's interval.

    Returns
    -------
    pandas.DataFrame
        ``construct, n, n_items, alpha, alpha_ci_lower, alpha_ci_upper, omega, cr, ave,
        sqrt_ave`` and the flags ``alpha_ok, cr_ok, cr_redundant, ave_ok``.

    See Also
    --------
    cronbach_alpha, omega_total, composite_reliability
    """
    constructs = check_constructs(constructs, min_items=2)
    if loadings is None:
        items = [item for members in constructs.values() for item in members]
        require_columns(data, items)
        loadings = fit_sem(
            data, measurement_syntax(constructs), missing=missing
        ).standardized_loadings()
    table = cronbach_alpha(data, constructs=constructs, confidence=confidence)
    table = table.merge(omega_total(data, constructs=constructs), on="construct")
    convergent = composite_reliability(loadings).drop(columns="n_items")
    table = table.merge(convergent, on="construct", how="left")
    flags = ["alpha_ok", "cr_ok", "cr_redundant", "ave_ok"]
    ordered = [c for c in table.columns if c not in flags] + flags
    return table[ordered]
