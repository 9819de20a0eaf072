"""Data-quality flags per response: speeding, straight-lining, failed attention checks, long
strings.

Pure functions of a responses DataFrame (:func:`loyaltylab.fieldwork.data.responses_dataframe`)
and the questionnaire definition; the researcher decides what to exclude.

References
----------
Curran, P. G. (2016). Methods for the detection of carelessly invalid responses in survey data.
*Journal of Experimental Social Psychology*, 66, 4-19.
Johnson, J. A. (2005). Ascertaining the validity of individual protocols from web-based
personality inventories. *Journal of Research in Personality*, 39(1), 103-129.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from surveys.definition import (
    AttentionCheckItem,
    LikertItem,
    MatrixItem,
    NpsItem,
    QuestionnaireDefinition,
)

FLAGS = ("speeding", "straightlining", "attention", "long_string")


@dataclass(frozen=True)
class QualityRules:
    speeding_fraction: float = 1 / 3
    """A complete response faster than this fraction of the wave's median duration speeds."""
    straightlining_min_rows: int = 5
    """Matrices this large (with a reverse-keyed row) are checked for identical answers."""
    long_string_min_run: int = 10
    """This many identical scale answers in a row (questionnaire order) make a long string."""

    def __post_init__(self) -> None:
        if not 0 < self.speeding_fraction < 1:
            raise ValueError("speeding_fraction must be between 0 and 1")
        if self.straightlining_min_rows < 2 or self.long_string_min_run < 2:
            raise ValueError("straight-lining and long-string thresholds must be at least 2")


def quality_flags(
    data: pd.DataFrame,
    definition: QuestionnaireDefinition,
    *,
    rules: QualityRules | None = None,
) -> pd.DataFrame:
    """One boolean column per flag (:data:`FLAGS`), indexed like ``data``.

    ``data`` needs ``status`` and ``duration_seconds`` and the answer columns. Speeding is
    judged against the median duration of the complete responses in ``data``; partial
    responses are never speeders.
    """
    rules = rules or QualityRules()
    flags = pd.DataFrame(False, index=data.index, columns=list(FLAGS))
    if data.empty:
        return flags
    complete = data["status"] == "complete"
    durations = pd.to_numeric(data["duration_seconds"], errors="coerce")
    median = durations[complete].median()
    if pd.notna(median) and median > 0:
        flags["speeding"] = complete & (durations < rules.speeding_fraction * median)
    for item in _items(definition):
        if isinstance(item, MatrixItem) and _checked_matrix(item, rules):
            flags["straightlining"] |= _identical(data, [row.code for row in item.rows])
        elif isinstance(item, AttentionCheckItem) and item.code in data:
            answers = data[item.code]
            flags["attention"] |= answers.notna() & ~_is_expected(answers, item.expected)
    scale_codes = [code for code in _scale_codes(definition) if code in data]
    if len(scale_codes) >= rules.long_string_min_run:
        runs = longest_runs(data[scale_codes])
        flags["long_string"] = runs >= rules.long_string_min_run
    return flags


def flag_lists(flags: pd.DataFrame) -> list[list[str]]:
    """Per row, the names of the flags raised."""
    matrix = flags[list(FLAGS)].to_numpy()
    return [[name for name, raised in zip(FLAGS, row, strict=True) if raised] for row in matrix]


def longest_runs(answers: pd.DataFrame) -> pd.Series:
    """Per row, the longest run of identical consecutive non-missing answers."""
    values = answers.apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    best = np.zeros(len(values), dtype=int)
    if values.shape[1] == 0:
        return pd.Series(best, index=answers.index)
    current = np.where(np.isnan(values[:, 0]), 0, 1)
    best = current.copy()
    for column in range(1, values.shape[1]):
        same = values[:, column] == values[:, column - 1]  # NaN never equals: runs break
        current = np.where(same, current + 1, np.where(np.isnan(values[:, column]), 0, 1))
        best = np.maximum(best, current)
    return pd.Series(best, index=answers.index)


def _items(definition: QuestionnaireDefinition) -> list:
    return [item for _s, _i, item in definition.items()]


def _checked_matrix(item: MatrixItem, rules: QualityRules) -> bool:
    # Identical answers are only implausible when some rows are worded the other way round.
    return len(item.rows) >= rules.straightlining_min_rows and any(r.reverse for r in item.rows)


def _is_expected(answers: pd.Series, expected: str) -> pd.Series:
    # The loader turns option values that are numbers ("6") into numbers (6.0 beside NaN).
    numbers = pd.to_numeric(answers, errors="coerce")
    try:
        return (answers.astype(str) == expected) | (numbers == float(expected))
    except ValueError:
        return answers.astype(str) == expected


def _identical(data: pd.DataFrame, codes: list[str]) -> pd.Series:
    if not all(code in data for code in codes):
        return pd.Series(False, index=data.index)
    values = data[codes].apply(pd.to_numeric, errors="coerce")
    answered = values.notna().all(axis=1)
    return answered & (values.nunique(axis=1) == 1)


def _scale_codes(definition: QuestionnaireDefinition) -> list[str]:
    return [
        variable.code
        for variable in definition.variables()
        if isinstance(variable.item, LikertItem | MatrixItem | NpsItem)
    ]
