"""Loyalty indices across waves: 0-100 construct indices and NPS, with intervals and change.

A construct's index is the mean of its (reverse-keyed) items, each rescaled to 0-100 as
``(x - min) / (max - min) · 100``; with a common scale this is the rescaled construct mean. Each
wave is compared with the previous one: Welch's t-test for an index
(:func:`analysis.compare.wave_change`), a z-test of the difference of two independent NPS with
their Wald standard errors for the NPS (:func:`analysis.descriptives.net_promoter_score`).

Whether indices may be compared across waves at all is tested separately, by the measurement
invariance of the constructs (:func:`analysis.invariance.measurement_invariance`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from analysis._checks import check_confidence, require_columns
from analysis.compare import wave_change
from analysis.descriptives import construct_scores, net_promoter_score

__all__ = ["NPS_MEASURE", "respondent_indices", "trend_indices"]

NPS_MEASURE = "NPS"
COLUMNS = [
    "measure",
    "segment",
    "wave",
    "n",
    "value",
    "ci_lower",
    "ci_upper",
    "change",
    "pvalue",
]


def _rescaled_items(
    data: pd.DataFrame,
    items: Sequence[str],
    scale_ranges: Mapping[str, tuple[float, float]],
    reverse: set[str],
) -> pd.DataFrame:
    columns = {}
    for item in items:
        if item not in scale_ranges:
            raise ValueError(f"no scale range given for item {item!r}")
        low, high = scale_ranges[item]
        if not high > low:
            raise ValueError(f"item {item!r}: the scale maximum must exceed its minimum")
        # Anything that is not a number ("not applicable", blanks) is a missing answer.
        x = pd.to_numeric(data[item], errors="coerce")
        if item in reverse:
            x = low + high - x
        columns[item] = (x - low) / (high - low) * 100.0
    return pd.DataFrame(columns, index=data.index)


def _weighted_scores(rescaled: pd.DataFrame, weights: Mapping[str, float]) -> pd.Series:
    """Each row's weighted mean of the answered items, NaN without any."""
    items = [item for item in weights if item in rescaled]
    w = pd.Series({item: float(weights[item]) for item in items})
    answered = rescaled[items].notna()
    total = answered.mul(w, axis=1).sum(axis=1)
    weighted = rescaled[items].fillna(0.0).mul(w, axis=1).sum(axis=1)
    return (weighted / total).where(answered.any(axis=1))


def respondent_indices(
    data: pd.DataFrame,
    *,
    constructs: Mapping[str, Sequence[str]],
    scale_ranges: Mapping[str, tuple[float, float]],
    reverse: Sequence[str] = (),
) -> pd.DataFrame:
    """Each respondent's 0-100 index of each construct: the mean of its answered items, each
    rescaled to 0-100 (reverse-worded items recoded first), as :func:`trend_indices` averages.

    Examples
    --------
    >>> df = pd.DataFrame({"s1": [1, 5], "s2": [5, None]})
    >>> ranges = {"s1": (1, 5), "s2": (1, 5)}
    >>> respondent_indices(
    ...     df, constructs={"SAT": ["s1", "s2"]}, scale_ranges=ranges, reverse=["s2"]
    ... )["SAT"].tolist()
    [0.0, 100.0]
    """
    if not constructs:
        return pd.DataFrame(index=data.index)
    items = [item for members in constructs.values() for item in members]
    require_columns(data, items, numeric=False)
    rescaled = _rescaled_items(data, items, scale_ranges, set(reverse))
    return construct_scores(rescaled, constructs)


def _mean_interval(values: np.ndarray, confidence: float) -> tuple[float, float, float]:
    if values.size == 0:
        return np.nan, np.nan, np.nan
    mean = float(values.mean())
    if values.size < 2:
        return mean, np.nan, np.nan
    half = stats.t.ppf(0.5 + confidence / 2, values.size - 1) * values.std(ddof=1)
    half /= np.sqrt(values.size)
    return mean, mean - half, mean + half


def _index_rows(
    frame: pd.DataFrame, wave: str, measures: list[str], order: list, confidence: float
) -> list[dict]:
    present = [w for w in order if (frame[wave] == w).any()]
    changes: dict[tuple[str, object], tuple[float, float]] = {}
    if len(present) >= 2:
        steps = wave_change(frame, wave=wave, variables=measures, order=present)
        for variable, wave_to, change, pvalue in zip(
            steps["variable"], steps["wave_to"], steps["change"], steps["pvalue"], strict=True
        ):
            changes[(variable, wave_to)] = (change, pvalue)
    rows = []
    for measure in measures:
        for label in present:
            values = frame.loc[frame[wave] == label, measure].dropna().to_numpy(dtype=float)
            mean, lower, upper = _mean_interval(values, confidence)
            change, pvalue = changes.get((measure, label), (np.nan, np.nan))
            rows.append(
                {
                    "measure": measure,
                    "wave": label,
                    "n": int(values.size),
                    "value": mean,
                    "ci_lower": lower,
                    "ci_upper": upper,
                    "change": change,
                    "pvalue": pvalue,
                }
            )
    return rows


