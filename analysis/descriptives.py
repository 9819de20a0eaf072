"""Descriptive statistics of survey items and construct scores, and the Net Promoter Score.

Every function takes a DataFrame and keyword-only options and returns a tidy DataFrame.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_confidence, check_constructs, check_scale, require_columns

__all__ = [
    "answer_counts",
    "construct_scores",
    "describe",
    "net_promoter_score",
]

_SKEW_TYPES = (1, 2, 3)


def construct_scores(data: pd.DataFrame, constructs: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """Construct scores: the row mean of each construct's (already reverse-keyed) items.

    A respondent's score is the mean of the items they answered (``rowMeans(na.rm = TRUE)``);
    it is missing only when all of the construct's items are.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, reverse-keyed items already recoded.
    constructs : mapping of str to sequence of str
        Construct name -> its items.

    Returns
    -------
    pandas.DataFrame
        One column per construct, indexed like ``data``.

    Examples
    --------
    >>> df = pd.DataFrame({"a1": [1, 2, 3], "a2": [3, None, 5]})
    >>> construct_scores(df, {"A": ["a1", "a2"]})["A"].tolist()
    [2.0, 2.0, 4.0]
    """
    constructs = check_constructs(constructs)
    for items in constructs.values():
        require_columns(data, items)
    return pd.DataFrame(
        {name: data[items].mean(axis=1, skipna=True) for name, items in constructs.items()},
        index=data.index,
    )


def _skew_kurtosis(x: np.ndarray, skew_type: int) -> tuple[float, float]:
    """Skewness and excess kurtosis of the three types of Joanes & Gill (1998)."""
    n = x.size
    if n < 3:
        return np.nan, np.nan
    centred = x - x.mean()
    m2 = np.mean(centred**2)
    if m2 == 0:
        return np.nan, np.nan
    g1 = np.mean(centred**3) / m2**1.5
    g2 = np.mean(centred**4) / m2**2 - 3.0
    if skew_type == 1:
        return g1, g2
    if skew_type == 2:
        skew = g1 * np.sqrt(n * (n - 1)) / (n - 2)
        kurt = np.nan if n < 4 else ((n + 1) * g2 + 6) * (n - 1) / ((n - 2) * (n - 3))
        return skew, kurt
    return g1 * ((n - 1) / n) ** 1.5, (g2 + 3.0) * (1 - 1 / n) ** 2 - 3.0


def describe(
    data: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    scale_min: float | None = None,
    scale_max: float | None = None,
    skew_type: int = 3,
) -> pd.DataFrame:
    """Describe items or construct scores, one row per column.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric responses (items) or construct scores.
    columns : sequence of str, optional
        Columns to describe; all columns by default.
    scale_min, scale_max : float, optional
        Ends of the response scale. With them, ``top2_pct`` is the percentage of valid answers at
        or above ``scale_max - 1`` and ``bottom2_pct`` at or below ``scale_min + 1`` (for a mean
        score, "agrees on average at least as much as the second-highest category").
    skew_type : {1, 2, 3}
        Estimator of skewness and excess kurtosis, numbered as Joanes & Gill (1998) and R's
        ``e1071::skewness(type=)``. 3 (default) is ``b1``/``b2``, as ``psych::describe``; 2 is
        ``G1``/``G2`` (SPSS, SAS, Excel); 1 is the moment estimator ``g1``/``g2``.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, n, mean, sd, median, min, max, skew, kurtosis, top2_pct,
        bottom2_pct`` (``sd`` with ``n - 1``; ``kurtosis`` is excess kurtosis).

    References
    ----------
    Joanes, D. N., & Gill, C. A. (1998). Comparing measures of sample skewness and kurtosis.
    *Journal of the Royal Statistical Society D*, 47(1), 183-189.

    Revelle, W. (2024). psych: Procedures for Psychological, Psychometric, and Personality
    Research (``describe``). R package.

    Examples
    --------
    >>> df = pd.DataFrame({"q1": [1, 2, 2, 3, 7]})
    >>> row = describe(df, scale_min=1, scale_max=7).iloc[0]
    >>> float(row["mean"]), float(row["top2_pct"]), float(row["bottom2_pct"])
    (3.0, 20.0, 60.0)
    """
    columns = list(data.columns if columns is None else columns)
    require_columns(data, columns)
    check_scale(scale_min, scale_max)
    if skew_type not in _SKEW_TYPES:
        raise ValueError(f"skew_type must be 1, 2 or 3, not {skew_type!r}")
    rows = []
    for column in columns:
        x = data[column].dropna().to_numpy(dtype=float)
        n = x.size
        skew, kurt = _skew_kurtosis(x, skew_type)
        row = {
            "variable": column,
            "n": n,
            "mean": x.mean() if n else np.nan,
            "sd": x.std(ddof=1) if n > 1 else np.nan,
            "median": np.median(x) if n else np.nan,
            "min": x.min() if n else np.nan,
            "max": x.max() if n else np.nan,
            "skew": skew,
            "kurtosis": kurt,
            "top2_pct": np.nan,
            "bottom2_pct": np.nan,
        }
        if scale_min is not None and scale_max is not None and n:
            row["top2_pct"] = 100.0 * np.mean(x >= scale_max - 1)
            row["bottom2_pct"] = 100.0 * np.mean(x <= scale_min + 1)
        rows.append(row)
    return pd.DataFrame(rows)


def answer_counts(
    data: pd.DataFrame,
    *,
    columns: Sequence[str] | None = None,
    scale_min: int | None = None,
    scale_max: int | None = None,
) -> pd.DataFrame:
    """Frequency of each answer per item, long format.

    With ``scale_min``/``scale_max`` every category of the scale is listed, unused ones with a
    count of 0; answers outside the scale are listed too, so they stay visible.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric item responses.
    columns : sequence of str, optional
        Items to count; all columns by default.
    scale_min, scale_max : int, optional
        Ends of an integer response scale.

    Returns
    -------
    pandas.DataFrame
        Columns ``variable, value, n, pct`` (``pct`` of the item's valid answers) and one row
        ``value = NaN`` per item with its missing answers (``pct`` NaN).

    Examples
    --------
    >>> df = pd.DataFrame({"q1": [1, 1, 3, None]})
    >>> answer_counts(df, scale_min=1, scale_max=3)[["value", "n"]].values.tolist()
    [[1.0, 2.0], [2.0, 0.0], [3.0, 1.0], [nan, 1.0]]
    """
    columns = list(data.columns if columns is None else columns)
    require_columns(data, columns)
    check_scale(scale_min, scale_max)
    frames = []
    for column in columns:
        valid = data[column].dropna()
        counts = valid.value_counts()
        if scale_min is not None and scale_max is not None:
            categories = pd.Index(np.arange(scale_min, scale_max + 1))
            counts = counts.reindex(counts.index.union(categories), fill_value=0)
        counts = counts.sort_index()
        total = len(valid)
        frame = pd.DataFrame(
            {
                "variable": column,
                "value": counts.index.astype(float),
                "n": counts.to_numpy(),
                "pct": 100.0 * counts.to_numpy() / total if total else np.nan,
            }
        )
        missing_row = {"variable": column, "value": np.nan, "n": data[column].isna().sum()}
        frames.append(pd.concat([frame, pd.DataFrame([missing_row | {"pct": np.nan}])]))
    return pd.concat(frames, ignore_index=True)


def net_promoter_score(
    data: pd.DataFrame, *, column: str, confidence: float = 0.95
) -> pd.DataFrame:
    """Net Promoter Score of a 0-10 likelihood-to-recommend item, with a Wald confidence interval.

    Promoters answer 9-10, passives 7-8, detractors 0-6;
    ``NPS = 100 (p_P - p_D)``. The answers are one multinomial sample, so

    ``Var(p_P - p_D) = (p_P + p_D - (p_P - p_D)^2) / n``

    and the interval is ``NPS ± z_(1-α/2) · 100 · sqrt(Var)``, clipped to [-100, 100]
    (Rocks, 2016, the Wald interval).

    Parameters
    ----------
    data : pandas.DataFrame
        Responses.
    column : str
        The 0-10 item; missing answers are left out, other values are an error.
    confidence : float
        Confidence level of the interval.

    Returns
    -------
    pandas.DataFrame
        One row: ``n, promoters_pct, passives_pct, detractors_pct, nps, se, ci_lower,
        ci_upper`` (percent points).

    References
    ----------
    Reichheld, F. F. (2003). The one number you need to grow. *Harvard Business Review*, 81(12).

    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". *The American
    Statistician*, 70(4), 365-372.

    Examples
    --------
    >>> df = pd.DataFrame({"ltr": [10, 9, 8, 6, 10]})
    >>> float(net_promoter_score(df, column="ltr")["nps"].iloc[0])
    40.0
    """
    require_columns(data, [column])
    check_confidence(confidence)
    x = data[column].dropna().to_numpy(dtype=float)
    invalid = x[(x < 0) | (x > 10) | (x != np.round(x))]
    if invalid.size:
        raise ValueError(
            f"column {column!r} must hold whole numbers from 0 to 10; found {invalid[0]:g}"
        )
    n = x.size
    if n == 0:
        raise ValueError(f"column {column!r} has no answers")
    promoters = np.mean(x >= 9)
    detractors = np.mean(x <= 6)
    difference = promoters - detractors
    se = 100.0 * np.sqrt(max(float(promoters + detractors - difference**2), 0.0) / n)
    z = stats.norm.ppf(0.5 + confidence / 2)
    nps = 100.0 * difference
    return pd.DataFrame(
        [
            {
                "n": n,
                "promoters_pct": 100.0 * promoters,
                "passives_pct": 100.0 * (1 - promoters - detractors),
                "detractors_pct": 100.0 * detractors,
                "nps": nps,
                "se": se,
                "ci_lower": max(nps - z * se, -100.0),
                "ci_upper": min(nps + z * se, 100.0),
            }
        ]
    )
