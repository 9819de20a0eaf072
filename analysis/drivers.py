"""Driver analysis: importance-performance map, Griffin loyalty quadrants, satisfaction trap."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_scale, require_columns

__all__ = [
    "SatisfactionTrap",
    "derived_importance",
    "importance_performance",
    "loyalty_quadrants",
    "satisfaction_trap",
]

_IPA_QUADRANTS = {
    (True, False): "concentrate here",
    (True, True): "keep up the good work",
    (False, False): "low priority",
    (False, True): "possible overkill",
}
_GRIFFIN_SEGMENTS = {
    (True, True): "absolute loyalty",
    (True, False): "latent loyalty",
    (False, True): "inertia loyalty",
    (False, False): "no loyalty",
}


def _require_scale(scale_min: float | None, scale_max: float | None) -> None:
    if scale_min is None or scale_max is None:
        raise ValueError("this analysis needs scale_min and scale_max")
    check_scale(scale_min, scale_max)


def derived_importance(
    scores: pd.DataFrame, *, outcome: str, drivers: Sequence[str], min_pairs: int = 3
) -> pd.Series:
    """Derived importance: each driver's Pearson correlation with the outcome.

    When no structural model has been estimated (a dashboard between reports), a driver's
    importance is how strongly its score goes with the outcome (e.g. the likelihood to
    recommend) across respondents, each pair of columns over the respondents who have both.

    Parameters
    ----------
    scores : pandas.DataFrame
        Driver scores and the outcome, one row per respondent.
    outcome : str
        The outcome column.
    drivers : sequence of str
        Driver columns.
    min_pairs : int
        Fewest complete pairs for a correlation; NaN below it, or when a column is constant.

    Returns
    -------
    pandas.Series
        Driver -> r, in the order of ``drivers``, named ``importance``.

    References
    ----------
    Gustafsson, A., & Johnson, M. D. (2004). Determining attribute importance in a service
    satisfaction model. *Journal of Service Research*, 7(2), 124-141.

    Examples
    --------
    >>> df = pd.DataFrame({"SAT": [1, 2, 3, 4], "VAL": [2, 1, 2, 1], "NPS": [2, 4, 6, 8]})
    >>> derived_importance(df, outcome="NPS", drivers=["SAT", "VAL"]).round(3).tolist()
    [1.0, -0.447]
    """
    drivers = list(drivers)
    if not drivers:
        raise ValueError("drivers must name at least one column")
    if outcome in drivers:
        raise ValueError(f"the outcome {outcome!r} cannot also be a driver")
    if min_pairs < 3:
        raise ValueError("min_pairs must be at least 3")
    require_columns(scores, [*drivers, outcome])
    values = {}
    for driver in drivers:
        pair = scores[[driver, outcome]].dropna().to_numpy(dtype=float)
        constant = len(pair) and (np.ptp(pair[:, 0]) == 0 or np.ptp(pair[:, 1]) == 0)
        if len(pair) < min_pairs or constant:
            values[driver] = np.nan
        else:
            values[driver] = float(stats.pearsonr(pair[:, 0], pair[:, 1]).statistic)
    return pd.Series(values, name="importance", dtype=float)


def importance_performance(
    scores: pd.DataFrame,
    *,
    importance: Mapping[str, float] | pd.Series,
    scale_min: float,
    scale_max: float,
) -> pd.DataFrame:
    """Importance-performance map of the drivers of a target construct.

    Importance is each driver's standardized total effect on the target (direct plus all
    indirect paths, e.g. ``SemResult.total_effects("LOY")``); performance is the driver's mean
    score rescaled to 0-100, ``(mean - scale_min) / (scale_max - scale_min) · 100``. Quadrants
    split at the mean importance and mean performance of the drivers shown (Martilla & James,
    1977): high importance and low performance is where to act first.

    Parameters
    ----------
    scores : pandas.DataFrame
        Construct scores on the response scale (see
        :func:`analysis.descriptives.construct_scores`).
    importance : mapping or Series
        Driver -> importance; every driver must be a column of ``scores``.
    scale_min, scale_max : float
        Ends of the response scale.

    Returns
    -------
    pandas.DataFrame
        ``construct, importance, performance, quadrant``, by importance, largest first.

    References
    ----------
    Martilla, J. A., & James, J. C. (1977). Importance-performance analysis. *Journal of
    Marketing*, 41(1), 77-79.

    Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J., & Bryant, B. E. (1996). The American
    Customer Satisfaction Index: Nature, purpose, and findings. *Journal of Marketing*, 60(4),
    7-18.

    Examples
    --------
    >>> scores = pd.DataFrame({"SAT": [6.0, 5.0], "VAL": [3.0, 4.0]})
    >>> ipa = importance_performance(
    ...     scores, importance={"SAT": 0.3, "VAL": 0.5}, scale_min=1, scale_max=7)
    >>> ipa[["construct", "performance", "quadrant"]].values.tolist()
    [['VAL', 41.66666666666667, 'concentrate here'], ['SAT', 75.0, 'possible overkill']]
    """
    _require_scale(scale_min, scale_max)
    importance = pd.Series(importance, dtype=float)
    if importance.empty:
        raise ValueError("importance must name at least one driver")
    require_columns(scores, list(importance.index))
    means = scores[list(importance.index)].mean()
    performance = (means - scale_min) / (scale_max - scale_min) * 100.0
    high_importance = importance >= importance.mean()
    high_performance = performance >= performance.mean()
    table = pd.DataFrame(
        {
            "construct": importance.index,
            "importance": importance.to_numpy(),
            "performance": performance.to_numpy(),
            "quadrant": [
                _IPA_QUADRANTS[(bool(i), bool(p))]
                for i, p in zip(high_importance, high_performance, strict=True)
            ],
        }
    )
    return table.sort_values("importance", ascending=False, kind="stable").reset_index(drop=True)


def loyalty_quadrants(
    scores: pd.DataFrame,
    *,
    attitudinal: str,
    behavioural: str,
    scale_min: float,
    scale_max: float,
) -> pd.DataFrame:
    """Griffin's loyalty typology from attitudinal and behavioural loyalty scores.

    A score is "high" when it lies above the scale midpoint ``(scale_min + scale_max) / 2``; a
    score exactly at the midpoint (neither agreeing nor disagreeing) counts as low. High on
    both is absolute (premium) loyalty, high attitude only latent loyalty, high behaviour only
    inertia loyalty, neither no loyalty. Respondents missing either score are left out.

    Parameters
    ----------
    scores : pandas.DataFrame
        Construct scores.
    attitudinal, behavioural : str
        Columns of the attitudinal (e.g. ``ATL``) and behavioural (e.g. ``BHL``) loyalty scores.
    scale_min, scale_max : float
        Ends of the response scale.

    Returns
    -------
    pandas.DataFrame
        ``segment, attitudinal, behavioural, n, pct``, all four segments, ``pct`` of the
        respondents classified.

    References
    ----------
    Griffin, J. (2002). *Customer loyalty: How to earn it, how to keep it* (2nd ed.).
    Jossey-Bass.

    Dick, A. S., & Basu, K. (1994). Customer loyalty: Toward an integrated conceptual framework.
    *Journal of the Academy of Marketing Science*, 22(2), 99-113.

    Examples
    --------
    >>> scores = pd.DataFrame({"ATL": [6, 6, 2, 4], "BHL": [7, 3, 6, 2]})
    >>> loyalty_quadrants(scores, attitudinal="ATL", behavioural="BHL",
    ...                   scale_min=1, scale_max=7)["n"].tolist()
    [1, 1, 1, 1]
    """
    _require_scale(scale_min, scale_max)
    if attitudinal == behavioural:
        raise ValueError("attitudinal and behavioural loyalty must be different columns")
    require_columns(scores, [attitudinal, behavioural])
    complete = scores[[attitudinal, behavioural]].dropna()
    midpoint = (scale_min + scale_max) / 2
    high_attitude = complete[attitudinal].to_numpy() > midpoint
    high_behaviour = complete[behavioural].to_numpy() > midpoint
    rows = []
    for (attitude, behaviour), segment in _GRIFFIN_SEGMENTS.items():
        n = int(np.sum((high_attitude == attitude) & (high_behaviour == behaviour)))
        rows.append(
            {
                "segment": segment,
                "attitudinal": "high" if attitude else "low",
                "behavioural": "high" if behaviour else "low",
                "n": n,
                "pct": 100.0 * n / len(complete) if len(complete) else np.nan,
            }
        )
    return pd.DataFrame(rows)


@dataclass(frozen=True)
class SatisfactionTrap:
    """Result of :func:`satisfaction_trap`.

    Attributes
    ----------
    coefficients : pandas.DataFrame
        ``term`` (``intercept``, ``linear``, ``quadratic``), ``estimate, se, t, pvalue``.
    n : int
        Respondents used.
    r_squared : float
        R² of the quadratic model.
    centre : float
        Mean satisfaction subtracted before squaring.
    """

    coefficients: pd.DataFrame
    n: int
    r_squared: float
    centre: float

    @property
    def diminishing_returns(self) -> bool:
        """Loyalty rises ever less with satisfaction: a negative quadratic term, p < .05."""
        quadratic = self.coefficients.set_index("term").loc["quadratic"]
        return bool(quadratic["estimate"] < 0 and quadratic["pvalue"] < 0.05)


def satisfaction_trap(scores: pd.DataFrame, *, satisfaction: str, loyalty: str) -> SatisfactionTrap:
    """Test whether loyalty levels off as satisfaction rises (the "satisfaction trap").

    Ordinary least squares of ``loyalty = b0 + b1 c + b2 c² + e`` with ``c`` the mean-centred
    satisfaction score (centring makes ``b1`` the slope at average satisfaction and keeps ``c``
    and ``c²`` from being collinear). A significantly negative ``b2`` means diminishing returns:
    beyond some level more satisfaction buys little extra loyalty.

    Parameters
    ----------
    scores : pandas.DataFrame
        Construct scores.
    satisfaction, loyalty : str
        Columns of the satisfaction and loyalty scores; rows missing either are left out.

    Returns
    -------
    SatisfactionTrap

    References
    ----------
    Jones, T. O., & Sasser, W. E. (1995). Why satisfied customers defect. *Harvard Business
    Review*, 73(6), 88-99.

    Anderson, E. W., & Mittal, V. (2000). Strengthening the satisfaction-profit chain.
    *Journal of Service Research*, 3(2), 107-120.

    Examples
    --------
    >>> scores = pd.DataFrame({"SAT": [1, 2, 3, 4, 5, 6, 7], "LOY": [1, 3, 4.5, 5, 5.5, 5.6, 5.8]})
    >>> trap = satisfaction_trap(scores, satisfaction="SAT", loyalty="LOY")
    >>> trap.diminishing_returns
    True
    """
    if satisfaction == loyalty:
        raise ValueError("satisfaction and loyalty must be different columns")
    require_columns(scores, [satisfaction, loyalty])
    complete = scores[[satisfaction, loyalty]].dropna()
    n = len(complete)
    if n < 4:
        raise ValueError(f"the satisfaction-trap regression needs at least 4 respondents, has {n}")
    centre = float(complete[satisfaction].mean())
    c = complete[satisfaction].to_numpy(dtype=float) - centre
    y = complete[loyalty].to_numpy(dtype=float)
    design = np.column_stack([np.ones(n), c, c**2])
    if np.linalg.matrix_rank(design) < 3:
        raise ValueError(
            "satisfaction takes fewer than three distinct values: no curvature to test"
        )
    estimate, *_ = np.linalg.lstsq(design, y, rcond=None)
    residuals = y - design @ estimate
    df = n - 3
    sigma2 = residuals @ residuals / df
    se = np.sqrt(np.diag(np.linalg.inv(design.T @ design)) * sigma2)
    t = estimate / se
    total = ((y - y.mean()) ** 2).sum()
    return SatisfactionTrap(
        coefficients=pd.DataFrame(
            {
                "term": ["intercept", "linear", "quadratic"],
                "estimate": estimate,
                "se": se,
                "t": t,
                "pvalue": 2 * stats.t.sf(np.abs(t), df),
            }
        ),
        n=n,
        r_squared=float(1 - residuals @ residuals / total) if total > 0 else np.nan,
        centre=centre,
    )
