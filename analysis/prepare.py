"""Getting survey responses ready for analysis: numeric check, reverse keying, missing data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from analysis._checks import MISSING_METHODS, check_scale, require_columns, require_frame
from analysis.errors import NonNumericDataError, UnknownVariableError

__all__ = ["PreparedData", "coerce_numeric", "prepare", "reverse_key"]


@dataclass(frozen=True)
class PreparedData:
    """Responses ready for analysis and an account of what happened to the rows.

    Attributes
    ----------
    data : pandas.DataFrame
        The rows used, reverse-keyed items recoded; other columns kept as they were.
    items : tuple of str
        The analysed items.
    reversed_items : tuple of str
        Items that were reverse-keyed.
    missing : str
        ``"listwise"`` (complete cases only) or ``"fiml"`` (every row with at least one answer).
    n_rows : int
        Rows read.
    dropped : pandas.DataFrame
        Columns ``reason, n``: one row per reason rows were dropped, largest first.
    """

    data: pd.DataFrame
    items: tuple[str, ...]
    reversed_items: tuple[str, ...]
    missing: str
    n_rows: int
    dropped: pd.DataFrame

    @property
    def n_used(self) -> int:
        """Rows used."""
        return len(self.data)

    @property
    def n_dropped(self) -> int:
        """Rows dropped."""
        return self.n_rows - self.n_used

    def drop_summary(self) -> list[str]:
        """Readable lines such as ``"12 rows: missing sat3"``."""
        return [
            f"{n} row{'s' if n != 1 else ''}: {reason}"
            for reason, n in zip(self.dropped["reason"], self.dropped["n"], strict=True)
        ]


def _require_items(data: pd.DataFrame, items: Sequence[str]) -> None:
    require_frame(data)
    unknown = [item for item in items if item not in data.columns]
    if unknown:
        raise UnknownVariableError(unknown)


def coerce_numeric(data: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """Return ``data`` with ``columns`` as floats, or raise naming every non-numeric column.

    Text that reads as a number (``"5"``, ``" 4.0 "``) is converted, as it is in a CSV export;
    empty strings become missing. Anything else (``"agree"``, booleans, dates) raises
    :class:`~analysis.errors.NonNumericDataError` naming every such column.

    Parameters
    ----------
    data : pandas.DataFrame
        Responses.
    columns : sequence of str
        Columns that must be numeric.

    Returns
    -------
    pandas.DataFrame
        A copy with ``columns`` of dtype float64.

    Examples
    --------
    >>> df = pd.DataFrame({"q1": ["1", "2", ""], "q2": [3, 4, 5]})
    >>> coerce_numeric(df, ["q1", "q2"])["q1"].tolist()
    [1.0, 2.0, nan]
    """
    _require_items(data, columns)
    out = data.copy()
    problems = []
    for column in columns:
        series = data[column]
        if pd.api.types.is_bool_dtype(series):
            problems.append(column)
            continue
        if pd.api.types.is_numeric_dtype(series):
            out[column] = series.astype(float)
            continue
        if not (pd.api.types.is_object_dtype(series) or pd.api.types.is_string_dtype(series)):
            problems.append(column)
            continue
        # pandas-stubs do not list NA as a replacement value; pandas accepts it.
        text = series.astype("string").str.strip().replace("", pd.NA)  # type: ignore[call-overload]
        converted = pd.to_numeric(text, errors="coerce")
        bad = text.notna() & converted.isna()
        if bad.any():
            problems.append(column)
        else:
            out[column] = converted.astype(float)
    if problems:
        raise NonNumericDataError(problems)
    return out


def reverse_key(
    data: pd.DataFrame,
    items: Sequence[str],
    *,
    scale_min: float | None,
    scale_max: float | None,
) -> pd.DataFrame:
    """Recode reverse-worded items as ``scale_min + scale_max - x``.

    Parameters
    ----------
    data : pandas.DataFrame
        Numeric responses.
    items : sequence of str
        Reverse-worded items.
    scale_min, scale_max : float
        Ends of the response scale (required: the recoding depends on them, not on the answers
        that happen to occur).

    Returns
    -------
    pandas.DataFrame
        A copy with ``items`` recoded; missing answers stay missing.

    Raises
    ------
    ValueError
        If ``scale_min`` or ``scale_max`` is missing, or an item has answers outside
        ``[scale_min, scale_max]``, which would recode to nonsense.

    Examples
    --------
    >>> df = pd.DataFrame({"q1": [1, 2, 7], "q2": [1, 1, 1]})
    >>> reverse_key(df, ["q1"], scale_min=1, scale_max=7)["q1"].tolist()
    [7, 6, 1]
    """
    if scale_min is None or scale_max is None:
        raise ValueError("reverse keying needs scale_min and scale_max")
    check_scale(scale_min, scale_max)
    items = list(items)
    require_columns(data, items)
    out = data.copy()
    for item in items:
        values = data[item]
        outside = values[(values < scale_min) | (values > scale_max)]
        if len(outside):
            raise ValueError(
                f"item {item!r} has answers outside the scale {scale_min:g}-{scale_max:g} "
                f"(e.g. {outside.iloc[0]:g})"
            )
        out[item] = scale_min + scale_max - values
    return out


def _drop_reasons(missing_mask: pd.DataFrame, dropped: pd.Series) -> pd.DataFrame:
    """Group dropped rows by the set of items they miss."""
    if not dropped.any():
        return pd.DataFrame({"reason": pd.Series(dtype=str), "n": pd.Series(dtype=int)})
    columns = missing_mask.columns.to_numpy()
    patterns = pd.Series(
        ["missing " + ", ".join(columns[row]) for row in missing_mask[dropped].to_numpy()]
    )
    counts = patterns.value_counts(sort=False)
    return pd.DataFrame({"reason": counts.index.to_list(), "n": counts.to_numpy(dtype=int)})


def prepare(
    data: pd.DataFrame,
    items: Sequence[str],
    *,
    reverse: Sequence[str] = (),
    scale_min: float | None = None,
    scale_max: float | None = None,
    missing: str = "listwise",
) -> PreparedData:
    """Check, recode and filter responses for analysis.

    Steps: every item must exist and be numeric (:func:`coerce_numeric`); reverse-worded
    items are recoded (:func:`reverse_key`); then rows are dropped by the missing-data method
    and the reasons counted.

    Parameters
    ----------
    data : pandas.DataFrame
        Responses, one row per respondent.
    items : sequence of str
        Items to analyse (e.g. all indicators of a model).
    reverse : sequence of str
        Reverse-worded items among ``items``; needs ``scale_min`` and ``scale_max``.
    scale_min, scale_max : float, optional
        Ends of the response scale.
    missing : {"listwise", "fiml"}
        ``"listwise"`` keeps complete cases; ``"fiml"`` keeps every row with at least one
        answered item (full-information maximum likelihood uses the partial rows).

    Returns
    -------
    PreparedData

    Examples
    --------
    >>> df = pd.DataFrame({"a": [1, 2, None, 4], "b": [5, None, None, 3]})
    >>> prepared = prepare(df, ["a", "b"], reverse=["b"], scale_min=1, scale_max=5)
    >>> prepared.n_used, prepared.drop_summary()
    (2, ['1 row: missing b', '1 row: missing a, b'])
    >>> prepared.data["b"].tolist()
    [1.0, 3.0]
    """
    require_frame(data)
    items = list(dict.fromkeys(items))
    if not items:
        raise ValueError("items must name at least one column")
    if missing not in MISSING_METHODS:
        raise ValueError(f"missing must be 'listwise' or 'fiml', not {missing!r}")
    check_scale(scale_min, scale_max)
    reverse = list(dict.fromkeys(reverse))
    not_items = [r for r in reverse if r not in items]
    if not_items and all(r in data.columns for r in not_items):
        raise ValueError(f"reverse-keyed column(s) not among the items: {', '.join(not_items)}")
    _require_items(data, items + reverse)
    out = coerce_numeric(data, items)
    if reverse:
        out = reverse_key(out, reverse, scale_min=scale_min, scale_max=scale_max)
    missing_mask = out[items].isna()
    if missing == "listwise":
        drop = missing_mask.any(axis=1)
        reasons = _drop_reasons(missing_mask, drop)
    else:
        drop = missing_mask.all(axis=1)
        reasons = pd.DataFrame({"reason": ["all items missing"], "n": [int(drop.sum())]})
        reasons = reasons[reasons["n"] > 0]
    return PreparedData(
        data=out.loc[~drop.to_numpy()],
        items=tuple(items),
        reversed_items=tuple(reverse),
        missing=missing,
        n_rows=len(data),
        dropped=reasons.sort_values("n", ascending=False, kind="stable").reset_index(drop=True),
    )
