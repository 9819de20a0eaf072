"""Construct-score correlations against R's cor.test and p.adjust."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.correlation import correlation_matrix, correlations
from analysis.descriptives import construct_scores
from analysis.prepare import reverse_key

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "reference" / "stats_reference.json").read_text())
CONSTRUCTS = {
    "SAT": ["sat1", "sat2", "sat3", "sat4"],
    "VAL": ["val1", "val2", "val3"],
    "TRU": ["tru1", "tru2", "tru3"],
    "LOY": ["loy1", "loy2", "loy3"],
}


@pytest.fixture(scope="module")
def scores() -> pd.DataFrame:
    raw = pd.read_csv(HERE / "data" / "loyalty_segments.csv")
    return construct_scores(reverse_key(raw, ["sat4"], scale_min=1, scale_max=7), CONSTRUCTS)


def test_pearson_and_spearman_match_cor_test(scores):
    table = correlations(scores, adjust="holm").set_index(["method", "x", "y"])
    assert len(table) == len(REFERENCE["correlations"]) == 12
    for expected in REFERENCE["correlations"]:
        row = table.loc[(expected["method"], expected["x"], expected["y"])]
        assert row["n"] == expected["n"]
        for column in ("r", "ci_lower", "ci_upper"):
            assert row[column] == pytest.approx(expected[column], abs=1e-10), column
        assert row["pvalue"] == pytest.approx(expected["pvalue"], rel=1e-6, abs=1e-300)
        assert row["pvalue_adj"] == pytest.approx(expected["pvalue_holm"], rel=1e-6, abs=1e-300)


def test_holm_adjustment_matches_p_adjust_on_moderate_pvalues():
    rng = np.random.default_rng(3)
    base = rng.standard_normal(40)
    data = pd.DataFrame({f"v{i}": base * 0.1 * i + rng.standard_normal(40) for i in range(4)})
    table = correlations(data, methods=["pearson"], adjust="holm")
    p = table["pvalue"].to_numpy()
    order = np.argsort(p)
    # p.adjust("holm"): cumulative maximum of (m - i + 1) p_(i), capped at 1.
    expected = np.minimum(np.maximum.accumulate((len(p) - np.arange(len(p))) * p[order]), 1)
    assert table["pvalue_adj"].to_numpy()[order] == pytest.approx(expected)
    assert (table["pvalue_adj"] >= table["pvalue"]).all()


def test_pairwise_complete_rows_are_used():
    data = pd.DataFrame({"a": [1, 2, 3, 4, np.nan], "b": [2, 1, 4, 3, 5], "c": [1, 2, 3, 5, 4]})
    table = correlations(data, methods=["pearson"]).set_index(["x", "y"])
    assert table.loc[("a", "b"), "n"] == 4
    assert table.loc[("b", "c"), "n"] == 5


def test_matrix_is_symmetric_with_unit_diagonal(scores):
    matrix = correlation_matrix(correlations(scores), method="spearman")
    assert list(matrix.index) == list(CONSTRUCTS)
    assert np.allclose(matrix.to_numpy(), matrix.to_numpy().T)
    assert np.allclose(np.diag(matrix), 1.0)
    assert matrix.loc["SAT", "LOY"] == pytest.approx(
        scores["SAT"].corr(scores["LOY"], method="spearman")
    )


def test_constant_variable_gives_nan_not_an_error():
    data = pd.DataFrame({"a": [1, 2, 3, 4], "b": [2, 2, 2, 2]})
    row = correlations(data, methods=["pearson"]).iloc[0]
    assert np.isnan(row["r"]) and np.isnan(row["pvalue"])


def test_invalid_options():
    data = pd.DataFrame({"a": [1, 2, 3], "b": [3, 1, 2]})
    with pytest.raises(ValueError, match="methods"):
        correlations(data, methods=["kendall"])
    with pytest.raises(ValueError, match="adjust"):
        correlations(data, adjust="bonferroni")
    with pytest.raises(ValueError, match="two variables"):
        correlations(data, columns=["a"])
