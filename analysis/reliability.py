"""Reliability and convergent validity of multi-item constructs.

Cronbach's alpha with Feldt's interval, item-rest correlations and alpha if an item is deleted
(as ``psych::alpha``), McDonald's omega from a one-factor model, and composite reliability and
average variance extracted from the standardized loadings of a measurement model (as
``semTools``). For ordered items: ordinal alpha (alpha of the polychoric correlations, as
``psych::alpha(psych::polychoric(x)$rho)``) and categorical omega (Green & Yang, 2009, as
``semTools::compRelSEM`` on a WLSMV fit).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Literal, cast

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_confidence, check_constructs, require_columns
from analysis.sem import SemResult, fit_sem
from analysis.sem.polychoric import bivariate_normal_cdf, ordinal_moments
from analysis.syntax import measurement_syntax

__all__ = [
    "ALPHA_MIN",
    "AVE_MIN",
    "CR_MAX",
    "CR_MIN",
    "categorical_omega",
    "composite_reliability",
    "cronbach_alpha",
    "item_total",
    "omega_total",
    "ordinal_alpha",
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


def ordinal_alpha(data: pd.DataFrame, *, constructs: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Ordinal alpha: Cronbach's alpha of the polychoric correlations of each construct's items.

    ``α = k / (k - 1) · (1 - k / ΣR)`` with ``R`` the polychoric correlation matrix of the
    construct's complete cases (two-stage maximum likelihood, as lavaan), the standardized
    alpha of the items' latent responses: it does not shrink because 5- or 7-point answers are
    coarse, as Cronbach's alpha of the raw codes does (Zumbo et al., 2007). Agrees with
    ``psych::alpha(psych::polychoric(x)$rho)`` (psych stops its search at about 1e-4 and
    smooths a non-positive-definite matrix).

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses (answer codes; only their order matters), reverse-worded items already
        recoded.
    constructs : mapping of str to sequence of str
        Construct -> items (at least two each).

    Returns
    -------
    pandas.DataFrame
        ``construct, n, n_items, alpha_ordinal``.

    References
    ----------
    Zumbo, B. D., Gadermann, A. M., & Zeisser, C. (2007). Ordinal versions of coefficients
    alpha and theta for Likert rating scales. *Journal of Modern Applied Statistical Methods*,
    6(1), 21-29.

    Gadermann, A. M., Guhn, M., & Zumbo, B. D. (2012). Estimating ordinal reliability for
    Likert-type and ordinal item response data. *Practical Assessment, Research, and
    Evaluation*, 17, 3.

    Examples
    --------
    >>> rng = np.random.default_rng(5)
    >>> trait = rng.standard_normal((300, 1))
    >>> answers = 1 + np.digitize(0.8 * trait + 0.6 * rng.standard_normal((300, 3)), [-1, 0, 1])
    >>> df = pd.DataFrame(answers, columns=["a1", "a2", "a3"])
    >>> table = ordinal_alpha(df, constructs={"A": ["a1", "a2", "a3"]})
    >>> round(float(table["alpha_ordinal"][0]), 2)
    0.85
    """
    constructs = check_constructs(constructs, min_items=2)
    rows = []
    for name, items in constructs.items():
        require_columns(data, items)
        values = _complete_items(data, items)
        k = len(items)
        correlation = ordinal_moments(values, ordered=[True] * k, names=items).cor
        alpha = k / (k - 1) * (1 - k / correlation.sum())
        rows.append({"construct": name, "n": len(values), "n_items": k, "alpha_ordinal": alpha})
    return pd.DataFrame(rows)


def categorical_omega(result: SemResult) -> pd.DataFrame:
    """Categorical omega of every factor of a measurement model fitted with ordered items.

    Green and Yang's (2009) reliability of the sum of a factor's answer codes: the variance of
    the summed thresholds' indicators explained by the factor over their total variance, both
    from bivariate normal probabilities at the model's thresholds, with the factor's part
    ``λ λ' ψ`` of the latent responses' correlations in the numerator and the polychoric
    correlations in the denominator (``semTools::compRelSEM``'s default, ``obs.var = TRUE``).

    Parameters
    ----------
    result : SemResult
        A model fitted with ``ordered`` items (WLSMV), e.g. the constructs' CFA.

    Returns
    -------
    pandas.DataFrame
        ``construct, omega_categorical`` for every factor measured by observed items: NaN when
        it has a single item or a continuous one (semTools then gives none either).

    References
    ----------
    Green, S. B., & Yang, Y. (2009). Reliability of summed item scores using structural
    equation modeling: An alternative to coefficient alpha. *Psychometrika*, 74(1), 155-167.

    Jorgensen, T. D., Pornprasertmanit, S., Schoemann, A. M., & Rosseel, Y. (2022). semTools:
    Useful tools for structural equation modeling (``compRelSEM``). R package.
    """
    sample = result.ordinal_statistics
    if sample is None:
        raise ValueError("categorical omega needs a model fitted with ordered items (WLSMV)")
    estimates = result.estimates
    position = {name: j for j, name in enumerate(sample.names)}
    ordered = {name for name, flag in zip(sample.names, sample.ordered, strict=True) if flag}
    thresholds = {
        item: rows.assign(k=rows["rhs"].str[1:].astype(int)).sort_values("k")["est"].to_numpy()
        for item, rows in estimates[estimates["op"] == "|"].groupby("lhs")
    }
    latent = result._covariance_all()
    out = []
    loadings = estimates[(estimates["op"] == "=~") & estimates["rhs"].isin(position)]
    for key, rows in loadings.groupby("lhs", sort=False):
        factor = cast(str, key)  # the groupby keys are the factors' names
        items = rows["rhs"].tolist()
        omega = np.nan
        if len(items) > 1 and ordered.issuperset(items):
            lam = rows["est"].to_numpy()
            common = np.outer(lam, lam) * latent.loc[factor, factor]
            index = [position[item] for item in items]
            observed = sample.cor[np.ix_(index, index)]
            omega = _green_yang(common, observed, [thresholds[item] for item in items])
        out.append({"construct": factor, "omega_categorical": omega})
    return pd.DataFrame(out, columns=["construct", "omega_categorical"])


