"""Reshaping helpers shared by the statistics modules."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

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


def records(frame: pd.DataFrame) -> list[dict]:
    """The rows of a table as dictionaries."""
    return frame.to_dict("records")


def nested_pairs(pairs: pd.DataFrame, value: str) -> dict[str, dict[str, float]]:
    """``{a: {b: value}}`` both ways from a ``construct_a, construct_b, value`` pair table."""
    nested: dict[str, dict[str, float]] = {}
    for a, b, v in zip(pairs["construct_a"], pairs["construct_b"], pairs[value], strict=True):
        nested.setdefault(a, {})[b] = v
        nested.setdefault(b, {})[a] = v
    return nested


def json_safe(value):
    """Recursively replace numpy scalars with Python ones and NaN/inf/NA with None."""
    if isinstance(value, Mapping):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return float(value) if math.isfinite(value) else None
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, str):
        return value
    return str(value)