def _nps_rows(frame: pd.DataFrame, wave: str, column: str, order: list, confidence: float):
    rows, previous = [], None
    for label in order:
        answers = frame.loc[frame[wave] == label, [column]]
        if answers[column].notna().sum() == 0:
            continue
        result = net_promoter_score(answers, column=column, confidence=confidence).iloc[0]
        change = pvalue = np.nan
        if previous is not None:
            change = result["nps"] - previous["nps"]
            se = float(np.hypot(result["se"], previous["se"]))
            if se > 0:
                pvalue = float(2 * stats.norm.sf(abs(change) / se))
        rows.append(
            {
                "measure": NPS_MEASURE,
                "wave": label,
                "n": int(result["n"]),
                "value": float(result["nps"]),
                "ci_lower": float(result["ci_lower"]),
                "ci_upper": float(result["ci_upper"]),
                "change": change,
                "pvalue": pvalue,
            }
        )
        previous = result
    return rows


def trend_indices(
    data: pd.DataFrame,
    *,
    wave: str,
    constructs: Mapping[str, Sequence[str]],
    scale_ranges: Mapping[str, tuple[float, float]],
    reverse: Sequence[str] = (),
    nps: str | None = None,
    segment: str | None = None,
    order: Sequence[object] | None = None,
    confidence: float = 0.95,
    weights: Mapping[str, Mapping[str, float]] | None = None,
) -> pd.DataFrame:
    """Construct indices (0-100) and NPS per wave, overall and by segment, with change tests.

    Parameters
    ----------
    data : pandas.DataFrame
        One row per response: the wave column, the items, the NPS item and the segment column.
    wave : str
        Column naming each response's wave.
    constructs : mapping of str to sequence of str
        Construct code -> its items.
    scale_ranges : mapping of str to (float, float)
        Item -> (lowest, highest) scale point.
    reverse : sequence of str
        Reverse-worded items, recoded as ``min + max - x`` first.
    nps : str, optional
        The 0-10 likelihood-to-recommend item.
    segment : str, optional
        Column to break results down by (e.g. a contact's tier); missing values are left out
        of the segment rows but count in the overall rows.
    order : sequence, optional
        Waves in time order; by default the sorted distinct values of ``wave``.
    confidence : float
        Confidence level of the intervals.
    weights : mapping of str to mapping of str to float, optional
        Construct -> item -> weight, e.g. the PLS outer weights of the ACSI method
        (:func:`analysis.pls.rescaled_weights`): a respondent's index of such a construct is
        the weighted mean of their rescaled answers (over the items answered) instead of the
        plain mean, so that the wave means are the ACSI indices.

    Returns
    -------
    pandas.DataFrame
        ``measure, segment, wave, n, value, ci_lower, ci_upper, change, pvalue``: one row per
        measure (construct code or ``"NPS"``), segment (None for everyone) and wave with data.
        ``change`` and ``pvalue`` compare a wave with the previous wave that has data (Welch's
        t for indices, a z-test of independent NPS for the NPS); NaN for the first wave.

    References
    ----------
    Fornell, C., Johnson, M. D., Anderson, E. W., Cha, J., & Bryant, B. E. (1996). The American
    Customer Satisfaction Index. *Journal of Marketing*, 60(4), 7-18.

    Rocks, B. (2016). Interval estimation for the "Net Promoter Score". *The American
    Statistician*, 70(4), 365-372.

    Examples
    --------
    >>> df = pd.DataFrame({"w": [1, 1, 2, 2], "s1": [1, 3, 5, 5], "s2": [1, 3, 5, 3]})
    >>> out = trend_indices(df, wave="w", constructs={"SAT": ["s1", "s2"]},
    ...                     scale_ranges={"s1": (1, 5), "s2": (1, 5)})
    >>> out["value"].tolist()
    [25.0, 87.5]
    """
    check_confidence(confidence)
    require_columns(data, [wave], numeric=False)
    items = [item for members in constructs.values() for item in members]
    require_columns(data, items, numeric=False)
    if nps is not None:
        require_columns(data, [nps])
    if segment is not None:
        require_columns(data, [segment], numeric=False)
    order = sorted(pd.unique(data[wave].dropna())) if order is None else list(order)
    scores = respondent_indices(
        data, constructs=constructs, scale_ranges=scale_ranges, reverse=reverse
    )
    if weights:
        rescaled = _rescaled_items(data, items, scale_ranges, set(reverse))
        for construct, item_weights in weights.items():
            if construct in scores:
                scores[construct] = _weighted_scores(rescaled, item_weights)
    frame = pd.concat([data[[wave]], scores], axis=1)
    if nps is not None:
        frame[NPS_MEASURE + "__item"] = data[nps]
    groups: list[tuple[object, pd.Series]] = [(None, pd.Series(True, index=data.index))]
    if segment is not None:
        values = sorted(pd.unique(data[segment].dropna()), key=str)
        groups += [(value, data[segment] == value) for value in values]
    rows = []
    for label, mask in groups:
        part = frame[mask.to_numpy()]
        found = _index_rows(part, wave, list(constructs), order, confidence)
        if nps is not None:
            found += _nps_rows(part, wave, NPS_MEASURE + "__item", order, confidence)
        rows += [row | {"segment": label} for row in found]
    return pd.DataFrame(rows, columns=COLUMNS)