def _green_yang(common: np.ndarray, total: np.ndarray, thresholds: list[np.ndarray]) -> float:
    """Green & Yang's ratio: sums over item pairs and threshold pairs of
    ``Phi2(t, t', r) - Phi(t) Phi(t')`` with ``r`` the common and the total correlation."""
    k = len(thresholds)
    firsts, seconds, pairs = [], [], []
    for j in range(k):
        for m in range(k):
            a, b = np.meshgrid(thresholds[j], thresholds[m], indexing="ij")
            firsts.append(a.ravel())
            seconds.append(b.ravel())
            pairs.append(np.full(a.size, j * k + m))
    first, second, pair = np.concatenate(firsts), np.concatenate(seconds), np.concatenate(pairs)
    marginal = sum(stats.norm.cdf(t).sum() for t in thresholds) ** 2
    explained = bivariate_normal_cdf(first, second, common.ravel()[pair]).sum() - marginal
    observed = bivariate_normal_cdf(first, second, total.ravel()[pair]).sum() - marginal
    return float(explained / observed)


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
    missing: Literal["listwise", "fiml"] = "listwise",
    confidence: float = 0.95,
    ordered: Sequence[str] = (),
    measurement: SemResult | None = None,
) -> pd.DataFrame:
    """One table of alpha (with Feldt's interval), omega, CR and AVE per construct.

    With ordered items, also ordinal alpha and categorical omega for every construct whose
    items are all ordered.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, reverse-worded items already recoded.
    constructs : mapping of str to sequence of str
        Construct -> items (at least two each).
    loadings : pandas.DataFrame, optional
        Standardized loadings (``factor, item, std_all``) of the measurement model; by default
        those of ``measurement``.
    missing : {"listwise", "fiml"}
        Missing-data handling of the measurement model fitted here.
    confidence : float
        Confidence level of alpha's interval.
    ordered : sequence of str
        Ordered items (as :func:`analysis.sem.fit_sem`'s ``ordered``).
    measurement : SemResult, optional
        The constructs' CFA (all factors correlated), fitted with the same ``ordered`` items;
        by default fitted here.

    Returns
    -------
    pandas.DataFrame
        ``construct, n, n_items, alpha, alpha_ci_lower, alpha_ci_upper, omega``, with ordered
        items ``alpha_ordinal, omega_categorical`` (NaN for constructs with continuous items),
        then ``cr, ave, sqrt_ave`` and the flags ``alpha_ok, cr_ok, cr_redundant, ave_ok``.

    See Also
    --------
    cronbach_alpha, omega_total, composite_reliability, ordinal_alpha, categorical_omega
    """
    constructs = check_constructs(constructs, min_items=2)
    ordered_items = set(ordered)
    ordinal = {name: items for name, items in constructs.items() if ordered_items.issuperset(items)}
    if measurement is None and (loadings is None or ordinal):
        items = [item for members in constructs.values() for item in members]
        require_columns(data, items)
        measurement = fit_sem(
            data,
            measurement_syntax(constructs),
            missing=missing,
            ordered=sorted(ordered_items & set(items)) or None,
        )
    if loadings is None:
        assert measurement is not None  # for the type checker: fitted above if not given
        loadings = measurement.standardized_loadings()
    table = cronbach_alpha(data, constructs=constructs, confidence=confidence)
    table = table.merge(omega_total(data, constructs=constructs), on="construct")
    if ordinal:
        table = table.merge(
            ordinal_alpha(data, constructs=ordinal)[["construct", "alpha_ordinal"]],
            on="construct",
            how="left",
        )
        assert measurement is not None  # for the type checker: fitted above if not given
        omega = categorical_omega(measurement)
        table = table.merge(omega[omega["construct"].isin(ordinal)], on="construct", how="left")
    convergent = composite_reliability(loadings).drop(columns="n_items")
    table = table.merge(convergent, on="construct", how="left")
    flags = ["alpha_ok", "cr_ok", "cr_redundant", "ave_ok"]
    columns = [c for c in table.columns if c not in flags] + flags
    return table[columns]
