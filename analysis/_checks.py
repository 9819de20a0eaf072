"""Input checks shared by the statistics modules: one wording for one problem."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

MISSING_METHODS = ("listwise", "fiml")


def require_frame(data: object) -> None:
    if not isinstance(data, pd.DataFrame):
        raise ValueError(f"data must be a pandas DataFrame, not {type(data).__name__}")


def require_columns(data: pd.DataFrame, columns: Sequence[str], *, numeric: bool = True) -> None:
    """Raise if ``data`` lacks any of ``columns`` or (with ``numeric``) one is not numeric."""
    require_frame(data)
    unknown = [c for c in columns if c not in data.columns]
    if unknown:
        raise ValueError(f"unknown column(s): {', '.join(map(str, unknown))}")
    if numeric:
        dtypes = data.dtypes  # one lookup: selecting columns one by one is slow in pandas 3
        non_numeric = [
            c
            for c in columns
            if not pd.api.types.is_numeric_dtype(dtypes[c]) or pd.api.types.is_bool_dtype(dtypes[c])
        ]
        if non_numeric:
            raise ValueError(f"non-numeric column(s): {', '.join(map(str, non_numeric))}")


def check_scale(scale_min: float | None, scale_max: float | None) -> None:
    """Both ends of the response scale or neither, and in order."""
    if (scale_min is None) != (scale_max is None):
        raise ValueError("give both scale_min and scale_max, or neither")
    if scale_min is not None and scale_max is not None and not scale_min < scale_max:
        raise ValueError(f"scale_min ({scale_min}) must be below scale_max ({scale_max})")


def check_constructs(
    constructs: Mapping[str, Sequence[str]], *, min_items: int = 1
) -> dict[str, list[str]]:
    """Validate a construct -> items mapping and return it as plain lists."""
    if not isinstance(constructs, Mapping) or not constructs:
        raise ValueError("constructs must map at least one construct name to its items")
    checked = {}
    for name, items in constructs.items():
        if isinstance(items, str):
            raise ValueError(f"construct {name!r}: give its items as a list, not one string")
        items = list(items)
        if len(items) < min_items:
            raise ValueError(
                f"construct {name!r} needs at least {min_items} items, has {len(items)}"
            )
        if len(set(items)) != len(items):
            raise ValueError(f"construct {name!r} lists an item twice")
        checked[str(name)] = items
    return checked


def check_confidence(confidence: float) -> None:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must lie between 0 and 1, not {confidence}")
