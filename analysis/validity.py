"""Discriminant validity: the Fornell-Larcker criterion and the heterotrait-monotrait ratio."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations

import numpy as np
import pandas as pd

from analysis._checks import check_constructs, require_columns
from analysis._tables import square_from_pairs

__all__ = ["HTMT_MAX", "fornell_larcker", "fornell_larcker_matrix", "htmt", "pairs_to_matrix"]

HTMT_MAX = 0.85  # Henseler et al. (2015); .90 is used for conceptually close constructs


def _check_latent(
    ave: Mapping[str, float] | pd.Series, correlations: pd.DataFrame
) -> tuple[pd.Series, pd.DataFrame]:
    ave = pd.Series(ave, dtype=float)
    if not isinstance(correlations, pd.DataFrame):
        raise ValueError("correlations must be a square DataFrame of latent correlations")
    if list(correlations.index) != list(correlations.columns):
        raise ValueError("correlations must have the same constructs as rows and columns")
    unknown = [c for c in ave.index if c not in correlations.index]
    if unknown:
        raise ValueError(f"no latent correlations for: {', '.join(map(str, unknown))}")
    return ave, correlations.loc[list(ave.index), list(ave.index)]


def fornell_larcker(
    ave: Mapping[str, float] | pd.Series, correlations: pd.DataFrame
) -> pd.DataFrame:
    """Fornell-Larcker criterion for every pair of constructs.

    Discriminant validity holds for a pair when each construct's √AVE exceeds the absolute
    correlation between the two latent variables: a construct shares more variance with its
    own items than with the other construct.

    Parameters
    ----------
    ave : mapping or Series
        Construct -> average variance extracted.
    correlations : pandas.DataFrame
        Latent correlation matrix (e.g. ``SemResult.latent_correlations()``), rows and columns
        named by construct.

    Returns
    -------
    pandas.DataFrame
        ``construct_a, construct_b, correlation, sqrt_ave_a, sqrt_ave_b, violated``
        (``violated``: |r| ≥ the smaller √AVE).

    References
    ----------
    Fornell, C., & Larcker, D. F. (1981). Evaluating structural equation models with
    unobservable variables and measurement error. *Journal of Marketing Research*, 18(1),
    39-50.

    Examples
    --------
    >>> r = pd.DataFrame([[1, 0.75], [0.75, 1]], index=["SAT", "VAL"], columns=["SAT", "VAL"])
    >>> fornell_larcker({"SAT": 0.6, "VAL": 0.5}, r)["violated"].tolist()
    [True]
    """
    ave, correlations = _check_latent(ave, correlations)
    root = np.sqrt(ave)
    rows = []
    for a, b in combinations(ave.index, 2):
        r = float(correlations.loc[a, b])
        rows.append(
            {
                "construct_a": a,
                "construct_b": b,
                "correlation": r,
                "sqrt_ave_a": root[a],
                "sqrt_ave_b": root[b],
                "violated": bool(abs(r) >= min(root[a], root[b])),
            }
        )
    columns = ["construct_a", "construct_b", "correlation", "sqrt_ave_a", "sqrt_ave_b", "violated"]
    return pd.DataFrame(rows, columns=columns)


def fornell_larcker_matrix(
    ave: Mapping[str, float] | pd.Series, correlations: pd.DataFrame
) -> pd.DataFrame:
    """The Fornell-Larcker table as usually printed: √AVE on the diagonal, latent
    correlations below and above it.

    Examples
    --------
    >>> r = pd.DataFrame([[1, 0.5], [0.5, 1]], index=["SAT", "VAL"], columns=["SAT", "VAL"])
    >>> fornell_larcker_matrix({"SAT": 0.64, "VAL": 0.49}, r).values.tolist()
    [[0.8, 0.5], [0.5, 0.7]]
    """
    ave, correlations = _check_latent(ave, correlations)
    matrix = correlations.to_numpy(dtype=float).copy()
    np.fill_diagonal(matrix, np.sqrt(ave.to_numpy()))
    return pd.DataFrame(matrix, index=ave.index, columns=ave.index)


def htmt(
    data: pd.DataFrame,
    *,
    constructs: Mapping[str, Sequence[str]],
    threshold: float = HTMT_MAX,
    htmt2: bool = False,
) -> pd.DataFrame:
    """Heterotrait-monotrait ratio of correlations for every pair of constructs.

    ``HTMT_ij`` is the mean absolute correlation between the items of i and the items of j,
    divided by the geometric mean of the mean absolute correlations among the items of i and
    among the items of j (off-diagonal). By default this is the original, arithmetic-mean HTMT
    of Henseler et al. (2015), ``semTools::htmt(htmt2 = FALSE)``; with ``htmt2`` every mean is
    geometric (Roemer, Schuberth & Henseler, 2021; semTools' default since 0.5-6), which
    stays consistent when loadings differ within a construct. Pearson correlations of the
    complete cases of all the items.

    Parameters
    ----------
    data : pandas.DataFrame
        Item responses, reverse-worded items already recoded.
    constructs : mapping of str to sequence of str
        Construct -> items (at least two each, so the monotrait mean exists).
    threshold : float
        HTMT at or above which discriminant validity is in doubt.
    htmt2 : bool
        Geometric instead of arithmetic means (HTMT2).

    Returns
    -------
    pandas.DataFrame
        ``construct_a, construct_b, htmt, exceeds``.

    References
    ----------
    Henseler, J., Ringle, C. M., & Sarstedt, M. (2015). A new criterion for assessing
    discriminant validity in variance-based structural equation modeling. *Journal of the
    Academy of Marketing Science*, 43(1), 115-135.

    Roemer, E., Schuberth, F., & Henseler, J. (2021). HTMT2 - an improved criterion for
    assessing discriminant validity in structural equation modeling. *Industrial Management &
    Data Systems*, 121(12), 2637-2650.

    Examples
    --------
    >>> df = pd.DataFrame({"a1": [1, 2, 3, 4, 5], "a2": [1, 3, 2, 5, 4],
    ...                    "b1": [2, 1, 4, 3, 5], "b2": [1, 2, 5, 3, 4]})
    >>> round(float(htmt(df, constructs={"A": ["a1", "a2"], "B": ["b1", "b2"]})["htmt"][0]), 3)
    0.656
    """
    constructs = check_constructs(constructs, min_items=2)
    if len(constructs) < 2:
        raise ValueError("HTMT needs at least two constructs")
    items = list(dict.fromkeys(item for members in constructs.values() for item in members))
    require_columns(data, items)
    values = data[items].dropna().to_numpy(dtype=float)
    if len(values) < 3:
        raise ValueError("HTMT needs at least three complete rows")
    with np.errstate(invalid="ignore", divide="ignore"):
        absolute = np.abs(np.corrcoef(values, rowvar=False))
    position = {item: i for i, item in enumerate(items)}
    index = {name: [position[item] for item in members] for name, members in constructs.items()}

    def mean(block: np.ndarray) -> float:
        if htmt2:
            with np.errstate(divide="ignore"):
                return float(np.exp(np.log(block).mean()))
        return float(block.mean())

    def monotrait(name: str) -> float:
        block = absolute[np.ix_(index[name], index[name])]
        return mean(block[~np.eye(len(block), dtype=bool)])

    rows = []
    for a, b in combinations(constructs, 2):
        heterotrait = mean(absolute[np.ix_(index[a], index[b])])
        value = heterotrait / np.sqrt(monotrait(a) * monotrait(b))
        rows.append(
            {"construct_a": a, "construct_b": b, "htmt": value, "exceeds": bool(value >= threshold)}
        )
    return pd.DataFrame(rows)


def pairs_to_matrix(table: pd.DataFrame, *, value: str, diagonal: float = np.nan) -> pd.DataFrame:
    """Square symmetric matrix from a ``construct_a, construct_b, <value>`` pair table.

    Examples
    --------
    >>> pairs = pd.DataFrame({"construct_a": ["A"], "construct_b": ["B"], "htmt": [0.6]})
    >>> pairs_to_matrix(pairs, value="htmt", diagonal=1.0).values.tolist()
    [[1.0, 0.6], [0.6, 1.0]]
    """
    if not {"construct_a", "construct_b", value} <= set(table.columns):
        raise ValueError(f"table needs the columns construct_a, construct_b, {value}")
    return square_from_pairs(
        table["construct_a"], table["construct_b"], table[value], diagonal=diagonal
    )
