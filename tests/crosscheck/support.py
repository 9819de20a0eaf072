"""What the cross-checks share: the reference libraries, the data and R's numbers.

The cross-checks compare our statistics and XLSForm files with pingouin, semopy, statsmodels
and pyxform (the ``crosscheck`` optional dependencies). Where both agree the check holds the
agreement; where they differ, R (the fixtures of tests/analysis/reference and of
tests/crosscheck/reference) decides, and docs/crosschecks.md says why.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
from pathlib import Path
from types import ModuleType

import pandas as pd
import pytest

from analysis.descriptives import construct_scores
from analysis.prepare import reverse_key

TESTS = Path(__file__).resolve().parents[1]
DATA = TESTS / "analysis" / "data"
CONSTRUCTS = {
    "SAT": ["sat1", "sat2", "sat3", "sat4"],
    "VAL": ["val1", "val2", "val3"],
    "TRU": ["tru1", "tru2", "tru3"],
    "LOY": ["loy1", "loy2", "loy3"],
}


def reference_library(name: str) -> ModuleType:
    """Import a library of the ``crosscheck`` extra, or skip the calling test module.

    Only a library that is not installed skips (one that is installed but fails to import
    fails); with ``LOYALTYLAB_REQUIRE_CROSSCHECK`` set, as ``make test`` does, nothing skips.
    """
    if importlib.util.find_spec(name) is None and not os.environ.get(
        "LOYALTYLAB_REQUIRE_CROSSCHECK"
    ):
        pytest.skip(
            f"{name} is not installed (pip install -e '.[crosscheck]')", allow_module_level=True
        )
    return importlib.import_module(name)


def r_reference(name: str) -> dict:
    """A JSON fixture written by R: ``stats_reference`` and the lavaan fixtures of
    tests/analysis/reference, or ``crosscheck_reference`` of tests/crosscheck/reference."""
    for folder in (TESTS / "crosscheck" / "reference", TESTS / "analysis" / "reference"):
        path = folder / f"{name}.json"
        if path.exists():
            return json.loads(path.read_text(encoding="utf-8"))
    raise FileNotFoundError(name)


def loyalty_items() -> pd.DataFrame:
    """The segmented loyalty survey (800 respondents, some answers missing), sat4 recoded."""
    raw = pd.read_csv(DATA / "loyalty_segments.csv")
    return reverse_key(raw, ["sat4"], scale_min=1, scale_max=7)


def loyalty_scores() -> pd.DataFrame:
    """Construct scores (mean of the answered items) with the respondents' tier and wave."""
    items = loyalty_items()
    return construct_scores(items, CONSTRUCTS).assign(tier=items["tier"], wave=items["wave"])
