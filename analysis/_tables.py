"""Reshaping helpers shared by the statistics modules."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def square_from_pairs(
    first: Iterable[str], second: Iterable[str], values: Iterable[float], *, diagonal: float
) -> pd.DataFrame:
    """Symmetric matrix from (first, second, value) pairs, names in first-appearance order."""
    first, second, values = list(first), list(second), list(values)
    names = list(dict.fromkeys([*first, *second]))
    position = {name: i for i, name in enumerate(names)}
    matrix = np.full((len(names), len(names)), np.nan)
    for a, b, v in zip(first, second, values, strict=True):
        matrix[position[a], position[b]] = matrix[position[b], position[a]] = v
    np.fill_diagonal(matrix, diagonal)
    return pd.DataFrame(matrix, index=names, columns=names)
