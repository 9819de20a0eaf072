"""HTMT against semTools::htmt(htmt2 = FALSE); Fornell-Larcker on lavaan's latent correlations."""

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.prepare import prepare
from analysis.validity import fornell_larcker, fornell_larcker_matrix, htmt, pairs_to_matrix

HERE = Path(__file__).parent
REFERENCE = json.loads((HERE / "reference" / "stats_reference.json").read_text())["reliability"]
DATASETS = {
    "loyalty": (
        "loyalty_segments.csv",
        {"SAT": ["sat1", "sat2", "sat3", "sat4"], "VAL": ["val1", "val2", "val3"],
         "TRU": ["tru1", "tru2", "tru3"], "LOY": ["loy1", "loy2", "loy3"]},
    ),
    "holzinger_swineford": (
        "holzinger_swineford.csv",
        {"visual": ["x1", "x2", "x3"], "textual": ["x4", "x5", "x6"], "speed": ["x7", "x8", "x9"]},
    ),
}  # fmt: skip


def _items(name: str) -> tuple[pd.DataFrame, dict]:
    file, constructs = DATASETS[name]
    raw = pd.read_csv(HERE / "data" / file)
    items = [item for members in constructs.values() for item in members]
    # Only the survey has a rating scale (and a reverse-keyed item); HS1939 has test scores.
    scale = {"reverse": ["sat4"], "scale_min": 1, "scale_max": 7} if name == "loyalty" else {}
    prepared = prepare(raw, items, **scale)
    return prepared.data, constructs


@pytest.mark.parametrize("name", list(DATASETS))
def test_htmt_matches_semtools(name):
    data, constructs = _items(name)
    table = htmt(data, constructs=constructs)
    expected = pd.DataFrame(
        REFERENCE[name]["htmt"],
        index=REFERENCE[name]["htmt_names"],
        columns=REFERENCE[name]["htmt_names"],
    )
    assert len(table) == len(constructs) * (len(constructs) - 1) // 2
    for a, b, value in zip(table["construct_a"], table["construct_b"], table["htmt"], strict=True):
        assert value == pytest.approx(expected.loc[a, b], abs=1e-9)
    matrix = pairs_to_matrix(table, value="htmt", diagonal=1.0)
    assert np.allclose(matrix.to_numpy(), expected.loc[matrix.index, matrix.columns].to_numpy())


def test_htmt_flags_ratios_at_or_above_the_threshold():
    data, constructs = _items("loyalty")
    table = htmt(data, constructs=constructs, threshold=0.5)
    assert (table["exceeds"] == (table["htmt"] >= 0.5)).all()
    assert table["exceeds"].any() and not table["exceeds"].all()


def test_htmt_of_a_reverse_item_left_raw_uses_absolute_correlations():
    raw = pd.read_csv(HERE / "data" / "loyalty_segments.csv")
    data, constructs = _items("loyalty")
    unrecoded = data.assign(sat4=raw.loc[data.index, "sat4"])
    assert htmt(unrecoded, constructs=constructs)["htmt"].to_numpy() == pytest.approx(
        htmt(data, constructs=constructs)["htmt"].to_numpy()
    )


@pytest.mark.parametrize("name", list(DATASETS))
def test_fornell_larcker_on_lavaan_results(name):
    reference = REFERENCE[name]
    names = reference["latent_names"]
    correlations = pd.DataFrame(reference["latent_correlations"], index=names, columns=names)
    ave = {c: reference["constructs"][c]["ave"] for c in names}
    table = fornell_larcker(ave, correlations)
    assert len(table) == len(names) * (len(names) - 1) // 2
    for row in table.itertuples():
        smaller_root = min(np.sqrt(ave[row.construct_a]), np.sqrt(ave[row.construct_b]))
        assert row.correlation == correlations.loc[row.construct_a, row.construct_b]
        assert row.violated == (abs(row.correlation) >= smaller_root)
    matrix = fornell_larcker_matrix(ave, correlations)
    assert np.diag(matrix) == pytest.approx(np.sqrt([ave[c] for c in names]))
    assert matrix.loc[names[0], names[1]] == correlations.loc[names[0], names[1]]


def test_fornell_larcker_flags_a_correlation_above_root_ave():
    names = ["SAT", "VAL", "LOY"]
    correlations = pd.DataFrame(
        [[1, 0.8, 0.3], [0.8, 1, 0.4], [0.3, 0.4, 1]], index=names, columns=names
    )
    table = fornell_larcker({"SAT": 0.7, "VAL": 0.55, "LOY": 0.6}, correlations)
    assert table["violated"].tolist() == [True, False, False]


def test_validation():
    names = ["A", "B"]
    correlations = pd.DataFrame(np.eye(2), index=names, columns=names)
    with pytest.raises(ValueError, match="no latent correlations for: C"):
        fornell_larcker({"A": 0.5, "C": 0.5}, correlations)
    with pytest.raises(ValueError, match="at least two constructs"):
        htmt(pd.DataFrame({"a": [1, 2, 3], "b": [1, 3, 2]}), constructs={"A": ["a", "b"]})
    with pytest.raises(ValueError, match="at least 2 items"):
        htmt(pd.DataFrame({"a": [1, 2], "b": [1, 3]}), constructs={"A": ["a"], "B": ["b"]})


@pytest.mark.parametrize("name", list(DATASETS))
def test_htmt2_matches_semtools(name):
    data, constructs = _items(name)
    table = htmt(data, constructs=constructs, htmt2=True)
    expected = pd.DataFrame(
        REFERENCE[name]["htmt2"],
        index=REFERENCE[name]["htmt_names"],
        columns=REFERENCE[name]["htmt_names"],
    )
    for a, b, value in zip(table["construct_a"], table["construct_b"], table["htmt"], strict=True):
        assert value == pytest.approx(expected.loc[a, b], abs=1e-9)
    # On the loyalty survey, whose loadings are similar within a construct, the two differ by
    # about .01 (notes); on HS1939 by up to .08.
    if name == "loyalty":
        classic = htmt(data, constructs=constructs)["htmt"]
        assert (abs(table["htmt"] - classic) < 0.02).all()
